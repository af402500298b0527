"""Apply a customer's recorded reviews to an analysed window, following each reviewed topic.

A review attaches to what the reviewer saw, not to a topic id (ids shift, merge and split):

1. **Its messages**: a conversation the reviewer's topic held takes that review's tier
   (the latest active review holding it wins).
2. **Its topic**: every other row of a current topic that *is* the reviewed one takes the tier:
   the topic's centroid is within ``match_threshold`` (cosine) of the reviewed centroid, or at
   least half of its conversations were in the reviewed topic. When a current topic is several
   reviewed topics merged, each such row takes the review whose centroid is nearest to it.
3. **Split** reviews (mixed topics): the messages the reviewer tiered keep their tier; every other
   row in the review's reach is *inferred* from them. Each row counts for the tier of its nearest
   tiered message (by embedding), at that tier's mean handle time among the tiered messages
   (:func:`_stood_for`), which gives the topic's hours mix (a stratified estimate: the messages
   sheet shows one message per distinct wording, spread over the topic, not a random sample, so
   counting the tiered messages weighs a rare, long request like a common short one). Each row
   starts from the mean of its nearest tiered message's tier and the model's probabilities, and
   those are re-weighted toward that mix (one prior-shift step: each tier's probabilities times
   the ratio of that mix to the rows' hours-weighted mean; iterating it to the exact mix measured
   worse on the bundled sample, below), and each row takes its most likely tier.
   :mod:`taxonomy.tiers.shares` counts inferred rows by these probabilities, as it counts the
   model's rows. Measured with benchmarks/review_simulation.py (the reviewer stops at 80% of the
   hours; largest hours-share error, points, on Banking77 / acme-bank / brightcart / loopdesk /
   shopwave / wayfarer) and benchmarks/review_coverage.py (every topic reviewed on 21 real-phrasing
   queues: 63 (queue, tier) hours shares, mean error and 90%-interval coverage):

   - this (2026-12-02, pipeline 0.2.7): 2.9 / 0.8 / 1.2 / 0.5 / 1.4 / 1.2, mean 1.33 (every topic
     reviewed: 3.0 / 0.4 / 2.1 / 0.6 / 3.6 / 0.8, mean 1.75); 21 queues: 1.08 points, 78% covered
     (a reviewer who knows only the sheet: 1.06, 87%);
   - each row counted at its own hours, the model's probabilities shifted (up to 0.2.6):
     2.6 / 0.8 / 0.9 / 2.7 / 0.3 / 1.1, mean 1.40 (every topic: 3.0 / 0.5 / 1.7 / 2.9 / 2.3 / 0.9,
     mean 1.88); 21 queues: 1.15 points, 73% (sheet reviewer: 1.22, 76%). Its target under-read
     the long tier (:func:`_stood_for`);
   - this, iterated to the exact mix: 3.0 / 0.9 / 2.6 / 3.3 / 2.5 / 1.3; 21 queues 0.99 points, 78%
     (sheet reviewer 0.94, 87%): closer on the real-phrasing queues, further on the bundled sample;
   - earlier (2026-11-30): the mix of the tiered messages counted, inferred rows counted by their
     tier: 2.6 / 0.8 / 0.8 / 1.0 / 1.5 / 3.3 (every topic reviewed: 2.4 / 1.3 / 2.2 / 0.4 / 0.4 / 3.1);
     that mix, inferred rows counted by their tier (bundled sample only): 0.3 / 2.4 / 2.2 / 1.9 / 2.0;
     a vote of the nearest tiered messages: worse (a sub-group the sheet's messages missed follows
     the wrong neighbour).

Rows taken get ``tier_source = "review"``. A person's answer (a topic's tier, a tiered message) has
probability 1 for its tier and 0 for the others; an inferred row keeps its inferred probabilities
(never exactly 0 or 1), which :mod:`taxonomy.uncertainty` reads as reviewed-but-uncertain. A review
that reaches no row is reported as unmatched (never silently dropped).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from taxonomy.review.state import SPLIT, active
from taxonomy.schema import TIERS

OVERLAP = 0.5
INFERRED_FLOOR = 1e-4


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _topic_rows(topic_ids: np.ndarray) -> dict[str, np.ndarray]:
    order = np.argsort(topic_ids, kind="stable")
    keys, starts = np.unique(topic_ids[order], return_index=True)
    return {str(k): rows for k, rows in zip(keys, np.split(order, starts[1:]))}


def _reach(review: dict, ids: dict[str, int], by_topic: dict[str, np.ndarray], centroids: dict[str, np.ndarray],
           threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows the review's messages hold, and rows of current topics that are the reviewed topic."""
    direct = np.array(sorted(ids[c] for c in review["members"] or [] if c in ids), dtype=np.int64)
    in_direct = np.zeros(len(ids), dtype=bool)
    in_direct[direct] = True
    centre = np.asarray(review["centroid"], dtype=np.float32)
    centre = centre / max(float(np.linalg.norm(centre)), 1e-12)
    topical = []
    for topic, rows in by_topic.items():
        close = topic in centroids and float(centroids[topic] @ centre) >= threshold
        if close or in_direct[rows].mean() >= OVERLAP:
            topical.append(rows)
    return direct, (np.concatenate(topical) if topical else np.zeros(0, dtype=np.int64))


