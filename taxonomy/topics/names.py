"""Short human names for topics: a request in the customer's own words ("Card hasn't arrived").

KeyBERT-style, offline, with the packaged embedder:

1. Candidates are word n-grams (``MIN_WORDS`` telling words to ``MAX_WORDS`` words) of the topic's
   messages that neither start nor end on a function word, cut at sentence ends, commas, redaction
   placeholders and tokens with a digit (so a booking reference or an order number never joins a
   name), kept only when at least ``MIN_MESSAGES`` of the topic's messages contain them: a name is
   never one end-user's phrase, and always this customer's words (one customer's topics are named
   from its texts only).
2. The ``CANDIDATES`` most telling per topic (share of the topic's messages with the phrase x share
   of all the phrase's messages that are in this topic) are embedded, all topics in one call.
   The first telling sentence of each of the topic's most central messages is a candidate too,
   greeting and closing removed, cut before any personal detail (:func:`taxonomy.actions.clean_sentence`)
   and before any word fewer than ``NAME_SUPPORT_SHARE`` of the topic's messages use.
3. The name is the candidate closest to its topic's centroid and far from the nearest other
   topic's (cosine to its own centroid minus ``CONTRAST`` x cosine to the nearest other): a name
   should tell its topic apart from its neighbours, not only describe it.

With no embedder, or no phrase shared by enough messages (small topics), the name is the most
central message's first telling sentence, shortened (:func:`message_name`).

Cost: one extra embedder pass over at most ``CANDIDATES`` short phrases per named topic; topics
that keep their name from the previous run (:mod:`taxonomy.topics.discover`) are not named again.
Measured in ``benchmarks/topic_names_banking77.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from taxonomy.actions import GREETING_RE, MIN_SUPPORT, clean_sentence, supported_prefix, word_support

MIN_WORDS = 2  # telling words in a phrase: one ("Transfer", "Not work") is a keyword, not a request
MAX_WORDS = 5
MIN_MESSAGES = 2
CANDIDATES = 20
CONTRAST = 0.5
MAX_NAME_WORDS = 9
# A central sentence names a topic only up to its first telling word that fewer than this share of
# the topic's messages use (a city, a product, a typo belong to one end-user, not to the request).
NAME_SUPPORT_SHARE = 0.2
# Negations carry the meaning of a request ("card not working"): they may end a phrase.
_KEEP = {"not", "no", "never", "cannot"}
_EDGE_STOP = frozenset((ENGLISH_STOP_WORDS | {
    "hi", "hello", "hey", "thanks", "thank", "please", "pls", "plz", "just", "really", "ok", "okay", "im",
    "ive", "dont", "cant", "yes", "guys", "team", "asap", "want", "need", "like", "help", "know", "tell",
    "does", "did", "do", "get", "got", "trying", "try", "able", "let", "going", "wondering", "possible",
    "could", "would", "should", "can", "will", "may", "might", "dear", "support", "regards", "cheers",
    "best", "kind", "sorry", "hiya", "morning", "afternoon", "ty", "i'm", "i've", "i'd", "it's", "you",
    "think", "don't", "doesn't", "didn't", "anymore", "someone", "something", "thing", "things",
    "sorted", "today", "urgent", "urgently", "yesterday", "ridiculous", "unacceptable", "frustrated",
}) - _KEEP)
_STOP = frozenset(ENGLISH_STOP_WORDS | _EDGE_STOP)  # what does not count as a telling word
_WORD_RE = re.compile(r"[^\W\d_](?:[^\W\d_]|['’](?=[^\W\d_]))*", re.UNICODE)
_BREAK_RE = re.compile(r"<[A-Z_]+>|\S*\d\S*|[.!?;:\n()\"]+|,\s|\s[-–]\s")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
_PLACEHOLDER_RE = re.compile(r"<[A-Z_]+>")

Embed = Callable[[list[str]], np.ndarray]


def _segments(text: str) -> list[list[str]]:
    """Lower-cased words of each piece of ``text`` between breaks (sentence ends, commas, placeholders)."""
    return [[w.lower().replace("’", "'") for w in _WORD_RE.findall(part)] for part in _BREAK_RE.split(text or "")]


def phrase_candidates(text: str, max_words: int = MAX_WORDS) -> set[str]:
    """Word n-grams of ``text`` that neither start nor end on a function word."""
    out: set[str] = set()
    for words in _segments(text):
        for i, first in enumerate(words):
            if first in _EDGE_STOP:
                continue
            for j in range(i + MIN_WORDS, min(len(words), i + max_words) + 1):
                if words[j - 1] not in _EDGE_STOP and len([w for w in words[i:j] if w not in _STOP]) >= MIN_WORDS:
                    out.add(" ".join(words[i:j]))
    return out


def _shortlists(texts_by_topic: list[list[str]], candidates: int) -> list[list[str]]:
    """Per topic, its most telling phrases shared by at least ``MIN_MESSAGES`` of its messages."""
    counts = [Counter(p for text in texts for p in phrase_candidates(text)) for texts in texts_by_topic]
    overall: Counter[str] = Counter()
    for c in counts:
        overall.update(c)
    out = []
    for texts, c in zip(texts_by_topic, counts):
        n = max(len(texts), 1)
        scored = sorted(((-(d / n) * (d / overall[p]), p) for p, d in c.items() if d >= MIN_MESSAGES))
        out.append([p for _, p in scored[:candidates]])
    return out


def _pretty(phrase: str) -> str:
    """Sentence case, at most ``MAX_NAME_WORDS`` words."""
    words = ["I" + w[1:] if w == "i" or w.startswith(("i'", "i’")) else w for w in phrase.split()[:MAX_NAME_WORDS]]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else text


def message_name(text: str, english: bool = True) -> str:
    """A name from one message: its first sentence with two or more telling words (else one) and no
    personal details, greetings and closings removed, shortened."""
    clean = " ".join((text or "").split())
    raws = _SENTENCE_RE.split(clean)
    whole = [s for s in (clean_sentence(raw, english) for raw in raws) if s]
    cut = [_trim(s.removesuffix("...")) for s in (clean_sentence(raw, english, cut=True) for raw in raws) if s]
    sentences = whole + [s for s in cut if s and s not in whole]
    for needed in (2, 1):
        for sentence in sentences:
            words = sentence.split()
            telling = [w for w in _WORD_RE.findall(sentence.lower()) if w not in _EDGE_STOP]
            if len(telling) >= needed and (english or len(words) >= 2):
                short = " ".join(words[:MAX_NAME_WORDS]).rstrip(",;:")
                return short[:1].upper() + short[1:] + ("..." if len(words) > MAX_NAME_WORDS else "")
    return _prefix_name(clean, english)


def _trim(sentence: str) -> str:
    """Without trailing function words ("... for both passengers on" -> "... for both passengers")."""
    words = sentence.split()
    while words and words[-1].lower().strip(",;:") in _EDGE_STOP:
        words.pop()
    return " ".join(words)


def _prefix_name(text: str, english: bool) -> str:
    """The first sentence's words, greeting removed, up to the first personal detail (a token with a
    digit, a placeholder, a capitalised name), without trailing function words."""
    first = GREETING_RE.sub("", _SENTENCE_RE.split(text)[0] if text else "").split()
    words: list[str] = []
    for i, token in enumerate(first[:MAX_NAME_WORDS]):
        if any(c.isdigit() for c in token) or "<" in token or (english and i and token[:1].isupper() and token not in ("I", "I'm")):
            break
        words.append(token.strip(",;:"))
    while words and words[-1].lower() in _EDGE_STOP:
        words.pop()
    return (words[0][:1].upper() + " ".join(words)[1:]) if len(words) >= 2 else "(no text)"


def name_topics(
    texts_by_topic: list[list[str]],
    centroids: np.ndarray,
    central_texts: list[list[str]],
    embed: Embed | None,
    *,
    others: np.ndarray | None = None,
    candidates: int = CANDIDATES,
    contrast: float = CONTRAST,
) -> list[str]:
    """One name per topic.

    Args:
        texts_by_topic: Each topic's (redacted) messages.
        centroids: ``(k, d)`` unit centroids, row i for topic i.
        central_texts: Each topic's most central messages, most central first: each gives a candidate
            (:func:`message_name`) and the first is the name when nothing better is found.
        embed: Texts -> unit vectors with the model of ``centroids``; None: names from messages only.
        others: Centroids of the customer's other topics (not named now) that names must tell apart.
        candidates: Phrases embedded per topic.
        contrast: Weight of the nearest other topic's cosine in a phrase's score.

    Returns:
        Names in topic order; the same input gives the same names.
    """
    names = [message_name(t[0]) if t else "(no text)" for t in central_texts]
    if embed is None or not texts_by_topic:
        return names
    shortlists = [short + [m for m in _sentence_candidates(texts, central) if m not in short]
                  for short, texts, central in zip(_shortlists(texts_by_topic, candidates), texts_by_topic, central_texts)]
    phrases = sorted({p for short in shortlists for p in short})
    if not phrases:
        return names
    vectors = np.asarray(embed(phrases), dtype=np.float64)
    row = {p: i for i, p in enumerate(phrases)}
    every = centroids if others is None or not len(others) else np.vstack([centroids, others])
    for k, short in enumerate(shortlists):
        if not short:
            continue
        sims = np.round(vectors[[row[p] for p in short]] @ every.T, 6)
        own = sims[:, k].copy()
        sims[:, k] = -1.0
        nearest = sims.max(axis=1) if every.shape[0] > 1 else np.zeros(len(short))
        names[k] = _pretty(short[int(np.argmax(own - contrast * nearest))])
    return names


def _sentence_candidates(texts: list[str], central: list[str]) -> list[str]:
    """The central messages' first telling sentences, each cut before the first word few of the
    topic's messages use (so no one end-user's city, product or typo names a topic)."""
    support = word_support(texts)
    floor = max(MIN_SUPPORT, NAME_SUPPORT_SHARE * len(texts))
    found = (supported_prefix(message_name(t).removesuffix("..."), support, floor) for t in central)
    return list(dict.fromkeys(f.removesuffix("...") for f in found if f))
