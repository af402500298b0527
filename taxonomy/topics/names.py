"""Short human names for topics: a whole request in the customer's own words ("My card hasn't arrived").

Offline, with the packaged embedder (KeyBERT-style candidates, a discriminative choice):

1. **Candidates** (:mod:`taxonomy.wording`): the whole sentences and clauses of the topic's
   ``CENTRAL`` most central messages of at most ``MAX_NAME_WORDS`` words, and each one's request core
   ("How can I exchange currencies with this app?" -> "Exchange currencies with this app"), kept
   only when every telling word is used by at least ``MIN_MESSAGES`` of the topic's messages (a city,
   a product, a typo belong to one end-user; the sentence is dropped, never cut); plus the
   ``SPANS`` most telling word spans that stand alone ("Card payment was cancelled"), shared by at
   least ``MIN_MESSAGES`` messages (share of the topic's messages with the span x share of the span's
   messages in this topic). Nothing ends mid-clause; no redaction placeholder, no token with a digit
   and (in English) no capitalised name inside a sentence ever passes.
2. **Choice**: every candidate is embedded (all topics in one call) and the name is the candidate
   most likely to point back at its own topic among all of the customer's topics: the largest
   softmax probability of its topic over cosine-to-centroid at temperature ``TEMPERATURE``. A name
   must tell its topic apart from the customer's other topics, not only describe it.

The same input gives the same names (scores rounded, ties to the earlier candidate). Only this
customer's texts are read (one customer's topics are named from its messages only). With no
embedder, or no candidate (small topics), the name is the first whole request of the most central
messages (:func:`message_name`).

Cost: one extra embedder pass over at most about ``2 x CENTRAL + SPANS`` short phrases per named
topic; topics that keep their name from the previous run (:mod:`taxonomy.topics.discover`) are not
named again. Fidelity and cost are measured in ``benchmarks/topic_names_banking77.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from taxonomy.wording import clauses, ends_whole, private_free, request_core, sentences, spans, telling, whole_units, words

MIN_WORDS = 2  # telling words in a name: one ("Transfer") is a keyword, not a request
MAX_NAME_WORDS = 9
SPAN_WORDS = 5
MIN_MESSAGES = 2
CENTRAL = 20
SPANS = 20
# Softmax temperature over cosines (tuned on Banking77 training subsets of seeds 10-12, never the
# benchmark's seeds 0-2): lower picks the most distinctive wording, higher the most typical.
TEMPERATURE = 0.06
NO_TEXT = "(no text)"

Embed = Callable[[list[str]], np.ndarray]


def _sentence_case(text: str) -> str:
    text = " ".join("I" + w[1:] if w == "i" or w.startswith(("i'", "i’")) else w for w in text.split())
    return text[:1].upper() + text[1:]


def _display(unit: str) -> str:
    """A unit as a name: sentence case, no trailing full stop or exclamation (a question keeps "?")."""
    return _sentence_case(unit.rstrip(".! ").rstrip(",;:"))


def message_name(text: str, english: bool = True) -> str:
    """A name from one message: its first whole sentence or clause of at most ``MAX_NAME_WORDS``
    words with two or more telling words (else one), greeting, closing and personal details removed.

    When no whole unit is that short, the first clause cut back before its first personal detail
    (:func:`taxonomy.wording.private_free`); ``NO_TEXT`` when nothing is left.
    """
    units = whole_units(text, english, MAX_NAME_WORDS)
    for needed in (MIN_WORDS, 1):
        for unit in units:
            if len(telling(unit)) >= needed and (english or len(unit.split()) >= 2):
                return _display(unit)
    for sentence in sentences(text):
        for clause in clauses(sentence) or [sentence]:
            kept = private_free(clause, english)
            if kept and len(kept.split()) <= 2 * MAX_NAME_WORDS and ends_whole(kept):
                return _display(kept)
    return NO_TEXT


def _units(texts: list[str], central: list[str]) -> list[str]:
    """Whole sentences, clauses and request cores of the central messages whose telling words at
    least ``MIN_MESSAGES`` of the topic's messages use."""
    support = Counter(w for t in texts for w in set(words(t)))
    out: list[str] = []
    for text in central[:CENTRAL]:
        for unit in whole_units(text, True, MAX_NAME_WORDS):
            tell = telling(unit)
            if len(tell) >= MIN_WORDS and all(support[w] >= MIN_MESSAGES for w in tell):
                out.append(_display(unit))
                core = request_core(unit)
                if core:
                    out.append(_display(core))
    return list(dict.fromkeys(out))


def _span_shortlists(texts_by_topic: list[list[str]], limit: int) -> list[list[str]]:
    """Per topic, its most telling standalone spans shared by at least ``MIN_MESSAGES`` messages."""
    counts: list[Counter[str]] = []
    shown: dict[str, str] = {}
    for texts in texts_by_topic:
        c: Counter[str] = Counter()
        for text in texts:
            found: dict[str, str] = {}
            for sentence in sentences(text):
                for clause in clauses(sentence):
                    found.update({k: v for k, v in spans(clause, MIN_WORDS, SPAN_WORDS).items() if k not in found})
            c.update(found.keys())
            for k, v in found.items():
                shown.setdefault(k, v)
        counts.append(c)
    overall: Counter[str] = Counter()
    for c in counts:
        overall.update(c)
    out = []
    for texts, c in zip(texts_by_topic, counts):
        n = max(len(texts), 1)
        scored = sorted((-(d / n) * (d / overall[p]), p) for p, d in c.items() if d >= MIN_MESSAGES)
        out.append([_sentence_case(shown[p]) for _, p in scored[:limit]])
    return out


def name_topics(
    texts_by_topic: list[list[str]],
    centroids: np.ndarray,
    central_texts: list[list[str]],
    embed: Embed | None,
    *,
    others: np.ndarray | None = None,
    spans_per_topic: int = SPANS,
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
        spans_per_topic: Word spans embedded per topic besides the whole requests.
        temperature: Softmax temperature of the choice (see the module docstring).

    Returns:
        Names in topic order; the same input gives the same names.
    """
    names = [_fallback(t) for t in central_texts]
    if embed is None or not texts_by_topic:
        return names
    shortlists = [list(dict.fromkeys(_units(texts, central) + short)) for texts, central, short
                  in zip(texts_by_topic, central_texts, _span_shortlists(texts_by_topic, spans_per_topic))]
    phrases = sorted({p for short in shortlists for p in short})
    if not phrases:
        return names
    vectors = np.asarray(embed(phrases), dtype=np.float64)
    row = {p: i for i, p in enumerate(phrases)}
    every = centroids if others is None or not len(others) else np.vstack([centroids, others])
    for k, short in enumerate(shortlists):
        if short:
            z = np.round(vectors[[row[p] for p in short]] @ every.T, 6) / temperature
            top = z.max(axis=1)
            own = z[:, k] - top - np.log(np.exp(z - top[:, None]).sum(axis=1))
            names[k] = short[int(np.argmax(np.round(own, 6)))]
    return names


def _fallback(central: list[str]) -> str:
    """The first central message's name that is a whole request (``NO_TEXT`` when none is)."""
    for text in central:
        name = message_name(text)
        if name != NO_TEXT:
            return name
    return NO_TEXT
