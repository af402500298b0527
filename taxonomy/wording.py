"""Whole requests from customers' messages, for topic names and the questions actions quote (issue 16).

A CSM reads a topic's name and the questions of its next best action as the customer's request, so
nothing here ever ends mid-clause ("Hasn't my money transfer", "Is my booking..."): the units are

- **sentences** of a message, greeting and closing removed, a run-on split before "My" / "Our" + a word;
- **clauses** of a sentence (split at commas, semicolons, "but" / "because"), minus a
  leading "and" / "so" / "please" and never a dependent clause on its own ("If I travel abroad");
- a clause's **request core**: the clause without its request preamble ("How can I exchange
  currencies with this app?" -> "Exchange currencies with this app"), and its **bare** form without a
  leading subject or determiner ("My transfer failed" -> "Transfer failed"), still the customer's
  words, and only when they start on a word a request can start on (never "With a PIN change").

A clause that starts on an auxiliary without being a question ("have since requested a refund")
leans on another clause and is dropped, so are sentences that are only a closing ("Cheers, Zoe").
One end-user's details never pass (a redaction placeholder, a token with a digit, an amount, in
English a capitalised name inside the sentence): each leaves with the phrase that carries it ("I
haven't received a confirmation email for booking XX7B5V" -> "I haven't received a confirmation
email", "Is my booking <REF> confirmed?" -> "Is my booking confirmed?"), or the unit is dropped when
no whole request is left (:func:`private_free`). Long sentences and customers' typos stay as
they were written: nothing here rewrites a request, it only chooses whole ones.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

GREETING_RE = re.compile(r"^(?:(?:hi|hello|hey|hiya|dear|good morning|good afternoon|good evening|morning|afternoon)\b"
                         r"(?:\s+(?:there(?=[\s]*[,.!?])|team|support|guys|all|folks|everyone))*[\s,.!?]*)+"
                         r"(?:[A-Z][a-z]+\s*,\s*)?", re.IGNORECASE)  # "Hi Alex, ..." drops the agent's name too
CLOSING_RE = re.compile(r"\s+(?:kind regards|best|cheers|thanks|thank you|many thanks|ty)\b.*$", re.IGNORECASE)
_CLOSING_ONLY_RE = re.compile(r"^(?:kind regards|best regards|regards|best|cheers|thanks|thank you|many thanks|ty|thx|br)\b", re.I)
PLACEHOLDER_RE = re.compile(r"<[A-Z_]+>")
# A token with a digit (a booking reference, an order number) or a capitalised word inside a sentence
# (a person's or place's name) belongs to one end-user.
PERSONAL_RE = re.compile(r"\S*\d\S*|(?<=[\w,]\s)(?!I\b|I')[A-Z][a-z]+")
NUMBER_RE = re.compile(r"\S*\d\S*")
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+|\s(?=(?:My|Our)\s(?:[a-z]|[A-Z]{2,}\b))(?<=[a-z\d]\s)"  # the lookahead first: cheap
                         r"(?<!\bin\s|\bof\s|\bto\s|\bon\s|\bat\s|\bby\s)(?<!\bfor\s)(?<!\bfrom\s|\bwith\s)")
# Not at colons and dashes: "Account holder: ..." and "Running shoes - what size?" are no requests alone.
# "cause" is "because" only before a subject ("I can't log in cause my password expired"), never the
# verb ("Why did using an ATM cause me to be charged?").
_CLAUSE_RE = re.compile(r"\s*(?:[,;]\s+|\s(?=(?:but|because|although|though|whereas)\s)"
                        r"|\s(?=cause\s+(?:i|i'm|im|i've|ive|my|we|we're|our|you|you're|your|they|they're|their|he|"
                        r"she|it's|its|there|there's)\s)"
                        r"|\s(?=or\s+(?:is|are|do|does|did|can|could|should|will|would|was|has|have|am)\s))", re.IGNORECASE)
WORD_RE = re.compile(r"[^\W\d_](?:[^\W\d_]|['’](?=[^\W\d_]))*", re.UNICODE)

_LEAD = ("please", "pls", "plz", "and", "or", "so", "ok", "okay", "also", "but", "because", "cause", "well", "yes",
         "hi", "hello", "hey", "um", "oh", "urgent", "again", "then", "now", "just", "actually", "basically",
         "honestly", "anyway", "anyways", "btw")
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
_QUESTION = frozenset({"how", "why", "what", "when", "where", "which", "who", "whom", "whose"})
_PRONOUN = frozenset({"i", "you", "we", "he", "she", "they", "me", "us", "him", "her", "them", "it", "u", "ya"})
NEGATIONS = frozenset({"not", "no", "never", "cannot", "nothing", "nobody"})
# Words a unit may not start or end on when it is cut from a longer clause.
# Words of scikit-learn's stop list that carry a request ("move my booking", "top up", "money back").
_REQUEST_WORDS = frozenset({"move", "call", "find", "fill", "give", "show", "take", "put", "see", "keep", "bill",
                            "amount", "name", "top", "back", "part", "detail", "system", "interest", "fire", "found"})
FUNCTION = frozenset((ENGLISH_STOP_WORDS - _REQUEST_WORDS) | _AUX | _PRONOUN | {
    "hi", "hello", "hey", "thanks", "thank", "please", "pls", "plz", "just", "really", "ok", "okay", "yes",
    "want", "need", "like", "help", "know", "tell", "get", "got", "trying", "try", "able", "let", "going",
    "wondering", "possible", "wanna", "gonna", "sorry", "urgent", "asap", "today", "yesterday", "guys",
    # How a message is said, not what it asks ("Actually, can you just cancel it for me" has one telling
    # word; "I'm getting really frustrated" none).
    "actually", "basically", "honestly", "seriously", "anyways", "btw", "hmm", "apparently", "probably",
    "maybe", "literally", "kindly", "getting", "frustrated", "frustrating", "disappointed", "ridiculous",
    "unacceptable", "annoyed", "annoying", "angry", "upset", "furious", "fed",
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
_LEADING_SUBJECT = frozenset({"i", "we", "my", "our", "the", "a", "an", "this", "that", "these", "those"})
# A request core or bare clause never starts on these (a preposition, a determiner, a pronoun, an auxiliary).
_NO_START = frozenset(_AUX | _PRONOUN | _QUESTION | _DEPENDENT | _LEADING_SUBJECT | {
    "with", "for", "to", "in", "on", "at", "from", "of", "by", "about", "into", "and", "or", "but", "so", "some",
    "any", "more", "not", "no", "your", "their", "his", "its", "there", "here", "just", "also", "still"})
_AMOUNT_RE = re.compile(r"^[£$€¥][\d.,]+\W*$|^[\d.,]+(?:£|€|\$|eur|gbp|usd)\W*$", re.IGNORECASE)
_MAYBE_DETAIL_RE = re.compile(r"[\d<£$€¥]|^[.,]")  # what a placeholder, number or amount needs
_SHORT_TERM_RE = re.compile(r"(?=\w{2,3}$)[a-z]*\d[a-z]+|[a-z]+\d")  # "2fa", "4g", "mp3": not a reference
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "january", "february",
          "march", "april", "june", "july", "august", "september", "october", "november", "december")
# Words that go with a detail before them: "8 days", "9 Dec", "2 pounds".
_DETAIL_TAIL = frozenset({"days", "day", "weeks", "week", "hours", "hour", "minutes", "months", "month", "years", "times",
                          "pounds", "euros", "dollars", "items", "am", "pm", *MONTHS})
# Verbs whose particle is no preposition ("turn on 2fa", "log in with ..."): a detail after them stays.
_PHRASAL = frozenset({"turn", "log", "sign", "set", "top", "check", "switch", "opt", "pick", "fill", "cash", "pay",
                      "hand", "send", "put", "take", "get", "give", "carry", "move", "look", "find"})
# Words that label a reference ("order #123", "booking XX7B5V"): a request may end on them.
_ID_LABEL = frozenset({"order", "booking", "reference", "ref", "ticket", "invoice", "account", "card", "number",
                       "reservation", "confirmation", "transaction", "payment", "parcel", "package", "claim",
                       "flight", "room", "seat", "item", "product", "code", "case", "request", "workspace", "plan",
                       # the same labels in the other languages the product detects (es, fr, de, pt)
                       "reserva", "pedido", "referencia", "billete", "vuelo", "número", "réservation", "commande",
                       "référence", "billet", "vol", "numéro", "dossier", "buchung", "bestellung", "referenz",
                       "flug", "nummer", "rechnung", "encomenda", "bilhete", "voo", "fatura", "factura", "facture"})
_PREPOSITION = frozenset({"for", "to", "in", "on", "at", "with", "from", "of", "by", "about", "into", "under",
                          "via", "number", "called", "named", "ref", "reference", "id"})


def evenly(texts: list[str], limit: int) -> list[str]:
    """At most ``limit`` of ``texts``: all of them, or ``limit`` evenly spaced through them in text
    order (a systematic sample: a phrasing a fifth of them use is about a fifth of the sample, and
    the same texts give the same sample in any order). Keeps the cost of reading a topic bounded."""
    if len(texts) <= limit:
        return texts
    ordered = sorted(texts)
    return [ordered[(i * len(ordered)) // limit] for i in range(limit)]


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` (straight apostrophes)."""
    return list(_words(text or ""))


