"""Intercom and Zendesk API payloads -> raw canonical records.

**Intercom** (REST API 2.x conversation model, as ``GET /conversations/{id}``,
``GET /conversations`` and ``POST /conversations/search`` return it). A file may
hold one conversation object, a list page ``{"type": "conversation.list",
"conversations": [...], "pages": {...}}``, or JSON Lines with one conversation or
one page per line (the puller lands raw pages). Mapping:

- ``conversation_id`` = ``id``; ``created_at`` / ``updated_at`` = epoch seconds.
- ``text`` = ``source.body`` (HTML; the cleaner strips it); when the body is empty, the
  first conversation part written by the end-user (author type user, lead or contact),
  else ``source.subject`` or ``title``.
- ``channel`` = ``source.type`` (``conversation`` is the Messenger, so ``chat``;
  ``email``, ``phone_call``, ``whatsapp``, ... kept as they are).
- ``handle_time_seconds`` = ``statistics.adjusted_handling_time`` (active teammate
  seconds) when the export has it, else ``statistics.handling_time`` (assignment to
  close, idle included). Neither is in every API version; when both are absent the
  value is null rather than a guess from ``time_to_last_close``, which is wall-clock
  waiting time, not agent time.
- ``automated``: ``ai_agent_participated`` true and ``ai_agent.resolution_state``
  ``assumed_resolution`` or ``confirmed_resolution`` -> true; AI agent
  participated with any other state (``routed_to_team``, ``negative_feedback``,
  none) -> false; ``ai_agent_participated`` false -> false (a teammate handled
  it); field absent (older API versions) -> null.
- ``csat`` = ``conversation_rating.rating`` (1-5).
- ``transcript`` = ``conversation_parts.conversation_parts[].body`` in order, each
  line prefixed with the author type (only when the export includes the parts).

**Zendesk** (Incremental Ticket Export, cursor- or time-based:
``{"tickets": [...], "after_cursor": ..., "end_of_stream": ...}``, optionally with
sideloaded ``metric_sets`` from ``include=metric_sets``). A file may hold one
page, JSON Lines of pages, a list of tickets or ``{"ticket": {...}}``. Mapping:

- ``conversation_id`` = ``id``; ``created_at`` / ``updated_at`` ISO-8601.
- ``text`` = ``description`` (the first comment), else ``subject``.
- ``channel`` = ``via.channel``; ``csat`` = ``satisfaction_rating.score``:
  ``good`` -> 5.0, ``bad`` -> 1.0, anything else (``offered``, ``unoffered``) -> null,
  so it shares Intercom's 1-5 scale.
- ``handle_time_seconds``: option ``zendesk.handle_time_field`` = id of a numeric
  custom field holding seconds (e.g. the Time Tracking app's "Total time spent
  (sec)"); else option ``zendesk.handle_time_metric`` = a sideloaded metric-set
  duration such as ``agent_wait_time_in_minutes.business`` (minutes, converted);
  else null. Zendesk has no built-in per-ticket handle time, so nothing is assumed.
- ``automated``: true when the ticket carries one of the tags in option
  ``zendesk.automated_tags`` (comma-separated; default
  ``ai_agent_resolved,answer_bot_resolved,bot_resolved,automated_resolution``),
  false when it carries one of ``zendesk.human_tags`` (default none), else null.
- Tickets with ``status: deleted`` are skipped (counted, not ingested).
"""

from __future__ import annotations

import math
from typing import Any

from taxonomy.errors import TaxonomyError
from taxonomy.ingest.clean import html_to_text, normalise_whitespace
from taxonomy.ingest.records import ERROR_KEY, RAW_KEY, SKIP_KEY, Record, not_an_object

AI_RESOLVED_STATES = frozenset({"assumed_resolution", "confirmed_resolution"})
DEFAULT_AUTOMATED_TAGS = "ai_agent_resolved,answer_bot_resolved,bot_resolved,automated_resolution"
ZENDESK_CSAT = {"good": 5.0, "bad": 1.0}
OPTION_KEYS = frozenset(
    {"zendesk.handle_time_field", "zendesk.handle_time_metric", "zendesk.automated_tags", "zendesk.human_tags"}
)


