"""The pipeline's stages, as the DAG runs them, and ``run`` that chains them.

Stages and the partitions they own (all under the output root, or under
``label=<name>/`` for a labelled run):

1. :func:`ingest_customer`: landing day -> ``conversations_raw/customer_id=/date=/``
2. :func:`~taxonomy.enrich.enrich_customer_days`: language + embed + tier -> ``enriched/customer_id=/date=/``
   (``run`` first embeds every customer with :func:`~taxonomy.enrich.embed_customer_days`, each with
   every core, then tiers them in worker processes, each finding its vectors in the cache)
3. :func:`analyse_customer`: topics over the trailing window (see :mod:`taxonomy.window`) -> ``analysis/as_of=/customer_id=/``
   (staged conversations with topics, each model tier read through the window's own correction,
   :mod:`taxonomy.tiers.adapt`, and in its topic's context, :mod:`taxonomy.tiers.context`),
   ``analysis_topics/`` and ``topic_state/`` (centroids that keep
   topic ids stable from one day to the next)
4. :func:`publish`: peer rates, scores, validation -> ``conversations/``, ``topics/``, ``scores/``,
   ``trends/`` partitioned ``as_of=/customer_id=/``

Each stage reads and writes only its own partitions, so any one can be cleared
and re-run and gives the same result.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from taxonomy.config import Config, load_config, resolve_config
from taxonomy.enrich import embed_customer_days, embedder, enrich_customer, enrich_customer_days, enrich_frame  # noqa: F401
from taxonomy.errors import TaxonomyError
from taxonomy.parallel import ordered_map, pool, resolve_workers
from taxonomy.schema import TIER_COLUMNS
from taxonomy.storage import PART_FILE, Store, open_store, validate_customer_id
from taxonomy.window import FINGERPRINT, analysis_fingerprint, load_window, previous_topic_state, window_bounds

ANALYSIS_COLUMNS = [
    "conversation_id", "customer_id", "created_at", "text", "handle_time_seconds", "automated",
    *TIER_COLUMNS, "topic_id", "language",
]



@dataclass
class RunResult:
    """What :func:`run` did: where outputs went, per-stage seconds, and the ingest report."""

    output: str  # the output root as given (the label, if any, is applied on top)
    as_of: date
    window_days: int
    customers: list[str]
    published: dict[str, list[str]]
    failed: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    ingest_report: object | None = None
    label: str | None = None


# -- stage 0: which customers landed data ----------------------------------------------------
def discover_customers(landing_uri: str, day: date) -> list[str]:
    """Customers with a landing folder ``<landing>/<customer_id>/<day>/`` holding at least one file.

    Folder names that are not valid customer ids are skipped (never used as a path).
    """
    store = open_store(landing_uri)
    if not store.exists(store.root):
        raise TaxonomyError("landing root does not exist", file=store.uri(store.root))
    found = []
    for entry in store.fs.ls(store.root, detail=False):
        name = entry.rstrip("/").rsplit("/", 1)[-1]
        try:
            validate_customer_id(name)
        except TaxonomyError:
            continue
        folder = f"{store.root}/{name}/{day.isoformat()}"
        if store.exists(folder) and any(True for _ in store.walk_files(folder)):
            found.append(name)
    return sorted(found)


# -- stage 1: ingest -----------------------------------------------------------------------------
def ingest_customer(
    landing_uri: str,
    output_uri: str,
    customer_id: str,
    day: date,
    *,
    label: str | None = None,
    config_path: str | None = None,
    sources_file: str | None = None,
) -> str:
    """Ingest one customer's landing folder for ``day``; return the ``conversations_raw`` partition URI.

    ``sources_file``, if given, supplies the customer's reader options (e.g. a Zendesk handle-time field).
    """
    from taxonomy.ingest import ingest

    validate_customer_id(customer_id)
    options = None
    if sources_file:
        from taxonomy.pull import ingest_options

        options = {customer_id: ingest_options(sources_file, customer_id)}
    ingest(
        landing_uri, output_uri, start=day, end=day, customers=[customer_id], label=label,
        config=load_config(config_path), customer_options=options,
    )
    store = Store(output_uri, label=label)
    return store.uri(store.partition("conversations_raw", customer_id=customer_id, date=day))


# -- stage 3: analyse (topics over the window) ----------------------------------------------------
def analyse_customer(
    output_uri: str,
    customer_id: str,
    as_of: date,
    *,
    window_days: int | None = None,
    label: str | None = None,
    config_path: str | Config | None = None,
) -> str:
    """Find topics in one customer's trailing window and stage the result for :func:`publish`.

    The outputs record an :func:`analysis_fingerprint` of their inputs; when it is unchanged
    (a re-run of an analysed date) nothing is recomputed.

    Returns:
        The URI of the staged ``analysis`` partition.
    """
    from taxonomy.language import lower_unsupported_confidence
    from taxonomy.review import pin_human_tiers
    from taxonomy.tiers.adapt import adapt_to_queue
    from taxonomy.tiers.context import tiers_in_context
    from taxonomy.tiers.model import temperature_of
    from taxonomy.topics import discover_topics

    cfg = resolve_config(config_path, window_days=window_days)
    store = Store(output_uri, label=label)
    validate_customer_id(customer_id)
    keys = {"as_of": as_of, "customer_id": customer_id}
    embedder_version = embedder(cfg).version
    fingerprint = analysis_fingerprint(store, customer_id, as_of, cfg, embedder_version)
    done = store.read_metadata(store.partition("analysis", **keys))
    if done is not None and done.get(FINGERPRINT) == fingerprint and all(
        store.exists(f"{store.partition(name, **keys)}/{PART_FILE}") for name in ("analysis_topics", "topic_state")
    ):
        return store.uri(store.partition("analysis", **keys))
    df = load_window(store, customer_id, as_of, cfg.window_days)
    embeddings = np.asarray(df.get_column("embedding").to_numpy(), dtype=np.float32).reshape(df.height, -1) \
        if df.height else np.zeros((0, 384), dtype=np.float32)
    previous = previous_topic_state(store, customer_id, as_of, embedder_version)
    # Each model row's probabilities are read through the window's own correction
    # (taxonomy.tiers.adapt): its tier, and the shares and intervals that sum p_<tier>. Then each
    # tier is read in its topic's context (taxonomy.tiers.context). Naming counts a topic's main tier
    # as it is listed but lets only the messages the head itself reads in that tier speak for it:
    # the correction pulls a topic's minority wording toward its majority's tier, which helps the
    # counts (the bundled sample's tiers: 0.899 -> 0.918 macro-F1) but makes more of a topic's
    # other-tier questions candidates for its name (the sample's names the model reads as their
    # topic's tier: 176 of 185 with the adapted tiers as speakers, 180 with the head's).
    adapted = adapt_to_queue(df, embeddings, temperature_of)
    result = discover_topics(adapted.with_columns(df.get_column("tier")), embeddings,
                             previous=previous, config=cfg.topics, embed=embedder(cfg).encode)
    staged = adapted.drop("embedding").join(result.assignments, on="conversation_id", how="left", maintain_order="left")
    staged = tiers_in_context(lower_unsupported_confidence(staged))
    staged, reviewed = pin_human_tiers(store, customer_id, staged, embeddings, result.centroids, cfg)
    stamp = {FINGERPRINT: fingerprint}
    store.write_partition(result.topics, store.partition("analysis_topics", **keys), metadata=stamp)
    store.write_partition(result.centroids, store.partition("topic_state", **keys),
                          metadata={**stamp, "taxonomy.embedder": embedder_version})
    # Written last: its fingerprint says the other two are complete.
    store.write_partition(staged.select(ANALYSIS_COLUMNS), store.partition("analysis", **keys), metadata={**stamp, **reviewed})
    return store.uri(store.partition("analysis", **keys))


def publish(
    output_uri: str,
    as_of: date,
    customers: Iterable[str],
    *,
    window_days: int | None = None,
    label: str | None = None,
    config_path: str | Config | None = None,
    run_id: str | None = None,
    parallel: bool = False,
) -> dict[str, list[str]]:
    """Score the analysed customers against each other and publish; see :mod:`taxonomy.publish`
    (``parallel``: score them in worker processes, as :func:`run` does).

    Then back-test every published customer whose prediction of ``scoring.backtest_after_days``
    (28) to twice that many days earlier is published and who has outcome data
    (:func:`taxonomy.proving.run_backtests`); its URIs are listed under ``backtest``.
    """
    from taxonomy.proving import run_backtests
    from taxonomy.publish import publish_scores

    cfg = resolve_config(config_path, window_days=window_days)
    store = Store(output_uri, label=label)
    written = publish_scores(store, as_of, list(customers), cfg, run_id=run_id, parallel=parallel)
    backtests = run_backtests(store, as_of, sorted(set(customers)), after_days=cfg.scoring.backtest_after_days, strict=False)
    return {**written, "backtest": list(backtests.values())} if backtests else written


# -- the whole job ---------------------------------------------------------------------------------
def run(
    input_uri: str,
    output_uri: str,
    *,
    as_of: date | None = None,
    customers: list[str] | None = None,
    fmt: str = "auto",
    label: str | None = None,
    config: Config | None = None,
    customer_options: dict[str, dict[str, str]] | None = None,
    progress: bool = True,
) -> RunResult:
    """Ingest, enrich, analyse and publish every customer for the window ending at ``as_of``.

    Without ``as_of`` the window ends the day after the latest conversation ingested.
    A customer whose analysis fails is reported in ``failed`` and the others still publish.
    """
    from taxonomy.ingest import ingest

    cfg = config or load_config()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    start = as_of - timedelta(days=cfg.window_days) if as_of else None
    end = as_of - timedelta(days=1) if as_of else None
    report = ingest(
        input_uri, output_uri, start=start, end=end, customers=customers, fmt=fmt, label=label, config=cfg,
        customer_options=customer_options,
    )
    seconds["ingest"] = time.perf_counter() - t0
    store = Store(output_uri, label=label)
    raw_parts = _raw_partitions(store, customers)
    if not raw_parts:
        raise TaxonomyError("no conversations were ingested: nothing to analyse", file=input_uri)
    if as_of is None:
        as_of = _latest_created(store, raw_parts) + timedelta(days=1)
    first, last = window_bounds(as_of, cfg.window_days)
    todo = [(c, d) for c, d in raw_parts if first <= d <= last]

    t0 = time.perf_counter()
    by_customer: dict[str, list[date]] = {}
    for cid, day in todo:
        by_customer.setdefault(cid, []).append(day)
    # Every customer's texts through the model first, one customer at a time with every core; then
    # languages and tiers (pure Python per row, every vector now cached) in worker processes.
    stale = {cid: embed_customer_days(output_uri, cid, by_customer[cid], label=label, config_path=cfg)
             for cid in _progress(sorted(by_customer), "embed", progress)}
    tier = sorted(cid for cid, days in stale.items() if days)
    n = len(tier)
    done = ordered_map(pool(resolve_workers(cfg.workers), n), _enrich, [output_uri] * n, tier,
                       [stale[cid] for cid in tier], [label] * n, [cfg] * n)
    for _ in _progress(done, "tier", progress, total=n):
        pass
    seconds["enrich"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    analysed, failed = [], {}
    todo_customers = sorted({c for c, _ in todo})
    n = len(todo_customers)
    outcomes = ordered_map(pool(resolve_workers(cfg.workers), n), _analyse_or_error, [output_uri] * n,
                           todo_customers, [as_of] * n, [label] * n, [cfg] * n)
    for cid, error in _progress(zip(todo_customers, outcomes), "topics", progress, total=n):
        if error is None:
            analysed.append(cid)
        else:
            failed[cid] = error
    seconds["analyse"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    published = publish(output_uri, as_of, analysed, label=label, config_path=cfg, parallel=True)
    seconds["publish"] = time.perf_counter() - t0
    return RunResult(output_uri, as_of, cfg.window_days, analysed, published, failed, seconds, report, label)


def _raw_partitions(store: Store, customers: list[str] | None) -> list[tuple[str, date]]:
    parts = []
    for cid in store.list_partitions("conversations_raw", "customer_id"):
        if customers and cid not in customers:
            continue
        folder = store.dataset("conversations_raw") + f"/customer_id={validate_customer_id(cid)}"
        parts += [(cid, date.fromisoformat(d)) for d in store.list_partitions("conversations_raw", "date", within=folder)]
    return sorted(parts)


def _latest_created(store: Store, parts: list[tuple[str, date]]) -> date:
    latest = None
    for cid, day in parts:
        value = store.column_max(store.partition("conversations_raw", customer_id=cid, date=day), "created_at")
        if value is not None:
            latest = value if latest is None or value > latest else latest
    if latest is None:
        raise TaxonomyError("every ingested partition is empty: nothing to analyse")
    return latest.date()


def _progress(items: Iterable, desc: str, enabled: bool, total: int | None = None) -> Iterable:
    import sys

    total = len(items) if total is None else total  # type: ignore[arg-type]
    if not enabled or not sys.stderr.isatty() or total < 2:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="customer", total=total, leave=False)


def _enrich(output_uri: str, customer_id: str, days: list[date], label: str | None, cfg: Config) -> None:
    """:func:`enrich_customer_days` with positional arguments (for a worker pool)."""
    enrich_customer_days(output_uri, customer_id, days, label=label, config_path=cfg)


def _analyse_or_error(output_uri: str, customer_id: str, as_of: date, label: str | None, cfg: Config) -> str | None:
    """:func:`analyse_customer` for a worker process: None when done, else the error's message."""
    try:
        analyse_customer(output_uri, customer_id, as_of, label=label, config_path=cfg)
    except TaxonomyError as exc:
        return str(exc)
    return None
