"""Stage 1, ingest: export files in, validated canonical conversations and quarantined rows out.

Reads a landing root (``<root>/<customer_id>/<YYYY-MM-DD>/<file>``) or one export file
(CSV, JSONL, JSON, Parquet, Intercom, Zendesk; gzipped or not) and writes
``conversations_raw/customer_id=/date=/`` and ``quarantine/date=/batch=/``.

- :mod:`~taxonomy.ingest.records`, :mod:`~taxonomy.ingest.formats`, :mod:`~taxonomy.ingest.vendor`:
  bytes -> raw records (generic tables and vendor payloads).
- :mod:`~taxonomy.ingest.clean`: one record -> a canonical, redacted row or a quarantine reason.
- :mod:`~taxonomy.ingest.dedupe`: the newest copy of a conversation wins; conflicts are quarantined.
- :mod:`~taxonomy.ingest.files`: one file, read and counted.
- :mod:`~taxonomy.ingest.landing`: the landing layout, skip-if-unchanged, validation and writing.
- :mod:`~taxonomy.ingest.run`: :func:`ingest`, the entry point.
"""

from __future__ import annotations

from taxonomy.ingest.files import FileReport, FileResult, IngestReport, batch_id, print_report, read_export
from taxonomy.ingest.run import ingest

__all__ = ["FileReport", "FileResult", "IngestReport", "batch_id", "ingest", "print_report", "read_export"]
