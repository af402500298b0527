"""What a reader hands the cleaner: one dict per source row, and the keys it may carry.

Readers (:mod:`taxonomy.ingest.formats`, :mod:`taxonomy.ingest.vendor`) set these keys;
the cleaner (:mod:`taxonomy.ingest.clean`) reads them. They live here, below both, so
neither has to import the other's module for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]

# Keys a record may carry besides canonical columns: set by readers, read by the cleaner.
ERROR_KEY = "_error"  # (field, reason): the record is quarantined with this reason
SKIP_KEY = "_skip"  # reason: the record is counted as skipped (e.g. deleted in the source system)
RAW_KEY = "_raw"  # the source object, kept for the quarantine record



@dataclass(frozen=True)
class InvalidLine:
    """A line of JSON Lines that is not valid JSON, yielded in its object's place, so that one
    broken line is quarantined as its row (like a CSV row of the wrong width), not the whole file."""

    reason: str
    text: str


def not_an_object(value: Any) -> Record:
    """The quarantine record for a JSON value where an object belongs: an invalid line, a list, a number..."""
    if isinstance(value, InvalidLine):
        return {ERROR_KEY: ("record", value.reason), RAW_KEY: value.text}
    return {ERROR_KEY: ("record", f"not a JSON object ({type(value).__name__})"), RAW_KEY: value}


__all__ = ["ERROR_KEY", "RAW_KEY", "SKIP_KEY", "InvalidLine", "Record", "not_an_object"]
