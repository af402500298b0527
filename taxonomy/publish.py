"""Publishing: peer rates across customers, scores, validation, and reading results back.

``publish_scores`` is the one place that writes the CSM-facing datasets
(``conversations/``, ``topics/``, ``trends/``, ``scores/``). Each partition is
validated with its Great Expectations suite first and written atomically; a
customer's ``scores/`` partition is written last, so a scores row only ever
appears once everything it summarises is in place.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

import polars as pl

from taxonomy import __version__ as PIPELINE_VERSION
from taxonomy.config import Config
from taxonomy.errors import TaxonomyError
from taxonomy.parallel import ordered_map, pool, resolve_workers
from taxonomy.schema import (
    CONVERSATIONS_OUT,
    SCORES_OUT,
    TOPICS_OUT,
    TRENDS_OUT,
    conform,
)
from taxonomy.storage import PART_FILE, Store, validate_customer_id

PUBLISHED = ("conversations", "topics", "trends", "scores")  # in write order: scores last


def _result_settings(cfg: Config) -> dict:
    """The settings that can change a published result (how many worker processes never does)."""
    return {k: v for k, v in cfg.to_dict().items() if k != "workers"}


def deterministic_run_id(as_of: date, customers: list[str], cfg: Config, model_version: str) -> str:
    """A run id that is the same whenever the same inputs and settings are published again."""
    blob = json.dumps([as_of.isoformat(), sorted(customers), _result_settings(cfg), model_version], sort_keys=True,
                      default=str)
    return f"{as_of.isoformat()}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def publish_scores(
    store: Store, as_of: date, customers: list[str], cfg: Config, *, run_id: str | None = None,
    parallel: bool = False,
) -> dict[str, list[str]]:
    """Score each analysed customer, with achievable rates from the peers in this run, and publish.

    Args:
        store: The output store (already namespaced by label).
        as_of: The as-of date whose ``analysis/`` partitions to publish.
        customers: Customers analysed for ``as_of``.
        cfg: Run configuration (window and scoring settings).
        run_id: Recorded in every scores row; default: deterministic from inputs and settings.
        parallel: Score the customers in worker processes (``taxonomy run``, which owns the
            machine). Airflow's publish task leaves it off: there the Celery workers' slots are the
            parallelism, and a pool per task would crowd the other tasks on the same worker.

    Returns:
        Dataset name -> URIs of the partitions written.
    """
    from taxonomy.calibrate import apply_calibration, calibrated_rates, calibration_evidence
    from taxonomy.scoring import achievable_rates, customer_tier_stats
    from taxonomy.window import window_bounds

    calibration = calibrated_rates(calibration_evidence(store, as_of), cfg.scoring)
    fingerprint, unchanged = _published_fingerprint(store, as_of, customers, cfg, run_id, calibration)
    if unchanged:
        return unchanged
    staged: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
    for cid in sorted(set(customers)):
        keys = {"as_of": as_of, "customer_id": validate_customer_id(cid)}
        conversations = store.read_partition(store.partition("analysis", **keys))
        topics = store.read_partition(store.partition("analysis_topics", **keys))
        if conversations is None or topics is None:
            raise TaxonomyError(f"customer {cid} has no analysis for {as_of}: run analyse first")
        staged[cid] = (conversations, topics)
    if not staged:
        raise TaxonomyError(f"no customer to publish for {as_of}")

    rates, rates_source = achievable_rates({c: customer_tier_stats(v[0]) for c, v in staged.items()}, cfg.scoring)
    rates, rates_source = apply_calibration(rates, rates_source, calibration)
    versions = sorted({v for conv, _ in staged.values() for v in conv.get_column("model_version").drop_nulls().unique()})
    model_version = ",".join(versions) or "none"
    run_id = run_id or deterministic_run_id(as_of, list(staged), cfg, model_version)
    window_start, window_end = window_bounds(as_of, cfg.window_days)
    # Scoring (next best actions, intervals) is pure per customer once the peer rates are known: with
    # ``parallel``, the customers are scored in worker processes when there are enough of them.
    cids = list(staged)
    n = len(cids)
    frames_out = ordered_map(
        pool(resolve_workers(cfg.workers) if parallel else 1, n), _score_one, cids, [staged[c] for c in cids], [rates] * n,
        [rates_source] * n, [(as_of, window_start, window_end)] * n, [(model_version, run_id)] * n,
        [_review_counts(store, as_of, c) for c in cids],
    )
    staged_frames: dict[str, dict[str, pl.DataFrame]] = dict(zip(cids, frames_out))
    for name in PUBLISHED:
        _require_valid_all(store, name, as_of, {cid: frames[name] for cid, frames in staged_frames.items()})
    written: dict[str, list[str]] = {name: [] for name in PUBLISHED}
    for cid, frames in staged_frames.items():
        for name in PUBLISHED:
            folder = store.partition(name, as_of=as_of, customer_id=cid)
            written[name].append(store.write_partition(frames[name], folder, metadata=fingerprint))
    return written


def _score_one(
    cid: str, analysed: tuple[pl.DataFrame, pl.DataFrame], rates: dict[str, float], rates_source: str,
    dates: tuple[date, date, date], versions: tuple[str, str], review_counts: dict[str, int] | None,
) -> dict[str, pl.DataFrame]:
    """One customer's published frames (in a worker process when there is a pool)."""
    from taxonomy.scoring import score_customer

    conversations, topics = analysed
    as_of, window_start, window_end = dates
    model_version, run_id = versions
    result = score_customer(
        conversations, topics, rates, rates_source,  # with p_* columns: the intervals and the shares need them
        customer_id=cid, as_of=as_of, window_start=window_start, window_end=window_end,
        model_version=model_version, pipeline_version=PIPELINE_VERSION, run_id=run_id, review_counts=review_counts,
    )
    return {
        "conversations": conform(conversations, CONVERSATIONS_OUT),
        "topics": conform(result.topics, TOPICS_OUT),
        "trends": conform(result.trends, TRENDS_OUT),
        "scores": conform(result.scores, SCORES_OUT),
    }


