"""Readers for export files: bytes in, raw records with canonical keys out.

A reader does not judge values (that is :mod:`taxonomy.ingest.clean`); it only
turns one file into a list of :data:`Record` dicts keyed by canonical column
names, each with its 1-based ``source_row``. Problems that make the whole file
unusable (undecodable bytes, invalid JSON, a missing required column) raise
:class:`~taxonomy.errors.TaxonomyError` naming the file and, where known, the
row and field.

Formats:

- ``csv``: header row, canonical column names (or renamed with ``column_map``).
  A UTF-8 byte-order mark and CRLF line ends are accepted. ``source_row`` is the
  data row (1 = first row after the header).
- ``jsonl``: one JSON object per line; ``source_row`` is the line number.
- ``json``: a list of objects, or an object holding one such list.
- ``parquet``: canonical (or mapped) column names.
- ``intercom`` / ``zendesk``: vendor API payloads, see :mod:`taxonomy.ingest.vendor`.

Any of these may be gzipped (``.gz``): raw API pulls land as ``.jsonl.gz``.
Text must be UTF-8; anything else stops with the byte offset and line of the
first bad byte.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from taxonomy.errors import TaxonomyError
from taxonomy.ingest.records import (
    ERROR_KEY,
    RAW_KEY,
    InvalidLine,
    Record,
    not_an_object,
)

FORMATS: tuple[str, ...] = ("auto", "csv", "jsonl", "parquet", "json", "intercom", "zendesk")
EXTENSIONS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet"}


@dataclass
class Parsed:
    """What a reader made of one file.

    Attributes:
        records: One dict per source row, canonical keys plus ``source_row``.
        format: The format actually read (``auto`` resolved).
        columns: The source file's column names (tabular formats), for error messages.
    """

    records: list[Record]
    format: str
    columns: list[str] = field(default_factory=list)


def supported(path: str) -> bool:
    """Whether ``path`` has an extension ingestion reads (optionally ``.gz``)."""
    name = path.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return any(name.endswith(ext) for ext in EXTENSIONS)


def _extension_format(path: str) -> str | None:
    name = path.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for ext, fmt in EXTENSIONS.items():
        if name.endswith(ext):
            return fmt
    return None


def decompress(data: bytes, path: str) -> bytes:
    """Gunzip ``data`` when ``path`` ends in ``.gz`` (or the bytes carry the gzip magic)."""
    if not (path.lower().endswith(".gz") or data[:2] == b"\x1f\x8b"):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise TaxonomyError(f"not a readable gzip file ({exc})", file=path) from None


def decode_text(data: bytes, path: str) -> str:
    """Decode UTF-8 (an optional BOM is dropped) and normalise CRLF / CR line ends to LF.

    Raises:
        TaxonomyError: naming the byte offset and line of the first invalid byte.
    """
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + bom
        line = data.count(b"\n", 0, offset) + 1
        raise TaxonomyError(
            f"not valid UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} (line {line}); "
            "re-export the file as UTF-8",
            file=path,
            row=None,
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_bytes(
    data: bytes,
    path: str,
    *,
    fmt: str = "auto",
    column_map: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
) -> Parsed:
    """Parse one export file's bytes into raw records.

    Args:
        data: The file's bytes (gzipped or not).
        path: Its path or URI, for format detection and messages.
        fmt: One of :data:`FORMATS`; ``auto`` uses the extension and, for JSON, the content.
        column_map: Source column -> canonical name, for the generic formats.
        options: Vendor options (see :mod:`taxonomy.ingest.vendor`).

    Raises:
        TaxonomyError: unknown format, undecodable or malformed file.
    """
    from taxonomy.ingest import vendor

    if fmt not in FORMATS:
        raise TaxonomyError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})", file=path)
    data = decompress(data, path)
    ext = _extension_format(path)
    if fmt == "parquet" or (fmt == "auto" and ext == "parquet"):
        return _rename(_read_parquet(data, path), column_map, path)
    if fmt == "auto" and ext is None:
        raise TaxonomyError("cannot tell the format from the file name; pass --format", file=path)
    text = decode_text(data, path)
    if fmt == "csv" or (fmt == "auto" and ext == "csv"):
        return _rename(_read_csv(text, path), column_map, path)
    objects = list(iter_json_objects(text, path, prefer_lines=(ext == "jsonl")))
    kind = fmt if fmt in ("intercom", "zendesk") else vendor.detect([obj for _, obj in objects[:3]])
    if kind == "intercom":
        return Parsed(vendor.intercom_records(objects), "intercom")
    if kind == "zendesk":
        return Parsed(vendor.zendesk_records(objects, options or {}), "zendesk")
    return _rename(_generic_json(objects, path, jsonl=ext == "jsonl" or fmt == "jsonl"), column_map, path)


def iter_json_objects(text: str, path: str, *, prefer_lines: bool) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, value)`` for a JSON document or JSON Lines text.

    A ``.json`` file that turns out to hold several values is read as JSON Lines.
    Blank lines are ignored. A whole-document value is yielded with line 1. A line of JSON
    Lines that is not valid JSON is yielded as an :class:`InvalidLine` (quarantined as its row).

    Raises:
        TaxonomyError: a whole JSON document that is invalid or truncated, naming the line and column.
    """
    if not text.strip():
        return
    if not prefer_lines:
        try:
            yield 1, json.loads(text)
            return
        except json.JSONDecodeError as exc:
            if not exc.msg.startswith("Extra data"):
                raise _json_error(exc, path, exc.lineno) from None
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            value = InvalidLine(_json_reason(exc, lineno, "the line looks cut short"), line)
        yield lineno, value


