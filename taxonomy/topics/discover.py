"""Topic discovery per customer: cluster a window's conversations, describe them, keep ids stable.

Clustering is :func:`taxonomy.topics.cluster.cluster_embeddings`; labels and keywords come from
:mod:`taxonomy.topics.labels`. Then topic ids are matched to the previous run's centroids
(Hungarian assignment on cosine, accepted above ``match_threshold``); new topics get fresh ids
``tNNNN`` above every id ever issued. Topics that vanish stay in the centroid state with zero
conversations, so they can come back under their old id and their ids are never reused.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment
from taxonomy.config import TopicsConfig
from taxonomy.embed import DIM
from taxonomy.topics.cluster import (
    ASSIGNMENTS_SCHEMA,
    CENTROIDS_SCHEMA,
    MATCH_THRESHOLD,
    N_EXAMPLES,
    OTHER_LABEL,
    OTHER_TOPIC_ID,
    TOPIC_ID_RE,
    TOPICS_SCHEMA,
    TopicResult,
    _cluster_sums,
    _normalise,
    cluster_embeddings,
)
from taxonomy.topics.labels import ctfidf_keywords, label_from_keywords


def _id_number(topic_id: str) -> int | None:
    match = TOPIC_ID_RE.match(topic_id or "")
    return int(match.group(1)) if match else None


def match_topic_ids(
    centroids: np.ndarray, previous: pl.DataFrame | None, threshold: float = MATCH_THRESHOLD
) -> tuple[list[str], pl.DataFrame]:
    """Give each new cluster an id: the previous topic it matches, else a fresh one.

    Args:
        centroids: ``(k, d)`` unit centroids of the new clusters, largest cluster first
            (fresh ids are handed out in this order).
        previous: Last run's centroid state (``CENTROIDS_SCHEMA``) or None.
        threshold: Minimum cosine between a new and an old centroid to keep the old id.

    Returns:
        The ids (one per row of ``centroids``) and the previous topics left unmatched (retired).
    """
    prev = previous if previous is not None and previous.height else pl.DataFrame(schema=CENTROIDS_SCHEMA)
    prev = prev.filter(pl.col("topic_id") != OTHER_TOPIC_ID).sort("topic_id")
    ids: list[str | None] = [None] * len(centroids)
    matched: set[str] = set()
    if prev.height and len(centroids):
        old = _normalise(np.array(prev["centroid"].to_list(), dtype=np.float64).reshape(prev.height, -1))
    if prev.height and len(centroids) and old.shape[1] == centroids.shape[1]:  # else: another model, no match
        sims = centroids @ old.T
        rows, cols = linear_sum_assignment(-sims)
        for r, c in zip(rows, cols):
            if sims[r, c] >= threshold:
                ids[r] = prev["topic_id"][int(c)]
                matched.add(ids[r])
    numbers = [num for tid in prev["topic_id"].to_list() if (num := _id_number(tid)) is not None]
    next_number = max(numbers, default=0) + 1
    for i, tid in enumerate(ids):
        if tid is None:
            ids[i] = f"t{next_number:04d}"
            next_number += 1
    retired = prev.filter(~pl.col("topic_id").is_in(sorted(matched)))
    return [str(t) for t in ids], retired


def _examples(x: np.ndarray, members: np.ndarray, centroid: np.ndarray) -> np.ndarray:
    """Up to N_EXAMPLES of ``members`` (canonical row numbers) closest to the centroid (ties: first
    row, i.e. lowest conversation id)."""
    sims = np.round(x[members] @ centroid, 6)
    return members[np.lexsort((members, -sims))[:N_EXAMPLES]]


def _describe_topics(
    x: np.ndarray,
    labels: np.ndarray,
    clusters: list[int],
    centroids: np.ndarray,
    topic_of: dict[int, str],
    conv_ids: list[str],
    texts: list[str],
) -> pl.DataFrame:
    """Label, keywords, examples and size of every topic (``TOPICS_SCHEMA``), largest first."""
    keywords = ctfidf_keywords(texts, labels, clusters + ([-1] if (labels < 0).any() else []))
    rows = []
    for c, words in keywords.items():
        members = np.flatnonzero(labels == c)
        center = centroids[clusters.index(c)] if c >= 0 else _normalise(x[members].sum(axis=0, keepdims=True))[0]
        examples = _examples(x, members, center)
        rows.append({
            "topic_id": topic_of.get(c, OTHER_TOPIC_ID),
            "label": OTHER_LABEL if c < 0 else label_from_keywords(words, texts[examples[0]]),
            "keywords": words,
            "example_conversation_ids": [conv_ids[i] for i in examples],
            "conversations": len(members),
        })
    return pl.DataFrame(rows, schema=TOPICS_SCHEMA).sort(["conversations", "topic_id"], descending=[True, False])


def _empty_result(previous: pl.DataFrame | None) -> TopicResult:
    state = pl.DataFrame(schema=CENTROIDS_SCHEMA)
    if previous is not None and previous.height:
        state = previous.select(list(CENTROIDS_SCHEMA)).with_columns(pl.lit(0, pl.Int64).alias("conversations"))
    return TopicResult(
        assignments=pl.DataFrame(schema=ASSIGNMENTS_SCHEMA),
        topics=pl.DataFrame(schema=TOPICS_SCHEMA),
        centroids=state.cast(CENTROIDS_SCHEMA),
    )


def discover_topics(
    df: pl.DataFrame,
    embeddings: np.ndarray,
    previous: pl.DataFrame | None = None,
    config: TopicsConfig = TopicsConfig(),
    *,
    cohesion: float | None = None,
    match_threshold: float | None = None,
) -> TopicResult:
    """Topics of one customer's window: assignments, labelled topics and centroid state.

    Args:
        df: At least ``conversation_id`` (unique) and ``text``; row i belongs to ``embeddings[i]``.
        embeddings: ``(len(df), 384)`` float vectors (normalised here anyway).
        previous: This customer's ``TopicResult.centroids`` from the last run, or None.
        config: ``min_topic_size``, ``max_topics``, ``seed``, ``cohesion``, ``match_threshold``.
        cohesion: Overrides ``config.cohesion``: target mean pairwise cosine within a topic.
        match_threshold: Overrides ``config.match_threshold``: minimum centroid cosine to keep a previous id.

    Returns:
        A :class:`TopicResult`; the same input (in any row order) gives the same result.

    Raises:
        ValueError: ``embeddings`` does not have one row per row of ``df``.
    """
    if embeddings.ndim != 2 or len(embeddings) != df.height:
        raise ValueError(f"embeddings have shape {embeddings.shape}, expected ({df.height}, dim)")
    cohesion = config.cohesion if cohesion is None else cohesion
    match_threshold = config.match_threshold if match_threshold is None else match_threshold
    if df.height == 0:
        return _empty_result(previous)
    order = np.asarray(df.select(pl.arg_sort_by(["conversation_id", "text"], maintain_order=True)).to_series())
    conv_ids = [str(c) for c in df["conversation_id"].gather(order).to_list()]
    texts = [t or "" for t in df["text"].gather(order).to_list()]
    x = _normalise(np.asarray(embeddings, dtype=np.float32)[order])
    labels = cluster_embeddings(x, config, cohesion=cohesion)
    sizes = np.bincount(labels[labels >= 0])  # labels are 0..k-1, every one used
    clusters = sorted(range(len(sizes)), key=lambda c: (-int(sizes[c]), c))
    centroids = _normalise(_cluster_sums(x, labels, len(sizes))[clusters].astype(np.float64))
    ids, retired = match_topic_ids(centroids, previous, match_threshold)
    topic_of = {c: tid for c, tid in zip(clusters, ids)}
    topics = _describe_topics(x, labels, clusters, centroids, topic_of, conv_ids, texts)
    assigned = np.array([topic_of.get(int(c), OTHER_TOPIC_ID) for c in labels], dtype=object)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    assignments = pl.DataFrame(
        {"conversation_id": df["conversation_id"].cast(pl.String), "topic_id": assigned[inverse].tolist()},
        schema=ASSIGNMENTS_SCHEMA,
    )
    current = pl.DataFrame(
        {
            "topic_id": ids,
            "centroid": centroids.astype(np.float32),
            "conversations": [int(sizes[c]) for c in clusters],
        },
        schema=CENTROIDS_SCHEMA,
    )
    state = pl.concat([current, _retire(retired, config)])
    return TopicResult(assignments=assignments, topics=topics, centroids=state)


def _retire(retired: pl.DataFrame, config: TopicsConfig) -> pl.DataFrame:
    """Unmatched previous topics, kept with 0 conversations (newest ids first, bounded).

    A centroid of another width (another embedding model) is zeroed: it can never match
    again, but its id stays reserved so it is never reused.
    """
    as_list = pl.col("centroid").cast(pl.List(pl.Float32))
    zeros = pl.lit([0.0] * DIM, dtype=pl.List(pl.Float32))
    numbered = retired.with_columns(
        pl.when(as_list.list.len() == DIM).then(as_list).otherwise(zeros).alias("centroid")
    ).with_columns(
        pl.col("topic_id").str.extract(r"^t(\d+)$", 1).cast(pl.Int64, strict=False).alias("_n")
    )
    kept = numbered.sort(["_n", "topic_id"], descending=[True, False], nulls_last=True).head(config.max_topics * 2)
    return kept.select(list(CENTROIDS_SCHEMA)).with_columns(pl.lit(0, pl.Int64).alias("conversations")).cast(CENTROIDS_SCHEMA)
