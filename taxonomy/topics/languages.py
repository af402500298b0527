"""Topics of conversations in a language the embedder does not cover (see :mod:`taxonomy.language`).

all-MiniLM-L6-v2 is an English model: German or Spanish requests land near each other because
they share function words, not because they ask the same thing ("mi / ich" topics). Such
conversations are grouped per language, never mixed with another language, by a method that
works for any language: TF-IDF over character 3-5-grams inside word boundaries (sub-word
overlap: "stornieren" / "Stornierung"), average-linkage clustering on cosine distance, cut where
the mean cosine between two clusters falls below ``1 - MAX_DISTANCE``. Groups under
``min_topic_size`` join the language's largest group, so every topic keeps one language.
Deterministic: no random state is involved.
"""

from __future__ import annotations

import re

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.feature_extraction.text import TfidfVectorizer

# Average cosine distance at which clusters stop merging. Char 3-5-gram TF-IDF of short requests in
# German, Spanish, French and Portuguese (12 hand-made pairs): paraphrases of one request 0.17-0.64,
# different requests about the same record ("where is my order" / "cancel my order") 0.70-0.99.
MAX_DISTANCE = 0.68
# Above this many rows of one language, the linkage runs on the first rows in canonical order and
# the rest join their nearest group (keeps the O(n^2) linkage bounded).
MAX_EXACT_ROWS = 2000
_PLACEHOLDER_RE = re.compile(r"<[A-Z_]+>")


def _vectors(texts: list[str]) -> np.ndarray:
    clean = [_PLACEHOLDER_RE.sub(" ", t or "").lower() for t in texts]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1)
    try:
        return vectorizer.fit_transform(clean).toarray()
    except ValueError:  # no n-gram at all (empty texts)
        return np.ones((len(texts), 1))


def cluster_language(texts: list[str], min_topic_size: int) -> np.ndarray:
    """Group one language's messages (in canonical order) into topics.

    Args:
        texts: The messages, all in one language.
        min_topic_size: Groups smaller than this join the largest group.

    Returns:
        One label per text, ``0..m-1`` numbered by first row; never -1.
    """
    n = len(texts)
    if n < 2 * max(min_topic_size, 1):
        return np.zeros(n, dtype=np.int64)
    x = _vectors(texts)
    head = min(n, MAX_EXACT_ROWS)
    tree = linkage(x[:head], method="average", metric="cosine")
    labels = np.full(n, -1, dtype=np.int64)
    labels[:head] = fcluster(tree, t=MAX_DISTANCE, criterion="distance") - 1
    if head < n:
        sums = np.vstack([x[:head][labels[:head] == c].sum(axis=0) for c in range(int(labels[:head].max()) + 1)])
        labels[head:] = np.argmax(x[head:] @ sums.T, axis=1)
    ids, counts = np.unique(labels, return_counts=True)
    largest = ids[np.lexsort((ids, -counts))[0]]
    labels = np.where(np.isin(labels, ids[counts < min_topic_size]), largest, labels)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]
