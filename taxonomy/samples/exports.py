"""Render synthetic conversations as real export files: generic CSV, Intercom, Zendesk.

Shapes follow the vendors' documented API responses (checked against their current
references), so the ingestion readers are exercised on what a real pull lands:

- **Intercom** ``GET /conversations`` pages: ``{"type": "conversation.list", "pages": ...,
  "total_count": n, "conversations": [...]}``; each conversation has epoch-second
  ``created_at``/``updated_at``, the opening message as HTML in ``source.body``,
  ``statistics.adjusted_handling_time`` (active teammate seconds: the handle time) and
  ``statistics.handling_time`` (assignment to close, idle included), and the Fin AI
  agent's ``ai_agent_participated`` / ``ai_agent.resolution_state``.
- **Zendesk** cursor-based Incremental Ticket Export pages: ``{"tickets": [...],
  "after_url", "after_cursor", "before_url", "before_cursor", "end_of_stream"}``; the
  opening message is ``description``, times are ISO 8601, handle time is the Time
  Tracking app's "Total time spent (sec)" custom field, tickets updated again on a later
  day re-appear in that day's page (latest ``updated_at`` wins).
- **CSV** with canonical column names.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime

import fsspec
from taxonomy.errors import TaxonomyError
from taxonomy.samples.profiles import (
    BANKING77_ATTRIBUTION,
    CustomerProfile,
    banking77_path,
)

ZENDESK_TIME_SPENT_FIELD = 360_028_417_751  # Time Tracking app: "Total time spent (sec)"
ZENDESK_TIME_LAST_FIELD = 360_028_417_771  # Time Tracking app: "Time spent last update (sec)"
INTERCOM_PAGE = 150  # Intercom's maximum per_page
ZENDESK_PAGE = 1000  # Zendesk incremental export page size
_CHANNELS = {
    "csv": (("chat", "email", "phone", "app"), (5, 3, 1, 2)),
    "intercom": (("conversation", "email", "whatsapp"), (16, 3, 1)),
    "zendesk": (("web", "email", "native_messaging", "mobile"), (9, 7, 3, 1)),
}


# Canonical fields each vendor export carries (besides id, times, text, handle time, channel).
_VENDOR_CARRIES = {"intercom": ("updated_at", "automated", "csat"), "zendesk": ("updated_at", "csat")}


def assign_ids(profile: CustomerProfile, records: list[dict]) -> None:
    """Set ``conversation_id`` and ``channel`` the way the customer's platform would.

    Also blanks the canonical fields this customer's export does not carry, so the
    records are what a correct reader of the files returns.
    """
    names, weights = _CHANNELS[profile.fmt]
    carried = _VENDOR_CARRIES.get(profile.fmt, profile.csv_columns)
    for r in records:
        for col in ("updated_at", "automated", "csat", "language"):
            if col not in carried:
                r[col] = None
        seq, rng = r["_seq"], r["_rng"]
        if profile.fmt == "intercom":
            r["conversation_id"] = str(215_470_000_000 + seq * 3 + rng.randrange(3))
        elif profile.fmt == "zendesk":
            r["conversation_id"] = str(48_213 + seq)
        else:
            r["conversation_id"] = f"c-{seq + 1:07d}"
        r["_source_type"] = rng.choices(names, weights=weights)[0]
        # Intercom's "conversation" source is the Messenger: a chat.
        r["channel"] = "chat" if r["_source_type"] == "conversation" else r["_source_type"]
        if profile.fmt == "zendesk":  # satisfaction is good / bad there: 5 / 1 on the shared scale
            score = r["_csat_int"]
            r["csat"] = None if score is None or score == 3 else (5.0 if score >= 4 else 1.0)


def _epoch(ts: datetime) -> int:
    return int(ts.timestamp())


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hex_id(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(24))


def _intercom_body(r: dict) -> str:
    paras = [html.escape(p, quote=True) for p in r["_paras"]]
    if r["_source_type"] == "email":  # mail clients write divs and blank lines
        return "<div>" + "</div><div><br></div><div>".join(paras) + "</div>"
    return "".join(f"<p>{p}</p>" for p in paras)


def _fin(r: dict, rng: random.Random, has_outcome: bool) -> tuple[bool, dict | None]:
    """(ai_agent_participated, ai_agent) consistent with the canonical ``automated``."""
    if not has_outcome or (not r["automated"] and rng.random() < 0.3):
        return False, None
    if r["automated"]:
        state = rng.choice(("assumed_resolution", "assumed_resolution", "confirmed_resolution"))
    elif r["_tier"] == "action_led":
        state = rng.choice(("procedure_handoff", "escalated"))
    else:
        state = rng.choice(("escalated", "escalated", "negative_feedback"))
    t = _epoch(r["created_at"]) + rng.randrange(2, 40)
    return True, {
        "source_type": "workflow", "source_title": "Fin for support", "last_answer_type": "ai_answer",
        "resolution_state": state, "rating": None, "rating_remark": None, "created_at": t, "updated_at": t + 60,
        "content_sources": {"type": "content_source.list", "total_count": 0, "content_sources": []},
    }


def intercom_conversation(r: dict, profile: CustomerProfile) -> dict:
    """One Intercom conversation object for a generated record."""
    rng = r["_rng"]
    created, updated = _epoch(r["created_at"]), _epoch(r["updated_at"])
    participated, ai_agent = _fin(r, rng, profile.automated_rates is not None)
    human = not r["automated"]
    admin = str(rng.choice((5_017_691, 5_017_704, 5_230_118, 5_498_220, 6_001_431))) if human else None
    contact_id = _hex_id(rng)
    reply = rng.randrange(30, max(31, (updated - created) // 2)) if human else None
    handle = r["handle_time_seconds"]
    stats = {
        "type": "conversation_statistics",
        "time_to_assignment": rng.randrange(0, 600) if human else None,
        "time_to_admin_reply": reply,
        "time_to_first_close": updated - created, "time_to_last_close": updated - created,
        "median_time_to_reply": reply,
        "first_contact_reply_at": created, "first_assignment_at": created + 30 if human else None,
        "first_admin_reply_at": created + reply if human else None, "first_close_at": updated,
        "last_assignment_at": created + 30 if human else None, "last_assignment_admin_reply_at": created + reply if human else None,
        "last_contact_reply_at": created, "last_admin_reply_at": updated - 5 if human else None, "last_close_at": updated,
        "last_closed_by_id": admin, "count_reopens": int(rng.random() < 0.04), "count_assignments": 1 if human else 0,
        "count_conversation_parts": rng.randrange(3, 14),
        "handling_time": None if handle is None else int(handle * rng.uniform(1.2, 2.6)),
        "adjusted_handling_time": None if handle is None else int(handle),
    }
    rating = None
    if r["_csat_int"] is not None:
        rating = {"rating": r["_csat_int"], "remark": None, "created_at": updated + 120, "updated_at": updated + 120,
                  "contact": {"type": "contact", "id": contact_id, "external_id": None},
                  "teammate": {"type": "admin", "id": admin} if admin else None}
    c = r["_contact"]
    return {
        "type": "conversation", "id": r["conversation_id"], "title": None, "created_at": created, "updated_at": updated,
        "waiting_since": None, "snoozed_until": None, "open": False, "state": "closed", "read": True,
        "priority": "priority" if rng.random() < 0.05 else "not_priority",
        "admin_assignee_id": int(admin) if admin else None, "team_assignee_id": 4_402_117 if human else None,
        "tags": {"type": "tag.list", "tags": []}, "conversation_rating": rating,
        "source": {"type": r["_source_type"], "id": str(rng.randrange(10**9, 10**10)), "delivered_as": "customer_initiated",
                   "subject": "", "body": _intercom_body(r),
                   "author": {"type": "user", "id": contact_id, "name": c["name"], "email": c["email"]},
                   "attachments": [], "url": None, "redacted": False},
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact_id, "external_id": None}]},
        "teammates": {"type": "admin.list", "teammates": [{"type": "admin", "id": admin}] if admin else []},
        "custom_attributes": {}, "first_contact_reply": {"created_at": created, "type": "conversation", "url": None},
        "sla_applied": None, "statistics": stats,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "ai_agent_participated": participated, "ai_agent": ai_agent,
    }


def _zendesk_satisfaction(r: dict, rng: random.Random) -> dict:
    score = r["_csat_int"]
    if score is None:
        return {"score": rng.choice(("unoffered", "offered"))}
    if score == 3:
        return {"score": "offered"}
    good = score >= 4
    comment = rng.choice(("Thanks!", "quick and helpful", "")) if good else rng.choice(("Took too long", "Not solved", ""))
    return {"id": 9_100_000_000 + r["_seq"], "score": "good" if good else "bad", "comment": comment, "reason": None}


def zendesk_ticket(r: dict, profile: CustomerProfile) -> dict:
    """One Zendesk ticket, as the Incremental Ticket Export returns it."""
    rng, c, tid = r["_rng"], r["_contact"], int(r["conversation_id"])
    sub = profile.customer_id.replace(".", "-")
    handle = r["handle_time_seconds"]
    fields = [
        {"id": ZENDESK_TIME_SPENT_FIELD, "value": None if handle is None else str(int(handle))},
        {"id": ZENDESK_TIME_LAST_FIELD, "value": None if handle is None else str(int(handle * rng.uniform(0.3, 1.0)))},
    ]
    channel = r["channel"]
    body = r["_paras"][-1 if len(r["_paras"]) < 3 else 1]
    subject = body.split("? ")[0].split(". ")[0][:60] if channel in ("email", "web") else f"Conversation with {c['name']}"
    requester = 39_000_000_000 + r["_seq"] * 7
    via_source = {"from": {"address": c["email"], "name": c["name"]}, "to": {"address": f"support@{sub}.com"}, "rel": None} \
        if channel == "email" else {"from": {}, "to": {}, "rel": None}
    return {
        "url": f"https://{sub}.zendesk.com/api/v2/tickets/{tid}.json", "id": tid, "external_id": None,
        "via": {"channel": channel, "source": via_source},
        "created_at": _iso(r["created_at"]), "updated_at": _iso(r["updated_at"]),
        "generated_timestamp": _epoch(r["updated_at"]),
        "type": "question" if r["_tier"] == "informational" else "incident", "subject": subject, "raw_subject": subject,
        "description": "\n\n".join(r["_paras"]), "priority": rng.choice(("normal", "normal", "low", "high")),
        "status": "solved", "recipient": f"support@{sub}.com" if channel == "email" else None,
        "requester_id": requester, "submitter_id": requester,
        "assignee_id": rng.choice((381_220_114_011, 381_220_114_027, 381_220_119_305)), "organization_id": None,
        "group_id": 360_004_118_232, "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [],
        "forum_topic_id": None, "problem_id": None, "has_incidents": False, "is_public": True, "due_at": None,
        "tags": sorted({channel, "web_widget" if channel == "web" else "inbound"}), "custom_fields": fields,
        "satisfaction_rating": _zendesk_satisfaction(r, rng), "sharing_agreement_ids": [], "custom_status_id": 1_900_000_123,
        "fields": fields, "followup_ids": [], "ticket_form_id": 360_000_771_812, "brand_id": 360_001_003_111,
        "allow_channelback": False, "allow_attachments": True, "from_messaging_channel": channel == "native_messaging",
    }


def _dump(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_intercom(records: list[dict], profile: CustomerProfile) -> list[tuple[str, bytes]]:
    """Intercom list pages (``per_page`` 150) for one customer-day."""
    convs = [intercom_conversation(r, profile) for r in records]
    pages = [convs[i : i + INTERCOM_PAGE] for i in range(0, len(convs), INTERCOM_PAGE)] or [[]]
    out = []
    for n, page in enumerate(pages, 1):
        nxt = None
        if n < len(pages):
            cursor = base64.b64encode(f"{profile.customer_id}:{page[-1]['id']}".encode()).decode()
            nxt = {"page": n + 1, "starting_after": cursor, "per_page": INTERCOM_PAGE}
        doc = {"type": "conversation.list",
               "pages": {"type": "pages", "next": nxt, "page": n, "per_page": INTERCOM_PAGE, "total_pages": len(pages)},
               "total_count": len(convs), "conversations": page}
        out.append((f"conversations-{n:03d}.json", _dump(doc)))
    return out


def render_zendesk(tickets: list[dict], profile: CustomerProfile) -> list[tuple[str, bytes]]:
    """Incremental export pages (1,000 tickets each, the last with ``end_of_stream``) for one customer-day."""
    pages = [tickets[i : i + ZENDESK_PAGE] for i in range(0, len(tickets), ZENDESK_PAGE)] or [[]]
    sub = profile.customer_id.replace(".", "-")
    out = []
    for n, page in enumerate(pages, 1):
        last = page[-1] if page else {"generated_timestamp": 0, "id": 0}
        cursor = base64.b64encode(f"{last['generated_timestamp']}.0||{last['id']}|".encode()).decode()
        doc = {"tickets": page,
               "after_url": f"https://{sub}.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor={cursor}",
               "after_cursor": cursor, "before_url": None, "before_cursor": None, "end_of_stream": n == len(pages)}
        out.append((f"tickets-{n:03d}.json", _dump(doc)))
    return out


def render_csv(records: list[dict], profile: CustomerProfile) -> list[tuple[str, bytes]]:
    """One CSV with the profile's canonical columns (some exports wrap text over lines)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(profile.csv_columns)
    for r in records:
        row = []
        for col in profile.csv_columns:
            v = r[col]
            if col == "text":
                v = ("\n" if r["_rng"].random() < 0.02 else " ").join(r["_paras"])
            elif isinstance(v, datetime):
                v = _iso(v)
            elif isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, float):
                v = str(int(v)) if v.is_integer() else repr(v)
            row.append("" if v is None else v)
        w.writerow(row)
    return [("conversations.csv", buf.getvalue().encode("utf-8"))]