def check_options(options: dict[str, str] | None) -> dict[str, str]:
    """Return ``options`` if every key is known, else raise naming the first unknown one."""
    for key in options or {}:
        if key not in OPTION_KEYS:
            raise TaxonomyError(f"unknown source option (known: {', '.join(sorted(OPTION_KEYS))})", field=key)
    return dict(options or {})


def detect(values: list[Any]) -> str:
    """``intercom``, ``zendesk`` or ``generic`` from the first few JSON values of a file."""
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items[:3]:
            if not isinstance(item, dict):
                continue
            kind = item.get("type")
            if kind in ("conversation.list", "conversation") or ("conversations" in item and "pages" in item):
                return "intercom"
            if isinstance(item.get("tickets"), list) or isinstance(item.get("ticket"), dict) or (
                "description" in item and isinstance(item.get("via"), dict)
            ):
                return "zendesk"
            if isinstance(item.get("source"), dict) and "statistics" in item:
                return "intercom"
    return "generic"


# -- Intercom ----------------------------------------------------------------------------------
def intercom_records(objects: list[tuple[int, Any]]) -> list[Record]:
    """One record per Intercom conversation; ``source_row`` counts conversations in the file."""
    records: list[Record] = []
    for _, value in objects:
        for conv in _intercom_conversations(value):
            rec = intercom_record(conv) if isinstance(conv, dict) else not_an_object(conv)
            rec["source_row"] = len(records) + 1
            records.append(rec)
    return records


