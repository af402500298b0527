"""What a reader hands the cleaner: one dict per source row, and the keys it may carry.

Readers (:mod:`taxonomy.ingest.formats`, :mod:`taxonomy.ingest.vendor`) set these keys;
the cleaner (:mod:`taxonomy.ingest.clean`) reads them. They live here, below both, so
neither has to import the other's module for them.
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]

# Keys a record may carry besides canonical columns: set by readers, read by the cleaner.
ERROR_KEY = "_error"  # (field, reason): the record is quarantined with this reason
SKIP_KEY = "_skip"  # reason: the record is counted as skipped (e.g. deleted in the source system)
RAW_KEY = "_raw"  # the source object, kept for the quarantine record

__all__ = ["ERROR_KEY", "RAW_KEY", "SKIP_KEY", "Record"]
