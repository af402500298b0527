"""Human-readable topic labels and keywords by class-based TF-IDF (c-TF-IDF).

All conversations of a topic are treated as one document; a term scores high for a
topic when it is frequent there and rare across the other topics (BERTopic's
c-TF-IDF: ``tf(t, c) / words(c) * log(1 + avg_words / freq(t))``). Keywords are the
top terms (unigrams and bigrams, English stop words and redaction placeholders
removed); the label joins the two best keywords that do not repeat each other,
e.g. ``"refund / damaged order"``.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from taxonomy.wording import MONTHS

# Placeholders written by taxonomy.redact ("<EMAIL>", "<CARD>", ...) are not topic words.
_PLACEHOLDER_RE = re.compile(r"<[A-Z]+>")
# Words of two or more letters: digits, ids and amounts say nothing about the topic.
_TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
N_KEYWORDS = 8
LABEL_PARTS = 2
FALLBACK_LABEL_CHARS = 60
# Contraction stems (the tokenizer splits "didn't" into "didn" + "t") and support small talk
# say nothing about what a topic is; sklearn's English list lacks them.
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | {
    "aren", "couldn", "didn", "doesn", "don", "hadn", "hasn", "haven", "isn", "ll", "re", "shouldn",
    "ve", "wasn", "weren", "won", "wouldn", "im", "ive", "hi", "hello", "hey", "thanks", "thank",
    "pls", "plz", "please", "guys", "team", "asap", "ok", "okay", "just", "really", "hiya", "cheers", "regards",
    "dear", "sincerely", "greetings",
})
# Greetings and closings end-users wrap any request in: they made keywords such as "afternoon change" and
# "asking kind" ("... asking. Kind regards"). Plain substring removal on lower-cased text (a regex costs
# 20 times more per message).
_GREETING_PHRASES = ("kind regards", "best regards", "warm regards", "best,", "many thanks", "good morning",
                     "good afternoon", "good evening")


_TOKEN_RE = re.compile(_TOKEN_PATTERN + "|\x00")  # \x00 separates documents
_STOP = frozenset(STOP_WORDS)
# An end-user's reference or date: the letters of "SW-8359976" and the month of "on 9 Dec" or "Dec 9th" made
# keywords such as "sw", "order sw" and "ordered dec" (the digits alone never were: _TOKEN_PATTERN).
_MONTHS = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b\.?"
_DETAIL_RE = re.compile(r"\b[^\W\d_]{1,4}[-#]\d{4,}[\w-]*|\b\d{1,2}(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?" + _MONTHS
                        + r"|\b" + _MONTHS + r"[ \t]*\d{1,2}(?:st|nd|rd|th)?\b")
_DIGIT_RE = re.compile(r"\d")


def _clean(text: str) -> str:
    """``text`` lower-cased, without placeholders, an end-user's references and dates (``_DETAIL_RE``),
    greetings and closings (``_GREETING_PHRASES``)."""
    out = _PLACEHOLDER_RE.sub(" ", text or "").replace("\x00", " ").lower()
    if _DIGIT_RE.search(out):  # most messages hold no digit: the pattern runs on the others only
        out = _DETAIL_RE.sub(" ", out)
    for phrase in _GREETING_PHRASES:
        if phrase in out:
            out = out.replace(phrase, " ")
    return out


def _class_counts(texts: list[str]) -> Counter[str]:
    """Unigram and bigram counts over ``texts`` (CountVectorizer's analysis: lowercase, tokens of
    ``_TOKEN_PATTERN``, stop words dropped before bigrams are formed, no bigram across texts)."""
    tokens = [t for t in _TOKEN_RE.findall("\x00".join(_clean(t) for t in texts)) if t not in _STOP]
    counts = Counter(tokens)
    counts.pop("\x00", None)
    counts.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:]) if a != "\x00" and b != "\x00")
    return counts


def ctfidf_keywords(texts: list[str], labels: np.ndarray, classes: list[int], n_keywords: int = N_KEYWORDS) -> dict[int, list[str]]:
    """Top c-TF-IDF terms of each class.

    Terms are counted per class in one pass over its texts (no document-term matrix): the
    same counts as scikit-learn's ``CountVectorizer(ngram_range=(1, 2))`` summed per class.

    Args:
        texts: One text per row.
        labels: The class of each row (same length as ``texts``).
        classes: The classes to describe, in the order of the returned dict.
        n_keywords: Terms per class.

    Returns:
        class -> its terms, best first; ties broken alphabetically so the result is deterministic.
        A class whose texts hold no usable word gets an empty list.
    """
    labels = np.asarray(labels)
    counts = [_class_counts([texts[i] for i in np.flatnonzero(labels == c)]) for c in classes]
    words_per_class = np.array([float(sum(c.values())) for c in counts])
    avg_words = max(float(words_per_class.mean()), 1.0) if len(classes) else 1.0
    term_freq: Counter[str] = Counter()
    for c in counts:
        term_freq.update(c)
    out: dict[int, list[str]] = {}
    for c, class_counts, words in zip(classes, counts, words_per_class):
        terms = sorted(class_counts)  # alphabetical + stable sort on -score = ties broken alphabetically
        tf = np.array([class_counts[t] for t in terms], dtype=np.float64)
        freq = np.array([term_freq[t] for t in terms], dtype=np.float64)
        scores = tf / max(words, 1.0) * np.log1p(avg_words / freq)
        top = np.argsort(-scores, kind="stable")[:n_keywords]
        out[c] = [terms[j] for j in top if scores[j] > 0]
    return out


def label_from_keywords(keywords: list[str], fallback_text: str = "") -> str:
    """A short label: the best keywords that do not repeat words already used.

    Args:
        keywords: Terms best first (from :func:`ctfidf_keywords`).
        fallback_text: Used (truncated) when there are no keywords, e.g. a representative text.

    Returns:
        e.g. ``"refund / damaged order"``.
    """
    parts: list[str] = []
    used: set[str] = set()
    for term in keywords:
        words = set(term.split())
        # A bigram that contains an earlier unigram replaces it ("card" -> "card arrival").
        widened = [p for p in parts if set(p.split()) < words]
        if widened:
            parts = [p for p in parts if p not in widened]
            used = {w for p in parts for w in p.split()}
        if words & used:  # "order" or "damaged item" after "damaged order" repeat it
            continue
        parts.append(term)
        used |= words
        if len(parts) == LABEL_PARTS:
            break
    if parts:
        return " / ".join(parts)
    text = " ".join((fallback_text or "").split())
    if len(text) > FALLBACK_LABEL_CHARS:
        text = text[: FALLBACK_LABEL_CHARS - 3].rstrip() + "..."
    return text or "(no text)"
