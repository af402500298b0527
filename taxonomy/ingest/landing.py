"""The landing layout and the ingest run loop behind :func:`taxonomy.ingest.files.ingest`.

Kept apart from :mod:`taxonomy.ingest.files` (the public contract and report) so each
module stays small. See :mod:`taxonomy.ingest.files` for the layout and the rules.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from taxonomy import __version__ as PIPELINE_VERSION
from taxonomy.config import Config
from taxonomy.errors import TaxonomyError
from taxonomy.ingest.dedupe import conflict_rows, dedupe
from taxonomy.ingest.files import (
    FileReport,
    FileResult,
    IngestReport,
    _check_bad_share,
    _top_reasons,
    batch_id,
    group_by_partition,
    read_export,
)
from taxonomy.ingest.formats import supported
from taxonomy.parallel import ordered_map, pool, resolve_workers
from taxonomy.schema import QUARANTINE, conform
from taxonomy.storage import PART_FILE, Store, validate_customer_id

# Days are validated together (one GX run per dataset) until this many rows are staged: GX has a
# fixed cost of a few hundred milliseconds per run, which would dominate a per-day validation.
CHUNK_ROWS = 200_000
# Partition metadata key: what a conversations_raw partition was ingested from (see _changed).
STAMP = "taxonomy.landing_fingerprint"


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
    """Read ``input_uri`` (a file or a landing root) and write the outputs; see :func:`taxonomy.ingest.files.ingest`."""
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
    executor = pool(resolve_workers(config.workers), len(files))
    with _progress(len(files)) as bar:
        try:
            for day, fingerprints, todo, read_results in _read_days(src, out, report, by_day, read, executor,
                                                                    customer_options or {}, customers):
                bar.update(len(by_day[day]) - len(todo))
                results, owners = [], {}
                for lf, res in zip(todo, read_results):
                    results.append(res)
                    owners[res.file] = lf.customer
                    bar.update()
                reused = {lf.customer for lf in by_day[day]} - set(fingerprints) - {None}
                scope = ({lf.customer for lf in by_day[day] if lf.customer} | set(customers or [])) - reused
                staged.append(_stage(results, {r.file: day for r in results}, day, scope, config, when))
                staged[-1].fingerprints, staged[-1].owners = fingerprints, owners
                if sum(st.rows for st in staged) >= CHUNK_ROWS:
                    chunk, staged = staged, []
                    _flush(out, report, chunk, config)
        finally:
            # Days staged before a failure are complete and valid: write them, then let the error through.
            _flush(out, report, staged, config)
    return report


def _read_days(src: Store, out: Store, report: IngestReport, by_day: dict[date, list[LandingFile]],
               read: dict[str, Any], executor: Any, customer_options: dict[str, dict[str, str]],
               customers: list[str] | None) -> Iterator[tuple[date, dict[str, str], list[LandingFile], Iterator[FileResult]]]:
    """Per landing day, in date order: ``(day, fingerprints of changed customers, files to read, their results)``.

    With a pool, the next day's files are already being read while the caller stages this one.
    """
    def submit(day: date) -> tuple[date, dict[str, str], list[LandingFile], Iterator[FileResult]]:
        fingerprints = _changed(src, out, report, by_day[day], day, read, customer_options)
        todo = [lf for lf in by_day[day] if lf.customer is None or lf.customer in fingerprints]
        opts = [customer_options.get(lf.customer or "", read["options"]) for lf in todo]
        n = len(todo)
        return day, fingerprints, todo, ordered_map(executor, _read_file, [src] * n, todo, [read] * n, opts, [customers] * n)

    days = sorted(by_day)
    ahead = None
    for i, day in enumerate(days):
        current = ahead or submit(day)
        ahead = submit(days[i + 1]) if executor is not None and i + 1 < len(days) else None
        yield current


def _read_file(src: Store, lf: LandingFile, read: dict[str, Any], options: dict[str, str],
               customers: list[str] | None) -> FileResult:
    """One landing file read and checked (runs in a worker process when there is a pool)."""
    res = read_export(src, lf.path, customer_id=lf.customer, **{**read, "options": options})
    if lf.customer is None and customers:
        res = _select(res, pl.col("customer_id").is_in(customers))
    return res


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


def _changed(src: Store, out: Store, report: IngestReport, files: list[LandingFile], day: date,
             read: dict[str, Any], customer_options: dict[str, dict[str, str]]) -> dict[str, str]:
    """The customers of one landing day that must be (re-)ingested, with their input fingerprints.

    A customer's day is skipped when its ``conversations_raw`` partition was written from the
    same files (by content), options and settings, and the quarantine batches it reported are
    all present: its report rows are then taken from the partition's metadata, so re-running an
    ingested day costs a hash of its files. A day with a shared drop (files with no customer
    folder) is always read whole, since those rows may belong to any customer.
    """
    if any(lf.customer is None for lf in files):
        return {lf.customer: "" for lf in files if lf.customer}
    by_customer: dict[str, list[LandingFile]] = defaultdict(list)
    for lf in files:
        by_customer[lf.customer].append(lf)
    settings = {"fmt": read["fmt"], "column_map": read["column_map"], "options": read["options"],
                "ingest": read["config"].ingest}  # only what changes how files are read
    changed = {}
    for cid, lfs in by_customer.items():
        h = hashlib.sha256(json.dumps([PIPELINE_VERSION, settings, customer_options.get(cid)], sort_keys=True,
                                      default=lambda o: dataclasses.asdict(o) if dataclasses.is_dataclass(o) else str(o)).encode())
        for lf in sorted(lfs, key=lambda f: f.path):
            h.update(f"\0{lf.path[len(src.root):]}\0".encode())
            h.update(hashlib.sha256(src.fs.cat_file(lf.path)).digest())
        fingerprint = h.hexdigest()
        if not _reuse(out, report, cid, day, fingerprint):
            changed[cid] = fingerprint
    return changed


def _reuse(out: Store, report: IngestReport, cid: str, day: date, fingerprint: str) -> bool:
    """Count an unchanged customer-day from its partition's metadata; False if it must be re-ingested."""
    folder = out.partition("conversations_raw", customer_id=cid, date=day)
    meta = out.read_metadata(folder)
    if not meta or meta.get(STAMP) != fingerprint or "taxonomy.file_reports" not in meta:
        return False
    files = [FileReport(**{**r, "reasons": Counter(r["reasons"])}) for r in json.loads(meta["taxonomy.file_reports"])]
    for f in files:
        batch = out.partition("quarantine", date=day, batch=batch_id(f.file))
        if f.quarantined and not out.exists(f"{batch}/{PART_FILE}"):
            return False
    report.files.extend(files)
    report.partitions.append((cid, day, int(meta["taxonomy.rows"]), out.uri(f"{folder}/{PART_FILE}")))
    return True


