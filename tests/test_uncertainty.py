"""The interval model: deterministic, pinned rows carry no uncertainty, topics move together."""

from __future__ import annotations

import numpy as np
import polars as pl

from taxonomy.uncertainty import UncertaintyParams, calibration, format_interval, interval_fields, topic_inputs

RATES = {"informational": 0.8, "personalized": 0.6, "action_led": 0.35}
TIERS = ("informational", "personalized", "action_led")


def _rows(n: int = 600, topics: int = 12, pinned: int = 0, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet([2, 1, 1], size=n)
    tier = np.array(TIERS)[p.argmax(axis=1)]
    source = np.where(np.arange(n) % topics < pinned, "review", "model")
    p[source == "review"] = np.eye(3)[p[source == "review"].argmax(axis=1)]  # a person's answer is one-hot
    return pl.DataFrame({
        "topic_id": [f"t{i % topics:04d}" for i in range(n)], "tier": tier, "tier_source": source,
        "handle_time_seconds": rng.uniform(60, 1800, n), **{f"p_{t}": p[:, i] for i, t in enumerate(TIERS)},
    })


def _points(rows: pl.DataFrame) -> dict:
    h = rows["handle_time_seconds"].to_numpy()
    out = {f"handle_time_share_{t}": float(h[(rows["tier"] == t).to_numpy()].sum() / h.sum()) for t in TIERS}
    out["automation_potential"] = sum(RATES[t] * out[f"handle_time_share_{t}"] for t in TIERS)
    return out


def test_intervals_hold_the_point_and_are_deterministic() -> None:
    rows = _rows()
    a = interval_fields(rows, RATES, _points(rows))
    assert a == interval_fields(rows.sample(fraction=1.0, shuffle=True, seed=1), RATES, _points(rows))
    for name, value in _points(rows).items():
        assert a[f"{name}_low"] <= value <= a[f"{name}_high"]
    assert a["reviewed_hours_share"] == 0.0


def test_reviewed_topics_have_no_tier_uncertainty() -> None:
    rows = _rows(pinned=12)  # every topic reviewed
    out = interval_fields(rows, RATES, _points(rows))
    assert out["reviewed_hours_share"] == 1.0
    for t in TIERS:
        assert out[f"handle_time_share_{t}_high"] - out[f"handle_time_share_{t}_low"] < 1e-5
    half = _rows(pinned=6)
    w_half = interval_fields(half, RATES, _points(half))
    w_none = interval_fields(_rows(), RATES, _points(_rows()))
    width = lambda o: o["automation_potential_high"] - o["automation_potential_low"]  # noqa: E731
    assert width(w_half) < width(w_none)


def test_topic_level_errors_are_wider_than_independent_messages() -> None:
    rows = _rows(n=2000, topics=20)
    per_message = rows.with_columns(pl.int_range(pl.len()).cast(pl.String).alias("topic_id"))
    params = UncertaintyParams(1.0, 1e6)  # no queue-level confusion: topic vs message grouping only
    topic = interval_fields(rows, RATES, {}, params)
    message = interval_fields(per_message, RATES, {}, params)
    w = lambda o, t: o[f"handle_time_share_{t}_high"] - o[f"handle_time_share_{t}_low"]  # noqa: E731
    assert all(w(topic, t) > 2 * w(message, t) for t in TIERS)


def test_calibration_file_and_formatting() -> None:
    params = calibration("tier-clf-v2")
    assert np.allclose(np.sum(params.confusion, axis=1), 1.0, atol=1e-3)
    assert calibration("a-version-without-an-entry") == calibration(None)
    assert format_interval(0.45, 0.381, 0.52) == "45% (38–52%)"
    assert format_interval(None, None, None) == "n/a"
    inputs = topic_inputs(_rows().with_columns(pl.lit(None, pl.Float64).alias("handle_time_seconds")))
    assert inputs.total_hours == 0.0


def test_held_out_check_is_what_the_coverage_benchmark_shipped() -> None:
    import json

    from benchmarks.uncertainty_coverage import _held_out
    from taxonomy.tiers import current_version
    from taxonomy import uncertainty
    from taxonomy.uncertainty import CALIBRATION_FILE, held_out_check, review_leaves

    pairs = [{"covered": c, "width": w, "point": 0.5, "truth": 0.5} for c, w in [(True, 0.4), (False, 0.2), (True, 0.6), (True, 0.4)]]
    assert _held_out(pairs, 2) == {"coverage": 0.75, "checks": 4, "sources": 2, "mean_width": 0.4}
    shipped = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))[current_version()]
    check = held_out_check(current_version())
    assert check == shipped["held_out"] and 0.0 <= check["coverage"] <= 1.0 and check["checks"] > 0
    assert held_out_check("tier-clf-v2") is None  # calibrated before the check was recorded: nothing claimed
    assert held_out_check("a-version-without-an-entry") is None and held_out_check(None) is None
    after = held_out_check(current_version(), after_review=True)  # benchmarks.review_coverage's check
    # the pages say "only": the reviewed intervals hold the truth less often than the 90% they are drawn for
    assert after == shipped["after_review"] and after["coverage"] < uncertainty.LEVEL and after["mean_width"] < check["mean_width"]
    assert held_out_check("tier-clf-v5", after_review=True) is None
    said = review_leaves(after)  # what the page and the run summary add after the coverage
    assert f"was {100 * after['mean_error']:.1f} points off on average, {100 * after['max_error']:.1f} at most" in said
    assert review_leaves({"coverage": 0.7, "checks": 63}) == ""  # an older check without the errors: nothing more said


