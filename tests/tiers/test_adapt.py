"""A window's tiers read through a correction fitted on its own confident rows (taxonomy/tiers/adapt.py)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from taxonomy.schema import TIERS
from taxonomy.tiers.adapt import MIN_CONFIDENT, adapt_logits, adapt_to_queue
from taxonomy.tiers.head import softmax


def _queue(seed: int = 0, n: int = 600) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A queue worded unlike the head's training data: each tier's messages lie around their own
    direction, and the head reads the personalized ones with a bias toward informational (most
    personalized rows come out informational, a few clear ones personalized with confidence).
    Returns (gold tier indices, embeddings, un-tempered logits)."""
    rng = np.random.default_rng(seed)
    d = 32
    directions = np.linalg.qr(rng.normal(size=(d, 3)))[0].T  # 3 orthonormal directions
    gold = rng.integers(0, 3, size=n)
    strength = rng.uniform(0.2, 1.0, size=n)
    x = directions[gold] * strength[:, None] + rng.normal(scale=0.15, size=(n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    logits = 6.0 * x @ directions.T + np.array([0.0, -2.5, 0.0])  # personalized read too low
    return gold, x, logits


def test_the_correction_learns_the_queues_wording_from_its_confident_rows() -> None:
    gold, x, logits = _queue()
    before = (logits.argmax(axis=1) == gold).mean()
    adapted = adapt_logits(logits, x)
    after = (adapted.argmax(axis=1) == gold).mean()
    personalized = gold == 1
    assert after > before + 0.05, (before, after)
    assert (adapted[personalized].argmax(axis=1) == 1).mean() > (logits[personalized].argmax(axis=1) == 1).mean() + 0.1
    assert np.array_equal(adapt_logits(logits, x), adapted)  # deterministic


def test_later_rounds_learn_from_the_earlier_rounds_pseudo_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    import taxonomy.tiers.adapt as adapt

    gold, x, logits = _queue()
    monkeypatch.setattr(adapt, "ROUNDS", 1)
    one = (adapt_logits(logits, x).argmax(axis=1) == gold).mean()
    monkeypatch.setattr(adapt, "ROUNDS", 4)
    four = (adapt_logits(logits, x).argmax(axis=1) == gold).mean()
    assert four > one + 0.01, (one, four)


def test_too_few_confident_rows_or_one_confident_tier_leave_the_head_as_it_is() -> None:
    _, x, logits = _queue(n=60)
    flat = logits / 50.0  # nothing reaches the threshold
    assert adapt_logits(flat, x) is flat
    one_tier = np.tile([4.0, 0.0, 0.0], (200, 1))  # every confident row informational: nothing to learn from
    assert adapt_logits(one_tier, x[:1].repeat(200, axis=0)) is one_tier
    two = np.vstack([np.tile([4.0, 0.0, 0.0], (50, 1)), np.tile([0.0, 0.0, 4.0], (MIN_CONFIDENT - 1, 1))])
    assert adapt_logits(two, x[: len(two)]) is two  # the second tier has one row too few
    assert adapt_logits(np.zeros((0, 3)), np.zeros((0, 32))).shape == (0, 3)


def _frame(logits: np.ndarray, temperature: float) -> pl.DataFrame:
    p = softmax(logits / temperature)
    n = len(p)
    return pl.DataFrame({
        "conversation_id": [f"c{i}" for i in range(n)],
        "tier": [TIERS[i] for i in p.argmax(axis=1)],
        "tier_confidence": p.max(axis=1),
        **{f"p_{t}": p[:, i] for i, t in enumerate(TIERS)},
        "tier_source": ["model"] * n,
        "model_version": ["v-test"] * n,
        "language": ["en"] * n,
    })


def test_a_window_is_adapted_on_its_model_rows_only_and_keeps_the_heads_temperature() -> None:
    gold, x, logits = _queue()
    frame = _frame(logits, 1.6)
    pinned = np.arange(len(frame)) % 10 == 0
    french = np.arange(len(frame)) % 10 == 1
    blank = np.arange(len(frame)) % 10 == 2
    frame = frame.with_columns(
        pl.when(pl.Series(pinned)).then(pl.lit("override")).otherwise(pl.col("tier_source")).alias("tier_source"),
        pl.when(pl.Series(french)).then(pl.lit("fr")).otherwise(pl.col("language")).alias("language"),
        pl.when(pl.Series(blank)).then(None).otherwise(pl.col("tier")).alias("tier"),
    )
    out = adapt_to_queue(frame, x, lambda version: 1.6 if version == "v-test" else 1.0)
    assert out.columns == frame.columns and out.schema == frame.schema and out.height == frame.height
    mask = ~(pinned | french | blank)  # the model rows the embedder reads: the only ones adapted
    untouched = pl.Series(~mask)
    assert out.filter(untouched).equals(frame.filter(untouched))
    # the adapted rows: the correction fitted on these rows' un-tempered logits, re-tempered
    expected = softmax(adapt_logits(logits[mask], x[mask]) / 1.6)
    got = out.filter(pl.Series(mask)).select([f"p_{t}" for t in TIERS]).to_numpy()
    assert np.allclose(got, expected, atol=1e-9)
    assert not np.allclose(got, frame.filter(pl.Series(mask)).select([f"p_{t}" for t in TIERS]).to_numpy())
    assert out.filter(pl.Series(mask))["tier"].to_list() == [TIERS[i] for i in expected.argmax(axis=1)]
    assert np.allclose(out.filter(pl.Series(mask))["tier_confidence"].to_numpy(), expected.max(axis=1))
    before = (np.array(frame["tier"].to_list(), dtype=object)[mask] == np.array(TIERS, dtype=object)[gold[mask]]).mean()
    after = (np.array(out["tier"].to_list(), dtype=object)[mask] == np.array(TIERS, dtype=object)[gold[mask]]).mean()
    assert after > before + 0.05, (before, after)


@pytest.mark.parametrize("drop", ["p_personalized", "tier_source"])
def test_a_frame_without_the_tier_columns_comes_back_as_it_is(drop: str) -> None:
    _, x, logits = _queue(n=100)
    frame = _frame(logits, 1.0).drop(drop)
    assert adapt_to_queue(frame, x, lambda version: 1.0) is frame
