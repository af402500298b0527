"""The requests a topic's next best action quotes: whole sentences or clauses of its messages (issue 16).

A quoted request is always a whole sentence or clause of a message (never one cut mid-clause), and
never holds a redaction placeholder, a long number, a booking code or a name (:mod:`taxonomy.wording`),
nor what the customer's end-users write whatever they ask (a sentence found in more than
``BOILERPLATE_TOPICS`` of its topics: :func:`common_sentences`). Near-duplicates (a word one typo
away counting as the same) are one request. Deterministic: ties break alphabetically.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from taxonomy.wording import (
    FUNCTION,
    evenly,
    sentences,
    shared_words,
    strip_edges,
    telling,
    whole_pieces,
    word_support,
)

MAX_QUESTIONS = 5
MAX_READ = 60  # messages of a topic read for its action (an evenly spaced sample of a bigger topic)
MIN_QUESTIONS = 3
MAX_QUESTION_WORDS = 16
# A record or check must be mentioned by at least this share of the topic's messages (or be the top one).
MIN_MENTION_SHARE = 0.1
# A quoted word must be used by at least this many of the topic's messages (and MIN_MENTION_SHARE of them).
MIN_SUPPORT = 2
# A sentence found in more of a customer's topics says nothing about any one (as for topic names).
BOILERPLATE_TOPICS = 3
_LONG_NUMBER_RE = re.compile(r"\d[\d\s-]{3,}")
WORD_RE = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*", re.UNICODE)
_SMALL_TALK = frozenset({
    "hi", "hello", "hey", "thanks", "thank", "you", "please", "dear", "support", "team", "regards", "cheers",
    "best", "kind", "good", "morning", "afternoon", "ty", "there", "many", "in", "advance", "help", "asap", "hiya",
})


_ACRONYMS = frozenset({"us", "it", "am", "pm"})  # "a US card", "the IT team": the capitals are the meaning


def _word_case(word: str) -> str:
    """"i" -> "I"; a function word typed in capitals ("IS", "WHY") -> lower case (an acronym stays)."""
    if word == "i" or word.startswith(("i'", "i’")):
        return "I" + word[1:]
    core = word.strip("?,.!;:")
    lower = core.lower()
    return word.lower() if len(core) > 1 and core.isupper() and lower in FUNCTION and lower not in _ACRONYMS else word


def english_case(text: str) -> str:
    """English words written as a reader expects them (quotes and topic names): "i" -> "I", a
    function word typed in capitals ("IS", "WHY") -> lower case; nothing else changes (a quote
    stays the customer's words). Never for another language: in Italian "i" is an article."""
    return " ".join(_word_case(w) for w in text.split())


@lru_cache(maxsize=1 << 16)  # the same sentences and clauses are read for questions, actions and boilerplate
def lower_words(text: str) -> tuple[str, ...]:
    """The words of ``text``, lower-cased (no digits; "don't" and "top-up" are one word each)."""
    return tuple(w.lower() for w in WORD_RE.findall(text))


def common_sentences(texts_by_topic: list[list[str]]) -> dict[str, tuple[str, ...]]:
    """What a customer's end-users write whatever they ask ("My colleague told me to contact you",
    "Third time asking"): the sentences of at least 3 words found in more than
    ``BOILERPLATE_TOPICS`` of its topics (``MAX_READ`` messages of each read), as their lower-cased
    words (:func:`_key`) by their last word, the longest first. Such a sentence is never quoted as
    a request, nor at the end of one where no full stop ends the request before it ("Ordered and
    still nothing, I already tried the help centre"); inside a sentence it stays ("What should I do
    if someone used my card?")."""
    topics_with: Counter[str] = Counter()
    for texts in texts_by_topic:
        topics_with.update({_key(s) for t in evenly(texts, MAX_READ) for s in split_sentences(t)})
    common = sorted((k for k, n in topics_with.items() if n > BOILERPLATE_TOPICS and k.count(" ") >= 2),
                    key=lambda k: (-len(k), k))
    by_last: dict[str, list[str]] = {}
    for k in common:
        by_last.setdefault(k.rsplit(" ", 1)[-1], []).append(k)
    return {last: tuple(keys) for last, keys in by_last.items()}


@lru_cache(maxsize=1 << 14)  # the boilerplate count, the quoted requests and the action read the same messages
def split_sentences(text: str) -> tuple[str, ...]:
    """:func:`taxonomy.wording.sentences`, worked out once per message."""
    return tuple(sentences(text))


def _key(sentence: str) -> str:
    """A sentence's words, lower-cased, one apostrophe, no digits ("for 7 years" and "for 2 years" are one)."""
    return " ".join(lower_words(sentence)).replace("’", "'")


def _sentences(text: str, boilerplate: dict[str, tuple[str, ...]] | None) -> list[str] | tuple[str, ...]:
    """The message's sentences, without the customer's ``boilerplate`` at their end (a sentence that
    is nothing else is left out)."""
    if not boilerplate:
        return split_sentences(text)
    return [kept for kept in (_cut(s, boilerplate) for s in split_sentences(text)) if kept]


def _cut(sentence: str, boilerplate: dict[str, tuple[str, ...]]) -> str:
    """``sentence`` without the longest of ``boilerplate`` that ends it."""
    key = _key(sentence)
    for common in boilerplate.get(key.rsplit(" ", 1)[-1], ()):
        if key == common:
            return ""
        if key.endswith(" " + common):
            start = [m.start() for m in WORD_RE.finditer(sentence)][-(common.count(" ") + 1)]
            return strip_edges(sentence[:start])
    return sentence


def request_sentence(text: str, topic_words: frozenset[str] = frozenset(), english: bool = True,
                     boilerplate: dict[str, tuple[str, ...]] | None = None,
                     shared: frozenset[str] = frozenset()) -> str | None:
    """The first whole request of a message that asks about the topic (a word of ``topic_words``,
    when given; not small talk): its sentence, or else its first clause, of at most
    ``MAX_QUESTION_WORDS`` words, greeting and closing removed, without any end-user's detail (a
    placeholder, a number or reference, a name; cut back to a whole clause before one, else
    skipped). A capitalised word of ``shared`` (lower-cased) is no name; ``english=False``: none
    is (never for quotes). Never a sentence cut mid-clause (:mod:`taxonomy.wording`). The
    customer's ``boilerplate`` (:func:`common_sentences`) is cut from the end of a sentence and
    never quoted."""
    for sentence in _sentences(text, boilerplate):
        ws = lower_words(sentence)
        if len([w for w in ws if w not in _SMALL_TALK]) < 3 or (topic_words and not topic_words & set(ws)):
            continue
        # Only the shared words this sentence holds: most hold none, and their pieces are cached across topics.
        held = shared & {t.strip(",;:.!?()\"'").lower() for t in sentence.split()[1:] if t[:1].isupper()} if shared else shared
        for kept in whole_pieces(sentence, english, frozenset(held)):
            if (not _LONG_NUMBER_RE.search(kept) and len(kept.split()) <= MAX_QUESTION_WORDS
                    and len([w for w in lower_words(kept) if w not in _SMALL_TALK]) >= 3):
                kept = kept.rstrip(" .!")  # quoted in a sentence: its own full stop would double up
                return kept[:1].upper() + kept[1:]
    return None


# How a question starts when it does not end in "?" ("Does the blender come with a warranty").
_QUESTION_START = frozenset({"how", "what", "what's", "where", "when", "why", "which", "who", "can", "could", "do", "does",
                             "did", "is", "are", "was", "were", "will", "would", "should", "may", "have", "has"})


def is_question(sentence: str) -> bool:
    """Whether a request is asked as a question (ends in "?", or opens like one)."""
    first = lower_words(sentence)[:1]
    return sentence.rstrip().endswith("?") or bool(first and first[0] in _QUESTION_START)


def distinct_questions(texts: list[str], limit: int = MAX_QUESTIONS, keywords: list[str] | None = None,
                       boilerplate: dict[str, tuple[str, ...]] | None = None, questions_first: bool = False) -> list[str]:
    """The topic's distinct request phrasings, most asked first: near-duplicates (Jaccard >= 0.6 of
    their telling words, a word one typo away counting as the same) are merged into the phrasing
    seen most often.

    First only whole requests that use a word of the topic's ``keywords`` and whose telling words
    enough of the topic's messages use (no one end-user's city or typo: such a sentence is left out,
    never cut); when that gives fewer than ``MIN_QUESTIONS`` (a loose topic), the other whole requests
    with a keyword's word fill up (a topic asked in one way quotes one request, not the small talk
    around it); any whole request only when none uses a keyword; still without any personal detail.
    With ``questions_first`` (what help-centre content or an assistant reading records must answer),
    requests asked as questions (:func:`is_question`) come before the others at each step ("Does
    the blender come with a warranty?" before "Came with a torn blender" in a topic that holds both),
    and where none of the chosen requests is a question, the tier's questions that use no keyword
    replace them (the keywords are the whole topic's, and its other tier can set them).
    Never the customer's ``boilerplate`` (:func:`common_sentences`). A capitalised word many of
    the messages use is kept as the business's (or, in German, a noun:
    :func:`taxonomy.wording.shared_words`); one fewer use is one end-user's name, in any language: a
    topic whose every request holds one quotes nothing.
    """
    topic_words = frozenset(w for k in (keywords or [])[:6] for w in k.split())
    support = word_support(texts)
    floor = max(MIN_SUPPORT, MIN_MENTION_SHARE * len(texts))
    shared = shared_words(texts, support)
    found: Counter[str] = Counter()
    for text, n in Counter(texts).items():  # each distinct message read once
        request = request_sentence(text, topic_words, boilerplate=boilerplate, shared=shared)
        if request:
            found[request] += n
    strict = Counter({s: n for s, n in found.items() if all(support[w] >= floor for w in telling(s))})
    chosen = _distinct(strict, [], limit, questions_first)
    if len(chosen) < MIN_QUESTIONS:  # the topic's words, never the small talk ("My colleague told me...")
        chosen = _distinct(found, chosen, MIN_QUESTIONS, questions_first)
    if not chosen:  # a topic none of whose requests uses its keywords: its requests as they are
        chosen = _distinct(Counter(s for s in (request_sentence(t, boilerplate=boilerplate, shared=shared) for t in texts) if s),
                           chosen, MIN_QUESTIONS, questions_first)
    if questions_first and not any(is_question(s) for s, _ in chosen):
        # The keywords are the whole topic's: where its other tier set them ("came torn" in a topic of
        # product questions and damaged-item complaints), this tier's questions use none of them.
        asked: Counter[str] = Counter()
        for text, n in Counter(texts).items():
            request = request_sentence(text, boilerplate=boilerplate, shared=shared)
            if request and is_question(request) and all(support[w] >= floor for w in telling(request)):
                asked[request] += n
        chosen = _distinct(asked, [], limit) or chosen
    return [s for s, _ in chosen]


def _distinct(counts: Counter[str], chosen: list[tuple[str, set[str]]], limit: int,
              questions_first: bool = False) -> list[tuple[str, set[str]]]:
    """``chosen`` plus the most frequent of ``counts`` that are not near-duplicates, up to ``limit``
    (questions before the others with ``questions_first``)."""
    chosen = list(chosen)
    for sentence, _ in sorted(counts.items(), key=lambda kv: (questions_first and not is_question(kv[0]), -kv[1], kv[0])):
        if len(chosen) >= limit:
            break
        said = set(telling(sentence)) - _SMALL_TALK or set(lower_words(sentence))
        if any(_overlap(said, seen) >= 0.6 for _, seen in chosen):
            continue
        chosen.append((sentence, said))
    return chosen


def _overlap(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two word sets, a word matching one typo away ("applid" ~ "applied",
    "pritn" ~ "print"): a typo'd copy of a question is the same question."""
    matched = sum(1 for w in a if w in b or any(_one_typo(w, v) for v in b))
    return matched / max(len(a) + len(b) - matched, 1)


def _one_typo(a: str, b: str) -> bool:
    """Whether two words of 4+ letters differ by one inserted, dropped or changed letter, or two
    swapped neighbours."""
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) > len(b):
        return a[i + 1:] == b[i:]
    if len(a) < len(b):
        return a[i:] == b[i + 1:]
    return a[i + 1:] == b[i + 1:] or (a[i:i + 2] == b[i:i + 2][::-1] and a[i + 2:] == b[i + 2:])