def word_set(text: str) -> set[str]:
    """``set(words(text))``, in one regex pass when the text is ASCII (lower-casing then changes no letter)."""
    if text.isascii():
        return set(WORD_RE.findall(text.lower()))
    return set(words(text))


def word_support(texts: list[str]) -> Counter[str]:
    """How many of ``texts`` use each (lower-cased) word."""
    return Counter(w for t in texts for w in word_set(t))


# A capitalised word at least this many (and this share) of a topic's messages use is the business's (a
# product, a brand, a place: "Does LoopDesk integrate with Slack?") or, in German, a noun; one fewer
# messages use is one end-user's name (private_free's ``shared``).
SHARED_MESSAGES = 3
SHARED_SHARE = 0.1


def shared_words(texts: list[str], support: Counter[str] | None = None) -> frozenset[str]:
    """The (lower-cased) words at least ``SHARED_MESSAGES`` and ``SHARED_SHARE`` of ``texts`` use
    (``support``: their :func:`word_support`, when the caller has it)."""
    floor = max(SHARED_MESSAGES, SHARED_SHARE * len(texts))
    return frozenset(w for w, n in (word_support(texts) if support is None else support).items() if n >= floor)


@lru_cache(maxsize=1 << 16)  # naming and actions ask for the words of the same clauses many times
def _words(text: str) -> tuple[str, ...]:
    return tuple(w.lower().replace("’", "'") for w in WORD_RE.findall(text))


