"""A message's tier read in its topic's context.

One message alone is often too short to tell its tier ("refund for order", "my card?"), while the
other messages of its topic ask the same thing in other words. The analyse stage therefore reads
each model-tiered message's probabilities half and half with its topic's mean:

    q = (1 - TOPIC_WEIGHT) * p + TOPIC_WEIGHT * mean of p over the topic's model-tiered messages

and sets ``tier`` (arg-max of ``q``) and ``tier_confidence`` (its largest value) from ``q``.
``p_<tier>`` stay the probabilities for the message alone: shares and intervals sum them
(:mod:`taxonomy.tiers.shares`, :mod:`taxonomy.uncertainty`), so no figure in hours or volume moves
here, only which tier each conversation is listed under (and the counts built on that: a topic's
main tier, weekly trends by tier, peers' automation rate per tier).

In the analyse stage ``p`` are the probabilities after the window's own correction
(:mod:`taxonomy.tiers.adapt`, run first).

Rows pinned by an override or a review, rows without a tier (blank text) and rows without a topic
or in the ``"other"`` topic (small mixed requests: no shared context) are left as they are, and do
not count in a topic's mean.

Measured leave-one-source-out (``python -m benchmarks.tiers_in_context``: queues from sources the
head never saw, topics by the real topic stage): see ``benchmarks/results/tiers_in_context.md``.
``taxonomy classify`` forms no topics, and so goes without this step.
"""

from __future__ import annotations

import polars as pl

from taxonomy.schema import OTHER_TOPIC_ID, TIERS, TOPIC_WEIGHT

__all__ = ["TOPIC_WEIGHT", "tiers_in_context"]


def tiers_in_context(frame: pl.DataFrame, weight: float = TOPIC_WEIGHT) -> pl.DataFrame:
    """``tier`` and ``tier_confidence`` of the model-tiered rows of ``frame`` read in their topic's context.

    Args:
        frame: One customer's window with ``topic_id``, ``tier``, ``tier_source``, ``tier_confidence``
            and ``p_<tier>`` (other columns are kept as they are).
        weight: The topic mean's share (0 leaves every row as it is, 1 gives each topic one tier).

    Returns:
        ``frame`` with ``tier`` and ``tier_confidence`` replaced on model rows that have a topic
        other than ``"other"``;
        same rows, same order, same columns.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be within [0, 1], got {weight}")
    needed = {"topic_id", "tier", "tier_source", "tier_confidence", *(f"p_{t}" for t in TIERS)}
    if frame.height == 0 or weight == 0.0 or not needed <= set(frame.columns):
        return frame
    model = ((pl.col("tier_source") == "model") & pl.col("tier").is_not_null()
             & pl.col("topic_id").is_not_null() & (pl.col("topic_id") != OTHER_TOPIC_ID)
             & pl.all_horizontal([pl.col(f"p_{t}").is_not_null() for t in TIERS]))
    mixed = [((1.0 - weight) * pl.col(f"p_{t}") + weight * pl.col(f"p_{t}").filter(model).mean().over("topic_id"))
             .alias(f"_q_{t}") for t in TIERS]
    out = frame.with_columns(model.alias("_model")).with_columns(mixed)
    best = pl.max_horizontal([pl.col(f"_q_{t}") for t in TIERS])
    chosen = pl.when(pl.col(f"_q_{TIERS[0]}") == best).then(pl.lit(TIERS[0]))
    for t in TIERS[1:]:
        chosen = chosen.when(pl.col(f"_q_{t}") == best).then(pl.lit(t))  # ties: the first in TIERS, like arg-max
    return out.with_columns(
        pl.when(pl.col("_model")).then(chosen).otherwise(pl.col("tier")).alias("tier"),
        pl.when(pl.col("_model")).then(best).otherwise(pl.col("tier_confidence")).alias("tier_confidence"),
    ).drop("_model", *(f"_q_{t}" for t in TIERS))
