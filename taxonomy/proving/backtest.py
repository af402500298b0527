"""Back-tests: did the potential published at ``predicted_at`` come true by ``achieved_at``?

Reads the published ``scores/``, ``topics/`` and ``conversations/`` of both dates (and the topic
centroids in ``topic_state/``) and writes ``backtest/as_of=<achieved_at>/customer_id=<id>/``
(schema ``taxonomy.schema.BACKTEST_OUT``). Every rate is by conversation count: automated /
conversations with a known outcome, the way ``current_automation_rate`` and peer rates are measured.

- **topic** rows, by stable topic id: ``predicted_rate`` is the mean achievable rate the prediction
  gave the topic's conversations (its tier mix at ``predicted_at``), ``achieved_rate`` what the topic
  reached in the window ending the day before ``achieved_at``. ``status``: ``matched`` (in both),
  ``vanished`` (predicted, no conversations later), ``new`` (later only) or ``split`` (later only, its
  centroid within ``SPLIT_COSINE`` of a predicted topic, named in ``split_from``).
- **tier** rows: the achievable rate used per tier, the rate before (``baseline_rate``) and after.
- one **customer** row: ``predicted_potential`` (the published ``automation_potential_volume``),
  ``achieved_potential`` (the automated rate reached), ``absolute_error``, ``levers_shipped`` (tiers
  whose rate rose by ``LEVER_RISE`` or more on at least ``MIN_OUTCOMES`` conversations, a rise a
  two-proportion z-test puts at ``Z_MIN`` standard errors or more: the intent mix within a tier
  drifts from month to month, and on the bundled sample a customer whose automation never changed
  showed a 10-point rise at z = 2.4) and
  ``predicted_potential_shipped``: the prediction for the levers that did ship (the achievable rate
  in shipped tiers, the baseline elsewhere), the fair yardstick while levers are still being built.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import numpy as np
import polars as pl

from taxonomy import __version__ as PIPELINE_VERSION
from taxonomy.errors import TaxonomyError
from taxonomy.publish import _apart
from taxonomy.schema import (
    BACKTEST_OUT,
    CONVERSATIONS_OUT,
    SCORES_OUT,
    TIERS,
    TOPICS_OUT,
    conform,
)
from taxonomy.storage import PART_FILE, Store, validate_customer_id
from taxonomy.window import FINGERPRINT

__all__ = ["LEVER_RISE", "backtest_customer", "compute_backtest", "format_backtest", "latest_prediction", "lever_shipped", "run_backtests"]

LEVER_RISE = 0.05  # a lever "shipped" when its tier's automated rate rose by at least 5 points
MIN_OUTCOMES = 20  # ... measured on at least this many conversations with an outcome
Z_MIN = 3.0  # ... and unlikely to be noise or drift (two-proportion z-test against the rate before)
SPLIT_COSINE = 0.6  # a new topic this close to a predicted one is reported as split from it
BACKTEST_VERSION = "1"  # bump when the back-test's definitions change: stamps then no longer match


def _rate(automated: int, with_outcome: int) -> float | None:
    return automated / with_outcome if with_outcome else None


def lever_shipped(before: dict, after: dict) -> bool:
    """Whether a tier's automated rate rose enough, on enough outcomes, to say its lever shipped.

    Args:
        before, after: ``automated`` and ``with_outcome`` counts of the tier at both dates.
    """
    n0, n1 = before.get("with_outcome", 0), after.get("with_outcome", 0)
    if n1 < MIN_OUTCOMES:
        return False
    p1 = after.get("automated", 0) / n1
    p0 = before.get("automated", 0) / n0 if n0 else 0.0
    if p1 - p0 < LEVER_RISE:
        return False
    if not n0:
        return True  # no outcome before: nothing to test the rise against
    pooled = (before.get("automated", 0) + after.get("automated", 0)) / (n0 + n1)
    se = (pooled * (1 - pooled) * (1 / n0 + 1 / n1)) ** 0.5
    return se == 0 or (p1 - p0) / se >= Z_MIN


def _read(store: Store, name: str, day: date, cid: str, schema: dict) -> pl.DataFrame | None:
    frame = store.read_partition(store.partition(name, as_of=day, customer_id=cid))
    return None if frame is None else conform(frame, schema).filter(pl.col("customer_id") == cid)


def _rates_of(scores: dict) -> dict[str, float]:
    """The achievable rate per tier the prediction used (older score rows: read off the ladder)."""
    if all(scores.get(f"achievable_rate_{t}") is not None for t in TIERS):
        return {t: float(scores[f"achievable_rate_{t}"]) for t in TIERS}
    steps = [scores.get(k) or 0.0 for k in ("potential_knowledge_only", "potential_with_data_connectors",
                                            "potential_with_procedures")]
    gains = [steps[0], steps[1] - steps[0], steps[2] - steps[1]]
    return {t: (g / s if (s := scores.get(f"handle_time_share_{t}")) else 0.0) for t, g in zip(TIERS, gains)}


def _centroids(store: Store, day: date, cid: str) -> dict[str, np.ndarray]:
    frame = store.read_partition(store.partition("topic_state", as_of=day, customer_id=cid))
    if frame is None or not frame.height:
        return {}
    out = {}
    for tid, vec in zip(frame.get_column("topic_id").to_list(), frame.get_column("centroid").to_list()):
        v = np.asarray(vec, dtype=np.float64)
        n = np.linalg.norm(v)
        if n > 0:
            out[tid] = v / n
    return out


def _per(conversations: pl.DataFrame, key: str, rates: dict[str, float]) -> dict[str, dict]:
    """Aggregates by ``key``: conversations, outcomes, automated, hours, mean achievable rate."""
    rate_of = pl.col("tier").replace_strict(rates, default=0.0, return_dtype=pl.Float64)
    grouped = conversations.group_by(key).agg(
        pl.len().alias("n"),
        pl.col("automated").is_not_null().sum().alias("with_outcome"),
        pl.col("automated").fill_null(False).sum().alias("automated"),
        (pl.col("handle_time_seconds").sum() / 3600.0).alias("hours"),
        rate_of.mean().alias("rate"),
    )
    return {r[key]: r for r in grouped.iter_rows(named=True) if r[key] is not None}


def compute_backtest(
    predicted: tuple[dict, pl.DataFrame, pl.DataFrame],
    achieved: tuple[pl.DataFrame, pl.DataFrame],
    *,
    customer_id: str,
    predicted_at: date,
    achieved_at: date,
    centroids: tuple[dict[str, np.ndarray], dict[str, np.ndarray]] = ({}, {}),
) -> pl.DataFrame:
    """The back-test rows of one customer (pure: no I/O).

    Args:
        predicted: (scores row, topics, conversations) published at ``predicted_at``.
        achieved: (topics, conversations) published at ``achieved_at``.
        customer_id, predicted_at, achieved_at: Identity of the back-test.
        centroids: Topic centroids at both dates (for split detection; empty: none detected).

    Returns:
        A frame conformed to ``BACKTEST_OUT``: topic rows, tier rows, then the customer row.
    """
    scores, topics_p, conv_p = predicted
    topics_a, conv_a = achieved
    rates = _rates_of(scores)
    base = {"customer_id": customer_id, "as_of": achieved_at, "predicted_at": predicted_at,
            "rates_source": scores.get("rates_source")}
    rows = _topic_rows(base, rates, topics_p, conv_p, topics_a, conv_a, centroids)
    tiers_p, tiers_a = _per(conv_p, "tier", rates), _per(conv_a, "tier", rates)
    shipped, shipped_potential = [], 0.0
    n_p = max(conv_p.height, 1)
    for tier in TIERS:
        p, a = tiers_p.get(tier, {}), tiers_a.get(tier, {})
        baseline = _rate(p.get("automated", 0), p.get("with_outcome", 0))
        achieved_rate = _rate(a.get("automated", 0), a.get("with_outcome", 0))
        if lever_shipped(p, a):
            shipped.append(tier)
        shipped_potential += p.get("n", 0) / n_p * (rates[tier] if tier in shipped else baseline or 0.0)
        rows.append({**base, "level": "tier", "tier": tier, "predicted_rate": rates[tier], "baseline_rate": baseline,
                     "achieved_rate": achieved_rate, "conversations": a.get("n", 0),
                     "with_outcome": a.get("with_outcome", 0), "hours": a.get("hours"),
                     "predicted_conversations": p.get("n", 0)})
    known = conv_a.filter(pl.col("automated").is_not_null())
    achieved_potential = _rate(int(known.get_column("automated").sum()), known.height) if known.height else None
    predicted_potential = scores.get("automation_potential_volume")
    rows.append({
        **base, "level": "customer", "predicted_rate": None, "conversations": conv_a.height,
        "with_outcome": known.height, "hours": float(conv_a.get_column("handle_time_seconds").sum()) / 3600.0,
        "predicted_conversations": conv_p.height, "predicted_potential": predicted_potential,
        "achieved_potential": achieved_potential,
        "absolute_error": None if achieved_potential is None or predicted_potential is None
        else abs(predicted_potential - achieved_potential),
        "predicted_potential_shipped": shipped_potential if conv_p.height else None, "levers_shipped": shipped,
    })
    return conform(pl.DataFrame(rows, schema_overrides={k: BACKTEST_OUT[k] for k in ("levers_shipped",)},
                                infer_schema_length=None), BACKTEST_OUT)


def _topic_rows(base: dict, rates: dict[str, float], topics_p: pl.DataFrame, conv_p: pl.DataFrame,
                topics_a: pl.DataFrame, conv_a: pl.DataFrame, centroids: tuple[dict, dict]) -> list[dict]:
    """One row per topic id seen at either date (see the module docstring for ``status``)."""
    per_p, per_a = _per(conv_p, "topic_id", rates), _per(conv_a, "topic_id", rates)
    meta_p = {r["topic_id"]: r for r in topics_p.iter_rows(named=True)}
    meta_a = {r["topic_id"]: r for r in topics_a.iter_rows(named=True)}
    rows = []
    for tid in sorted(set(per_p) | set(per_a) | set(meta_p) | set(meta_a)):
        p, a = per_p.get(tid), per_a.get(tid)
        meta = meta_a.get(tid) or meta_p.get(tid) or {}
        if p is not None:
            status, parent = ("matched" if a is not None else "vanished"), None
        else:
            parent = _split_parent(tid, centroids, set(per_p))
            status = "split" if parent else "new"
        source = p or a
        rows.append({
            **base, "level": "topic", "topic_id": tid, "label": meta.get("label"), "tier": meta.get("tier"),
            "status": status, "split_from": parent, "predicted_rate": source["rate"] if source else None,
            "baseline_rate": _rate(p["automated"], p["with_outcome"]) if p else None,
            "achieved_rate": _rate(a["automated"], a["with_outcome"]) if a else None,
            "conversations": a["n"] if a else 0, "with_outcome": a["with_outcome"] if a else 0,
            "hours": a["hours"] if a else None, "predicted_conversations": p["n"] if p else 0,
        })
    return rows


def _split_parent(tid: str, centroids: tuple[dict, dict], predicted: set[str]) -> str | None:
    before, after = centroids
    if tid not in after:
        return None
    best, best_id = SPLIT_COSINE, None
    for pid in sorted(predicted):
        if pid in before and (sim := float(before[pid] @ after[tid])) >= best:
            best, best_id = sim, pid
    return best_id


def backtest_customer(store: Store, customer_id: str, predicted_at: date, achieved_at: date) -> pl.DataFrame:
    """Compute one customer's back-test from a store's published outputs (nothing written).

    Raises:
        TaxonomyError: a date not after the other, or a partition missing at either date.
    """
    cid = validate_customer_id(customer_id)
    if predicted_at >= achieved_at:
        raise TaxonomyError(f"--predicted-at {predicted_at} must be before --achieved-at {achieved_at}",
                            field="predicted_at")
    frames = {}
    for name, day, schema in (("scores", predicted_at, SCORES_OUT), ("topics", predicted_at, TOPICS_OUT),
                              ("conversations", predicted_at, CONVERSATIONS_OUT), ("topics", achieved_at, TOPICS_OUT),
                              ("conversations", achieved_at, CONVERSATIONS_OUT)):
        frame = _read(store, name, day, cid, schema)
        if frame is None or (name == "scores" and not frame.height):
            raise TaxonomyError(f"no published {name} for customer {cid} as of {day}: run `taxonomy run --as-of {day}` first",
                                file=store.uri(store.partition(name, as_of=day, customer_id=cid)))
        frames[(name, day)] = frame
    return compute_backtest(
        (frames[("scores", predicted_at)].row(0, named=True), frames[("topics", predicted_at)],
         frames[("conversations", predicted_at)]),
        (frames[("topics", achieved_at)], frames[("conversations", achieved_at)]),
        customer_id=cid, predicted_at=predicted_at, achieved_at=achieved_at,
        centroids=(_centroids(store, predicted_at, cid), _centroids(store, achieved_at, cid)),
    )


def latest_prediction(
    store: Store, customer_id: str, achieved_at: date, after_days: int, dates: list[str] | None = None
) -> date | None:
    """The latest date with published scores for the customer, ``after_days`` to ``2 x after_days`` before.

    ``dates``: the ``scores/`` as-of partitions, when the caller has listed them already.
    """
    lo, hi = achieved_at - timedelta(days=2 * after_days), achieved_at - timedelta(days=after_days)
    for value in sorted(store.list_partitions("scores", "as_of") if dates is None else dates, reverse=True):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            continue
        if lo <= day <= hi and store.exists(store.partition("scores", as_of=day, customer_id=customer_id)):
            return day
    return None


def run_backtests(
    store: Store,
    achieved_at: date,
    customers: list[str] | None = None,
    *,
    predicted_at: date | None = None,
    after_days: int = 28,
    strict: bool = True,
    skipped: dict[str, str] | None = None,
) -> dict[str, str]:
    """Back-test customers as of ``achieved_at`` and write their ``backtest/`` partitions atomically.

    Args:
        store: The output store (namespace included).
        achieved_at: The as-of date whose window holds the outcomes.
        customers: Customers to back-test (default: every customer with scores as of ``achieved_at``).
        predicted_at: The prediction to test; default per customer: :func:`latest_prediction`.
        after_days: Minimum age of the default prediction, in days.
        strict: Raise on a customer that cannot be back-tested; else skip it (the scheduled flow).
        skipped: If given, filled with customer id -> why it was skipped (``strict=False``).

    Returns:
        customer id -> URI of the written partition (customers skipped are absent).
    """
    from taxonomy.validate import require_valid, validate_frame

    wanted = customers or store.list_partitions("scores", "customer_id", within=f"{store.dataset('scores')}/as_of={achieved_at}")
    dates = store.list_partitions("scores", "as_of")
    written: dict[str, str] = {}
    todo: dict[str, tuple[pl.DataFrame, dict[str, str] | None]] = {}
    for cid in sorted(set(wanted)):
        validate_customer_id(cid)
        folder = store.partition("backtest", as_of=achieved_at, customer_id=cid)
        try:
            when = predicted_at or latest_prediction(store, cid, achieved_at, after_days, dates)
            if when is None:
                raise TaxonomyError(f"no prediction for customer {cid} published {after_days}+ days before {achieved_at}")
            stamp = _inputs_stamp(store, cid, when, achieved_at)
            if stamp is not None and (store.read_metadata(folder) or {}).get(FINGERPRINT) == stamp[FINGERPRINT]:
                written[cid] = store.uri(f"{folder}/{PART_FILE}")  # its inputs are unchanged: nothing to redo
                continue
            frame = backtest_customer(store, cid, when, achieved_at)
            if frame.filter(pl.col("level") == "customer").get_column("achieved_potential")[0] is None:
                raise TaxonomyError(f"customer {cid} has no automation outcome in the window ending {achieved_at}: "
                                    "nothing to compare the prediction with", field="automated")
        except TaxonomyError as exc:
            if strict:
                raise
            if skipped is not None:
                skipped[cid] = exc.message
            continue
        todo[cid] = (frame, stamp)
    # One Great Expectations run for all (it costs ~0.3 s a run, whatever its size); on a failure,
    # customer by customer so the error names the partition.
    if todo and not validate_frame(pl.concat([f for f, _ in todo.values()]), "backtest").success:
        for cid, (frame, _) in todo.items():
            require_valid(frame, "backtest", file=store.uri(store.partition("backtest", as_of=achieved_at, customer_id=cid)))
    for cid, (frame, stamp) in todo.items():
        written[cid] = store.write_partition(frame, store.partition("backtest", as_of=achieved_at, customer_id=cid),
                                             metadata=stamp)
    return dict(sorted(written.items()))


def _inputs_stamp(store: Store, cid: str, predicted_at: date, achieved_at: date) -> dict[str, str] | None:
    """A fingerprint of everything a back-test reads (from partition footers only); None when an input has none."""
    stamps = []
    for name, day in (("scores", predicted_at), ("topics", predicted_at), ("conversations", predicted_at),
                      ("topics", achieved_at), ("conversations", achieved_at), ("topic_state", predicted_at),
                      ("topic_state", achieved_at)):
        meta = store.read_metadata(store.partition(name, as_of=day, customer_id=cid))
        if meta is None or FINGERPRINT not in meta:
            return None
        stamps.append([name, day.isoformat(), meta[FINGERPRINT]])
    blob = json.dumps([PIPELINE_VERSION, BACKTEST_VERSION, stamps], sort_keys=True)
    return {FINGERPRINT: hashlib.sha256(blob.encode()).hexdigest()}


def _pct(v: float | None) -> str:
    return "  n/a" if v is None else f"{100 * v:5.1f}%"


def format_backtest(frame: pl.DataFrame, top: int = 10) -> str:
    """A back-test as readable text: the summary, the tiers, and the biggest topics."""
    c = frame.filter(pl.col("level") == "customer").row(0, named=True)
    lines = [
        f"{c['customer_id']}: predicted as of {c['predicted_at']}, achieved in the window ending {c['as_of'] - timedelta(days=1)}",
        (f"  potential predicted {_pct(c['predicted_potential'])}  achieved {_pct(c['achieved_potential'])}"
         f"  error {_apart(c['absolute_error'])}  (predicted for the levers shipped: {_pct(c['predicted_potential_shipped'])})"),
        f"  levers shipped: {', '.join(c['levers_shipped'] or []) or 'none'}",
        f"    {'tier':<14} {'predicted':>9} {'before':>7} {'achieved':>8} {'convs':>6}",
    ]
    for t in frame.filter(pl.col("level") == "tier").iter_rows(named=True):
        lines.append(f"    {t['tier']:<14} {_pct(t['predicted_rate']):>9} {_pct(t['baseline_rate']):>7}"
                     f" {_pct(t['achieved_rate']):>8} {t['conversations']:>6}")
    topics = frame.filter(pl.col("level") == "topic").sort(["conversations", "topic_id"], descending=[True, False])
    lines.append(f"    {'topic':<7} {'status':<9} {'tier':<14} {'predicted':>9} {'achieved':>8} {'convs':>6}  label")
    for t in topics.head(top).iter_rows(named=True):
        status = t["status"] + (f" from {t['split_from']}" if t["split_from"] else "")
        lines.append(f"    {t['topic_id']:<7} {status:<9} {t['tier'] or '-':<14} {_pct(t['predicted_rate']):>9}"
                     f" {_pct(t['achieved_rate']):>8} {t['conversations']:>6}  {(t['label'] or '')[:40]}")
    others = frame.filter((pl.col("level") == "topic") & pl.col("status").is_in(["vanished", "split"]))
    if others.height:
        lines.append(f"  {others.height} topics vanished or split since the prediction (all listed in the dataset)")
    return "\n".join(lines)
