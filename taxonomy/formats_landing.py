"""The landing layout and the ingest run loop behind :func:`taxonomy.ingest.ingest`.

Kept apart from :mod:`taxonomy.ingest` (the public contract and report) so each
module stays small. See :mod:`taxonomy.ingest` for the layout and the rules.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from taxonomy.config import Config
from taxonomy.errors import TaxonomyError
from taxonomy.formats import supported
from taxonomy.formats_dedupe import conflict_rows, dedupe
from taxonomy.ingest import (
    FileReport,
    FileResult,
    IngestReport,
    _check_bad_share,
    _top_reasons,
    batch_id,
    group_by_partition,
    read_export,
)
from taxonomy.schema import QUARANTINE, conform
from taxonomy.storage import Store, validate_customer_id

# Days are validated together (one GX run per dataset) until this many rows are staged: GX has a
# fixed cost of a few hundred milliseconds per run, which would dominate a per-day validation.
CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class LandingFile:
    """One export file in a landing root: its path, its folder's customer (None: shared) and date."""

    path: str
    customer: str | None
    day: date


def discover(src: Store, warnings: list[str]) -> list[LandingFile]:
    """Every export file under ``src`` in the landing layout; anything else is a warning, never read."""
    found = []
    for path in src.walk_files(src.root):
        rel = path[len(src.root):].strip("/")
        parts = rel.split("/")
        if not supported(path):
            if not parts[-1].startswith("_") and not parts[-1].upper().startswith("README"):
                warnings.append(f"skipped {rel}: not a .csv/.jsonl/.json/.parquet export (optionally .gz)")
            continue
        if len(parts) not in (2, 3):
            warnings.append(f"skipped {rel}: not in the <customer_id>/<YYYY-MM-DD>/<file> layout")
            continue
        customer = parts[0] if len(parts) == 3 else None
        try:
            day = date.fromisoformat(parts[-2])
            if customer is not None:
                validate_customer_id(customer)
        except (ValueError, TaxonomyError):
            warnings.append(f"skipped {rel}: folder names must be a valid customer id and a YYYY-MM-DD date")
            continue
        found.append(LandingFile(path, customer, day))
    return found


def _progress(total: int):  # noqa: ANN202 - a tqdm bar or a stand-in
    """A progress bar over files when a person is watching (stderr is a terminal) and there is real work."""
    from tqdm import tqdm

    return tqdm(total=total, desc="ingest", unit="file", disable=not (sys.stderr.isatty() and total > 3))


def run_ingest(
    input_uri: str,
    output_uri: str,
    *,
    start: date | None,
    end: date | None,
    customers: list[str] | None,
    fmt: str,
    column_map: dict[str, str] | None,
    label: str | None,
    config: Config,
    options: dict[str, str],
    customer_options: dict[str, dict[str, str]] | None = None,
) -> IngestReport:
    """Read ``input_uri`` (a file or a landing root) and write the outputs; see :func:`taxonomy.ingest.ingest`."""
    src = Store(input_uri)
    out = Store(output_uri, label=label)
    report = IngestReport(src.uri(src.root), out.uri(out.base))
    when = datetime.now(UTC).replace(microsecond=0)
    if not src.exists(src.root):
        raise TaxonomyError("input not found", file=input_uri)
    read = dict(fmt=fmt, column_map=column_map, config=config, options=options, ingested_at=when)
    if src.fs.isfile(src.root):
        _single_file(src, out, report, start, end, customers, read, when, customer_options or {})
        return report
    files = [
        f for f in discover(src, report.warnings)
        if (start is None or f.day >= start) and (end is None or f.day <= end)
        and (f.customer is None or not customers or f.customer in customers)
    ]
    by_day: dict[date, list[LandingFile]] = defaultdict(list)
    for f in files:
        by_day[f.day].append(f)
    staged: list[_Staged] = []
    with _progress(len(files)) as bar:
        try:
            for day in sorted(by_day):
                results = []
                for lf in by_day[day]:
                    opts = (customer_options or {}).get(lf.customer or "", options)
                    res = read_export(src, lf.path, customer_id=lf.customer, **{**read, "options": opts})
                    if lf.customer is None and customers:
                        res = _select(res, pl.col("customer_id").is_in(customers))
                    results.append(res)
                    bar.update()
                scope = {lf.customer for lf in by_day[day] if lf.customer} | set(customers or [])
                staged.append(_stage(results, {r.file: day for r in results}, day, scope, config, when))
                if sum(st.rows for st in staged) >= CHUNK_ROWS:
                    chunk, staged = staged, []
                    _flush(out, report, chunk, config)
        finally:
            # Days staged before a failure are complete and valid: write them, then let the error through.
            _flush(out, report, staged, config)
    return report