def _intercom_conversations(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and (value.get("type") == "conversation.list" or "conversations" in value):
        convs = value.get("conversations")
        return convs if isinstance(convs, list) else []
    return [value]


def intercom_record(conv: dict[str, Any]) -> Record:
    """Map one Intercom conversation object to canonical keys (raw values)."""
    source = conv.get("source") if isinstance(conv.get("source"), dict) else {}
    stats = conv.get("statistics") if isinstance(conv.get("statistics"), dict) else {}
    rating = conv.get("conversation_rating") if isinstance(conv.get("conversation_rating"), dict) else {}
    text = source.get("body")
    if not _has_text(text):
        text = _first_end_user_part(conv)
    if not _has_text(text):
        text = source.get("subject") if _has_text(source.get("subject")) else conv.get("title")
    channel = source.get("type")
    return {
        "customer_id": None,
        "conversation_id": conv.get("id"),
        "created_at": conv.get("created_at"),
        "updated_at": conv.get("updated_at"),
        "text": text,
        "handle_time_seconds": _first_present(stats, "adjusted_handling_time", "handling_time"),
        "channel": "chat" if channel == "conversation" else channel,
        "automated": _intercom_automated(conv),
        "csat": rating.get("rating"),
        "language": None,
        "transcript": _intercom_transcript(conv),
        RAW_KEY: conv,
    }


def _intercom_automated(conv: dict[str, Any]) -> bool | None:
    participated = conv.get("ai_agent_participated")
    if participated is None:
        return None
    if not participated:
        return False
    agent = conv.get("ai_agent") if isinstance(conv.get("ai_agent"), dict) else {}
    return agent.get("resolution_state") in AI_RESOLVED_STATES


# Part authors that are the end-user (not an admin, bot or team).
END_USER_AUTHORS = frozenset({"user", "lead", "contact"})


def _first_end_user_part(conv: dict[str, Any]) -> str | None:
    """Body of the first conversation part the end-user wrote (when ``source.body`` is empty)."""
    parts = conv.get("conversation_parts")
    parts = parts.get("conversation_parts") if isinstance(parts, dict) else None
    for part in parts if isinstance(parts, list) else []:
        author = part.get("author") if isinstance(part, dict) and isinstance(part.get("author"), dict) else {}
        if author.get("type") in END_USER_AUTHORS and _has_text(part.get("body")):
            return part["body"]
    return None


def _intercom_transcript(conv: dict[str, Any]) -> str | None:
    parts = conv.get("conversation_parts")
    parts = parts.get("conversation_parts") if isinstance(parts, dict) else None
    if not isinstance(parts, list):
        return None
    lines = []
    for part in parts:
        if isinstance(part, dict) and _has_text(part.get("body")):
            author = part.get("author") if isinstance(part.get("author"), dict) else {}
            body = normalise_whitespace(html_to_text(part["body"])).replace("\n", " ")
            lines.append(f"{author.get('type') or 'unknown'}: {body}")
    return "\n".join(lines) or None


# -- Zendesk -----------------------------------------------------------------------------------
def zendesk_records(objects: list[tuple[int, Any]], options: dict[str, str]) -> list[Record]:
    """One record per Zendesk ticket; ``source_row`` counts tickets in the file."""
    options = check_options(options)
    records: list[Record] = []
    for _, value in objects:
        tickets, metrics = _zendesk_page(value)
        for ticket in tickets:
            if isinstance(ticket, dict):
                rec = zendesk_record(ticket, metrics.get(ticket.get("id")), options)
            else:
                rec = not_an_object(ticket)
            rec["source_row"] = len(records) + 1
            records.append(rec)
    return records


def _zendesk_page(value: Any) -> tuple[list[Any], dict[Any, dict[str, Any]]]:
    if isinstance(value, list):
        return value, {}
    if not isinstance(value, dict):
        return [value], {}
    if "tickets" in value:
        tickets = value.get("tickets") if isinstance(value.get("tickets"), list) else []
    elif isinstance(value.get("ticket"), dict):
        tickets = [value["ticket"]]
    else:
        tickets = [value]
    metrics = {m.get("ticket_id"): m for m in value.get("metric_sets") or [] if isinstance(m, dict)}
    return tickets, metrics


def zendesk_record(ticket: dict[str, Any], metric_set: dict[str, Any] | None, options: dict[str, str]) -> Record:
    """Map one Zendesk ticket (plus its sideloaded metric set, if any) to canonical keys."""
    via = ticket.get("via") if isinstance(ticket.get("via"), dict) else {}
    rating = ticket.get("satisfaction_rating") if isinstance(ticket.get("satisfaction_rating"), dict) else {}
    text = ticket.get("description") if _has_text(ticket.get("description")) else ticket.get("subject")
    rec: Record = {
        "customer_id": None,
        "conversation_id": ticket.get("id"),
        "created_at": ticket.get("created_at"),
        "updated_at": ticket.get("updated_at"),
        "text": text,
        "handle_time_seconds": None,
        "channel": via.get("channel"),
        "automated": _zendesk_automated(ticket, options),
        "csat": ZENDESK_CSAT.get(str(rating.get("score"))),
        "language": None,
        "transcript": None,
        RAW_KEY: ticket,
    }
    try:
        rec["handle_time_seconds"] = _zendesk_handle_time(ticket, metric_set, options)
    except ValueError as exc:
        rec[ERROR_KEY] = ("handle_time_seconds", str(exc))
    if ticket.get("status") == "deleted":
        rec[SKIP_KEY] = "ticket deleted in Zendesk"
    return rec


def _zendesk_handle_time(ticket: dict[str, Any], metric_set: dict[str, Any] | None, options: dict[str, str]) -> Any:
    field_id = options.get("zendesk.handle_time_field")
    if field_id:
        for item in ticket.get("custom_fields") or []:
            if isinstance(item, dict) and str(item.get("id")) == str(field_id):
                return item.get("value")
        return None
    metric = options.get("zendesk.handle_time_metric")
    if metric and metric_set:
        name, _, kind = metric.partition(".")
        value = metric_set.get(name)
        if isinstance(value, dict):
            value = value.get(kind or "calendar")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"metric {metric} is not a number: {value!r}")
        return float(value) * 60.0
    return None


def _zendesk_automated(ticket: dict[str, Any], options: dict[str, str]) -> bool | None:
    tags = {str(t).lower() for t in ticket.get("tags") or []}
    automated = _tag_set(options.get("zendesk.automated_tags", DEFAULT_AUTOMATED_TAGS))
    human = _tag_set(options.get("zendesk.human_tags", ""))
    if tags & automated:
        return True
    if tags & human:
        return False
    return None


def _tag_set(text: str) -> set[str]:
    return {t.strip().lower() for t in text.split(",") if t.strip()}


def _first_present(mapping: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if mapping.get(key) is not None:
            return mapping[key]
    return None


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