def _json_error(exc: json.JSONDecodeError, path: str, line: int) -> TaxonomyError:
    return TaxonomyError(_json_reason(exc, line, "the file looks truncated"), file=path)


def _json_reason(exc: json.JSONDecodeError, line: int, cut: str) -> str:
    ended = "Unterminated" in exc.msg or exc.pos >= len(exc.doc.rstrip())  # the text stops mid-value
    hint = f" ({cut})" if ended else ""
    return f"invalid JSON at line {line}, column {exc.colno}: {exc.msg.removesuffix(' starting at')}{hint}"


def _read_csv(text: str, path: str) -> Parsed:
    if not text.strip():
        return Parsed([], "csv")
    try:
        # Every column as text: the cleaner parses values, so one odd cell never breaks the file.
        frame = pl.read_csv(io.StringIO(text), infer_schema=False, quote_char='"', truncate_ragged_lines=False)
    except pl.exceptions.ComputeError:
        return read_csv_by_row(text, path)  # rows of another width than the header: each judged alone
    except (pl.exceptions.NoDataError, pl.exceptions.ShapeError) as exc:
        raise TaxonomyError(f"not a readable CSV file: {str(exc).splitlines()[0]}", file=path) from None
    columns = [c.strip() for c in frame.columns]
    _check_unique(columns, path)
    frame.columns = columns
    records = frame.to_dicts()
    for i, rec in enumerate(records, start=1):
        rec["source_row"] = i
    return Parsed(records, "csv", columns)


def read_csv_by_row(text: str, path: str) -> Parsed:
    """A CSV that is not one table: a row whose width differs from the header's becomes an error
    record (quarantined by ingest, naming its row and width), every other row is read; nothing is
    dropped and blank lines are no rows. Slower than the table reader, so only for such files.

    Raises:
        TaxonomyError: a field over the size limit or a NUL byte (naming the row).
    """
    rows = (values for values in csv.reader(io.StringIO(text), strict=False) if values)
    records: list[Record] = []
    try:
        columns = [c.strip() for c in next(rows, [])]
        _check_unique(columns, path)
        for row, values in enumerate(rows, start=1):
            if len(values) == len(columns):
                rec: Record = dict(zip(columns, values))
            else:  # the landing folder names its customer
                rec = {ERROR_KEY: ("record", f"{len(values)} fields where the header has {len(columns)}: a comma or "
                                             "quote inside a value that is not quoted?"), RAW_KEY: values}
            rec["source_row"] = row
            records.append(rec)
    except csv.Error as exc:
        raise TaxonomyError(f"not a readable CSV row ({exc})", file=path, row=len(records) + 1) from None
    return Parsed(records, "csv", columns)


def _read_parquet(data: bytes, path: str) -> Parsed:
    if not data:
        return Parsed([], "parquet")
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - pyarrow and polars raise many types for corrupt files
        raise TaxonomyError(f"not a readable Parquet file ({exc.__class__.__name__})", file=path) from None
    records = frame.to_dicts()
    for i, rec in enumerate(records, start=1):
        rec["source_row"] = i
    return Parsed(records, "parquet", list(frame.columns))


def _generic_json(objects: list[tuple[int, Any]], path: str, *, jsonl: bool) -> Parsed:
    """Records from generic JSON: a list of objects, an object holding one, or JSON Lines."""
    if len(objects) == 1 and not jsonl:
        value = objects[0][1]
        if isinstance(value, dict):
            lists = [v for v in value.values() if isinstance(v, list)]
            value = lists[0] if len(lists) == 1 else [value]
        if not isinstance(value, list):
            raise TaxonomyError("expected a list of objects", file=path)
        objects = [(i, v) for i, v in enumerate(value, start=1)]
    records: list[Record] = []
    columns: dict[str, None] = {}
    for row, value in objects:
        if isinstance(value, dict):
            rec = {str(k).strip(): v for k, v in value.items()}
            columns.update(dict.fromkeys(rec))
        else:
            rec = not_an_object(value)
        rec["source_row"] = row
        records.append(rec)
    return Parsed(records, "jsonl" if jsonl else "json", list(columns))


def _check_unique(columns: list[str], path: str) -> None:
    seen: set[str] = set()
    for col in columns:
        if col in seen:
            raise TaxonomyError("column appears more than once", file=path, field=col)
        seen.add(col)


def _rename(parsed: Parsed, column_map: dict[str, str] | None, path: str) -> Parsed:
    """Apply ``column_map`` (source -> canonical) to every record."""
    mapping = {k: v for k, v in (column_map or {}).items() if "." not in k}
    if not mapping:
        return parsed
    targets = list(mapping.values())
    dupes = {t for t in targets if targets.count(t) > 1}
    if dupes:
        raise TaxonomyError(f"column map sends several columns to {sorted(dupes)}", file=path, field=sorted(dupes)[0])
    for rec in parsed.records:
        for src, dst in mapping.items():
            if src in rec and src != dst:
                rec[dst] = rec.pop(src)
    parsed.columns = [mapping.get(c, c) for c in parsed.columns]
    return parsed
