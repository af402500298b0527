"""Ingestion: export files -> validated canonical conversations, plus quarantine.

Input (local path or ``s3://``) is one export file or a landing root::

    <root>/<customer_id>/<YYYY-MM-DD>/<any name>.{csv,jsonl,json,parquet}[.gz]
    <root>/<YYYY-MM-DD>/<any name>.<ext>     # shared drop: rows carry a customer_id column

Output::

    OUTPUT/conversations_raw/customer_id=<id>/date=<YYYY-MM-DD>/part-0.parquet
    OUTPUT/quarantine/date=<YYYY-MM-DD>/batch=<sha256 of source URI, 16 hex>/part-0.parquet

Rules:

- Landing root: ``date`` is the landing folder's date; one partition per customer
  per landing day, rebuilt from every file of that day (re-ingesting a day gives
  the same bytes). ``--start/--end`` pick landing folders; ``--customer`` picks
  customer folders (shared folders are always read, rows of other customers are
  *skipped*). A file under ``<customer>/`` may only hold that customer's rows: a
  row with another ``customer_id`` is quarantined (one tenant's drop zone never
  writes another tenant's data). Folder names that are not valid customer ids or
  dates, and files in other places, are skipped with a warning and never read.
- Single file: ``date`` is the row's ``created_at`` UTC date; rows outside
  ``--start/--end`` or not of a ``--customer`` are *skipped*. The customer comes
  from a ``customer_id`` column, else from the one ``--customer`` given (never
  guessed from folder names). Its quarantine batch is dated by the run.
- Counting, per file: ``rows_in = accepted + quarantined + superseded + skipped``
  where *superseded* rows are older copies of a conversation collapsed by
  :mod:`taxonomy.ingest.dedupe` and *skipped* rows are outside the requested
  selection or deleted in the source. Nothing else disappears.
- A file where more than ``ingest.max_bad_row_share`` of its considered rows
  (``rows_in - skipped``) are quarantined stops the run with an error naming the
  file and the most common bad field; so do unreadable files and missing columns.
  Days are checked one at a time, validated with Great Expectations in chunks
  (``taxonomy.ingest.landing.CHUNK_ROWS``) and only then written, so a stop leaves the
  days before it complete and the failing day untouched.
"""

from __future__ import annotations

from datetime import date

from taxonomy.config import Config, load_config
from taxonomy.errors import TaxonomyError
from taxonomy.ingest.files import IngestReport
from taxonomy.ingest.landing import run_ingest
from taxonomy.ingest.vendor import check_options
from taxonomy.storage import validate_customer_id


def ingest(
    input_uri: str,
    output_uri: str,
    *,
    start: date | None = None,
    end: date | None = None,
    customers: list[str] | None = None,
    fmt: str = "auto",
    column_map: dict[str, str] | None = None,
    label: str | None = None,
    config: Config | None = None,
    options: dict[str, str] | None = None,
    customer_options: dict[str, dict[str, str]] | None = None,
) -> IngestReport:
    """Ingest an export file or a landing root into ``conversations_raw/`` and ``quarantine/``.

    Args:
        input_uri: One export file or a landing root, local or ``s3://``.
        output_uri: Output root, local or ``s3://``.
        start: First date (inclusive): landing folders, or ``created_at`` for a single file.
        end: Last date (inclusive), likewise.
        customers: Only these customers.
        fmt: Export format or ``auto``.
        column_map: Source column -> canonical name. Keys with a dot (``zendesk.handle_time_field``)
            are source options instead, so ``--column-map`` can carry them.
        label: Write under ``OUTPUT/label=<label>/``.
        config: Settings (default: the defaults).
        options: Source options for every file, see :mod:`taxonomy.ingest.vendor`.
        customer_options: Customer id -> source options for that customer's landing folder, over
            ``options`` (e.g. from ``taxonomy.pull.sources.ingest_options`` per customer).

    Returns:
        The report; ``report.ok`` is the rows-in = accepted + quarantined + superseded + skipped check.

    Raises:
        TaxonomyError: bad arguments, unreadable input, or a file over the bad-row limit.
    """
    cfg = config or load_config()
    # Source options: config (ingest.source_options, when the config has it), then --column-map keys with a dot, then options.
    from_config = dict(getattr(cfg.ingest, "source_options", None) or {})
    opts = check_options({**from_config, **{k: v for k, v in (column_map or {}).items() if "." in k}, **(options or {})})
    wanted = [validate_customer_id(c) for c in customers] if customers else None
    if start and end and start > end:
        raise TaxonomyError(f"--start {start} is after --end {end}")
    per_customer = {validate_customer_id(c): check_options({**opts, **o}) for c, o in (customer_options or {}).items()}
    return run_ingest(input_uri, output_uri, start=start, end=end, customers=wanted, fmt=fmt,
                      column_map=column_map, label=label, config=cfg, options=opts, customer_options=per_customer)
