"""Whole requests from customers' messages, for topic names and the questions actions quote (issue 16).

A CSM reads a topic's name and the questions of its next best action as the customer's request, so
nothing here ever ends mid-clause ("Hasn't my money transfer", "Is my booking..."): the units are

- **sentences** of a message, greeting and closing removed;
- **clauses** of a sentence (split at commas, semicolons, colons, dashes, "but" / "because"), minus a
  leading "and" / "so" / "please" and never a dependent clause on its own ("If I travel abroad");
- a clause's **request core**: the clause without its request preamble ("How can I exchange
  currencies with this app?" -> "Exchange currencies with this app"), still the customer's words;
- **word spans** inside a clause only when they stand alone: they start on a content word, never
  on an auxiliary, a question word or a pronoun, end on a content word, hold no subject pronoun,
  and keep the clause's negation ("card hasn't arrived", never "card arrived").

One end-user's details never pass: a unit with a redaction placeholder, a token with a digit or (in
English) a capitalised name inside the sentence is dropped, or cut back before the preposition that
introduces the detail when what is left is still a whole clause ("I haven't received a confirmation
email for booking XX7B5V" -> "I haven't received a confirmation email").
"""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

GREETING_RE = re.compile(r"^(?:(?:hi|hello|hey|hiya|dear|good|morning|afternoon|support|team|there|guys)\b[\s,.!?]*)+"
                         r"(?:[A-Z][a-z]+\s*,\s*)?", re.IGNORECASE)  # "Hi Alex, ..." drops the agent's name too
CLOSING_RE = re.compile(r"\s+(?:kind regards|best|cheers|thanks|thank you|many thanks|ty)\b.*$", re.IGNORECASE)
PLACEHOLDER_RE = re.compile(r"<[A-Z_]+>")
# A token with a digit (a booking reference, an order number) or a capitalised word inside a sentence
# (a person's or place's name) belongs to one end-user.
PERSONAL_RE = re.compile(r"\S*\d\S*|(?<=\w\s)(?!I\b|I')[A-Z][a-z]+")
NUMBER_RE = re.compile(r"\S*\d\S*")
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE_RE = re.compile(r"\s*(?:[,;:]\s+|\s[-–]\s|\s(?=(?:but|because|cause|although|though|whereas)\s))", re.IGNORECASE)
WORD_RE = re.compile(r"[^\W\d_](?:[^\W\d_]|['’](?=[^\W\d_]))*", re.UNICODE)

_LEAD = ("please", "pls", "plz", "and", "so", "ok", "okay", "also", "but", "because", "cause", "well", "yes",
         "hi", "hello", "hey", "um", "oh", "help", "urgent", "again", "then", "now", "just")
_TRAIL = ("please", "pls", "plz", "thanks", "thank you", "asap", "again", "now", "urgently", "already", "today")
# A clause starting with one of these depends on another ("If I travel abroad, ..."): never a unit alone.
_DEPENDENT = frozenset({"if", "when", "while", "whilst", "since", "as", "although", "though", "unless", "after",
                        "before", "whereas", "whether", "once", "which", "who", "that", "than", "or", "even"})
_AUX = frozenset({
    "am", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "have", "has", "had", "can",
    "could", "will", "would", "shall", "should", "may", "might", "must", "isn't", "aren't", "wasn't", "weren't",
    "don't", "doesn't", "didn't", "haven't", "hasn't", "hadn't", "can't", "cannot", "couldn't", "won't",
    "wouldn't", "shouldn't", "mustn't", "cant", "dont", "doesnt", "didnt", "wont", "isnt", "hasnt", "havent",
    "wasnt", "couldnt", "wouldnt", "im", "ive", "i'm", "i've", "i'd", "i'll", "it's", "there's", "what's",
})
_DO_MODAL = frozenset({
    "do", "does", "did", "can", "could", "will", "would", "should", "shall", "may", "might", "must", "don't",
    "doesn't", "didn't", "can't", "cannot", "couldn't", "won't", "wouldn't", "shouldn't", "cant", "dont", "doesnt",
    "didnt", "wont"})
