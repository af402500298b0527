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

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

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
    "pls", "plz", "please", "guys", "team", "asap", "ok", "okay", "just", "really",
})


def _clean(text: str) -> str:
    return _PLACEHOLDER_RE.sub(" ", text or "")


def ctfidf_keywords(texts: list[str], labels: np.ndarray, classes: list[int], n_keywords: int = N_KEYWORDS) -> dict[int, list[str]]:
    """Top c-TF-IDF terms of each class.

    Args:
        texts: One text per row.
        labels: The class of each row (same length as ``texts``).
        classes: The classes to describe, in the order of the returned dict.
        n_keywords: Terms per class.

    Returns:
        class -> its terms, best first; ties broken alphabetically so the result is deterministic.
        A class whose texts hold no usable word gets an empty list.
    """
    vectorizer = CountVectorizer(
        stop_words=STOP_WORDS, ngram_range=(1, 2), token_pattern=_TOKEN_PATTERN, lowercase=True
    )
    try:
        counts = vectorizer.fit_transform([_clean(t) for t in texts])
    except ValueError:  # empty vocabulary: only stop words, numbers or placeholders
        return {c: [] for c in classes}
    vocab = vectorizer.get_feature_names_out()
    class_index = {c: i for i, c in enumerate(classes)}
    rows = np.array([class_index.get(int(label), -1) for label in labels])
    tf = np.zeros((len(classes), len(vocab)), dtype=np.float64)
    for i in range(len(classes)):
        members = np.flatnonzero(rows == i)
        if len(members):
            tf[i] = np.asarray(counts[members].sum(axis=0)).ravel()
    words_per_class = tf.sum(axis=1, keepdims=True)
    avg_words = max(float(words_per_class.mean()), 1.0)
    term_freq = np.maximum(tf.sum(axis=0), 1.0)
    scores = tf / np.maximum(words_per_class, 1.0) * np.log1p(avg_words / term_freq)
    # Alphabetical vocab order + stable sort on -score = ties broken alphabetically.
    order = np.argsort(-scores, axis=1, kind="stable")
    out: dict[int, list[str]] = {}
    for c, i in class_index.items():
        top = [int(j) for j in order[i, :n_keywords] if scores[i, j] > 0]
        out[c] = [str(vocab[j]) for j in top]
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