def telling(text: str) -> list[str]:
    """The words of ``text`` that carry meaning (not function words or small talk)."""
    return [w for w in words(text) if w not in FUNCTION or w in NEGATIONS]


def sentences(text: str) -> list[str]:
    """The message's sentences, whitespace normalised, greeting and closing removed, empty ones dropped."""
    out = []
    for raw in SENTENCE_RE.split(" ".join((text or "").split())):
        sentence = CLOSING_RE.sub("", GREETING_RE.sub("", raw.strip())).strip()
        if sentence and not _CLOSING_ONLY_RE.match(sentence):
            out.append(sentence)
    return out


_LEAD_RE = re.compile(r"(?:" + "|".join(re.escape(w) for w in _LEAD) + r")(?=[ ,])", re.IGNORECASE)
# "right now" is one phrase: "How many seats are we using right now?" never loses its "now".
_TRAIL_RE = re.compile(r"(?<!\bright)[\s,]+(?:" + "|".join(re.escape(w) for w in _TRAIL) + r")([.!?]*)$", re.IGNORECASE)


def strip_edges(text: str) -> str:
    """Without leading fillers ("and", "please", "so") and trailing ones ("please", "thanks")."""
    text = text.strip(" ,;:-–")
    if text.count('"') % 2:  # an unbalanced quote mark at an edge: the clause split a quotation
        text = text.strip('"')
    while True:
        lead = _LEAD_RE.match(text)
        if lead:
            text = text[lead.end():].strip(" ,;:-–")
            continue
        trail = _TRAIL_RE.search(text)
        if not trail:
            return text
        text = (text[:trail.start()] + trail.group(1)).strip(" ,;:-–")


def _is_detail(token: str, i: int, english: bool, shared: frozenset[str] = frozenset()) -> bool:
    """A redaction placeholder, a token with a digit (but a short term such as "2fa" or "4g") or an
    amount, or (English) a capitalised name inside the sentence ("Rome", "Hauptstraße") that is not
    one of the ``shared`` words (lower-cased) many end-users write ("Slack", "Visa")."""
    core = token.strip(",;:.!?()\"'")
    name = bool(english and i and core[:1].isupper() and core[1:].islower() and not core.startswith(("I'", "I’"))
                and core.lower() not in shared)
    if not _MAYBE_DETAIL_RE.search(token):  # most tokens: no digit, placeholder or currency, so only a name can be one
        return name
    if _SHORT_TERM_RE.fullmatch(core):
        return False
    return bool(PLACEHOLDER_RE.search(token) or NUMBER_RE.search(token) or _AMOUNT_RE.match(token) or name)


def _is_code(tokens: list[str], i: int) -> bool:
    """A reference of 5 to 8 capital letters after a word that labels one ("booking TCGLXD"), in a
    text not written mostly in capitals ("CANCEL MY ORDER PLEASE" has none)."""
    core = tokens[i].strip(",;:.!?()\"'")
    if not (i and 5 <= len(core) <= 8 and core.isalpha() and core.isupper()):
        return False
    return _bare_word(tokens[i - 1]) in _ID_LABEL and sum(t.isupper() for t in tokens) * 2 <= len(tokens)