def _reexports(prev: list[dict], day: date, rng: random.Random) -> list[dict]:
    """About 2% of yesterday's tickets, closed today: the incremental export lists them again."""
    out = []
    for t in prev:
        if rng.random() < 0.02:
            ts = datetime(day.year, day.month, day.day, rng.randrange(1, 23), rng.randrange(60), tzinfo=UTC)
            if _iso(ts) > t["updated_at"]:
                out.append(dict(t, status="closed", updated_at=_iso(ts), generated_timestamp=_epoch(ts)))
    return out


class _Stats:
    """Running totals for the summary; handle-time medians from a bounded reservoir."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}:stats")
        self.per_customer: dict[str, list] = {}
        self.tiers = {t: 0 for t in ("informational", "personalized", "action_led")}
        self.reservoir: dict[str, list[float]] = {t: [] for t in self.tiers}
        self.seen = dict.fromkeys(self.tiers, 0)
        self.files = self.bytes = self.rows = self.duplicates = 0

    def add(self, profile: CustomerProfile, records: list[dict], files: list[tuple[str, bytes]]) -> None:
        entry = self.per_customer.setdefault(profile.customer_id, [profile.industry, profile.fmt, 0])
        entry[2] += len(records)
        self.rows += len(records)
        self.files += len(files)
        self.bytes += sum(len(b) for _, b in files)
        for r in records:
            tier, h = r["_tier"], r["handle_time_seconds"]
            self.tiers[tier] += 1
            if h is None or r["automated"]:
                continue
            self.seen[tier] += 1
            res = self.reservoir[tier]
            if len(res) < 20_000:
                res.append(h)
            else:
                k = self.rng.randrange(self.seen[tier])
                if k < len(res):
                    res[k] = h

    def median_minutes(self, tier: str) -> float:
        v = sorted(self.reservoir[tier])
        return v[len(v) // 2] / 60 if v else float("nan")


def _write(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    with fs.open(path, "wb") as fh:
        fh.write(data)


def _provenance(days: int, seed: int, stats: _Stats, first: date, last: date) -> bytes:
    lines = [
        "# Synthetic support exports (provenance)", "",
        f"Generated by `taxonomy make-sample` (taxonomy.samples, seed {seed}, {days} days, {first} to {last}).",
        "All customers, people, e-mail addresses, phone numbers, card numbers and IBANs are fictitious.", "",
    ]
    lines += [f"- `{cid}`: {ind}, {fmt}, {n} conversations" for cid, (ind, fmt, n) in stats.per_customer.items()]
    if any(ind == "fintech" for ind, _, _ in stats.per_customer.values()) and banking77_path():
        lines += ["", BANKING77_ATTRIBUTION]
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_landing(
    output: str, customer_days: Iterable[tuple[CustomerProfile, date, list[dict]]], days: int, seed: int,
    truth_path: str | None = None,
) -> str:
    """Write each customer-day's files under ``output`` and return a summary paragraph."""
    fs, root = fsspec.core.url_to_fs(output)
    root = root.rstrip("/")
    if fs.exists(root) and fs.ls(root):
        raise TaxonomyError("output folder is not empty; pick a new folder or remove it first", file=output)
    stats, truth, prev = _Stats(seed), None, ([], None)
    first = last = None
    try:
        if truth_path:
            truth = open(truth_path, "w", encoding="utf-8", newline="")
            truth.write("customer_id,conversation_id,tier,intent\n")
        for profile, day, records in customer_days:
            first, last = first or day, max(last or day, day)
            if not records:  # a quiet day lands no file
                continue
            if profile.fmt == "intercom":
                files = render_intercom(records, profile)
            elif profile.fmt == "zendesk":
                rng = random.Random(f"{seed}:reexport:{profile.customer_id}:{day}")
                again = _reexports(prev[0], day, rng) if prev[1] == profile.customer_id else []
                tickets = [zendesk_ticket(r, profile) for r in records]
                files = render_zendesk(tickets + again, profile)
                stats.duplicates += len(again)
                prev = (tickets, profile.customer_id)
            else:
                files = render_csv(records, profile)
            folder = f"{root}/{profile.customer_id}/{day.isoformat()}"
            fs.makedirs(folder, exist_ok=True)
            for name, data in files:
                _write(fs, f"{folder}/{name}", data)
            stats.add(profile, records, files)
            if truth:
                truth.writelines(f"{r['customer_id']},{r['conversation_id']},{r['_tier']},{r['_intent']}\n" for r in records)
        if first is not None:
            _write(fs, f"{root}/_PROVENANCE.md", _provenance(days, seed, stats, first, last))
    finally:
        if truth:
            truth.close()
    return _summary(output, stats, first, last)


