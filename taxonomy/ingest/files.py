"""Reading one export file: bytes -> cleaned canonical rows plus quarantined rows, with counts.

:func:`read_export` parses a file (:mod:`taxonomy.ingest.formats`, :mod:`taxonomy.ingest.vendor`),
cleans and redacts every row (:mod:`taxonomy.ingest.clean`) and collapses duplicates
(:mod:`taxonomy.ingest.dedupe`); the reports here keep ``rows_in = accepted + quarantined +
superseded + skipped`` per file. The run over a landing root is :func:`taxonomy.ingest.run.ingest`.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import polars as pl

from taxonomy.config import Config, load_config
from taxonomy.errors import TaxonomyError
from taxonomy.ingest.clean import clean_record, quarantine_row, skip_reason
from taxonomy.ingest.dedupe import conflict_rows, dedupe
from taxonomy.ingest.formats import Parsed, read_bytes
from taxonomy.ingest.vendor import check_options
from taxonomy.schema import CONVERSATION, QUARANTINE, conform, empty
from taxonomy.storage import Store, validate_customer_id

log = logging.getLogger(__name__)
REQUIRED = ("conversation_id", "created_at", "text")


@dataclass
class FileResult:
    """One export file, read and checked.

    ``rows_in == accepted.height + quarantined.height + superseded + skipped``.
    """

    accepted: pl.DataFrame
    quarantined: pl.DataFrame
    rows_in: int
    file: str
    format: str
    superseded: int = 0
    skipped: int = 0

    @property
    def ok(self) -> bool:
        return self.rows_in == self.accepted.height + self.quarantined.height + self.superseded + self.skipped


@dataclass
class FileReport:
    """Counts for one file in an ingest run, after duplicates across the day's files are resolved."""

    file: str
    format: str
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    superseded: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.rows_in == self.accepted + self.quarantined + self.superseded + self.skipped


@dataclass
class IngestReport:
    """What an ingest run read and wrote."""

    input: str
    output: str
    files: list[FileReport] = field(default_factory=list)
    partitions: list[tuple[str, date, int, str]] = field(default_factory=list)  # customer, date, rows, uri
    quarantine: list[tuple[str, int]] = field(default_factory=list)  # uri, rows
    warnings: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("rows_in", "accepted", "quarantined", "superseded", "skipped")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    @property
    def ok(self) -> bool:
        """The invariant holds for every file and for the rows written."""
        written = sum(p[2] for p in self.partitions)
        return all(f.ok for f in self.files) and written == self.totals()["accepted"]


def read_export(
    store: Store,
    path: str,
    *,
    fmt: str = "auto",
    column_map: dict[str, str] | None = None,
    customer_id: str | None = None,
    config: Config | None = None,
    options: dict[str, str] | None = None,
    ingested_at: datetime | None = None,
    strict_customer: bool = True,
) -> FileResult:
    """Read, normalise and check one export file.

    Args:
        store: The store holding the file.
        path: The file's path in ``store``.
        fmt: ``auto``, ``csv``, ``jsonl``, ``json``, ``parquet``, ``intercom`` or ``zendesk``.
        column_map: Source column -> canonical name (generic formats).
        customer_id: The file's customer (from its landing folder); rows may not name another
            unless ``strict_customer`` is False, when it only fills rows without a customer id.
        config: Limits (``config.ingest``); default settings when None.
        options: Vendor options such as ``zendesk.handle_time_field`` (see ``formats_vendor``).
        ingested_at: Timestamp for quarantine rows (default: now).
        strict_customer: See ``customer_id``.

    Raises:
        TaxonomyError: unreadable file, missing column, or too many bad rows.
    """
    cfg = config or load_config()
    when = ingested_at or datetime.now(UTC).replace(microsecond=0)
    uri = store.uri(path)
    if customer_id is not None:
        validate_customer_id(customer_id, file=uri)
    try:
        with store.open(path, "rb") as fh:
            data = fh.read()
    except (OSError, ValueError) as exc:
        raise TaxonomyError(f"cannot read file ({exc.__class__.__name__}: {exc})", file=uri) from None
    parsed = read_bytes(data, uri, fmt=fmt, column_map=column_map, options=check_options(options))
    if parsed.format in ("csv", "parquet", "json", "jsonl") and parsed.columns:
        need = REQUIRED if customer_id else ("customer_id", *REQUIRED)
        for col in need:
            if col not in parsed.columns:
                raise TaxonomyError(f"missing required column (found: {', '.join(parsed.columns)[:300]})", file=uri, field=col)
    rows, bad, skipped = _clean_all(parsed, uri, customer_id, cfg, when, strict_customer)
    kept, superseded, conflicting = dedupe(pl.DataFrame(rows, schema=CONVERSATION, orient="row") if rows else empty(CONVERSATION))
    bad += conflict_rows(conflicting, when)
    quarantined = conform(pl.DataFrame(bad, schema=QUARANTINE, orient="row"), QUARANTINE) if bad else empty(QUARANTINE)
    result = FileResult(kept, quarantined, len(parsed.records), uri, parsed.format, superseded.height, skipped)
    _check_bad_share(uri, result.rows_in - skipped, quarantined, cfg)
    return result


