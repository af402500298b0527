"""Clustering a window's conversations into topics (the k comes from the data).

How (tuned on the Banking77 training split, see ``benchmarks/topics_banking77.py``):

1. Rows are put in a canonical order (by ``conversation_id``), so the result does not
   depend on the order of the input. Vectors are float32 and every similarity is a chunked
   BLAS product of unit vectors (no full distance matrix of the window).
2. Ward runs on at most ``MAX_EXACT_ROWS`` (2,500) rows: all of them, or a sample seeded
   by ``TopicsConfig.seed``. Each sampled embedding is smoothed with its nearest neighbours
   among all rows (``x + mean of its 5 nearest``, renormalised): this denoises short texts
   and lifts NMI on Banking77 by about 0.01.
3. Ward agglomerative clustering builds one tree; the number of topics is the smallest
   cut whose topics are *cohesive*: the size-weighted mean pairwise cosine similarity
   between two conversations of the same topic reaches ``cohesion`` (0.63), computed from
   cluster sums in O(n d), not from pairs. This makes ``k`` follow the number of distinct
   requests in the data, not the number of rows.
4. Clusters smaller than ``min_topic_size`` are folded into the nearest topic when they
   are similar enough to it, else into the small ``"other"`` topic.
5. Rows outside the sample take the similarity-weighted vote of their 5 nearest sampled
   rows. Cost: O(n x 2,500 x d) products plus Ward on 2,500 rows; under 1 s and about 125 MB
   for 10,000 rows on 2 cores. On all 8,399 Banking77 rows the 2,500-row sample loses about
   0.005 NMI against a 5,000-row one at a third of the time.
Everything is deterministic (same input, same library versions: same bytes out): no random
initialisation is involved except the seeded sample used above ``MAX_EXACT_ROWS`` rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.cluster.hierarchy import linkage
from scipy.sparse import csr_matrix
from taxonomy.config import TopicsConfig
from taxonomy.embed import DIM
from taxonomy.schema import OTHER_TOPIC_ID

OTHER_LABEL = "other (small mixed requests)"
TOPIC_ID_RE = re.compile(r"^t(\d+)$")
N_EXAMPLES = 5
# Defaults of settings TopicsConfig does not (yet) carry; see the module docstring.
COHESION = TopicsConfig.cohesion
MATCH_THRESHOLD = TopicsConfig.match_threshold
NEIGHBOURS = 5
# A row of a too-small cluster joins the nearest topic when its cosine to that topic's
# centroid is at least this (Banking77: same-intent rows sit at about 0.75 from their centroid).
FOLD_SIMILARITY = 0.5
# Ward needs O(n^2) time and memory; above this many rows it runs on a seeded sample and
# every other row takes the weighted vote of its nearest sampled rows. Banking77 (8,399 rows,
# mean NMI over seeds 42-49): 0.792 at 2,000, 0.797 at 2,500, 0.799 at 3,000, 0.802 at 5,000
# (about 3x the time of 2,500).
MAX_EXACT_ROWS = 2500

_CENTROID_TYPE = pl.Array(pl.Float32(), DIM)
CENTROIDS_SCHEMA: dict[str, pl.DataType] = {
    "topic_id": pl.String(),
    "centroid": _CENTROID_TYPE,
    "conversations": pl.Int64(),
    # Issue 16: topics never match across languages; a name is kept while the topic stays close to
    # the centroid it was named at (label_centroid) and keeps the main tier it was named for
    # (label_tier; null in a state written before it, or without tiers: not compared).
    "language": pl.String(),
    "label": pl.String(),
    "label_centroid": _CENTROID_TYPE,
    "label_tier": pl.String(),
}
TOPICS_SCHEMA: dict[str, pl.DataType] = {
    "topic_id": pl.String(),
    "label": pl.String(),
    "keywords": pl.List(pl.String()),
    "example_conversation_ids": pl.List(pl.String()),
    "conversations": pl.Int64(),
    "language": pl.String(),
}
ASSIGNMENTS_SCHEMA: dict[str, pl.DataType] = {"conversation_id": pl.String(), "topic_id": pl.String()}


@dataclass
class TopicResult:
    """Topics of one customer's window.

    Attributes:
        assignments: ``conversation_id, topic_id``, one row per input row, in input order.
        topics: ``topic_id, label, keywords, example_conversation_ids, conversations``,
            largest first; ``"other"`` (if any) is one of them.
        centroids: ``topic_id, centroid, conversations``: the state to pass as ``previous``
            next run (includes retired topics with 0 conversations).
    """

    assignments: pl.DataFrame
    topics: pl.DataFrame
    centroids: pl.DataFrame


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1)


def _top_k(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` largest entries of each row, best first (ties: lowest
    index). Overwrites the chosen entries of ``sims``. ``k`` passes of ``argmax``: several times
    faster than ``argpartition`` for the handful of neighbours used here."""
    rows = np.arange(len(sims))
    index = np.empty((len(sims), k), dtype=np.int64)
    values = np.empty((len(sims), k), dtype=sims.dtype)
    for j in range(k):
        best = np.argmax(sims, axis=1)
        index[:, j] = best
        values[:, j] = sims[rows, best]
        sims[rows, best] = -np.inf
    return index, values


