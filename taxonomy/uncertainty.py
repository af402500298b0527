"""90% intervals on a customer's hours shares and automation potential, at topic level.

Why topic level: on a queue from an industry the model never saw, its errors are systematic and
correlated within a topic (a whole topic is mis-tiered) and across the queue (one kind of request
read as another everywhere). Sampling each message independently gives intervals far too narrow
(``benchmarks/results/uncertainty_coverage.md``: 11% coverage). The model here draws, per
Monte-Carlo draw ``s``:

1. a queue-level confusion ``C_s``: row ``i`` (what the model says) ~ ``Dirichlet(confusion_strength
   * C[i])``, where ``C[i, j]`` is how often, on sources the model never saw, probability mass it
   put on tier ``i`` belonged to tier ``j`` (held-out-source evidence, per model version);
2. for every topic ``k``, its tier mix ``q_sk ~ Dirichlet(concentration * m_k C_s)``, where ``m_k``
   is the topic's handle-time-weighted mean calibrated probability over the rows a person has not
   pinned (a small concentration lets a whole topic land in one tier).

Rows pinned by a person (``tier_source`` ``review`` or ``override`` with a one-hot tier) carry no
tier uncertainty. Rows a review *inferred* (the untiered messages of a topic the reviewer split,
:mod:`taxonomy.review.match`: ``tier_source`` ``review`` with probabilities that are not one-hot)
are neither pinned nor the model's: per draw, topic ``k``'s inferred hours ``v_k`` are spread as
``r_sk ~ Dirichlet(SPLIT_EFFECTIVE * n_k)``, ``n_k`` their hours-weighted mean probabilities (the
reviewer's mix; no model confusion: a person set that mix). The mix is as well known as a sample
of ``SPLIT_EFFECTIVE`` messages, fewer than the ``SPLIT_SAMPLE`` the sheet shows: each tiered
message stands for the hours of the rows nearest it, and those hours are uneven, so the 8 weigh
like about 5 (``benchmarks/review_coverage.py``).
Each draw gives hours shares ``(pinned hours + sum_k u_k q_sk + sum_k v_k r_sk) / H`` and a potential
``sum_t rate_t share_t``; the 5th and 95th percentiles are the interval, widened if needed to hold
the published point estimate. The calibration (``C``, both strengths) lives in
``models/tier-classifier/uncertainty.json`` per model version, written by
``python -m benchmarks.uncertainty_coverage`` (leave-one-source-out); a model version without an
entry uses the ``default`` entry. The same entry records how often the intervals held the truth on
sources the model never saw (:func:`held_out_check`): the pages quote it, because "90%" is what the
draws are built to give, not what was measured on unseen queues.

Everything is seeded: the same rows give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from taxonomy.schema import TIERS

PINNED_SOURCES = ("review", "override")
LEVEL = 0.90
DRAWS = 1000  # 5th/95th percentiles from 50 draws each side; ~3x cheaper than 2000 at the same coverage
SEED = 14
SPLIT_SAMPLE = 8  # messages the review sheet shows per topic (taxonomy.review.sheet.MESSAGES_PER_TOPIC)
# How many random messages a split topic's inferred mix is worth: the effective sample size
# (sum w)^2 / sum w^2 of the hours w each tiered message stands for (taxonomy.review.match), median
# 4.9 (10th-90th percentile 3.3-6.6) over the 270 topics of 24 real queues that a reviewer who reads
# only the sheet splits (benchmarks/results/review_coverage.md; 4.9 over 159 topics of 21 queues
# when the simulated reviewer knew every tier). Measured on the weights alone, not tuned on coverage.
SPLIT_EFFECTIVE = 5.0
ONE_HOT = 1.0 - 1e-9


@dataclass(frozen=True)
class UncertaintyParams:
    """The interval model's calibration (see the module docstring)."""

    concentration: float = 3.0
    confusion_strength: float = 10.0
    confusion: tuple[tuple[float, ...], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


CALIBRATION_FILE = Path(__file__).resolve().parents[1] / "models" / "tier-classifier" / "uncertainty.json"


@lru_cache(maxsize=1)
def _calibration_table() -> dict:
    """``uncertainty.json``, read once per process: model version -> its calibration entry."""
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")) if CALIBRATION_FILE.exists() else {}


def calibration(model_version: str | None = None) -> UncertaintyParams:
    """The calibrated parameters for a tier model version (``default`` when it has no entry)."""
    table = _calibration_table()
    entry = table.get(model_version or "") or table.get("default") or {}
    if not entry:
        return UncertaintyParams()
    return UncertaintyParams(float(entry["concentration"]), float(entry["confusion_strength"]),
                             tuple(tuple(float(v) for v in row) for row in entry["confusion"]))


def held_out_check(model_version: str | None, *, after_review: bool = False) -> dict | None:
    """How the intervals of a tier model version fared on sources it never saw, as
    ``benchmarks.uncertainty_coverage`` measured them leave-one-source-out: ``coverage`` (share of
    (queue, tier) checks whose true hours share fell inside), ``checks``, ``sources``, ``mean_width``.
    With ``after_review``: the same queues with every topic reviewed, as ``benchmarks.review_coverage``
    measured them with a simulated reviewer who reads only the sheet (``coverage``, ``checks``,
    ``queues``, ``mean_width``). Intervals after a review are far narrower and still hold the truth
    less often than 90%: what a review leaves (the model's rows of ``other``, a split topic's inferred
    rows, the odd row of another tier in a topic reviewed as one) is a point or two the narrower
    draws miss.
    ``None`` when that version's entry records no such check (the page then claims nothing more)."""
    check = (_calibration_table().get(model_version or "") or {}).get("after_review" if after_review else "held_out")
    return dict(check) if check else None


def after_review_held(after: dict) -> str:
    """``"intervals about 6 points wide held the true share in 89% of 72 checks: what a review leaves ..."``
    from an ``after_review`` check (:func:`held_out_check`), for the page and ``taxonomy run`` to quote."""
    wide = f"intervals about {100 * after['mean_width']:.0f} points wide" if "mean_width" in after else "the intervals"
    return f"{wide} held the true share in {100 * after['coverage']:.0f}% of {after['checks']} checks{review_leaves(after)}"


def review_leaves(after: dict) -> str:
    """``": what a review leaves ... was 1.2 points off on average, 4.5 at most, ..."`` from an
    ``after_review`` check, to follow its coverage in a sentence ("" for a check without the errors)."""
    if "mean_error" not in after or "max_error" not in after:
        return ""
    return (f": what a review leaves (messages in no topic, the untiered messages of split topics, the odd message of"
            f" another tier in a topic reviewed as one) was {100 * after['mean_error']:.1f} points off on average,"
            f" {100 * after['max_error']:.1f} at most, and the narrower intervals miss some of it")


@dataclass
class TopicUncertainty:
    """Per-topic inputs of the interval model (row order = ``topic_ids``)."""

    topic_ids: list[str]
    pinned_hours: np.ndarray  # (K, 3) hours already pinned by a person, per tier
    open_hours: np.ndarray  # (K,) hours whose tier is the model's
    mean_proba: np.ndarray  # (K, 3) handle-time-weighted mean probabilities of the open rows
    total_hours: float
    inferred_hours: np.ndarray | None = None  # (K, 3) hours a split review inferred, spread by their probabilities

    def __post_init__(self) -> None:
        if self.inferred_hours is None:
            self.inferred_hours = np.zeros((len(self.topic_ids), len(TIERS)))

    def hours(self) -> np.ndarray:
        """``(K,)`` each topic's hours."""
        return self.open_hours + self.pinned_hours.sum(axis=1) + self.inferred_hours.sum(axis=1)

    def mix(self) -> np.ndarray:
        """``(K, 3)`` each topic's expected tier mix (pinned, inferred and the model's open rows)."""
        hours = self.hours()
        total = self.open_hours[:, None] * self.mean_proba + self.pinned_hours + self.inferred_hours
        return np.where(hours[:, None] > 0, total / np.where(hours > 0, hours, 1.0)[:, None], self.mean_proba)


def topic_inputs(rows: pl.DataFrame) -> TopicUncertainty:
    """Aggregate one customer's window to topics.

    Args:
        rows: ``topic_id``, ``tier``, ``tier_source``, ``handle_time_seconds`` and, if present,
            ``p_<tier>`` (absent: the tier is taken as certain). Rows without handle time are
            left out (hours figures only).
    """
    frame = rows.filter(pl.col("handle_time_seconds").is_not_null() & pl.col("tier").is_not_null())
    has_p = all(f"p_{t}" in frame.columns for t in TIERS)
    by_person = pl.col("tier_source").is_in(list(PINNED_SOURCES)).fill_null(False) if "tier_source" in frame.columns \
        else pl.lit(False)
    soft = (pl.max_horizontal([pl.col(f"p_{t}").cast(pl.Float64) for t in TIERS]) < ONE_HOT).fill_null(False) if has_p \
        else pl.lit(False)
    inferred, pinned = by_person & soft, by_person & ~soft
    exprs = [pl.col("handle_time_seconds").cast(pl.Float64).alias("_h"), pinned.alias("_pinned"), inferred.alias("_inferred"),
             pl.col("topic_id").fill_null("other").cast(pl.String).alias("_topic")]
    for t in TIERS:
        onehot = (pl.col("tier") == t).cast(pl.Float64)
        p = pl.col(f"p_{t}").cast(pl.Float64).fill_null(onehot) if has_p else onehot
        exprs.append(pl.when(pinned).then(onehot).otherwise(p).alias(f"_p_{t}"))
    frame = frame.with_columns(exprs)
    model = ~pl.col("_pinned") & ~pl.col("_inferred")
    agg = frame.group_by("_topic").agg(
        *[(pl.col("_h") * pl.col(f"_p_{t}")).filter(pl.col("_pinned")).sum().alias(f"_fix_{t}") for t in TIERS],
        *[(pl.col("_h") * pl.col(f"_p_{t}")).filter(pl.col("_inferred")).sum().alias(f"_inf_{t}") for t in TIERS],
        *[(pl.col("_h") * pl.col(f"_p_{t}")).filter(model).sum().alias(f"_open_{t}") for t in TIERS],
        pl.col("_h").filter(model).sum().alias("_open"),
    ).sort("_topic")

    def hours(prefix: str) -> np.ndarray:
        if not agg.height:
            return np.zeros((0, len(TIERS)))
        return np.column_stack([agg[f"{prefix}_{t}"].to_numpy() for t in TIERS]).astype(np.float64) / 3600.0

    open_hours = agg["_open"].to_numpy().astype(np.float64) / 3600.0
    open_by_tier = hours("_open")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(open_hours[:, None] > 0, open_by_tier / open_hours[:, None], 1.0 / len(TIERS))
    mean = mean / mean.sum(axis=1, keepdims=True) if len(mean) else mean
    total = float(frame["_h"].sum()) / 3600.0 if frame.height else 0.0
    return TopicUncertainty(agg["_topic"].to_list(), hours("_fix"), open_hours, mean, total, hours("_inf"))


def draw_mixes(inputs: TopicUncertainty, params: UncertaintyParams, draws: int = DRAWS, seed: int = SEED) -> np.ndarray:
    """Monte-Carlo tier mixes of every topic's open hours, shape ``(draws, K, 3)``."""
    rng = np.random.default_rng(seed)
    n = len(TIERS)
    base = np.clip(np.asarray(params.confusion, dtype=np.float64), 1e-4, None)
    base /= base.sum(axis=1, keepdims=True)
    c = _dirichlet(rng, np.broadcast_to(params.confusion_strength * base, (draws, n, n)))
    m = np.matmul(inputs.mean_proba[None, :, :], c)  # (draws, K, 3): each topic's mix through the draw's confusion
    return _dirichlet(rng, params.concentration * m)


def _dirichlet(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    """Dirichlet draws along the last axis; where every gamma underflows, the likeliest tier."""
    g = rng.standard_gamma(np.clip(alpha, 1e-3, None))
    total = g.sum(axis=-1, keepdims=True)
    fallback = np.eye(alpha.shape[-1])[alpha.argmax(axis=-1)]
    return np.where(total > 0, g / np.where(total > 0, total, 1.0), fallback)


def share_draws(inputs: TopicUncertainty, params: UncertaintyParams, draws: int = DRAWS) -> np.ndarray:
    """Monte-Carlo hours shares per tier, shape ``(draws, 3)`` (empty when there are no hours)."""
    if inputs.total_hours <= 0 or not inputs.topic_ids:
        return np.zeros((0, len(TIERS)))
    q = draw_mixes(inputs, params, draws)
    hours = inputs.pinned_hours.sum(axis=0)[None, :] + np.matmul(inputs.open_hours[None, None, :], q)[:, 0, :]
    return (hours + _inferred_draws(inputs, draws)) / inputs.total_hours


def _inferred_draws(inputs: TopicUncertainty, draws: int) -> np.ndarray:
    """``(draws, 3)`` hours per tier of the rows split reviews inferred (zeros when there are none)."""
    v = inputs.inferred_hours.sum(axis=1)
    live = v > 0
    if not live.any():
        return np.zeros((draws, len(TIERS)))
    rng = np.random.default_rng(SEED + 1)
    n = inputs.inferred_hours[live] / v[live, None]
    r = _dirichlet(rng, np.broadcast_to(SPLIT_EFFECTIVE * n, (draws, *n.shape)))
    return np.matmul(v[live][None, None, :], r)[:, 0, :]


def _interval(samples: np.ndarray, point: float | None) -> tuple[float, float]:
    alpha = (1.0 - LEVEL) / 2.0
    lo, hi = (float(v) for v in np.quantile(samples, [alpha, 1.0 - alpha]))
    if point is not None:
        lo, hi = min(lo, float(point)), max(hi, float(point))
    # Rounded outwards, so the interval still holds the point after rounding.
    return max(float(np.floor(lo * 1e6) / 1e6), 0.0), min(float(np.ceil(hi * 1e6) / 1e6), 1.0)


def interval_fields(
    rows: pl.DataFrame, rates: dict[str, float], points: dict[str, float | None], params: UncertaintyParams | None = None,
    *, model_version: str | None = None,
) -> dict[str, float | None]:
    """The interval columns of a score row.

    Args:
        rows: The customer's window (see :func:`topic_inputs`).
        rates: Achievable rate per tier.
        points: The published point estimates (``handle_time_share_<tier>``, ``automation_potential``),
            which every interval is widened to contain.
        params: The interval model's calibration; default: :func:`calibration` of ``model_version``.
        model_version: The tier model that made the probabilities.

    Returns:
        ``handle_time_share_<tier>_low/_high``, ``automation_potential_low/_high`` and
        ``reviewed_hours_share`` (nulls when there is no handle time): the hours share of rows a
        review reached (``tier_source`` ``review``), a split topic's inferred rows included.
    """
    params = params or calibration(model_version)
    inputs = topic_inputs(rows)
    out: dict[str, float | None] = {}
    shares = share_draws(inputs, params)
    names = [f"handle_time_share_{t}" for t in TIERS] + ["automation_potential"]
    if not len(shares):
        out.update({f"{n}_{side}": None for n in names for side in ("low", "high")})
        out["reviewed_hours_share"] = None
        return out
    potential = shares @ np.array([float(rates.get(t, 0.0)) for t in TIERS])
    for i, t in enumerate(TIERS):
        name = f"handle_time_share_{t}"
        out[f"{name}_low"], out[f"{name}_high"] = _interval(shares[:, i], points.get(name))
    out["automation_potential_low"], out["automation_potential_high"] = _interval(potential, points.get("automation_potential"))
    reviewed = rows.filter(pl.col("handle_time_seconds").is_not_null() & (pl.col("tier_source") == "review")) \
        if "tier_source" in rows.columns else rows.clear()
    out["reviewed_hours_share"] = float(reviewed["handle_time_seconds"].sum()) / 3600.0 / inputs.total_hours
    return out


def topic_value(inputs: TopicUncertainty, rates: dict[str, float], params: UncertaintyParams | None = None,
                *, model_version: str | None = None) -> np.ndarray:
    """How much confirming each topic narrows the interval: the variance its open hours add to the
    potential plus the mean variance they add to the three hours shares, shape ``(K,)``."""
    params = params or calibration(model_version)
    if inputs.total_hours <= 0 or not inputs.topic_ids:
        return np.zeros(len(inputs.topic_ids))
    q = draw_mixes(inputs, params)
    part = q * (inputs.open_hours / inputs.total_hours)[None, :, None]
    r = np.array([float(rates.get(t, 0.0)) for t in TIERS])
    return (part @ r).var(axis=0) + part.var(axis=0).mean(axis=1)


def format_interval(point: float | None, low: float | None, high: float | None) -> str:
    """``45% (38–52%)``; ``n/a`` without a point; the point alone without an interval."""
    if point is None:
        return "n/a"
    if low is None or high is None:
        return f"{100 * point:.0f}%"
    return f"{100 * point:.0f}% ({100 * low:.0f}–{100 * high:.0f}%)"
