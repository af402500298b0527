"""Pull a customer's conversations from Intercom or Zendesk into the landing zone.

For each day ``D`` (the interval ``[D 00:00, D+1 00:00)`` UTC) the API pages of
conversations *updated* that day are landed, as returned, one JSON page per line,
gzipped, at::

    <landing>/<customer_id>/<YYYY-MM-DD>/<platform>-pull.jsonl.gz

which the Intercom and Zendesk readers of :mod:`taxonomy.ingest.files` read like any
export. Guarantees:

- **All or nothing per day.** Pages are collected first; the file is written in one
  atomic step (:meth:`taxonomy.storage.Store.write_bytes_atomic`) only after the
  last page of the day arrived. A failure mid-day leaves the previous file of that
  day (or none), never part of one.
- **Idempotent.** Re-pulling a day replaces its file; the same API answers give the
  same bytes (gzip without a timestamp).
- **Catch-up.** ``<landing>/.state/<customer_id>.json`` records ``pulled_through``,
  the last day pulled completely (hidden, so ingestion never reads it). When it is
  more than a day before ``start``, the pull starts the day after it instead, so
  days missed by failed or skipped runs are landed too, at most
  ``max_catchup_days`` (default 31) days back; a longer gap is logged and left to a
  CLI backfill. Days are pulled oldest first and the mark moves after each one, so
  a failure keeps the days already landed. A day that has not ended yet (or ended
  in the last two minutes: Zendesk leaves out the last minute) is landed but does
  not move the mark, so the next run pulls it again.
- **No secrets.** Credentials come from the Airflow Connection named in the sources
  file (or ``AIRFLOW_CONN_<ID>`` for the CLI) and never reach a file, log line,
  return value or error message.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import posixpath
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from types import ModuleType
from typing import Any

from taxonomy.pull import intercom, zendesk
from taxonomy.pull.http import HttpClient, RetryPolicy
from taxonomy.pull.sources import Credentials, Source, credentials_from_airflow, credentials_from_env, get_source
from taxonomy.errors import TaxonomyError
from taxonomy.storage import Store, validate_customer_id

log = logging.getLogger(__name__)

STATE_DIR = ".state"
SETTLE = timedelta(minutes=2)
CONNECTORS: dict[str, ModuleType] = {"intercom": intercom, "zendesk": zendesk}


@dataclass(frozen=True)
class DayResult:
    """One landed day."""

    day: date
    uri: str
    pages: int
    records: int
    complete: bool


@dataclass
class PullResult:
    """What :func:`pull_customer` landed."""

    customer_id: str
    platform: str
    days: list[DayResult] = field(default_factory=list)
    caught_up_from: date | None = None
    requests: int = 0
    retries: int = 0

    def summary(self) -> str:
        """One line for people."""
        if not self.days:
            return f"{self.customer_id} ({self.platform}): nothing to pull"
        pages = sum(d.pages for d in self.days)
        records = sum(d.records for d in self.days)
        noun = "conversations" if self.platform == "intercom" else "tickets"
        catch = f", caught up from {self.caught_up_from}" if self.caught_up_from else ""
        return (
            f"{self.customer_id} ({self.platform}): landed {len(self.days)} day(s) {self.days[0].day}.."
            f"{self.days[-1].day}{catch}: {pages} pages, {records} {noun}, {self.requests} requests, "
            f"{self.retries} retries"
        )


def pull_customer(
    customer_id: str,
    start: date,
    end: date,
    landing_uri: str,
    *,
    sources_file: str,
    credentials: Credentials | None = None,
    progress: bool = False,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
    max_catchup_days: int = 31,
) -> PullResult:
    """Land one file per day in ``[start, end]`` (plus missed days before ``start``).

    Args:
        customer_id: The customer, as in the sources file.
        start: First day to pull (UTC, inclusive).
        end: Last day to pull (UTC, inclusive).
        landing_uri: Landing root, local path or ``s3://``.
        sources_file: The YAML sources file.
        credentials: Use these instead of ``AIRFLOW_CONN_<CONN_ID>`` from the environment.
        progress: Show a progress bar on stderr.
        policy: Retry and timeout settings (default :class:`RetryPolicy`).
        sleep: Wait function for retries (tests pass a recorder).
        now: The current time (tests); decides which days are complete.
        max_catchup_days: How far before ``start`` a catch-up may reach.

    Returns:
        A :class:`PullResult` with one :class:`DayResult` per landed day.

    Raises:
        TaxonomyError: bad arguments or sources file, missing credentials, or an API
            failure after retries (nothing is landed for the failing day).
    """
    validate_customer_id(customer_id)
    if end < start:
        raise TaxonomyError(f"--end {end} is before --start {start}", field="end")
    source = get_source(sources_file, customer_id)
    if source is None:
        raise TaxonomyError(f"customer {customer_id!r} has no API source", file=sources_file, field="customers")
    now = now or datetime.now(UTC)
    if _day_start(start) >= now:
        raise TaxonomyError(f"--start {start} has not begun yet (UTC)", field="start")
    creds = credentials or credentials_from_env(source.conn_id)
    store = Store(landing_uri)
    first = _catch_up_start(store, customer_id, start, max_catchup_days)
    days = [first + timedelta(n) for n in range((end - first).days + 1) if _day_start(first + timedelta(n)) < now]
    result = PullResult(customer_id, source.platform, caught_up_from=first if first < start else None)
    connector = CONNECTORS[source.platform]
    http = connector.client(source, creds, policy or RetryPolicy(), sleep)
    try:
        _pull_days(store, source, connector, http, connector.base_url(source, creds), days, now, result, progress)
    finally:
        result.requests, result.retries = http.stats.requests, http.stats.retries
        http.close()
    return result


def _pull_days(
    store: Store,
    source: Source,
    connector: ModuleType,
    http: HttpClient,
    base: str,
    days: list[date],
    now: datetime,
    result: PullResult,
    progress: bool,
) -> None:
    from tqdm import tqdm

    with tqdm(total=len(days), desc=f"pull {source.customer_id}", unit="day", disable=not progress) as bar:
        for day in days:
            lo, hi = _day_start(day), _day_start(day + timedelta(1))
            data, pages, records = _collect(connector.pages(http, base, source, lo, hi), source.platform, bar)
            path = landing_path(store, source.customer_id, day, source.platform)
            store.write_bytes_atomic(path, data)
            complete = hi + SETTLE <= now
            if complete:
                _advance_state(store, source, day)
            result.days.append(DayResult(day, store.uri(path), pages, records, complete))
            log.info(
                "landed %s: %d pages, %d records%s",
                store.uri(path),
                pages,
                records,
                "" if complete else " (day not over: will be pulled again)",
            )
            bar.update()


def _collect(pages: Iterator[dict[str, Any]], platform: str, bar: Any) -> tuple[bytes, int, int]:
    """Gzip every page as one compact JSON line; nothing is written until the generator is done."""
    key = "conversations" if platform == "intercom" else "tickets"
    buf = io.BytesIO()
    n_pages = n_records = 0
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=6) as gz:
        for page in pages:
            gz.write(json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
            n_pages += 1
            n_records += len(page.get(key) or [])
            bar.set_postfix(pages=n_pages, records=n_records)
    return buf.getvalue(), n_pages, n_records


def landing_path(store: Store, customer_id: str, day: date, platform: str) -> str:
    """``<landing>/<customer_id>/<YYYY-MM-DD>/<platform>-pull.jsonl.gz``."""
    return posixpath.join(store.root, validate_customer_id(customer_id), day.isoformat(), f"{platform}-pull.jsonl.gz")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, dtime.min, tzinfo=UTC)


# -- high-water mark ---------------------------------------------------------------------------
def state_path(store: Store, customer_id: str) -> str:
    """``<landing>/.state/<customer_id>.json``."""
    return posixpath.join(store.root, STATE_DIR, f"{validate_customer_id(customer_id)}.json")


def pulled_through(store: Store, customer_id: str) -> date | None:
    """The last day landed completely for ``customer_id``, or None."""
    path = state_path(store, customer_id)
    if not store.exists(path):
        return None
    try:
        with store.open(path, "rb") as fh:
            return date.fromisoformat(json.loads(fh.read())["pulled_through"])
    except (ValueError, KeyError, TypeError):
        raise TaxonomyError(
            "unreadable pull state; delete it to pull from --start", file=store.uri(path), field="pulled_through"
        ) from None


def _catch_up_start(store: Store, customer_id: str, start: date, max_days: int) -> date:
    mark = pulled_through(store, customer_id)
    if mark is None or mark >= start - timedelta(1):
        return start
    first = mark + timedelta(1)
    floor = start - timedelta(max_days)
    if first < floor:
        log.warning(
            "%s: last complete pull was %s; catching up only from %s (max_catchup_days=%d); "
            "backfill the rest with `taxonomy pull`",
            customer_id,
            mark,
            floor,
            max_days,
        )
        first = floor
    log.info("%s: catching up missed days %s..%s", customer_id, first, start - timedelta(1))
    return first


def _advance_state(store: Store, source: Source, day: date) -> None:
    mark = pulled_through(store, source.customer_id)
    if mark is not None and mark >= day:
        return
    doc = {"customer_id": source.customer_id, "platform": source.platform, "pulled_through": day.isoformat()}
    store.write_bytes_atomic(state_path(store, source.customer_id), (json.dumps(doc, indent=1) + "\n").encode())


# -- entry points ------------------------------------------------------------------------------
def pull_cli(customer_id: str, start: date, end: date, landing_uri: str, sources_file: str) -> str:
    """``taxonomy pull``: credentials from ``AIRFLOW_CONN_<CONN_ID>``; returns the summary line."""
    return pull_customer(customer_id, start, end, landing_uri, sources_file=sources_file, progress=True).summary()


def extract_for_interval(customer_id: str, day: date, landing_uri: str, sources_file: str | None) -> str | None:
    """The DAG's extract step for one customer and one daily data interval.

    Args:
        customer_id: The customer.
        day: The data interval's start date (UTC).
        landing_uri: Landing root.
        sources_file: The sources file; None or empty when no customer pulls from an API.

    Returns:
        The URI of the day's landed file, or None when the customer has no API source
        (the DAG then ingests exported files as before). Credentials come from the
        Airflow Connection named in the sources file.
    """
    if not sources_file:
        return None
    source = get_source(sources_file, customer_id)
    if source is None:
        return None
    result = pull_customer(
        customer_id,
        day,
        day,
        landing_uri,
        sources_file=sources_file,
        credentials=credentials_from_airflow(source.conn_id),
    )
    log.info("%s", result.summary())
    return result.days[-1].uri if result.days else None