def _single_file(src: Store, out: Store, report: IngestReport, start: date | None, end: date | None,
                 customers: list[str] | None, read: dict[str, Any], when: datetime,
                 customer_options: dict[str, dict[str, str]]) -> None:
    # Never guessed from the file's folders: a single file's customer is its customer_id column,
    # or the one --customer given, which then only fills rows without one.
    default = customers[0] if customers and len(customers) == 1 else None
    if default in customer_options:
        read = {**read, "options": customer_options[default]}
    res = read_export(src, src.root, customer_id=default, strict_customer=False, **read)
    day = pl.col("created_at").dt.date()
    keep = pl.lit(True)
    if start:
        keep = keep & (day >= start)
    if end:
        keep = keep & (day <= end)
    if customers:
        keep = keep & pl.col("customer_id").is_in(customers)
    _flush(out, report, [_stage([_select(res, keep)], None, when.date(), set(), read["config"], when)], read["config"])


def _select(res: FileResult, keep: pl.Expr) -> FileResult:
    """Keep only the accepted rows matching ``keep``; the others count as skipped."""
    kept = res.accepted.filter(keep)
    return FileResult(kept, res.quarantined, res.rows_in, res.file, res.format, res.superseded,
                      res.skipped + res.accepted.height - kept.height)


@dataclass
class _Staged:
    """One landing day (or one single file), checked and ready to write."""

    final: dict[tuple[str, date], pl.DataFrame]
    batches: dict[str, pl.DataFrame]
    reports: list[FileReport]
    qdate: date
    scope: set[str]
    landing: bool

    @property
    def rows(self) -> int:
        return sum(df.height for df in self.final.values()) + sum(q.height for q in self.batches.values())


def _stage(results: list[FileResult], dates: dict[str, date] | None, qdate: date, scope: set[str],
           cfg: Config, when: datetime) -> _Staged:
    """Resolve duplicates across the files of one day and apply the bad-row limit per file."""
    reports = {r.file: FileReport(r.file, r.format, r.rows_in, 0, 0, r.superseded, r.skipped) for r in results}
    extra: dict[str, list[dict[str, Any]]] = defaultdict(list)
    final: dict[tuple[str, date], pl.DataFrame] = {}
    for key, part in group_by_partition([r.accepted for r in results], dates).items():
        kept, superseded, conflicting = dedupe(part)
        for name, n in Counter(superseded.get_column("source_file").to_list()).items():
            reports[name].superseded += n
        for row in conflict_rows(conflicting, when):
            extra[row["source_file"]].append(row)
        for name, n in Counter(kept.get_column("source_file").to_list()).items():
            reports[name].accepted += n
        final[key] = kept
    batches = {}
    for r in results:
        q = r.quarantined
        if extra[r.file]:
            q = pl.concat([q, conform(pl.DataFrame(extra[r.file], schema=QUARANTINE, orient="row"), QUARANTINE)])
        _check_bad_share(r.file, r.rows_in - r.skipped, q, cfg)
        reports[r.file].quarantined = q.height
        reports[r.file].reasons = Counter({f"{f}: {why}": n for f, why, n in _top_reasons(q, 5)}) if q.height else Counter()
        batches[r.file] = q
    return _Staged(final, batches, [reports[r.file] for r in results], qdate, scope, dates is not None)


def _flush(out: Store, report: IngestReport, staged: list[_Staged], cfg: Config) -> None:
    """Validate every staged batch (one GX run per dataset, not per partition), then write them all."""
    from taxonomy.validate import require_valid

    if not staged:
        return
    params = {"max_handle_time_seconds": cfg.ingest.max_handle_time_seconds, "max_text_chars": cfg.ingest.max_text_chars}
    where = ", ".join(r.file for st in staged for r in st.reports)[:300]
    raw = [df for st in staged for df in st.final.values()]
    quarantined = [q for st in staged for q in st.batches.values() if q.height]
    if raw:
        require_valid(pl.concat(raw), "conversations_raw", file=where, parameters=params)
    if quarantined:
        require_valid(pl.concat(quarantined), "quarantine", file=where)
    for st in staged:
        for key in sorted(st.final):
            uri = out.write_partition(st.final[key], out.partition("conversations_raw", customer_id=key[0], date=key[1]))
            report.partitions.append((key[0], key[1], st.final[key].height, uri))
        for cid in sorted(st.scope):
            if st.landing and (cid, st.qdate) not in st.final:
                out.delete_partition(out.partition("conversations_raw", customer_id=cid, date=st.qdate))
        for name, q in st.batches.items():
            folder = out.partition("quarantine", date=st.qdate, batch=batch_id(name))
            if q.height:
                report.quarantine.append((out.write_partition(q, folder), q.height))
            else:
                out.delete_partition(folder)
        report.files.extend(st.reports)