def _stood_for(tier_of: np.ndarray, tiered_hours: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """Hours per tier a split topic's rows stand for, ``(3,)``: each row counts once for its nearest
    tiered message's tier (``nearest``), at that tier's mean handle time among the tiered messages
    (``tier_of``, ``tiered_hours``). A row that follows the wrong neighbour so carries its new
    tier's usual hours, not its own: rows of a long tier (action-led) that land beside a short one's
    message do not drain the long tier's hours, and the estimate is right wherever as many rows go
    each way. On the split topics of ``benchmarks/review_coverage.py``'s 21 real-phrasing queues
    (2026-12-02), the inferred rows held 66.0% action-led hours: counted at their own hours, the rows
    stood for 60.2%; counted this way, 64.2%."""
    shown = np.bincount(tier_of, minlength=len(TIERS))
    per_message = np.bincount(tier_of, weights=tiered_hours, minlength=len(TIERS)) / np.maximum(shown, 1)
    return np.bincount(nearest, minlength=len(TIERS)) * per_message


def _split_proba(review_id: str, rows: np.ndarray, df: pl.DataFrame, messages: pl.DataFrame, x: np.ndarray) -> np.ndarray:
    """Tier probabilities of a split topic's rows, ``(len(rows), 3)``: one-hot for the messages the
    reviewer tiered; for the others, the mean of the nearest tiered message's tier and the model's
    probabilities, shifted one step toward the mix of hours the tiered messages stand for
    (:func:`_stood_for`; see the module docstring), floored at :data:`INFERRED_FLOOR` so an
    inferred row never reads as a person's answer. ``x``: the window's unit embeddings."""
    labelled = messages.filter((pl.col("review_id") == review_id) & pl.col("labelled"))
    given = dict(zip(labelled["conversation_id"].to_list(), labelled["tier"].to_list()))
    ids = df["conversation_id"].cast(pl.String).to_list()
    tiered = np.array([j for j, i in enumerate(rows) if ids[i] in given], dtype=np.int64)
    proba = np.column_stack([df[f"p_{t}"].fill_null(1.0 / len(TIERS)).to_numpy()[rows] for t in TIERS])
    hours = df["handle_time_seconds"].cast(pl.Float64).fill_nan(None).to_numpy()[rows] if "handle_time_seconds" in df.columns \
        else np.full(len(rows), np.nan)
    known = np.isfinite(hours)
    hours = np.where(known, hours, hours[known].mean() if known.any() else 1.0)  # no handle time: volume
    start, mass = proba, np.zeros(len(TIERS))
    if len(tiered):
        tier_of = np.array([TIERS.index(given[ids[rows[j]]]) for j in tiered])
        nearest = tier_of[np.argmax(np.round(x[rows] @ x[rows[tiered]].T, 6), axis=1)]
        mass = _stood_for(tier_of, hours[tiered], nearest)
        start = 0.5 * np.eye(len(TIERS))[nearest] + 0.5 * proba  # the nearest tiered message's tier beside the model's
    share = (mass + 0.1 * hours.mean()) / (mass.sum() + 0.1 * hours.mean() * len(TIERS))
    mean = (start * hours[:, None]).sum(axis=0) / hours.sum()
    out = start * (share / np.clip(mean, 1e-6, None))
    out = np.clip(out / np.clip(out.sum(axis=1, keepdims=True), 1e-300, None), INFERRED_FLOOR, None)
    out /= out.sum(axis=1, keepdims=True)
    for j in tiered:
        out[j] = np.eye(len(TIERS))[TIERS.index(given[ids[rows[j]]])]
    return out


def apply_reviews(
    df: pl.DataFrame,
    embeddings: np.ndarray,
    centroids: pl.DataFrame,
    reviews: pl.DataFrame,
    messages: pl.DataFrame,
    threshold: float,
) -> tuple[pl.DataFrame, dict]:
    """Pin the reviewed tiers on a window's rows.

    Args:
        df: The staged window: ``conversation_id``, ``topic_id`` and the tier columns.
        embeddings: ``(len(df), dim)`` vectors aligned with ``df``.
        centroids: Current topics' ``topic_id, centroid, conversations``.
        reviews, messages: From :func:`taxonomy.review.state.load_reviews`.
        threshold: Minimum centroid cosine for a current topic to be a reviewed one.

    Returns:
        The frame with reviewed rows pinned, and ``{"applied": n, "unmatched": [review ids]}``.
    """
    live = active(reviews)
    if df.height == 0 or live.height == 0:
        return df, {"applied": 0, "unmatched": live["review_id"].to_list()}
    x = _unit(embeddings)
    ids = {str(c): i for i, c in enumerate(df["conversation_id"].to_list())}
    by_topic = _topic_rows(np.array(df["topic_id"].fill_null("other").to_list(), dtype=object))
    current = centroids.filter(pl.col("conversations") > 0)
    cvec = _unit(np.array(current["centroid"].to_list(), dtype=np.float32)) if current.height else np.zeros((0, x.shape[1]))
    cmap = dict(zip(current["topic_id"].to_list(), cvec))
    proba = np.full((df.height, len(TIERS)), np.nan)
    direct_hit = np.zeros(df.height, dtype=bool)
    best = np.full(df.height, -np.inf)
    applied, unmatched = 0, []
    for review in live.iter_rows(named=True):  # oldest first: a later review's messages win
        direct, topical = _reach(review, ids, by_topic, cmap, threshold)
        if not len(direct) and not len(topical):
            unmatched.append(review["review_id"])
            continue
        applied += 1
        centre = _unit(np.asarray(review["centroid"], dtype=np.float32)[None, :])[0]
        topical = topical[~direct_hit[topical]]
        closeness = x[topical] @ centre
        take = closeness >= best[topical]  # a merged topic: each row goes to its nearest review
        rows = np.unique(np.concatenate([direct, topical[take]]))
        best[topical[take]] = closeness[take]
        best[direct] = np.inf
        direct_hit[direct] = True
        if review["tier"] == SPLIT:
            proba[rows] = _split_proba(review["review_id"], rows, df, messages, x)
        else:
            proba[rows] = np.eye(len(TIERS))[TIERS.index(review["tier"])]
    return _pin(df, proba), {"applied": applied, "unmatched": unmatched}


def _pin(df: pl.DataFrame, proba: np.ndarray) -> pl.DataFrame:
    hit_np = ~np.isnan(proba).any(axis=1)
    tier = np.array(TIERS, dtype=object)[np.nan_to_num(proba).argmax(axis=1)]
    tier[~hit_np] = None
    pinned = pl.Series("_review", tier.tolist(), dtype=pl.String)
    hit = pl.Series("_hit", hit_np)
    confidence = pl.Series("_conf", np.nan_to_num(proba).max(axis=1))
    updates = [
        pl.when(hit).then(pinned).otherwise(pl.col("tier")).alias("tier"),
        pl.when(hit).then(pl.lit("review")).otherwise(pl.col("tier_source")).alias("tier_source"),
        pl.when(hit).then(confidence).otherwise(pl.col("tier_confidence")).alias("tier_confidence"),
        *[pl.when(hit).then(pl.Series(f"_p{i}", np.nan_to_num(proba[:, i]))).otherwise(pl.col(f"p_{t}")).alias(f"p_{t}")
          for i, t in enumerate(TIERS)],
    ]
    return df.with_columns(updates)


def pin_human_tiers(store, customer_id: str, staged: pl.DataFrame, embeddings: np.ndarray,  # noqa: ANN001 - a Store
                    centroids: pl.DataFrame, cfg) -> tuple[pl.DataFrame, dict[str, str]]:  # noqa: ANN001 - a Config
    """What people said, on an analysed window: the customer's reviews, then its overrides (a
    configured rule is the most specific instruction there is).

    Returns:
        The pinned frame and the analysis metadata recording the reviews applied and unmatched.
    """
    import json

    from taxonomy.review.state import load_reviews
    from taxonomy.tiers import apply_overrides, load_overrides

    staged, counts = apply_reviews(staged, embeddings, centroids, *load_reviews(store, customer_id),
                                   threshold=cfg.topics.match_threshold)
    staged = apply_overrides(staged, load_overrides(customer_id, cfg.overrides_dir))
    return staged, {"taxonomy.reviews": json.dumps(counts, sort_keys=True)}
