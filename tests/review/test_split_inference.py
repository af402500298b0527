"""A split topic's untiered messages are inferred from the reviewer's tiered ones (their nearest
tiered message's tier beside the model's probabilities, shifted to the hours mix the tiered messages
stand for), count in the shares by those probabilities, and keep an uncertainty of their own in the
intervals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import polars as pl

from taxonomy.review.match import _stood_for, apply_reviews
from taxonomy.review.state import MESSAGES_SCHEMA, REVIEWS_SCHEMA
from taxonomy.schema import EMBEDDING_DIM, TIERS
from taxonomy.tiers.shares import tier_weights
from taxonomy.uncertainty import interval_fields, topic_inputs

RATES = {"informational": 0.8, "personalized": 0.6, "action_led": 0.35}


def _window() -> tuple[pl.DataFrame, np.ndarray]:
    """One topic: 10 action-led requests the model reads as informational (group A) and 30
    informational questions (group B), in two clusters of the embedding space."""
    rng = np.random.default_rng(0)
    centres = np.zeros((2, EMBEDDING_DIM), dtype=np.float32)
    centres[0, 0], centres[1, 1] = 1.0, 1.0
    group = np.array([0] * 10 + [1] * 30)
    x = centres[group] + 0.05 * rng.standard_normal((40, EMBEDDING_DIM)).astype(np.float32)
    p = np.where(group[:, None] == 0, [0.90, 0.02, 0.08], [0.95, 0.03, 0.02])
    ids = [f"c{i:03d}" for i in range(40)]
    df = pl.DataFrame({
        "conversation_id": ids, "topic_id": ["t0001"] * 40, "tier": [TIERS[0]] * 40, "tier_source": ["model"] * 40,
        "tier_confidence": p.max(axis=1), **{f"p_{t}": p[:, i] for i, t in enumerate(TIERS)},
        "handle_time_seconds": np.where(group == 0, 1500.0, 300.0),
    })
    return df, x


def _split_review(x: np.ndarray, tiered: dict[int, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    review = pl.DataFrame([{
        "review_id": "r1", "customer_id": "acme", "as_of": date(2026, 3, 1), "topic_id": "t0001", "label": "t0001",
        "tier": "split", "reviewer": "me", "reviewed_at": datetime(2026, 3, 1, tzinfo=UTC), "note": None,
        "proposed_tier": TIERS[0], "proposed_confidence": 0.9, "hours": 5.0, "centroid": x.mean(axis=0),
        "members": [f"c{i:03d}" for i in range(40)], "superseded_by": None,
    }], schema=REVIEWS_SCHEMA)
    messages = pl.DataFrame([{"review_id": "r1", "conversation_id": f"c{i:03d}", "tier": t, "labelled": True, "embedding": x[i]}
                             for i, t in sorted(tiered.items())], schema=MESSAGES_SCHEMA)
    return review, messages


def _centroids(x: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"topic_id": ["t0001"], "centroid": [x.mean(axis=0).tolist()], "conversations": [40]})


def test_tiered_messages_are_one_hot_the_others_inferred_at_the_hours_they_stand_for() -> None:
    df, x = _window()
    # The reviewer tiers the messages the sheet showed: one of group A, three of group B. By count
    # that is 1 action-led in 4, but group A (10 x 1,500 s) holds 62.5% of the topic's hours.
    tiered = {0: "action_led", 10: "informational", 20: "informational", 30: "informational"}
    review, messages = _split_review(x, tiered)
    pinned, counts = apply_reviews(df, x, _centroids(x), review, messages, threshold=0.9)
    assert counts == {"applied": 1, "unmatched": []}
    assert set(pinned["tier_source"]) == {"review"}
    p = pinned.select([f"p_{t}" for t in TIERS]).to_numpy()
    person = np.isin(np.arange(40), list(tiered))
    assert [pinned["tier"][i] for i in tiered] == list(tiered.values())
    assert np.all(p[person].max(axis=1) == 1.0)  # a person's answers are one-hot
    assert np.all(p[~person].max(axis=1) < 1.0) and np.all(p[~person].min(axis=1) > 0.0)  # inferred: never certain
    assert pinned["tier"].to_list() == [TIERS[i] for i in p.argmax(axis=1)]
    assert pinned["tier"].to_list() == ["action_led"] * 10 + ["informational"] * 30  # each group follows its tiered message
    hours = df["handle_time_seconds"].to_numpy()
    mix = (tier_weights(pinned) * hours[:, None]).sum(axis=0) / hours.sum()  # what the published shares sum
    # One prior-shift step moves the mix from the model's (action-led 6%) most of the way to the 62.5%
    # the tiered messages stand for; counting them (1 in 4) would have said 25%.
    assert 0.45 < mix[2] < 0.65 and mix[1] < 0.01


def test_rows_that_follow_the_wrong_neighbour_carry_its_tiers_hours_not_their_own() -> None:
    """10 action-led rows (1,500 s) and 30 informational ones (300 s), 62.5% of the hours
    action-led; two of each lie nearer the other tier's tiered message. Counted at the tiered
    messages' mean hours per tier, the topic still stands for 62.5%; counted at their own hours the
    two long rows that went over would have taken 2,400 s from action-led (52.5%)."""
    tier_of = np.array([2, 0, 0, 0])  # one action-led message tiered, three informational
    tiered_hours = np.array([1500.0, 300.0, 300.0, 300.0])
    gold = np.array([2] * 10 + [0] * 30)
    nearest = gold.copy()
    nearest[[8, 9]] = 0  # two action-led rows beside an informational message
    nearest[[10, 11]] = 2  # and two informational rows beside the action-led one
    mass = _stood_for(tier_of, tiered_hours, nearest)
    assert mass.tolist() == [30 * 300.0, 0.0, 10 * 1500.0]
    own = np.bincount(nearest, weights=np.where(gold == 2, 1500.0, 300.0), minlength=3)
    assert own[2] / own.sum() == 0.525 and mass[2] / mass.sum() == 0.625
    # A tier no message was tiered in stands for nothing, whatever the rows' own hours.
    assert _stood_for(np.array([0, 0]), np.array([100.0, 300.0]), np.array([0, 0, 0])).tolist() == [600.0, 0.0, 0.0]


def test_inferred_rows_keep_an_interval_a_whole_topic_review_does_not() -> None:
    df, x = _window()
    review, messages = _split_review(x, {0: "action_led", 10: "informational", 20: "informational", 30: "informational"})
    split, _ = apply_reviews(df, x, _centroids(x), review, messages, threshold=0.9)
    inputs = topic_inputs(split)
    assert inputs.open_hours.sum() == 0.0 and inputs.inferred_hours.sum() > 0.0  # reviewed, but inferred
    assert np.allclose(inputs.hours(), split["handle_time_seconds"].sum() / 3600.0)
    hours = split["handle_time_seconds"].to_numpy()
    mix = (tier_weights(split) * hours[:, None]).sum(axis=0) / hours.sum()
    points = {f"handle_time_share_{t}": float(m) for t, m in zip(TIERS, mix)}
    out = interval_fields(split, RATES, points)
    assert out["reviewed_hours_share"] == 1.0
    widths = [out[f"handle_time_share_{t}_high"] - out[f"handle_time_share_{t}_low"] for t in TIERS]
    assert widths[0] > 0.01 and widths[2] > 0.01
    for t in TIERS:
        assert out[f"handle_time_share_{t}_low"] <= points[f"handle_time_share_{t}"] <= out[f"handle_time_share_{t}_high"]
    whole = review.with_columns(pl.lit("action_led").alias("tier"))
    confirmed, _ = apply_reviews(df, x, _centroids(x), whole, messages.clear(), threshold=0.9)
    fixed = interval_fields(confirmed, RATES, {})
    assert all(fixed[f"handle_time_share_{t}_high"] - fixed[f"handle_time_share_{t}_low"] < 1e-5 for t in TIERS)