def private_free(text: str, english: bool = True, shared: frozenset[str] = frozenset()) -> str | None:
    """``text`` without any end-user's detail, or None when no whole request is left.

    A detail goes with the phrase that carries it: after a word that labels it ("stop order #123"
    -> "stop order", "Is my booking <REF> confirmed" -> "Is my booking confirmed"), an amount alone
    after a passive or a particle ("I got charged $79.20 twice" -> "I got charged twice", "Can I top
    up £100?" -> "Can I top up?"), else with its preposition and determiners ("... email for booking
    XX7B5V" -> "... email", "the address for booking TCGLXD" -> "the address", "my hotel in Rome is
    booked" -> "my hotel is booked", "my money back for #123" -> "my money back"), except after a
    phrasal verb ("turn on 2fa"). Any other detail (an object: "My name is Maria", "I only received
    $20") leaves nothing whole.
    """
    tokens = text.split()
    detail = [_is_detail(t, i, english, shared) or (t.isupper() and _is_code(tokens, i)) for i, t in enumerate(tokens)]
    if not any(detail):
        return text
    keep = [True] * len(tokens)
    i = 0
    while i < len(tokens):
        if not detail[i]:
            i += 1
            continue
        j = i + 1
        while j < len(tokens) and (detail[j] or _bare_word(tokens[j]) in _DETAIL_TAIL):
            j += 1
        j = _place_after(tokens, j)
        b = i - 1
        while b >= 0 and _bare_word(tokens[b]) in _LEADING_SUBJECT | _ID_LABEL:
            b -= 1
        if b >= 0 and _bare_word(tokens[b]) in _PREPOSITION and not (b and _bare_word(tokens[b - 1]) in _PHRASAL):
            if j < len(tokens) and _bare_word(tokens[j]).isalpha() and _bare_word(tokens[j]) not in _NOT_PHRASE \
                    and not re.search(r"[?.!,;]$", tokens[j - 1]):
                return None  # the phrase goes on past the detail ("to the Basic plan"): no whole clause is left
            start = b
        elif i and _bare_word(tokens[i - 1]) in _ID_LABEL:  # the label stays, unless alone after a comma
            start = i - 1 if i == 1 or tokens[i - 2].endswith(",") else i
        elif _AMOUNT_RE.match(tokens[i]) and j == i + 1 and _amount_may_go(tokens, i):
            start = i
        else:
            return None
        mark = re.search(r"[?.!,;]+$", tokens[j - 1])
        for n in range(start, j):
            keep[n] = False
        last = next((n for n in range(start - 1, -1, -1) if keep[n]), None)
        if mark and last is not None:
            tokens[last] = tokens[last].rstrip(",;:?.!") + mark.group()
        i = j
    raw = " ".join(t for t, k in zip(tokens, keep) if k)
    cut = raw.strip(" ,;:-–")
    clause_end = keep[-1] or raw.endswith((",", ";")) or ends_whole(cut) or cut.endswith("?")
    return cut if cut and clause_end and telling(cut) else None


def _amount_may_go(tokens: list[str], i: int) -> bool:
    """Whether the amount ``tokens[i]`` leaves a whole clause behind: before the noun it qualifies
    ("What is the $379.29 charge?"), after a particle ("Can I top up £100?") or a passive ("Why was
    I charged £3.50?", "I got charged $20 twice"), never where it is the subject or the object ("I
    only received $20", "Why did I only get $20 when I asked?", "£20 came out instead" are no
    requests without it)."""
    if not i:
        return False
    before = _bare_word(tokens[i - 1])
    if before in _DETERMINER and i + 1 < len(tokens) and not re.search(r"[?.!,;]$", tokens[i]):
        return True  # it qualifies the noun after it: "the $379.29 charge" -> "the charge"
    if i > 1 and (_bare_word(tokens[i - 2]), before) in _WITH_PARTICLE:
        return True
    passive = before.endswith("ed") or before in _PARTICIPLE
    return passive and any(_bare_word(t) in _PASSIVE for t in tokens[max(0, i - 4):i - 1])


_DETERMINER = frozenset({"a", "an", "the", "this", "that", "my", "your", "our", "their", "his", "her", "its", "extra",
                         "another"})
# Verbs with a particle that make a whole request without their amount ("Can I top up?"; not "take out").
_WITH_PARTICLE = frozenset({("top", "up"), ("topped", "up"), ("topping", "up"), ("pay", "back"), ("paid", "back"),
                            ("cash", "out")})
