"""Row-level normalisation and checks: raw records -> canonical rows or quarantine rows.

Each value is parsed on its own, so one bad cell sends one row to quarantine
(with the field and the reason) and never breaks the file.

- Text: HTML stripped with the standard library's parser (block tags and ``<br>``
  become line breaks, entities unescaped, ``<script>``/``<style>`` content
  dropped), whitespace normalised (runs of spaces collapse, blank lines collapse,
  control characters removed), PII redacted with
  :func:`taxonomy.redact.redact_text`, then truncated to
  ``config.ingest.max_text_chars``.
- Timestamps: epoch seconds (numbers or digit strings; values above 1e11 are
  read as epoch milliseconds), ISO-8601 with ``Z`` or an offset, or naive
  ISO-8601 which is taken as UTC. Everything is converted to UTC; one column may
  mix all of these. Years outside 1990-2100 are rejected as implausible.
- Handle time: seconds, float; null when absent; negative, NaN, infinite or above
  ``config.ingest.max_handle_time_seconds`` is a bad row.
- Customer id: checked with :func:`taxonomy.storage.validate_customer_id`
  before it is used anywhere.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from taxonomy.config import Config
from taxonomy.errors import TaxonomyError
from taxonomy.ingest.records import ERROR_KEY, RAW_KEY, SKIP_KEY, Record
from taxonomy.schema import CONVERSATION
from taxonomy.storage import validate_customer_id

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_YEAR, MAX_YEAR = 1990, 2100
RECORD_CHARS = 2_000  # quarantine keeps this much of the offending record
_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "table"})
_DROP_TAGS = frozenset({"script", "style", "head", "title"})
_SPACES = re.compile(r"[^\S\n]+")
_BLANKS = re.compile(r"\n{2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ARG002 - HTMLParser API
        if tag in _DROP_TAGS:
            self._drop += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_TAGS:
            self._drop = max(0, self._drop - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._drop:
            self.parts.append(data)


def html_to_text(value: str) -> str:
    """Plain text of an HTML fragment; text without tags comes back unchanged but unescaped."""
    if "<" not in value and "&" not in value:
        return value
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return "".join(parser.parts)


def normalise_whitespace(value: str) -> str:
    """Collapse runs of spaces, strip each line, keep single line breaks between paragraphs."""
    value = _CONTROL.sub(" ", value.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in value.split("\n")]
    return _BLANKS.sub("\n", "\n".join(lines)).strip()


def clean_text(value: Any, max_chars: int) -> str | None:
    """HTML-stripped, whitespace-normalised, PII-redacted, truncated text; None when empty."""
    from taxonomy.redact import redact_text

    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    # Cut pathological inputs early (with a margin so a PII token at the cut is still seen whole).
    text = normalise_whitespace(html_to_text(text[: max_chars * 4 + 10_000]))
    if not text:
        return None
    text = redact_text(text[: max_chars + 1_000])
    return text[:max_chars].rstrip() or None


def parse_timestamp(value: Any) -> datetime | None:
    """A UTC datetime from epoch seconds/milliseconds or ISO-8601; None when empty.

    Raises:
        ValueError: the value is not a timestamp we can read, or implausible.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        out = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    elif isinstance(value, (int, float)) or (isinstance(value, str) and _is_number(value)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"not a timestamp: {value!r}")
        seconds = number / 1000.0 if abs(number) > 1e11 else number
        out = EPOCH + timedelta(seconds=seconds) if -1e10 < seconds < 1e10 else None
    elif isinstance(value, str):
        text = value.strip()
        try:
            out = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise ValueError(f"not an ISO-8601 or epoch timestamp: {value[:40]!r}") from None
        out = out if out.tzinfo else out.replace(tzinfo=UTC)  # naive = UTC, as documented
    else:
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    if out is None or not MIN_YEAR <= out.astimezone(UTC).year <= MAX_YEAR:
        raise ValueError(f"timestamp outside {MIN_YEAR}-{MAX_YEAR}: {str(value)[:40]!r}")
    return out.astimezone(UTC)


