"""Achievable rates calibrated on what customers actually achieved after shipping a lever.

A back-test (:mod:`taxonomy.proving.backtest`) records, per customer and tier, the automated rate
reached in the window ending at its ``as_of`` and which levers shipped since the prediction (tiers
whose automated rate rose). Customers who shipped a tier's lever are the evidence of what that
lever achieves; their achieved rate is measured exactly as peer rates are (automated / conversations
with a known outcome, by count), so calibrated and peer rates are interchangeable.

For a publication as of ``D``, each customer's latest back-test before ``D`` (within
``LOOKBACK_DAYS``) counts once. A tier with at least ``calibration_min_customers`` such customers
gets the ``calibration_percentile`` of their achieved rates; ``rates_source`` then starts with
``calibrated:<tier>=<n>,...`` (n = customers behind the rate) before the peer or default source of
the other tiers, e.g. ``calibrated:informational=4;peers:p75:n=6``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from taxonomy.config import ScoringConfig
from taxonomy.schema import BACKTEST_OUT, TIERS, conform
from taxonomy.storage import Store

__all__ = ["LOOKBACK_DAYS", "Calibration", "apply_calibration", "calibrated_rates", "calibration_evidence"]

LOOKBACK_DAYS = 91
Calibration = dict[str, tuple[float, int]]  # tier -> (rate, customers behind it)


def calibration_evidence(store: Store, as_of: date) -> dict[str, list[float]]:
    """Achieved rates per tier of the customers whose latest back-test before ``as_of`` shows its lever shipped.

    Args:
        store: The output store (its namespace's ``backtest/``).
        as_of: The publication date; only back-tests with an earlier ``as_of`` count.

    Returns:
        tier -> achieved rates, one per customer, in customer order.
    """
    floor = (as_of - timedelta(days=LOOKBACK_DAYS)).isoformat()
    dates = [d for d in store.list_partitions("backtest", "as_of") if floor <= d < as_of.isoformat()]
    seen: set[str] = set()
    evidence: dict[str, list[tuple[str, float]]] = {t: [] for t in TIERS}
    for day in sorted(dates, reverse=True):
        within = f"{store.dataset('backtest')}/as_of={day}"
        for cid in store.list_partitions("backtest", "customer_id", within=within):
            if cid in seen:
                continue
            seen.add(cid)
            frame = store.read_partition(store.partition("backtest", as_of=date.fromisoformat(day), customer_id=cid))
            if frame is None or not frame.height:
                continue
            for tier, rate in shipped_rates(conform(frame, BACKTEST_OUT).filter(pl.col("customer_id") == cid)).items():
                evidence[tier].append((cid, rate))
    return {t: [r for _, r in sorted(v)] for t, v in evidence.items()}


def shipped_rates(backtest: pl.DataFrame) -> dict[str, float]:
    """tier -> achieved rate, for the tiers whose lever one customer's back-test says shipped."""
    summary = backtest.filter(pl.col("level") == "customer")
    if not summary.height:
        return {}
    shipped = set(summary.get_column("levers_shipped").to_list()[0] or [])
    tiers = backtest.filter((pl.col("level") == "tier") & pl.col("tier").is_in(sorted(shipped)))
    return {r["tier"]: float(r["achieved_rate"]) for r in tiers.iter_rows(named=True) if r["achieved_rate"] is not None}


def calibrated_rates(evidence: dict[str, list[float]], config: ScoringConfig) -> Calibration:
    """tier -> (rate, n) for the tiers with enough customers who shipped the lever."""
    out: Calibration = {}
    for tier in TIERS:
        values = evidence.get(tier) or []
        if len(values) >= config.calibration_min_customers:
            out[tier] = (float(np.quantile(np.array(values), config.calibration_percentile)), len(values))
    return out


def apply_calibration(rates: dict[str, float], source: str, calibration: Calibration) -> tuple[dict[str, float], str]:
    """Replace the rates of calibrated tiers and name them first in ``rates_source``.

    Tiers that are calibrated are dropped from the source's ``default:`` list (they no longer use the
    default). With every tier calibrated the source is the calibration alone.
    """
    if not calibration:
        return rates, source
    merged = {**rates, **{t: rate for t, (rate, _) in calibration.items()}}
    head = "calibrated:" + ",".join(f"{t}={calibration[t][1]}" for t in TIERS if t in calibration)
    if len(calibration) == len(TIERS):
        return merged, head
    parts = []
    for part in source.split(";"):
        if part.startswith("default:"):
            left = [t for t in part[len("default:"):].split(",") if t not in calibration]
            if left:
                parts.append("default:" + ",".join(left))
        else:
            parts.append(part)
    return merged, ";".join([head, *parts])