def _review_counts(store: Store, as_of: date, customer_id: str) -> dict[str, int] | None:
    """``reviews_applied`` / ``reviews_unmatched`` recorded by the analysis (None for older analyses)."""
    meta = store.read_metadata(store.partition("analysis", as_of=as_of, customer_id=customer_id)) or {}
    if "taxonomy.reviews" not in meta:
        return None
    counts = json.loads(meta["taxonomy.reviews"])
    return {"reviews_applied": int(counts["applied"]), "reviews_unmatched": len(counts["unmatched"])}


def _published_fingerprint(
    store: Store, as_of: date, customers: list[str], cfg: Config, run_id: str | None, calibration: object = None
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """The stamp for this publication and, when every published partition already carries it, their URIs.

    Publication depends on every customer's analysis (peer rates are computed across them), so
    the stamp covers all their fingerprints, the settings and ``run_id``. A re-run of a published
    date with nothing changed then reads only partition footers. Calibrated rates (from back-tests
    published since) are part of the stamp. No stamp (None) when an analysis
    has no fingerprint: always publish then.
    """
    from taxonomy.window import FINGERPRINT

    analyses = []
    for cid in sorted(set(customers)):
        meta = store.read_metadata(store.partition("analysis", as_of=as_of, customer_id=validate_customer_id(cid)))
        if meta is None or FINGERPRINT not in meta:
            return None, None
        analyses.append((cid, meta[FINGERPRINT]))
    blob = json.dumps([PIPELINE_VERSION, as_of.isoformat(), analyses, _result_settings(cfg), run_id]
                      + ([calibration] if calibration else []), sort_keys=True, default=str)
    stamp = {FINGERPRINT: hashlib.sha256(blob.encode()).hexdigest()}
    written: dict[str, list[str]] = {name: [] for name in PUBLISHED}
    for cid, _ in analyses:
        for name in PUBLISHED:
            folder = store.partition(name, as_of=as_of, customer_id=cid)
            meta = store.read_metadata(folder)
            if meta is None or meta.get(FINGERPRINT) != stamp[FINGERPRINT]:
                return stamp, None
            written[name].append(store.uri(f"{folder}/{PART_FILE}"))
    return stamp, written


def _require_valid_all(store: Store, name: str, as_of: date, frames: dict[str, pl.DataFrame]) -> None:
    """Validate every customer's ``name`` frame in one GX run (GX costs ~0.3 s a run, whatever its size).

    Nothing is written unless all pass. On a failure the customers are checked one by one, so the
    error names the partition at fault.
    """
    from taxonomy.validate import require_valid, validate_frame

    if validate_frame(pl.concat(list(frames.values()), how="vertical"), name).success:
        return
    for cid, frame in frames.items():
        require_valid(frame, name, file=store.uri(store.partition(name, as_of=as_of, customer_id=cid)))
    raise TaxonomyError(f"{name} fails its expectations only when all customers are checked together",
                        file=store.uri(store.dataset(name)))


def latest_as_of(store: Store, customer_id: str | None = None) -> date:
    """The latest as-of date with published scores (for one customer, if given)."""
    values = store.list_partitions("scores", "as_of")
    if customer_id:
        values = [v for v in values if store.exists(store.partition("scores", as_of=v, customer_id=customer_id))]
    if not values:
        who = f" for customer {customer_id}" if customer_id else ""
        raise TaxonomyError(f"no published scores{who}", file=store.uri(store.dataset("scores")))
    return date.fromisoformat(values[-1])


def read_published(store: Store, name: str, as_of: date, customer_id: str) -> pl.DataFrame:
    """One published partition; raises TaxonomyError if it is missing."""
    frame = store.read_partition(store.partition(name, as_of=as_of, customer_id=customer_id))
    if frame is None:
        raise TaxonomyError(f"no {name} for customer {customer_id} as of {as_of}", file=store.uri(store.dataset(name)))
    return frame


def read_customer_outputs(
    store: Store, as_of: date, customer_id: str, *, attempts: int = 20, wait_s: float = 0.05
) -> dict[str, pl.DataFrame | None]:
    """One customer's published partitions of ``as_of``, all from the same publication.

    Every partition a publication (or ``taxonomy promote``) writes carries the publication's
    fingerprint. A reader that raced a swap sees partitions with different fingerprints: it reads
    again until they agree, so it returns the old set or the new set, never a mix.

    Returns:
        Dataset name (``PUBLISHED``) -> frame, None where absent.

    Raises:
        TaxonomyError: the partitions never agreed (a swap that stopped half way: re-run it).
    """
    import io
    import posixpath
    import time

    import pyarrow.parquet as pq

    from taxonomy.window import FINGERPRINT

    for _ in range(attempts):
        frames: dict[str, pl.DataFrame | None] = {}
        stamps = set()
        for name in PUBLISHED:
            path = f"{store.partition(name, as_of=as_of, customer_id=customer_id)}/{PART_FILE}"
            try:
                data = store.fs.cat_file(path)
            except FileNotFoundError:
                frames[name] = None
                continue
            meta = pq.read_schema(io.BytesIO(data)).metadata or {}
            stamps.add(meta.get(FINGERPRINT.encode()))
            frames[name] = store.decode_partition(data, posixpath.dirname(path))  # partition columns put back
        if len(stamps) <= 1:
            return frames
        time.sleep(wait_s)
    raise TaxonomyError(f"the published partitions of customer {customer_id} as of {as_of} are from different "
                        "publications: a publish or promote stopped half way; run it again",
                        file=store.uri(store.dataset("scores")))


def _pct(value: float | None, digits: int = 1) -> str:
    """A share, right-aligned; ``digits`` 0 for the model's estimates (their intervals are many points wide)."""
    return "n/a" if value is None else f"{100 * value:5.{digits}f}%"


def _pts(value: float | None, digits: int = 0) -> str:
    """A difference of shares (an estimate minus a measurement) in points, whole by default: ``+20 pts``,
    ``0 pts`` (never "+0" or "-0"). The report pages' ``pts`` filter too."""
    if value is None:
        return "n/a"
    text = f"{100 * value:+.{digits}f}"
    return f"{text.lstrip('+-') if float(text) == 0 else text} pts"


def _apart(value: float | None, digits: int = 1) -> str:
    """How far apart two shares are, in points and unsigned (an absolute error): ``7.7 pts``. The
    report pages' ``apart`` filter and ``taxonomy backtest`` too."""
    return "n/a" if value is None else f"{100 * abs(value):.{digits}f} pts"


def _interval(s: dict, name: str) -> str:
    """A score and its 90% interval, e.g. ``45% (38–52%)``."""
    from taxonomy.uncertainty import format_interval

    return format_interval(s.get(name), s.get(f"{name}_low"), s.get(f"{name}_high"))


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, an ellipsis marking the cut (``show`` and ``run``'s summary)."""
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _num(value: float | None, fmt: str = ",.1f") -> str:
    return "n/a" if value is None else format(value, fmt)


def show(output_uri: str, customer_id: str, *, as_of: date | None = None, label: str | None = None, top: int = 10) -> str:
    """A customer's scores, ladder and top topics as readable text (``taxonomy show``)."""
    store = Store(output_uri, label=label)
    validate_customer_id(customer_id)
    as_of = as_of or latest_as_of(store, customer_id)
    s = read_published(store, "scores", as_of, customer_id).row(0, named=True)
    topics = read_published(store, "topics", as_of, customer_id).sort("rank").head(top)
    lines = [
        f"{customer_id}  as of {as_of}  (window {s['window_start']} .. {s['window_end']})",
        f"  conversations {s['conversations']:,}   agent hours {_num(s['handle_time_hours'])}"
        f"   missing handle time {_pct(s['missing_handle_time_share'])}",
        f"  automation potential {_interval(s, 'automation_potential')} of hours"
        f" ({_num(s['automation_potential_hours_per_month'], ',.0f')} h/month), {_pct(s['automation_potential_volume'], 0).strip()} of conversations",
        f"  current automation {_pct(s['current_automation_rate'])}   gap {_pts(s['automation_gap'])}",
        f"  reviewed by a person: {_pct(s.get('reviewed_hours_share'))} of hours"
        f" ({s.get('reviews_applied') or 0} reviews applied, {s.get('reviews_unmatched') or 0} no longer match a topic)",
        "  tier             volume   hours (90% interval)",
    ]
    for tier in ("informational", "personalized", "action_led"):
        lines.append(f"    {tier:<14} {_pct(s[f'volume_share_{tier}'], 0)}  {_interval(s, f'handle_time_share_{tier}')}")
    lines += [
        "  ladder: knowledge content {} -> + data connectors {} -> + procedures {}".format(
            _pct(s["potential_knowledge_only"], 0).strip(), _pct(s["potential_with_data_connectors"], 0).strip(),
            _pct(s["potential_with_procedures"], 0).strip(),
        ),
        f"  rates: {s['rates_source']}   model: {s['model_version']}",
        "  top topics by hours automation could still win:",
        f"    {'topic':<7} {'label':<38} {'tier':<13} {'hours':>6} {'to win':>7}  next best action",
    ]
    for t in topics.iter_rows(named=True):
        lines.append(
            f"    {t['topic_id']:<7} {_clip(t['label'], 38):<38} {t['tier'] or '-':<13}"
            f" {_num(None if t['handle_time_seconds'] is None else t['handle_time_seconds'] / 3600):>6}"
            f" {_num(t['hours_to_win']):>7}  {t['next_best_action']}"
        )
    return "\n".join(lines)