def _transposed(a: np.ndarray, strip: int = 64) -> np.ndarray:
    """``a.T`` as a C-contiguous copy, in strips of rows (about 4x faster than one copy of ``a.T``)."""
    out = np.empty((a.shape[1], a.shape[0]), dtype=a.dtype)
    for start in range(0, len(a), strip):
        out[:, start : start + strip] = a[start : start + strip].T
    return out


def sample_neighbours(
    x: np.ndarray, sample: np.ndarray, neighbours: int, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest neighbours by cosine both ways, from one product ``x @ x[sample].T`` in chunks.

    Args:
        x: ``(n, d)`` unit rows (float32: one BLAS product per chunk of rows).
        sample: Sorted row numbers of the clustered sample.
        neighbours: How many; at most ``len(sample) - 1``.
        chunk: Rows per product (bounds memory to ``chunk x len(sample)`` floats).

    Returns:
        For every row of ``x``: its ``neighbours`` nearest sampled rows (positions in ``sample``)
        and their cosines; for every sampled row: its ``neighbours`` nearest rows of ``x`` (row
        numbers). Nearest first, never the row itself.
    """
    xs = x[sample]
    position = np.full(len(x), -1, dtype=np.int64)
    position[sample] = np.arange(len(sample))
    index = np.empty((len(x), neighbours), dtype=np.int64)
    values = np.empty((len(x), neighbours), dtype=x.dtype)
    found: list[tuple[np.ndarray, np.ndarray]] = []  # per chunk: each sampled row's best rows in it
    for start in range(0, len(x), chunk):
        sims = x[start : start + chunk] @ xs.T
        own = position[start : start + chunk]
        sampled = np.flatnonzero(own >= 0)
        sims[sampled, own[sampled]] = -np.inf  # not its own neighbour
        rows, cosines = _top_k(_transposed(sims), min(neighbours, len(sims)))
        found.append((rows + start, cosines))
        index[start : start + chunk], values[start : start + chunk] = _top_k(sims, neighbours)
    rows = np.hstack([r for r, _ in found])
    best, _ = _top_k(np.hstack([c for _, c in found]), neighbours)
    return index, values, np.take_along_axis(rows, best, axis=1)


def _ward_tree(xs: np.ndarray) -> np.ndarray:
    """Ward linkage of unit rows, Euclidean distances from one BLAS product (``|a-b|^2 = 2 - 2 a.b``)."""
    gram = xs @ xs.T
    condensed = np.concatenate([gram[i, i + 1 :] for i in range(len(xs) - 1)]).astype(np.float64)
    condensed = np.sqrt(np.maximum(2.0 - 2.0 * condensed, 0.0, out=condensed), out=condensed)
    return linkage(condensed, method="ward")


def _cohesive_cut(x: np.ndarray, tree: np.ndarray, max_k: int, cohesion: float) -> list[int]:
    """Nodes of the smallest horizontal cut of ``tree`` whose topics are cohesive enough.

    Cohesion of a cut = size-weighted mean over its clusters (of 2+ rows) of the mean
    pairwise cosine between distinct members, ``(|S|^2 - n) / (n (n - 1))`` for the sum
    ``S`` of a cluster's n unit vectors: unbiased, so it does not drift with cluster size.
    """
    n = len(x)
    sums = np.zeros((2 * n - 1, x.shape[1]))
    sizes = np.ones(2 * n - 1, dtype=np.int64)
    sums[:n] = x
    for i, (a, b) in enumerate(tree[:, :2].astype(np.int64)):
        sums[n + i] = sums[a] + sums[b]
        sizes[n + i] = sizes[a] + sizes[b]
    sq = np.einsum("ij,ij->i", sums, sums)
    contrib = np.where(sizes > 1, (sq - sizes) / np.maximum(sizes - 1, 1), 0.0)  # = size * mean pair cos
    weight = np.where(sizes > 1, sizes, 0)
    nodes = {2 * n - 2}
    total, total_w = contrib[2 * n - 2], weight[2 * n - 2]
    # Undo merges from the top: the cut with k clusters undoes the last k - 1 merges.
    for step in range(1, max_k):
        if total_w == 0 or total / total_w >= cohesion:
            break
        node = 2 * n - 1 - step
        a, b = tree[node - n, :2].astype(np.int64)
        nodes.remove(node)
        nodes.update((int(a), int(b)))
        total += contrib[a] + contrib[b] - contrib[node]
        total_w += weight[a] + weight[b] - weight[node]
    return sorted(nodes)


def _labels_from_nodes(tree: np.ndarray, n: int, nodes: list[int]) -> np.ndarray:
    labels = np.empty(n, dtype=np.int64)
    for cluster, node in enumerate(nodes):
        stack = [node]
        while stack:
            v = stack.pop()
            if v < n:
                labels[v] = cluster
            else:
                stack.extend(int(c) for c in tree[v - n, :2])
    return labels


def _fold_small(x: np.ndarray, labels: np.ndarray, min_size: int, floor: float) -> np.ndarray:
    """Rows of clusters under ``min_size`` join the nearest big cluster, else become -1 (other)."""
    ids, counts = np.unique(labels, return_counts=True)
    big = ids[counts >= min_size]
    if len(big) == 0:  # nothing big: keep the largest cluster as the one topic
        big = ids[[int(np.argmax(counts))]]
    centroids = _normalise(_cluster_sums(x, labels, int(labels.max()) + 1)[big])
    out = labels.copy()
    small_rows = np.flatnonzero(~np.isin(labels, big))
    if len(small_rows):
        sims = x[small_rows] @ centroids.T
        best = np.argmax(sims, axis=1)
        ok = sims[np.arange(len(small_rows)), best] >= floor
        out[small_rows] = np.where(ok, big[best], -1)
    return out


def _vote(labels: np.ndarray, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row, the label with the largest summed weight among its neighbours (``labels[index]``)."""
    classes = np.unique(labels)  # includes -1 (other) when present
    votes = np.bincount(
        (np.arange(len(index))[:, None] * len(classes) + np.searchsorted(classes, labels)[index]).ravel(),
        weights=weights.ravel().astype(np.float64),
        minlength=len(index) * len(classes),
    ).reshape(len(index), len(classes))
    return classes[np.argmax(votes, axis=1)]


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Labels ``0..k-1`` numbered by first row (-1 kept), so they do not depend on tree internals."""
    classes, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    new = np.full(len(classes), -1, dtype=np.int64)
    kept = [c for c in np.argsort(first, kind="stable") if classes[c] >= 0]
    new[kept] = np.arange(len(kept))
    return new[inverse.ravel()]


def cluster_embeddings(
    x: np.ndarray,
    config: TopicsConfig = TopicsConfig(),
    cohesion: float = COHESION,
    neighbours: int = NEIGHBOURS,
    fold_similarity: float = FOLD_SIMILARITY,
) -> np.ndarray:
    """Cluster unit vectors; the number of clusters comes from the data.

    Ward runs on at most ``MAX_EXACT_ROWS`` rows (a seeded sample above that), each smoothed
    with its nearest neighbours among all rows; every row outside the sample takes the
    similarity-weighted vote of its nearest sampled rows (follows cluster shapes better than
    the nearest centroid: +0.008 NMI on all 8,399 Banking77 rows).

    Args:
        x: ``(n, d)`` L2-normalised rows in canonical order (float32 for speed).
        config: ``min_topic_size``, ``max_topics`` and ``seed`` (for the sample).
        cohesion: Target mean pairwise cosine within a topic (see :func:`_cohesive_cut`).
        neighbours: Neighbours averaged into each sampled row, and sampled rows voting for each other row.
        fold_similarity: Floor for folding a small cluster's rows into a topic.

    Returns:
        One label per row: ``0..k-1``, numbered by first row, or -1 for "other".
    """
    n = len(x)
    max_k = max(1, min(config.max_topics, n // max(config.min_topic_size, 1)))
    if n < 2 or max_k == 1:
        return np.zeros(n, dtype=np.int64)
    sample = np.arange(n)
    if n > MAX_EXACT_ROWS:
        rng = np.random.default_rng(config.seed)
        sample = np.sort(rng.choice(n, MAX_EXACT_ROWS, replace=False))
    xs = x[sample]
    k = min(neighbours, len(sample) - 1)
    if k >= 1:
        index, sims, nearest = sample_neighbours(x, sample, k)
        smoothed = _normalise(xs + x[nearest].mean(axis=1))  # x + mean of its k nearest rows
    else:
        smoothed = xs
    tree = _ward_tree(smoothed)
    nodes = _cohesive_cut(xs, tree, max_k, cohesion)
    labels = _fold_small(xs, _labels_from_nodes(tree, len(xs), nodes), config.min_topic_size, fold_similarity)
    if len(sample) < n:
        out = np.empty(n, dtype=np.int64)
        out[sample] = labels
        rest = np.setdiff1d(np.arange(n), sample)
        out[rest] = _vote(labels, index[rest], sims[rest])
        labels = out
    return _renumber(labels)


def _cluster_sums(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """``(k, d)`` sums of the rows labelled ``0..k-1`` (rows labelled -1 left out): one sparse
    one-hot product, in row order, so the sums are the same on every run."""
    kept = np.flatnonzero(labels >= 0)
    onehot = csr_matrix((np.ones(len(kept), dtype=x.dtype), (labels[kept], kept)), shape=(k, len(x)))
    return np.asarray(onehot @ x)