_QUESTION = frozenset({"how", "why", "what", "when", "where", "which", "who", "whom", "whose"})
_PRONOUN = frozenset({"i", "you", "we", "he", "she", "they", "me", "us", "him", "her", "them", "it", "u", "ya"})
NEGATIONS = frozenset({"not", "no", "never", "cannot", "nothing", "nobody"})
_BARE_NEGATIONS = frozenset({"cant", "dont", "doesnt", "didnt", "wont", "isnt", "hasnt", "havent", "wasnt", "couldnt"})
# Words a unit may not start or end on when it is cut from a longer clause.
FUNCTION = frozenset(ENGLISH_STOP_WORDS | _AUX | _PRONOUN | {
    "hi", "hello", "hey", "thanks", "thank", "please", "pls", "plz", "just", "really", "ok", "okay", "yes",
    "want", "need", "like", "help", "know", "tell", "get", "got", "trying", "try", "able", "let", "going",
    "wondering", "possible", "wanna", "gonna", "sorry", "urgent", "asap", "today", "yesterday", "guys",
})
# Request preambles, longest first: what is left after one is the request itself.
_PREAMBLES = sorted((
    "i would like to", "i'd like to", "i would love to", "i want to", "i wanna", "i need to", "i have to",
    "i must", "i'm trying to", "i am trying to", "i tried to", "i wish to", "i'd love to",
    "how do i", "how can i", "how would i", "how should i", "how could i", "how will i", "how to", "how do you",
    "how can you", "how does one", "where do i", "where can i", "what do i do to", "what do i need to do to",
    "can i", "could i", "may i", "am i able to", "am i allowed to", "is it possible to", "is it possible for me to",
    "can you", "could you", "would you", "will you", "can u", "please", "help me", "can you help me",
    "could you help me", "can you tell me how to", "could you tell me how to", "tell me how to", "let me",
    "is there a way to", "is there any way to", "is there a way i can", "is there a way for me to",
    "i'd like you to", "i want you to", "i need you to", "would it be possible to", "would i be able to",
    "will i be able to", "can i please", "could i please", "can you please", "could you please", "i need help to",
    "i need help", "i want", "i need", "i'd like", "i would like",
), key=lambda p: (-len(p.split()), p))
_PREAMBLE_RE = re.compile(r"^(?:" + "|".join(re.escape(p) for p in _PREAMBLES) + r")\b\s*", re.IGNORECASE)
_PREPOSITION = frozenset({"for", "to", "in", "on", "at", "with", "from", "of", "by", "about", "into", "under",
                          "via", "number", "called", "named", "ref", "reference", "id"})


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` (straight apostrophes)."""
    return [w.lower().replace("’", "'") for w in WORD_RE.findall(text or "")]


def telling(text: str) -> list[str]:
    """The words of ``text`` that carry meaning (not function words or small talk)."""
    return [w for w in words(text) if w not in FUNCTION or w in NEGATIONS]


def sentences(text: str) -> list[str]:
    """The message's sentences, whitespace normalised, greeting and closing removed, empty ones dropped."""
    out = []
    for raw in SENTENCE_RE.split(" ".join((text or "").split())):
        sentence = CLOSING_RE.sub("", GREETING_RE.sub("", raw.strip())).strip()
        if sentence:
            out.append(sentence)
    return out


def strip_edges(text: str) -> str:
    """Without leading fillers ("and", "please", "so") and trailing ones ("please", "thanks")."""
    text = text.strip(" ,;:-–\"'")
    while True:
        low = text.lower()
        lead = next((w for w in _LEAD if low.startswith(w + " ") or low.startswith(w + ",")), None)
        trail = next((w for w in _TRAIL if re.search(rf"[\s,]{re.escape(w)}[.!?]*$", low)), None)
        if lead:
            text = text[len(lead):].strip(" ,;:-–")
        elif trail:
            text = re.sub(rf"[\s,]+{re.escape(trail)}([.!?]*)$", r"\1", text, flags=re.IGNORECASE).strip(" ,;:-–")
        else:
            return text


def private_free(text: str, english: bool = True) -> str | None:
    """``text`` when it holds no end-user's detail; else cut back before the preposition that
    introduces the first detail when what is left still ends a clause; else None."""
    found = [m.start() for m in (PLACEHOLDER_RE.search(text), (PERSONAL_RE if english else NUMBER_RE).search(text)) if m]
    if not found:
        return text
    head = text[: min(found)].split()
    while head and head[-1].lower().strip(",;:") not in _PREPOSITION:
        head.pop()
    while head and head[-1].lower().strip(",;:") in _PREPOSITION:
        head.pop()
    cut = " ".join(head).rstrip(" ,;:-–")
    return cut if cut and ends_whole(cut) and len(telling(cut)) >= 2 else None


def ends_whole(text: str) -> bool:
    """Whether ``text`` can end where it ends: not on a function word, an auxiliary or a negation
    (a customer's own sentence may: "How do I do this?"; a cut one may not)."""
    ws = words(text)
    return bool(ws) and ws[-1] not in FUNCTION and ws[-1] not in NEGATIONS


def clauses(sentence: str) -> list[str]:
    """The sentence's independent clauses, fillers stripped, dependent clauses dropped."""
    out = []
    for part in _CLAUSE_RE.split(sentence):
        part = strip_edges(part)
        first = words(part)[:1]
        if part and first and first[0] not in _DEPENDENT:
            out.append(part[:1].upper() + part[1:])
    return out


def request_core(clause: str) -> str | None:
    """The clause without its request preamble ("Can I cancel my order?" -> "Cancel my order"), or
    None when it has none or too little is left."""
    core = strip_edges(_PREAMBLE_RE.sub("", clause.strip(), count=1)).rstrip("?.! ")
    if core == clause.rstrip("?.! ") or len(telling(core)) < 2 or words(core)[:1] and words(core)[0] in _AUX | _PRONOUN:
        return None
    return core[:1].upper() + core[1:]


def spans(clause: str, min_words: int, max_words: int) -> dict[str, str]:
    """Word spans of ``clause`` that stand alone (see the module docstring): lower-cased span ->
    the span as the customer wrote it."""
    if any(c.isdigit() for c in clause) or PLACEHOLDER_RE.search(clause):
        return {}
    raw = [w.replace("’", "'") for w in WORD_RE.findall(clause)]
    ws = [w.lower() for w in raw]
    negated = [i for i, w in enumerate(ws) if w in NEGATIONS or w.endswith("n't") or w in _BARE_NEGATIONS]
    # In a question inverted with do or a modal ("What does pending payment mean", "How long will
    # the transfer take") the verb after the subject is bare: no span may start after that auxiliary.
    inverted = len(ws) if not ws or (ws[0] not in _QUESTION and ws[0] not in _DO_MODAL) else \
        next((n for n, w in enumerate(ws) if w in _DO_MODAL), len(ws))
    out: dict[str, str] = {}
    for i, first in enumerate(ws):
        if first in FUNCTION or first in _QUESTION:
            continue
        for j in range(i + 1, min(len(ws), i + max_words) + 1):
            span = ws[i:j]
            if i > inverted or ws[j - 1] in FUNCTION or ws[j - 1] in NEGATIONS or _PRONOUN & set(span):
                continue
            if negated and not any(i <= n < j for n in negated):
                continue
            if len([w for w in span if w not in FUNCTION]) >= min_words:
                out.setdefault(" ".join(span), " ".join(raw[i:j]))
    return out


def whole_units(text: str, english: bool = True, max_words: int = 9) -> list[str]:
    """The message's sentences and clauses of at most ``max_words`` words with a telling word, with
    no end-user's detail (or cut back before it), in order, without repeats."""
    out: list[str] = []
    for sentence in sentences(text):
        pieces = [sentence] + [c for c in clauses(sentence) if c != sentence]
        for piece in pieces:
            kept = private_free(strip_edges(piece), english)
            if kept and len(kept.split()) <= max_words and telling(kept):
                out.append(kept[:1].upper() + kept[1:])
    return list(dict.fromkeys(out))