_PARTICIPLE = frozenset({"paid", "sent", "taken", "given", "spent", "lent", "owed", "held", "kept", "left"})
_PASSIVE = frozenset({"was", "were", "been", "be", "being", "is", "are", "am", "get", "got", "gets", "getting",
                      "i'm", "im", "i've", "ive", "it's", "i'd"})


def _place_after(tokens: list[str], j: int) -> int:
    """Where a detail that ends in a placeholder and a comma ends: after the one or two words that
    end the sentence behind it, the place of an address written in lower case ("to <ADDRESS>,
    bangkok." -> both go); ``j`` when other words follow."""
    if not (0 < j < len(tokens) and PLACEHOLDER_RE.search(tokens[j - 1]) and tokens[j - 1].endswith(",")):
        return j
    for end in (j, j + 1):
        if end >= len(tokens) or _bare_word(tokens[end]) in FUNCTION or not _bare_word(tokens[end]).isalpha():
            return j
        if end == len(tokens) - 1 or tokens[end].endswith((".", "!", "?")):
            return end + 1
    return j


# Words that may follow a detail's phrase without being part of it ("my flight to Paris tomorrow ...").
_WHEN = frozenset({"tomorrow", "tonight", "yesterday", "today", "soon", "again", "now", "please", "asap", "pls"})
_NOT_PHRASE = FUNCTION | _WHEN


def _bare_word(token: str) -> str:
    return token.lower().strip(",;:.!?#()\"'")


def ends_whole(text: str) -> bool:
    """Whether ``text`` can end where it ends: not on a function word, an auxiliary or a negation
    (a customer's own sentence may: "How do I do this?"; a cut one may not)."""
    ws = words(text)
    return bool(ws) and ws[-1] not in FUNCTION and ws[-1] not in NEGATIONS


def clauses(sentence: str) -> list[str]:
    """The sentence's independent clauses, fillers stripped, dependent clauses dropped."""
    out = []
    for n, part in enumerate(_CLAUSE_RE.split(sentence)):
        part = strip_edges(part)
        first = words(part)[:1]
        if part and first and first[0] not in _DEPENDENT and (not n or first[0] not in _AUX or part.endswith("?")):
            out.append(part[:1].upper() + part[1:])
    return out


def request_core(clause: str) -> str | None:
    """The clause without its request preamble ("Can I cancel my order?" -> "Cancel my order"), or
    None when it has none or too little is left."""
    core = clause.strip()
    while (shorter := strip_edges(_PREAMBLE_RE.sub("", core, count=1))) != core:  # "Can you please help me ..."
        core = shorter
    core = core.rstrip("?.! ")
    if core == clause.rstrip("?.! ") or len(telling(core)) < 2 or not _can_start(core):
        return None
    return core[:1].upper() + core[1:]


def bare(clause: str) -> str | None:
    """The clause without a leading subject or determiner ("My transfer failed" -> "Transfer
    failed", "I lost my card" -> "Lost my card"), or None when there is none to drop or what is left
    cannot start a request (an auxiliary: "Can't get cash")."""
    ws = clause.split()
    drop = 0
    while drop < len(ws) - 1 and ws[drop].lower() in _LEADING_SUBJECT:
        drop += 1
    rest = " ".join(ws[drop:]).rstrip("?.! ")
    if not drop or clause.rstrip().endswith("?") or not _can_start(rest) or len(telling(rest)) < 2:
        return None
    return rest[:1].upper() + rest[1:]


def _can_start(text: str) -> bool:
    first = words(text)[:1]
    return bool(first) and first[0] not in _NO_START


def whole_units(text: str, english: bool = True, max_words: int = 9, shared: frozenset[str] = frozenset()) -> list[str]:
    """The message's sentences and clauses of 2 to ``max_words`` words with a telling word, with
    no end-user's detail (or cut back before it), in order, without repeats."""
    return list(dict.fromkeys(
        kept[:1].upper() + kept[1:] for sentence in sentences(text) for kept in whole_pieces(sentence, english, shared)
        if 2 <= len(kept.split()) <= max_words and telling(kept)
    ))


@lru_cache(maxsize=1 << 15)  # sentences recur across messages (complaints, thanks, canned phrasings)
def whole_pieces(sentence: str, english: bool = True, shared: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The sentence, then each of its other clauses, fillers stripped and without any end-user's
    detail (:func:`private_free`); those with no whole request left are left out."""
    pieces = (private_free(strip_edges(p), english, shared) for p in [sentence] + [c for c in clauses(sentence) if c != sentence])
    return tuple(p for p in pieces if p)