def test_recalibrating_keeps_the_after_review_check(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """``benchmarks.uncertainty_coverage`` rewrites a version's entry; the ``after_review`` check that
    ``benchmarks.review_coverage`` recorded in it stays."""
    import json

    import taxonomy.uncertainty as uncertainty
    from benchmarks.review_coverage import _ship as ship_after_review
    from benchmarks.uncertainty_coverage import _ship

    path = tmp_path / "uncertainty.json"
    monkeypatch.setattr(uncertainty, "CALIBRATION_FILE", path)
    _ship("m1", {"concentration": 1.0, "held_out": {"coverage": 0.9}})
    ship_after_review("m1", {"coverage": 0.7, "checks": 3})
    ship_after_review("m2", {"coverage": 0.5, "checks": 3})  # no calibration entry: nothing recorded
    _ship("m1", {"concentration": 2.0, "held_out": {"coverage": 0.8}})
    table = json.loads(path.read_text())
    assert table["m1"] == {"concentration": 2.0, "held_out": {"coverage": 0.8}, "after_review": {"coverage": 0.7, "checks": 3},
                           "model_version": "m1"}
    assert "m2" not in table


def test_a_split_topics_inferred_mix_is_as_well_known_as_its_effective_sample() -> None:
    """One topic, all of it inferred by a split review at a 50/50 mix: its informational share is
    drawn from Beta(SPLIT_EFFECTIVE / 2, SPLIT_EFFECTIVE / 2), not as if all 8 shown messages were a
    random sample (the nearest-message weights make them worth about 5)."""
    from scipy.stats import beta

    from taxonomy.uncertainty import SPLIT_EFFECTIVE, SPLIT_SAMPLE

    assert SPLIT_EFFECTIVE < SPLIT_SAMPLE
    n = 200
    p = np.tile([0.5, 0.5 - 1e-4, 1e-4], (n, 1))  # inferred: never one-hot
    rows = pl.DataFrame({"topic_id": ["t0001"] * n, "tier": ["informational"] * n, "tier_source": ["review"] * n,
                         "handle_time_seconds": [600.0] * n, **{f"p_{t}": p[:, i] for i, t in enumerate(TIERS)}})
    out = interval_fields(rows, RATES, {})
    a = SPLIT_EFFECTIVE * 0.5
    lo, hi = beta.ppf([0.05, 0.95], a, SPLIT_EFFECTIVE - a)
    assert abs(out["handle_time_share_informational_low"] - lo) < 0.03
    assert abs(out["handle_time_share_informational_high"] - hi) < 0.03
    eight = beta.ppf([0.05, 0.95], 4, 4)
    assert out["handle_time_share_informational_high"] - out["handle_time_share_informational_low"] > eight[1] - eight[0] + 0.05
