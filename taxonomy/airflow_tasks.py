"""The thin layer between Airflow task context and :mod:`taxonomy.pipeline`.

Each function here is what one task of ``dags/support_taxonomy.py`` (or the report
DAG) runs: it reads the run's data interval, params and storage roots from the
Airflow context, calls one pipeline function, and returns storage paths only
(never data) for XCom. Keeping this out of the DAG files keeps those files thin
and lets the translation from Airflow concepts to pipeline arguments be unit
tested without a scheduler.

Nothing heavy is imported at module level: the pipeline (polars, torch,
scikit-learn) is imported inside each function, so importing this module from a
DAG file at parse time would stay cheap.

Dates. ``as_of`` (end of the analysis window, exclusive) is the data interval's
end date. With the daily DAG's cron schedule (Airflow 3's ``CronTriggerTimetable``)
the interval has no length and equals the logical date, so the run ingests the
landing folder of the day before; a longer interval ingests each of its days. A
manual run without a logical date has no data interval in Airflow 3: it analyses
up to the day it was triggered (``dag_run.run_after``).

Storage roots, first match wins: the Airflow Variable (``taxonomy_landing_uri`` /
``taxonomy_output_uri``, which ``AIRFLOW_VAR_TAXONOMY_LANDING_URI`` can also set),
then the environment variable (``TAXONOMY_LANDING_URI`` / ``TAXONOMY_OUTPUT_URI``),
then the defaults below (the docker-compose volumes).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

log = logging.getLogger(__name__)

LANDING_VARIABLE = "taxonomy_landing_uri"
OUTPUT_VARIABLE = "taxonomy_output_uri"
SOURCES_VARIABLE = "taxonomy_sources_file"
LANDING_ENV = "TAXONOMY_LANDING_URI"
OUTPUT_ENV = "TAXONOMY_OUTPUT_URI"
SOURCES_ENV = "TAXONOMY_SOURCES_FILE"
DEFAULT_LANDING_URI = "/opt/airflow/data/landing"
DEFAULT_OUTPUT_URI = "/opt/airflow/data/output"

VariableGetter = Callable[[str], "str | None"]


@dataclass(frozen=True)
class RunSettings:
    """What one DAG run works on, resolved from its context.

    Attributes:
        landing_uri: Landing root, ``<root>/<customer_id>/<YYYY-MM-DD>/<files>``.
        output_uri: Output root (the label namespace is applied by the pipeline).
        days: Landing days of the data interval, oldest first.
        as_of: End of the analysis window, exclusive (the data interval end date).
        customers: Customer subset from the run's params, or None for all.
        window_days: Window length override, or None for the config's.
        config_path: YAML settings file, or None for the defaults.
        label: Output namespace (``label=<name>/``), or None for production.
        sources_file: Which customers are pulled from an API (and their reader options), or None.
    """

    landing_uri: str
    output_uri: str
    days: tuple[date, ...]
    as_of: date
    customers: tuple[str, ...] | None
    window_days: int | None
    config_path: str | None
    label: str | None
    sources_file: str | None = None

    @property
    def options(self) -> dict[str, Any]:
        """Keyword arguments every pipeline step takes."""
        return {"label": self.label, "config_path": self.config_path}


def _airflow_variable(key: str) -> str | None:
    from airflow.sdk import Variable

    value = Variable.get(key, default=None)
    return str(value) if value not in (None, "") else None


def storage_root(variable: str, env: str, default: str, get_variable: VariableGetter | None = None) -> str:
    """Resolve a storage root: Airflow Variable, then environment variable, then default."""
    value = (get_variable or _airflow_variable)(variable)
    return value or os.environ.get(env) or default


def _utc_date(value: datetime) -> date:
    if value.tzinfo is None:
        return value.date()
    return value.astimezone(timezone.utc).date()


def interval_days(context: Mapping[str, Any]) -> tuple[tuple[date, ...], date]:
    """The landing days and the ``as_of`` date of the run in ``context``.

    Returns:
        ``(days, as_of)``: every date in ``[interval start, interval end)`` (at least the
        day before ``as_of``) and the interval end date.
    """
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if end is None:
        # Airflow 3 manual run without a logical date: no data interval at all.
        end, start = context["dag_run"].run_after, None
    as_of = _utc_date(end)
    first = _utc_date(start) if start is not None else as_of - timedelta(days=1)
    if first >= as_of:
        first = as_of - timedelta(days=1)
    return tuple(first + timedelta(days=k) for k in range((as_of - first).days)), as_of


def settings_from_context(context: Mapping[str, Any], get_variable: VariableGetter | None = None) -> RunSettings:
    """Build the :class:`RunSettings` of the run in ``context`` (its params and interval)."""
    params = context.get("params") or {}
    days, as_of = interval_days(context)
    customers = params.get("customers") or None
    window = params.get("window_days")
    return RunSettings(
        landing_uri=storage_root(LANDING_VARIABLE, LANDING_ENV, DEFAULT_LANDING_URI, get_variable),
        output_uri=storage_root(OUTPUT_VARIABLE, OUTPUT_ENV, DEFAULT_OUTPUT_URI, get_variable),
        days=days,
        as_of=as_of,
        customers=tuple(customers) if customers else None,
        window_days=int(window) if window is not None else None,
        config_path=params.get("config_path") or None,
        label=params.get("label") or None,
        sources_file=storage_root(SOURCES_VARIABLE, SOURCES_ENV, "", get_variable) or None,
    )


def discover_task(context: Mapping[str, Any]) -> list[str]:
    """Customers with exports landed on any day of the interval, limited to the params' subset.

    Returns:
        Sorted customer ids (the mapping input of the per-customer task group).
    """
    from taxonomy.pipeline import discover_customers

    from taxonomy.storage import open_store

    s = settings_from_context(context)
    found: set[str] = set()
    if s.sources_file:
        from taxonomy.pull import load_sources

        found |= set(load_sources(s.sources_file))  # pulled by the extract step, nothing landed yet
    # With API customers only, the landing root appears with the first pull.
    if not (s.sources_file and not open_store(s.landing_uri).exists(open_store(s.landing_uri).root)):
        found |= {cid for day in s.days for cid in discover_customers(s.landing_uri, day)}
    found = sorted(found)
    if s.customers is not None:
        missing = sorted(set(s.customers) - set(found))
        if missing:
            log.warning("no exports landed on %s for requested customers %s", _days(s.days), missing)
        found = [cid for cid in found if cid in s.customers]
    log.info("customers with exports on %s under %s: %s", _days(s.days), s.landing_uri, found)
    return found


def extract_task(context: Mapping[str, Any], customer_id: str) -> dict[str, str]:
    """Pull the interval's conversations from the customer's support platform, if it has an API source.

    Returns:
        ``{day (ISO): landed file URI}``; empty when the customer only drops export files.
    """
    from taxonomy.pull import extract_for_interval

    s = _customer_settings(context, customer_id)
    landed = {}
    for day in s.days:
        uri = extract_for_interval(customer_id, day, s.landing_uri, s.sources_file)
        if uri:
            landed[day.isoformat()] = uri
    return landed


def ingest_task(context: Mapping[str, Any], customer_id: str) -> dict[str, str]:
    """Ingest one customer's exports for the run's landing day(s), catching up the window.

    Besides the interval's own day, every landed day in the analysis window that has no
    ``conversations_raw`` partition yet (in this run's namespace) is ingested too: a first
    run, a labelled experiment or a day missed by an outage then analyses a complete window.
    Days already ingested are left alone, so later runs only touch their own day.

    Returns:
        ``{day (ISO): conversations_raw partition URI}``.
    """
    from taxonomy.pipeline import ingest_customer

    s = _customer_settings(context, customer_id)
    return {
        day.isoformat(): ingest_customer(
            s.landing_uri, s.output_uri, customer_id, day, sources_file=s.sources_file, **s.options
        )
        for day in days_to_ingest(s, customer_id)
    }


def _window(s: RunSettings) -> tuple[date, date]:
    """First and last day (inclusive) of the run's analysis window."""
    from taxonomy.config import load_config
    from taxonomy.window import window_bounds

    return window_bounds(s.as_of, s.window_days or load_config(s.config_path).window_days)


def days_to_ingest(s: RunSettings, customer_id: str) -> list[date]:
    """The interval's landed days plus the window's landed days not ingested yet, oldest first."""
    from taxonomy.storage import Store, validate_customer_id

    first, last = _window(s)
    landing = Store(s.landing_uri)
    folder = f"{landing.root}/{validate_customer_id(customer_id)}"
    landed = set()
    for entry in landing.fs.ls(folder, detail=False) if landing.exists(folder) else []:
        day = _iso_day(entry.rstrip("/").rsplit("/", 1)[-1])
        if day and first <= day <= last and any(True for _ in landing.walk_files(entry)):
            landed.add(day)
    return sorted((landed - set(ingested_days(s, customer_id))) | (landed & set(s.days)))


def ingested_days(s: RunSettings, customer_id: str) -> list[date]:
    """The window's days that have a ``conversations_raw`` partition in the run's namespace, oldest first."""
    from taxonomy.storage import PART_FILE, Store, validate_customer_id

    (first, last), out = _window(s), Store(s.output_uri, label=s.label)
    folder = f"{out.dataset('conversations_raw')}/customer_id={validate_customer_id(customer_id)}"
    days = [d for d in map(_iso_day, out.list_partitions("conversations_raw", "date", within=folder))
            if d and first <= d <= last]
    return [d for d in days if out.exists(f"{out.partition('conversations_raw', customer_id=customer_id, date=d)}/{PART_FILE}")]


def _iso_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def enrich_task(context: Mapping[str, Any], customer_id: str, ingested: Mapping[str, str]) -> dict[str, str]:
    """Embed and tier the days ``ingest_task`` wrote for one customer, and every other ingested day of
    the window whose ``enriched`` partition is missing or stale (an up-to-date day costs a fingerprint):
    a retry of an ``ingest`` killed after writing some days returns only the rest, which must not
    leave those days out of the analysis. The window is then enriched as ``taxonomy run`` would.

    Returns:
        ``{day (ISO): enriched partition URI}`` for every ingested day of the window.
    """
    from taxonomy.enrich import enrich_customer_days

    s = _customer_settings(context, customer_id)
    days = {date.fromisoformat(d) for d in ingested} | set(ingested_days(s, customer_id))
    done = enrich_customer_days(s.output_uri, customer_id, sorted(days), **s.options)
    return {day.isoformat(): uri for day, uri in sorted(done.items())}


def analyse_task(context: Mapping[str, Any], customer_id: str) -> dict[str, str]:
    """Find topics over the trailing window ending at ``as_of`` for one customer.

    Returns:
        ``{"customer_id": ..., "analysis_uri": staged analysis URI}``.
    """
    from taxonomy.pipeline import analyse_customer

    s = _customer_settings(context, customer_id)
    uri = analyse_customer(s.output_uri, customer_id, s.as_of, window_days=s.window_days, **s.options)
    return {"customer_id": customer_id, "analysis_uri": uri}


def publish_task(
    context: Mapping[str, Any], analyses: Iterable[Mapping[str, str] | None], outlets: Sequence[Any] = ()
) -> dict[str, list[str]]:
    """Score and publish every customer whose analysis succeeded; tag the outlet Asset events.

    Args:
        context: The task's Airflow context.
        analyses: The mapped ``analyse`` results; failed customers have none.
        outlets: Assets whose events get ``{output_uri, as_of, label, customers}`` as extra,
            so downstream DAGs know which partition to read.

    Returns:
        Published file URIs per dataset.
    """
    from taxonomy.pipeline import publish

    s = settings_from_context(context)
    customers = sorted(a["customer_id"] for a in _results(analyses))
    uris = publish(s.output_uri, s.as_of, customers, window_days=s.window_days, **s.options)
    extra = {"output_uri": s.output_uri, "as_of": s.as_of.isoformat(), "label": s.label, "customers": customers}
    for asset in outlets:
        context["outlet_events"][asset].extra = extra
    return uris


def check_task(
    discovered: Sequence[str] | None,
    analyses: Iterable[Mapping[str, str] | None] | None,
    published: Mapping[str, Any] | None,
) -> list[str]:
    """Fail the run, after the others were published, if any step or customer did not make it.

    Args:
        discovered: ``discover``'s result; None when discover itself failed.
        analyses: The mapped ``analyse`` results (failed customers have none).
        published: ``publish``'s result; None when it failed or was skipped.

    Returns:
        The published customers.

    Raises:
        AirflowFailException: naming what failed (no retry: the failed tasks already retried).
    """
    from airflow.sdk.exceptions import AirflowFailException

    if discovered is None:
        raise AirflowFailException("discover failed: no customer was processed")
    done = sorted(a["customer_id"] for a in _results(analyses))
    failed = sorted(set(discovered) - set(done))
    if failed:
        raise AirflowFailException(
            f"{len(failed)} of {len(discovered)} customers failed and were not published: "
            f"{', '.join(failed)}; see their tasks (map index = customer id)"
        )
    if discovered and published is None:
        raise AirflowFailException("publish failed: nothing was published for this as_of")
    return done


def report_task(context: Mapping[str, Any], asset: Any) -> list[str]:
    """Render the CSM reports for every scores partition the triggering Asset events name.

    A run with no triggering events (triggered by hand) renders the latest published
    ``as_of`` of the production namespace under the configured output root.

    Returns:
        The written report paths.
    """
    from taxonomy.report import render_reports

    requests = []
    for event in (context.get("triggering_asset_events") or {}).get(asset, []):
        extra = event.extra or {}
        as_of = date.fromisoformat(extra["as_of"]) if extra.get("as_of") else None
        requests.append((extra.get("output_uri"), as_of, extra.get("label")))
    if not requests:
        requests = [(None, None, None)]
    paths: list[str] = []
    for output_uri, as_of, label in dict.fromkeys(requests):
        root = output_uri or storage_root(OUTPUT_VARIABLE, OUTPUT_ENV, DEFAULT_OUTPUT_URI)
        paths.extend(str(p) for p in render_reports(root, as_of=as_of, label=label))
    return paths


def _results(analyses: Iterable[Mapping[str, str] | None] | Mapping[str, str] | None) -> list[Mapping[str, str]]:
    """The successful ``analyse`` results. Airflow hands a mapped task group's output over as one
    value, not a one-item list, when the group expanded to a single customer."""
    if analyses is None:
        return []
    if isinstance(analyses, Mapping):
        return [analyses]
    return [a for a in analyses if a]


def _customer_settings(context: Mapping[str, Any], customer_id: str) -> RunSettings:
    # Names the mapped task instance after its customer (the DAG's map_index_template).
    if isinstance(context, dict):
        context["customer_id"] = customer_id
    return settings_from_context(context)


def _days(days: Sequence[date]) -> str:
    return ", ".join(d.isoformat() for d in days)


WORKER_HOSTNAME_ENV = "TAXONOMY_WORKER_HOSTNAME"


def worker_hostname() -> str:
    """Airflow's ``[core] hostname_callable`` for several Celery workers on one machine.

    Airflow records this name on every task instance it runs (the UI's and the API's
    ``hostname``). Workers in containers each have their own host name; workers started side
    by side on one VM (``scripts/airflow_stack.py``) do not, so each gets
    ``TAXONOMY_WORKER_HOSTNAME`` and a task instance shows which of them ran it. Without the
    variable this is Airflow's own default (the fully qualified domain name).
    """
    name = os.environ.get(WORKER_HOSTNAME_ENV, "").strip()
    if name:
        return name
    from airflow.utils.net import getfqdn  # Airflow's default hostname_callable

    return getfqdn()