@dataclass
class _Staged:
    """One landing day (or one single file), checked and ready to write."""

    final: dict[tuple[str, date], pl.DataFrame]
    batches: dict[str, pl.DataFrame]
    reports: list[FileReport]
    qdate: date
    scope: set[str]
    landing: bool
    # Customer -> fingerprint of its landing files (see _changed), stamped on its partition.
    fingerprints: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str | None] = field(default_factory=dict)  # file -> its folder's customer

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
    # The quarantine first: a raw partition marks its day ingested (a retried Airflow ingest skips it),
    # so a run killed between the two writes must not leave a raw partition without its quarantine.
    for st in staged:
        for name, q in st.batches.items():
            folder = out.partition("quarantine", date=st.qdate, batch=batch_id(name))
            if q.height:
                report.quarantine.append((out.write_partition(q, folder), q.height))
            else:
                out.delete_partition(folder)
        for key in sorted(st.final):
            meta = None
            if st.fingerprints.get(key[0]):
                files = [{**vars(r), "reasons": dict(r.reasons)} for r in st.reports if st.owners.get(r.file) == key[0]]
                meta = {STAMP: st.fingerprints[key[0]], "taxonomy.rows": str(st.final[key].height),
                        "taxonomy.file_reports": json.dumps(files, sort_keys=True)}
            uri = out.write_partition(st.final[key], out.partition("conversations_raw", customer_id=key[0], date=key[1]),
                                      metadata=meta)
            report.partitions.append((key[0], key[1], st.final[key].height, uri))
        for cid in sorted(st.scope):
            if st.landing and (cid, st.qdate) not in st.final:
                out.delete_partition(out.partition("conversations_raw", customer_id=cid, date=st.qdate))
        report.files.extend(st.reports)