def _summary(output: str, stats: _Stats, first: date | None, last: date | None) -> str:
    custs = "; ".join(f"{cid} ({ind}, {fmt}, {n:,})" for cid, (ind, fmt, n) in list(stats.per_customer.items())[:6])
    more = len(stats.per_customer) - 6
    if more > 0:
        custs += f"; and {more} more"
    total = max(stats.rows, 1)
    mix = ", ".join(f"{t} {100 * n / total:.0f}%" for t, n in stats.tiers.items())
    med = ", ".join(f"{t} {stats.median_minutes(t):.1f} min" for t in stats.tiers)
    b77 = " Fintech texts adapted from Banking77 (CC BY 4.0)." if banking77_path() and any(
        ind == "fintech" for ind, _, _ in stats.per_customer.values()) else ""
    return (
        f"Wrote {stats.rows:,} synthetic conversations for {len(stats.per_customer)} customers, {first} to {last}, "
        f"to {output}: {stats.files:,} files, {stats.bytes / 1e6:.1f} MB, laid out as <customer_id>/<YYYY-MM-DD>/<file>. "
        f"Customers: {custs}. Tier mix: {mix}. Median handle time of human-handled conversations: {med}. "
        f"Zendesk pages repeat {stats.duplicates} tickets updated on a later day (latest updated_at wins).{b77}"
    )