def _clean_all(
    parsed: Parsed, uri: str, customer_id: str | None, cfg: Config, when: datetime, strict: bool
) -> tuple[list, list, int]:
    """Clean every record: ``(canonical rows, quarantine rows, skipped count)``."""
    rows, bad, skipped = [], [], 0
    for rec in parsed.records:
        if skip_reason(rec):
            skipped += 1
            continue
        row, problem = clean_record(rec, default_customer=customer_id, config=cfg, strict=strict)
        row["source_file"] = uri
        if problem:
            bad.append(quarantine_row(rec, row, problem, file=uri, ingested_at=when))
        else:
            rows.append(row)
    return rows, bad, skipped


def _check_bad_share(uri: str, considered: int, quarantined: pl.DataFrame, cfg: Config) -> None:
    share = cfg.ingest.max_bad_row_share
    if not considered or quarantined.height / considered <= share:
        return
    top_field, top_reason, n = _top_reasons(quarantined, 1)[0]
    raise TaxonomyError(
        f"{quarantined.height} of {considered} rows ({quarantined.height / considered:.0%}) failed validation, "
        f"more than the {share:.0%} allowed (ingest.max_bad_row_share); most common: {top_reason} ({n} rows)",
        file=uri,
        field=top_field,
    )


def _top_reasons(quarantined: pl.DataFrame, k: int) -> list[tuple[str, str, int]]:
    keys = Counter((f, str(r).split(":")[0]) for f, r in quarantined.select("field", "reason").rows())
    return [(f, r, n) for (f, r), n in keys.most_common(k)]


def batch_id(uri: str) -> str:
    """The quarantine batch key of a source file: 16 hex digits of the SHA-256 of its URI."""
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()[:16]


def print_report(report: IngestReport, stream=None) -> None:  # noqa: ANN001 - a text stream
    """Print a per-file table (rows in / accepted / quarantined / superseded / skipped / top reasons)."""
    out = stream or sys.stdout
    root = report.input.rstrip("/") + "/"
    names = [f.file[len(root):] if f.file.startswith(root) else posixpath.basename(f.file) for f in report.files]
    width = min(max([len(n) for n in names] + [4]), 60)
    print(f"{'file':<{width}}  {'format':<8} {'rows':>7} {'accepted':>8} {'quarant.':>8} {'superseded':>10} {'skipped':>7}  top reasons", file=out)
    for name, f in zip(names, report.files):
        reasons = "; ".join(f"{r} ({n})" for r, n in f.reasons.most_common(2))
        shown = name if len(name) <= width else "..." + name[-(width - 3):]
        print(f"{shown:<{width}}  {f.format:<8} {f.rows_in:>7} {f.accepted:>8} {f.quarantined:>8} {f.superseded:>10} {f.skipped:>7}  {reasons}", file=out)
    t = report.totals()
    print(f"{'total':<{width}}  {'':<8} {t['rows_in']:>7} {t['accepted']:>8} {t['quarantined']:>8} {t['superseded']:>10} {t['skipped']:>7}", file=out)
    customers = sorted({p[0] for p in report.partitions})
    print(f"\nconversations_raw: {len(report.partitions)} partitions, {len(customers)} customers -> "
          f"{report.output.rstrip('/')}/conversations_raw/", file=out)
    if report.quarantine:
        print(f"quarantine: {sum(n for _, n in report.quarantine)} rows in {len(report.quarantine)} batches -> "
              f"{report.output.rstrip('/')}/quarantine/", file=out)
    for warning in report.warnings:
        print(f"warning: {warning}", file=out)
    if not report.ok:
        print("warning: row counts do not add up (rows in != accepted + quarantined + superseded + skipped)", file=out)


def group_by_partition(frames: list[pl.DataFrame], dates: dict[str, date] | None) -> dict[tuple[str, date], pl.DataFrame]:
    """Split accepted rows into ``(customer_id, date)`` groups.

    Args:
        frames: Accepted rows of several files.
        dates: Source file -> landing date; None to use each row's ``created_at`` UTC date.
    """
    if not frames:
        return {}
    df = pl.concat(frames, how="vertical")
    if dates is None:
        df = df.with_columns(pl.col("created_at").dt.date().alias("_date"))
    else:
        df = df.with_columns(pl.col("source_file").replace_strict(dates, return_dtype=pl.Date).alias("_date"))
    groups: dict[tuple[str, date], pl.DataFrame] = defaultdict(lambda: empty(CONVERSATION))
    for (cid, day), part in df.group_by(["customer_id", "_date"], maintain_order=True):
        groups[(cid, day)] = part.drop("_date")
    return dict(groups)