def parse_number(value: Any, name: str) -> float | None:
    """A float from a number or numeric string; None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not (isinstance(value, (int, float)) or (isinstance(value, str) and _is_number(value))):
        raise ValueError(f"{name} is not a number: {str(value)[:40]!r}")
    return float(value)


def parse_handle_time(value: Any, max_seconds: float) -> float | None:
    """Handle time in seconds; None when absent.

    Raises:
        ValueError: negative, NaN, infinite, over ``max_seconds`` or not a number.
    """
    seconds = parse_number(value, "handle time")
    if seconds is None:
        return None
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"handle time not finite: {seconds}")
    if seconds < 0:
        raise ValueError(f"negative handle time: {seconds:g}")
    if seconds > max_seconds:
        raise ValueError(f"handle time over the {max_seconds:g} s limit: {seconds:g}")
    return seconds


def parse_bool(value: Any) -> bool | None:
    """A bool from a bool, 0/1 or yes/no/true/false text; None when empty."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"not a boolean: {str(value)[:40]!r}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _identifier(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def clean_record(
    rec: Record, *, default_customer: str | None, config: Config, strict: bool = True
) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """Canonical row from one raw record, or the first problem as ``(field, reason)``.

    Args:
        rec: A raw record from a reader.
        default_customer: Customer for rows without a ``customer_id``.
        config: Limits.
        strict: Rows naming another customer than ``default_customer`` are a problem (the
            default belongs to a landing folder); when False the default only fills blanks.

    The row is returned even when there is a problem (it feeds the quarantine record).
    """
    limits = config.ingest
    row: dict[str, Any] = {c: None for c in CONVERSATION}
    row["source_row"] = rec.get("source_row")
    row["conversation_id"] = _identifier(rec.get("conversation_id"))
    raw_customer = _identifier(rec.get("customer_id"))
    row["customer_id"] = raw_customer or default_customer
    if rec.get(ERROR_KEY):
        return row, rec[ERROR_KEY]
    steps = (
        ("customer_id", lambda: _customer(raw_customer, default_customer, strict)),
        ("conversation_id", lambda: _required(row["conversation_id"], "conversation_id")),
        ("created_at", lambda: _required(parse_timestamp(rec.get("created_at")), "created_at")),
        ("updated_at", lambda: parse_timestamp(rec.get("updated_at"))),
        ("text", lambda: _required(clean_text(rec.get("text"), limits.max_text_chars), "text")),
        ("handle_time_seconds", lambda: parse_handle_time(rec.get("handle_time_seconds"), limits.max_handle_time_seconds)),
        ("automated", lambda: parse_bool(rec.get("automated"))),
        ("csat", lambda: _finite(parse_number(rec.get("csat"), "csat"), "csat")),
        ("channel", lambda: _label(rec.get("channel"))),
        ("language", lambda: _label(rec.get("language"))),
        ("transcript", lambda: clean_text(rec.get("transcript"), limits.max_text_chars * 5)),
    )
    for name, step in steps:
        try:
            row[name] = step()
        except (ValueError, TaxonomyError) as exc:
            return row, (name, exc.message if isinstance(exc, TaxonomyError) else str(exc))
    return row, None


def _customer(raw: str | None, default: str | None, strict: bool) -> str:
    value = raw or default
    if value is None:
        raise ValueError("missing customer_id")
    if strict and default is not None and raw is not None and raw != default:
        raise ValueError(f"customer_id does not match its landing folder {default!r}: {raw[:70]!r}")
    try:
        return validate_customer_id(value)
    except TaxonomyError:
        raise ValueError(f"invalid customer id (1-64 of A-Z a-z 0-9 _ . -): {value[:70]!r}") from None


def _required(value: Any, name: str) -> Any:
    if value is None:
        raise ValueError(f"missing or empty {name}")
    return value


def _finite(value: float | None, name: str) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError(f"{name} not finite: {value}")
    return value


def _label(value: Any) -> str | None:
    text = _identifier(value)
    return text.lower()[:64] if text else None


def quarantine_row(rec: Record, row: dict[str, Any], problem: tuple[str, str], *, file: str, ingested_at: datetime) -> dict[str, Any]:
    """A row of the quarantine dataset: where it came from, why, and the record (redacted, truncated)."""
    from taxonomy.redact import redact_text

    raw = rec.get(RAW_KEY, {k: v for k, v in rec.items() if not k.startswith("_") and k != "source_row"})
    try:
        record = json.dumps(raw, default=str, ensure_ascii=False)[: RECORD_CHARS * 4]
    except (TypeError, ValueError):
        record = repr(raw)[: RECORD_CHARS * 4]
    return {
        "source_file": file,
        "source_row": row.get("source_row"),
        "customer_id": (row.get("customer_id") or "")[:200] or None,
        "conversation_id": (row.get("conversation_id") or "")[:200] or None,
        "field": problem[0],
        "reason": redact_text(problem[1][:500]),
        "record": redact_text(record)[:RECORD_CHARS],
        "ingested_at": ingested_at,
    }


def skip_reason(rec: Record) -> str | None:
    """Why a record is skipped rather than ingested (e.g. deleted in the source), if it is."""
    return rec.get(SKIP_KEY)
