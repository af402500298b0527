"""Tier shares sum the head's un-tempered probabilities (taxonomy.tiers.shares.for_shares)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from taxonomy.tiers.head import softmax
from taxonomy.tiers.model import temperature_of
from taxonomy.tiers.shares import for_shares, untempered


def test_untempered_inverts_the_temperature_exactly() -> None:
    z = np.random.default_rng(0).normal(size=(50, 3)) * 3
    assert np.allclose(untempered(softmax(z / 1.85), 1.85), softmax(z))
    assert np.allclose(untempered(softmax(z), 1.0), softmax(z))
    nan = np.array([[np.nan, 0.5, 0.5]])
    assert np.isnan(untempered(nan, 2.0)[0, 0])  # a row it cannot read is left as it is


def test_for_shares_touches_model_rows_only() -> None:
    frame = pl.DataFrame({
        "tier_source": ["model", "review", "model", "model"],
        "model_version": ["m2", "m2", "m1", None],
        "p_informational": [0.6, 0.6, 0.6, 0.6], "p_personalized": [0.3, 0.3, 0.3, 0.3], "p_action_led": [0.1, 0.1, 0.1, 0.1],
    })
    out = for_shares(frame, lambda v: {"m2": 2.0}.get(v, 1.0))
    sharp = np.array([0.36, 0.09, 0.01]) / 0.46
    assert out.row(0)[2:] == pytest.approx(tuple(sharp))  # squared and renormalised: T = 2
    assert out.row(1) == frame.row(1)  # a person's answer is not a model probability
    assert out.row(2) == frame.row(2) and out.row(3) == frame.row(3)  # T = 1 (or no known model): unchanged
    assert out.height == frame.height and out.columns == frame.columns


def test_the_shipped_model_has_its_temperature_and_unknown_ones_are_one() -> None:
    from taxonomy.tiers import current_version

    assert temperature_of(current_version()) > 1.0
    assert temperature_of("no-such-model") == 1.0 and temperature_of(None) == 1.0
