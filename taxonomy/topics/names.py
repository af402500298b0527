"""Short human names for topics: a whole request in the customer's own words ("My card hasn't arrived").

Offline, with the packaged embedder (KeyBERT-style candidates, a discriminative choice):

1. **Candidates** (:mod:`taxonomy.wording`): the whole sentences and clauses of the topic's
   ``CENTRAL`` most central messages of at most ``MAX_NAME_WORDS`` words, each one's request core
   ("How can I exchange currencies with this app?" -> "Exchange currencies with this app") and its
   bare form ("My transfer failed" -> "Transfer failed"), kept only when every telling word is used
   by at least ``MIN_MESSAGES`` of the topic's messages (a city, a product, a typo belong to one
   end-user: the sentence is dropped, never cut). Nothing ends mid-clause; an end-user's detail
   leaves with the phrase that carries it (a placeholder, a reference, an amount, in English a
   capitalised name: :func:`taxonomy.wording.private_free`). Only when the topic has nothing
   better, in this order: a sentence with a single telling word, one of up to ``LONG_NAME_WORDS``
   words, one with two or more telling words the topic shares beside words only its own message
   uses (a small topic phrased anew every time: "Can I choose between mastercard and visa?"); a
   sentence found in the messages of more than ``BOILERPLATE_TOPICS`` of the customer's topics
   ("I'm on my phone so sorry for typos", "My colleague told me to contact you"; counted over all
   its topics, those that keep their name included) only when nothing else is left. Candidates
   with the same telling words say the same thing: only the first is embedded (the most central
   message's whole sentence before its request core and bare form), and of those only the
   ``SHORTLIST`` best supported (the most of the topic's messages use their least used telling
   word). On Banking77 this embeds about 6.5 phrases per topic instead of 14; top-1 0.742 -> 0.741
   on seeds 0-2 (fp32 measure 0.752 -> 0.739; over 46 tuning seeds +0.001 and -0.008 +- 0.003:
   ``benchmarks/README.md``).
2. **Choice**: every candidate is embedded (all topics in one call) and the name is the candidate
   most likely to point back at its own topic among all of the customer's topics: the largest
   softmax probability of its topic over cosine-to-centroid at temperature ``TEMPERATURE``. A name
   must tell its topic apart from the customer's other topics, not only describe it. Candidates and
   centroids are first centred on the customer's average message (``center``, then back to unit
   length): what all of one customer's messages share (its domain, how its customers write) says
   nothing about which topic a phrase names, and left in it lets a candidate win on words unrelated
   to its topic. On Banking77 (seeds 0-2, never tuned on) this lifts fidelity from 0.717 to 0.742
   top-1 (0.728 to 0.752 measured with fp32 vectors); HWU64 and HINT3 move within +-0.012 either
   way by run and measure (``benchmarks/README.md``).

The chosen name's words are then written as most of the topic's messages write them ("Does loopdesk
integrate with slack?" -> "Does LoopDesk integrate with Slack?"; the embedder is uncased, so the
choice and its fidelity are unchanged). The same input gives the same names (scores rounded, ties
to the earlier candidate). Only this customer's texts are read (one customer's topics are named
from its messages only). With no embedder, or no candidate (small topics), the name is the first
whole request of the most central messages (:func:`central_name`).

Cost: one extra embedder pass over at most ``SHORTLIST`` short phrases per named topic (centring
adds two small matrix operations), and the boilerplate count reads at most
``SPREAD_READ`` messages of a topic (an evenly spaced sample, each distinct message once, split
into sentences only when it holds every word of a candidate not yet found in that topic); topics
that keep their name from the previous run (:mod:`taxonomy.topics.discover`) are not named again. Fidelity and cost are measured in ``benchmarks/topic_names_banking77.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import numpy as np

from taxonomy.quotes import english_case
from taxonomy.wording import (
    FUNCTION,
    bare,
    clauses,
    ends_whole,
    evenly,
    private_free,
    request_core,
    sentences,
    telling,
    whole_units,
    word_set,
    word_support,
    words,
)

MIN_WORDS = 2  # telling words in a name: one ("Transfer") is a keyword, not a request
MAX_NAME_WORDS = 9
LONG_NAME_WORDS = 14  # a longer whole sentence only names a topic that has no shorter request
MIN_MESSAGES = 2
CENTRAL = 20
# Candidates embedded per topic, one per set of telling words, the best supported first (Banking77 training
# subsets, seeds 10-12, 20-22 and 30-49; checked on 50-69): 4 loses 0.02 top-1, 8 0.007; 10 is level on int8
# vectors, -0.008 on fp32 ones (benchmarks/README.md).
SHORTLIST = 10
BOILERPLATE_TOPICS = 3
SPREAD_READ = 200  # messages per topic read for boilerplate (an evenly spaced sample of a bigger topic)
# Softmax temperature over centred cosines (tuned on Banking77 training subsets of seeds 10-12, 20-22
# and 30-49, never the benchmark's seeds 0-2): lower picks the most distinctive wording, higher the
# most typical.
TEMPERATURE = 0.07
NO_TEXT = "(no text)"

Embed = Callable[[list[str]], np.ndarray]
_NO_SPACE_RE = re.compile(r",(?=[^\W\d_])")  # "cash,why?" -> "cash, why?"


def _sentence_case(text: str, casing: bool = True) -> str:
    text = _NO_SPACE_RE.sub(", ", text)
    text = english_case(text) if casing else " ".join(text.split())
    return text[:1].upper() + text[1:]


def _display(unit: str, casing: bool = True) -> str:
    """A unit as a name: sentence case, no trailing full stop or exclamation (a question keeps "?");
    ``casing``: English casing (:func:`taxonomy.quotes.english_case`), never for another language ("Quando arrivano i
    soldi": the Italian "i" is no pronoun)."""
    return _sentence_case(unit.rstrip(".! ").rstrip(",;:"), casing)


def message_name(text: str, english: bool = True, shared: frozenset[str] = frozenset(), casing: bool = True) -> str:
    """A name from one message: its first whole sentence or clause of at most ``MAX_NAME_WORDS``
    words with two or more telling words (else one), greeting, closing and personal details removed.

    When no whole unit is that short, the first clause cut back before its first personal detail
    (:func:`taxonomy.wording.private_free`); ``NO_TEXT`` when nothing is left. ``casing``: the
    message is English (:func:`taxonomy.quotes.english_case`).
    """
    units = whole_units(text, english, MAX_NAME_WORDS, shared)
    for needed in (MIN_WORDS, 1):
        for unit in units:
            if len(telling(unit)) >= needed and (english or len(unit.split()) >= 2):
                return _display(unit, casing)
    for sentence in sentences(text):
        for clause in clauses(sentence) or [sentence]:
            kept = private_free(clause, english, shared)
            if kept and len(kept.split()) <= 2 * MAX_NAME_WORDS and ends_whole(kept):
                return _display(kept, casing)
    return NO_TEXT


def _key(text: str) -> str:
    return " ".join(words(text))


def _whole(text: str, seen: dict[str, list[str]]) -> list[str]:
    """``whole_units(text, True, LONG_NAME_WORDS)``, worked out once per distinct message (``seen``)."""
    found = seen.get(text)
    if found is None:
        found = seen[text] = whole_units(text, True, LONG_NAME_WORDS)
    return found


def _spread(texts_by_topic: list[list[str]], wanted: set[str], seen: dict[str, list[str]]) -> Counter[str]:
    """In how many topics each key in ``wanted`` occurs as a whole unit of up to ``MAX_NAME_WORDS``
    words (boilerplate such as "I'm on my phone so sorry for typos" occurs in many).

    Only a message that holds every word of a key the topic has not shown yet is split into its
    units: a unit's words are always among its message's words, so the counts are those of
    splitting every message, at a fraction of the cost (most messages hold no such key)."""
    # A unit's first letter is upper-cased, and in a message with a letter whose case changes its
    # spelling ("ſ" -> "S", "ß" -> "SS") the key's first word may not be the message's own: there,
    # only the other words are required. An ASCII message's words are the key's words as they are.
    need: dict[str, frozenset[str]] = {}
    rest: dict[str, frozenset[str]] = {}
    by_word: dict[str, list[str]] = {}
    always: list[str] = []
    for key in sorted(wanted):
        ws = key.split()
        need[key], rest[key] = frozenset(ws), frozenset(ws[1:])
        if rest[key]:
            by_word.setdefault(max(rest[key], key=lambda w: (len(w), w)), []).append(key)
        else:
            always.append(key)
    spread: Counter[str] = Counter()
    keys: dict[str, set[str]] = {}  # each distinct message split once
    for texts in texts_by_topic:
        found: set[str] = set()
        for t in set(evenly(texts, SPREAD_READ)):
            present = word_set(t)
            required = need if t.isascii() else rest
            if not any(k not in found and required[k] <= present for k in always) and not any(
                k not in found and required[k] <= present for w in present for k in by_word.get(w, ())
            ):
                continue
            if t not in keys:
                keys[t] = {_key(u) for u in _whole(t, seen) if len(u.split()) <= MAX_NAME_WORDS} & wanted
            found |= keys[t]
        spread.update(found)
    return spread


def _units(texts: list[str], central: list[str], spread: Counter[str], seen: dict[str, list[str]]) -> list[str]:
    """Whole sentences and clauses of the central messages, their request cores and bare forms,
    whose telling words at least ``MIN_MESSAGES`` of the topic's messages use; boilerplate (a
    sentence found in more than ``BOILERPLATE_TOPICS`` topics) and sentences of more than
    ``MAX_NAME_WORDS`` words (up to ``LONG_NAME_WORDS``) only while nothing else is left; of them
    one per set of telling words, at most ``SHORTLIST`` (:func:`_shortlist`)."""
    support = word_support(texts)
    # Tiers, best first: a few words with two telling ones; one telling word ("Can you move my
    # booking?"); a longer sentence (no shorter request in the topic); two telling words other
    # messages use beside words only its own message uses (a small topic phrased anew every time:
    # "Can I choose between mastercard and visa?"); boilerplate.
    tiers: tuple[list[str], ...] = ([], [], [], [], [])
    for text in central[:CENTRAL]:
        for unit in _whole(text, seen):
            tell = telling(unit)
            if spread[_key(unit)] > BOILERPLATE_TOPICS:
                tiers[4].append(_display(unit))
                continue
            used = sum(support[w] >= MIN_MESSAGES for w in tell)
            if tell and used == len(tell):
                found = tiers[2] if len(unit.split()) > MAX_NAME_WORDS else tiers[0 if len(tell) >= MIN_WORDS else 1]
            elif used >= MIN_WORDS:
                found = tiers[3]
            else:
                continue
            found.append(_display(unit))
            found.extend(_display(v) for v in (request_core(unit), bare(unit)) if v)
    return _shortlist(next((tier for tier in tiers if tier), []), support)


def _shortlist(candidates: list[str], support: Counter[str]) -> list[str]:
    """One candidate per set of telling words (the first: the most central message's whole unit
    before its request core and bare form), then the ``SHORTLIST`` whose least used telling word the
    most of the topic's messages use (of words only one message uses: the fewest such), in their
    order (ties to the earlier)."""
    distinct: dict[frozenset[str], str] = {}
    for candidate in candidates:
        distinct.setdefault(frozenset(telling(candidate)), candidate)
    kept = list(distinct.values())
    score = [min((support[w] for w in telling(c)), default=0) - sum(support[w] < MIN_MESSAGES for w in telling(c))
             for c in kept]
    best = sorted(range(len(kept)), key=lambda i: (-score[i], i))[:SHORTLIST]
    return [kept[i] for i in sorted(best)]


def name_topics(
    texts_by_topic: list[list[str]],
    centroids: np.ndarray,
    central_texts: list[list[str]],
    embed: Embed | None,
    *,
    others: np.ndarray | None = None,
    others_texts: list[list[str]] | None = None,
    center: np.ndarray | None = None,
    temperature: float = TEMPERATURE,
) -> list[str]:
    """One name per topic.

    Args:
        texts_by_topic: Each topic's (redacted) messages.
        centroids: ``(k, d)`` unit centroids, row i for topic i.
        central_texts: Each topic's most central messages, most central first (the first
            ``CENTRAL`` give whole-request candidates; the first with a whole request is the name
            when nothing better is found).
        embed: Texts -> unit vectors with the model of ``centroids``; None: names from messages only.
        others: Centroids of the customer's other topics (not named now) that names must tell apart.
        others_texts: Those topics' messages: a sentence is boilerplate by the count of all the
            customer's topics that hold it, not only of those named now.
        center: The mean of the customer's message vectors (all its topics in the embedder's
            languages): subtracted from candidates and centroids before the cosines, so that what
            every message shares does not decide the choice. None: plain cosines.
        temperature: Softmax temperature of the choice (see the module docstring).

    Returns:
        Names in topic order; the same input gives the same names.
    """
    names = [central_name(t) for t in central_texts]
    if embed is None or not texts_by_topic:
        return _recased_all(names, texts_by_topic)
    seen: dict[str, list[str]] = {}
    wanted = {_key(u) for central in central_texts for text in central[:CENTRAL] for u in _whole(text, seen)
              if len(u.split()) <= MAX_NAME_WORDS}
    spread = _spread(texts_by_topic + list(others_texts or []), wanted, seen)
    shortlists = [_units(texts, central, spread, seen) for texts, central in zip(texts_by_topic, central_texts)]
    phrases = sorted({p for short in shortlists for p in short})
    if not phrases:
        return _recased_all(names, texts_by_topic)
    vectors = np.asarray(embed(phrases), dtype=np.float64)
    row = {p: i for i, p in enumerate(phrases)}
    every = centroids if others is None or not len(others) else np.vstack([centroids, others])
    if center is not None:
        vectors, every = _centred(vectors, center), _centred(np.asarray(every, dtype=np.float64), center)
    for k, short in enumerate(shortlists):
        if short:
            z = np.round(vectors[[row[p] for p in short]] @ every.T, 6) / temperature
            top = z.max(axis=1)
            own = z[:, k] - top - np.log(np.exp(z - top[:, None]).sum(axis=1))
            names[k] = short[int(np.argmax(np.round(own, 6)))]
    return _recased_all(names, texts_by_topic)


_WORD_RE = re.compile(r"[^\W\d_][\w'’-]*")


def _recased_all(names: list[str], texts_by_topic: list[list[str]]) -> list[str]:
    """:func:`_recased` for each topic (names as they are when no topic's messages are given)."""
    return [_recased(n, t) for n, t in zip(names, texts_by_topic)] if texts_by_topic else names


def _recased(name: str, texts: list[str]) -> str:
    """``name`` with each word that is no function word written as the topic's messages (at most
    ``SPREAD_READ`` of them) most often write it inside a sentence, where that is not in lower
    case: a candidate holding a capitalised word few messages use is one end-user's, so the name
    often comes from a message typed in lower case ("Does loopdesk integrate with slack?" ->
    "Does LoopDesk integrate with Slack?"). The embedder reads no case: the choice is unchanged."""
    wanted = sorted({w.lower() for w in _WORD_RE.findall(name)} - FUNCTION)
    if not wanted or not texts:
        return name
    # One pass over the sample for the name's own words only, each after a word (or comma) and a space.
    found = re.finditer(r"(?<=[\w,] )(?:" + "|".join(map(re.escape, wanted)) + r")(?![\w'’-])",
                        "\n".join(evenly(texts, SPREAD_READ)), re.IGNORECASE)
    forms: dict[str, Counter[str]] = {}
    for m in found:
        forms.setdefault(m.group().lower(), Counter())[m.group()] += 1

    def fix(m: re.Match[str]) -> str:
        word, seen_as = m.group(), forms.get(m.group().lower())
        if not seen_as or word.lower() in FUNCTION:
            return word
        best, n = max(seen_as.items(), key=lambda kv: (kv[1], kv[0] == word, kv[0]))
        return best if best != best.lower() and n > seen_as.get(word, 0) else word
    return _WORD_RE.sub(fix, name)


def _centred(vectors: np.ndarray, center: np.ndarray) -> np.ndarray:
    """``vectors`` minus ``center``, back to unit length (a zero row stays zero)."""
    moved = vectors - np.asarray(center, dtype=np.float64)[None, :]
    norms = np.linalg.norm(moved, axis=1, keepdims=True)
    return moved / np.where(norms > 0, norms, 1.0)


def central_name(central: list[str], english: bool = True, shared: frozenset[str] = frozenset(), casing: bool = True) -> str:
    """The name of the first of the most central messages that holds a whole request (``NO_TEXT``
    when none does); ``casing``: English casing (:func:`message_name`)."""
    for text in central:
        name = message_name(text, english, shared, casing)
        if name != NO_TEXT:
            return name
    return NO_TEXT
