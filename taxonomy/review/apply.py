"""``taxonomy review --apply``: check a filled sheet whole, then record every filled row.

A sheet is refused, with one line naming the file, row and field, and nothing recorded, when a
row names another customer, an unknown topic or tier, an id whose ``check`` does not match (an
edited or pasted id), or ``split`` without any message tiered. Each recorded review keeps who,
when, the proposal it replaced and what the reviewer saw (centroid, conversation ids); a review
of a topic already reviewed supersedes the earlier one, which stays on record. Applying the same
sheet twice records nothing new.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from taxonomy.config import Config
from taxonomy.errors import TaxonomyError
from taxonomy.review.sheet import (
    Snapshot,
    check_code,
    load_snapshot,
    messages_path,
    proposal,
    share_rows,
    spread,
)
from taxonomy.review.state import (
    MESSAGES_SCHEMA,
    REVIEWS_SCHEMA,
    SPLIT,
    load_reviews,
    save_reviews,
)
from taxonomy.schema import TIERS
from taxonomy.storage import Store, validate_customer_id
from taxonomy.uncertainty import topic_inputs

SAMPLE_PER_REVIEW = 50  # messages of a reviewed topic kept (embeddings only) in the labelled store
ALIASES = {"action-led": "action_led", "action led": "action_led", "info": "informational"}
REQUIRED = ("topic_id", "tier", "customer_id", "as_of", "check")


@dataclass
class ApplyResult:
    """What an apply recorded."""

    recorded: list[str] = field(default_factory=list)  # topic ids
    unchanged: list[str] = field(default_factory=list)  # already recorded with the same answer
    superseded: int = 0
    as_of: date | None = None


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise TaxonomyError("sheet not found", file=str(path))
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
            header = rows[0].keys() if rows else []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TaxonomyError(f"not a readable CSV sheet ({exc.__class__.__name__})", file=str(path)) from None
    missing = [c for c in REQUIRED if c not in header] if rows else []
    if missing:
        raise TaxonomyError("column missing: was this written by `taxonomy review --sheet`?", file=str(path), field=missing[0])
    return rows


def _tier(value: str | None) -> str:
    text = (value or "").strip().lower()
    return ALIASES.get(text, text)


def _check_common(row: dict, i: int, path: Path, customer_id: str, as_of: str | None, parts: tuple) -> str:
    where = {"file": str(path), "row": i}
    if (row.get("customer_id") or "").strip() != customer_id:
        raise TaxonomyError(f"this row is customer {row.get('customer_id')!r}'s, not {customer_id!r}", field="customer_id", **where)
    value = (row.get("as_of") or "").strip()
    if as_of is not None and value != as_of:
        raise TaxonomyError(f"as_of {value!r} differs from the sheet's first row ({as_of})", field="as_of", **where)
    if (row.get("check") or "").strip() != check_code(customer_id, value, *parts):
        raise TaxonomyError("does not match its check: ids were edited or pasted from another sheet", field="topic_id" if len(parts) == 1 else "conversation_id", **where)
    return value


def _validate(path: Path, customer_id: str, sheet: list[dict], messages: list[dict], topics: set[str]) -> tuple[str, dict, dict]:
    """Every row checked before anything is recorded; returns as_of, topic -> tier, topic -> {conversation: tier}."""
    answers: dict[str, str] = {}
    as_of = None
    for i, row in enumerate(sheet, start=2):  # row 1 is the header
        topic = (row.get("topic_id") or "").strip()
        as_of = _check_common(row, i, path, customer_id, as_of, (topic,))
        if topic not in topics:
            raise TaxonomyError(f"unknown topic {topic!r} in the analysis of {as_of}", file=str(path), row=i, field="topic_id")
        tier = _tier(row.get("tier"))
        if tier and tier not in (*TIERS, SPLIT):
            raise TaxonomyError(f"unknown tier {row.get('tier')!r} (write {', '.join(TIERS)} or split)", file=str(path), row=i, field="tier")
        if tier:
            answers[topic] = tier
    labels: dict[str, dict[str, str]] = {}
    mpath = messages_path(path)
    for i, row in enumerate(messages, start=2):
        topic, conv = (row.get("topic_id") or "").strip(), (row.get("conversation_id") or "").strip()
        _check_common(row, i, mpath, customer_id, as_of, (topic, conv))
        tier = _tier(row.get("tier"))
        if tier and tier not in TIERS:
            raise TaxonomyError(f"unknown tier {row.get('tier')!r} (write {', '.join(TIERS)})", file=str(mpath), row=i, field="tier")
        if tier and answers.get(topic) == SPLIT:
            labels.setdefault(topic, {})[conv] = tier
    for i, row in enumerate(sheet, start=2):
        topic = (row.get("topic_id") or "").strip()
        if answers.get(topic) == SPLIT and not labels.get(topic):
            raise TaxonomyError(f"topic {topic} is split but no message of it has a tier in {mpath.name}", file=str(path), row=i, field="tier")
    return as_of or "", answers, labels


def apply_sheet(
    store: Store, customer_id: str, sheet: str, cfg: Config, *, reviewer: str | None = None, now: datetime | None = None
) -> ApplyResult:
    """Validate a filled sheet (and its messages sheet) and record its answers under the customer's state.

    Raises:
        TaxonomyError: one line naming the file, row and field of the first problem; nothing is recorded.
    """
    validate_customer_id(customer_id)
    path = Path(sheet)
    rows = _read(path)
    messages = _read(messages_path(path)) if messages_path(path).exists() else []
    first = (rows[0].get("as_of") or "").strip() if rows else ""
    try:
        as_of = date.fromisoformat(first) if rows else None
    except ValueError:
        raise TaxonomyError(f"not a date: {first!r}", file=str(path), row=2, field="as_of") from None
    if as_of is None:
        return ApplyResult()
    if (rows[0].get("customer_id") or "").strip() != customer_id:
        raise TaxonomyError(f"this row is customer {rows[0].get('customer_id')!r}'s, not {customer_id!r}",
                            file=str(path), row=2, field="customer_id")
    snap = load_snapshot(store, customer_id, as_of, cfg)
    topics = set(snap.topics["topic_id"].to_list()) | set(snap.rows["topic_id"].drop_nulls().to_list())
    _, answers, labels = _validate(path, customer_id, rows, messages, topics)
    who = {(r.get("topic_id") or "").strip(): (r.get("reviewer") or "").strip() or None for r in rows}
    notes = {(r.get("topic_id") or "").strip(): (r.get("note") or "").strip() or None for r in rows}
    now = now or datetime.now(UTC)
    return _record(store, snap, answers, labels, who, notes, reviewer or getpass.getuser(), now, cfg.topics.match_threshold)


def _proposals(snap: Snapshot) -> dict[str, tuple[str, float, float]]:
    rows = snap.rows.with_columns(pl.col("handle_time_seconds").fill_null(60.0))
    inputs = topic_inputs(share_rows(rows))
    out = {}
    all_hours, mixes = inputs.hours(), inputs.mix()
    for k, topic in enumerate(inputs.topic_ids):
        hours, mix = float(all_hours[k]), mixes[k]
        lead = proposal(mix)
        out[topic] = (TIERS[lead], round(float(mix[lead]), 4), hours)
    return out


def _record(store: Store, snap: Snapshot, answers: dict, labels: dict, who: dict, notes: dict, reviewer: str,
            now: datetime, threshold: float) -> ApplyResult:
    reviews, messages = load_reviews(store, snap.customer_id)
    result = ApplyResult(as_of=snap.as_of)
    members = snap.rows.group_by("topic_id").agg(pl.col("conversation_id"))
    member_of = dict(zip(members["topic_id"].to_list(), members["conversation_id"].to_list()))
    centroid_of = dict(zip(snap.centroids["topic_id"].to_list(), snap.centroids["centroid"].to_list()))
    proposals = _proposals(snap)
    vectors = snap.embeddings or {}
    new_reviews, new_messages = [], []
    live = reviews.filter(pl.col("superseded_by").is_null())
    for topic, tier in sorted(answers.items()):
        same = live.filter((pl.col("as_of") == snap.as_of) & (pl.col("topic_id") == topic) & (pl.col("tier") == tier))
        if same.height and tier != SPLIT:
            result.unchanged.append(topic)
            continue
        review_id = hashlib.sha256(f"{snap.customer_id}|{snap.as_of}|{topic}|{tier}|{now.isoformat()}".encode()).hexdigest()[:16]
        proposed, confidence, hours = proposals.get(topic, (None, None, 0.0))
        ids = sorted(str(c) for c in member_of.get(topic, []))
        centroid = centroid_of.get(topic)
        if centroid is None:
            centroid = np.mean([vectors[c] for c in ids if c in vectors] or [np.zeros(384)], axis=0)
        new_reviews.append({
            "review_id": review_id, "customer_id": snap.customer_id, "as_of": snap.as_of, "topic_id": topic,
            "label": _label(snap, topic), "tier": tier, "reviewer": who.get(topic) or reviewer, "reviewed_at": now,
            "note": notes.get(topic), "proposed_tier": proposed, "proposed_confidence": confidence, "hours": hours,
            "centroid": np.asarray(centroid, dtype=np.float32), "members": ids, "superseded_by": None,
        })
        new_messages += _labelled(review_id, tier, labels.get(topic, {}), ids, vectors)
        result.recorded.append(topic)
    if not new_reviews:
        return result
    fresh = pl.DataFrame(new_reviews, schema=REVIEWS_SCHEMA)
    reviews, result.superseded = _supersede(reviews, fresh, threshold)
    save_reviews(store, snap.customer_id, pl.concat([reviews, fresh]),
                 pl.concat([messages, pl.DataFrame(new_messages, schema=MESSAGES_SCHEMA)]))
    return result


def _label(snap: Snapshot, topic: str) -> str:
    hit = snap.topics.filter(pl.col("topic_id") == topic)
    return hit["label"][0] if hit.height else topic


def _labelled(review_id: str, tier: str, labels: dict[str, str], ids: list[str], vectors: dict) -> list[dict]:
    """Labelled-store rows: the messages a person tiered, plus a spread sample carrying the topic's tier."""
    rows = [{"review_id": review_id, "conversation_id": c, "tier": t, "labelled": True, "embedding": vectors[c]}
            for c, t in sorted(labels.items()) if c in vectors]
    if tier == SPLIT:
        anchors = np.stack([r["embedding"] for r in rows]) if rows else None
    for c in spread(ids, vectors, SAMPLE_PER_REVIEW):
        if c in labels:
            continue
        t = tier
        if tier == SPLIT:
            if anchors is None:
                continue
            t = rows[int(np.argmax(anchors @ vectors[c]))]["tier"]
        rows.append({"review_id": review_id, "conversation_id": c, "tier": t, "labelled": False, "embedding": vectors[c]})
    return rows


def _supersede(reviews: pl.DataFrame, fresh: pl.DataFrame, threshold: float) -> tuple[pl.DataFrame, int]:
    """Mark earlier active reviews of the same topics (close centroid, or half their messages) superseded."""
    if not reviews.height:
        return reviews, 0
    old = np.asarray(reviews["centroid"].to_list(), dtype=np.float32).reshape(reviews.height, -1)
    old = old / np.clip(np.linalg.norm(old, axis=1, keepdims=True), 1e-12, None)
    by = list(reviews["superseded_by"].to_list())
    old_members = [set(m or []) for m in reviews["members"].to_list()]
    count = 0
    for row in fresh.iter_rows(named=True):
        centre = np.asarray(row["centroid"], dtype=np.float32)
        centre = centre / max(float(np.linalg.norm(centre)), 1e-12)
        mine = set(row["members"])
        for i in range(reviews.height):
            if by[i] is not None:
                continue
            overlap = len(old_members[i] & mine) / max(len(old_members[i]), 1)
            if float(old[i] @ centre) >= threshold or overlap >= 0.5:
                by[i] = row["review_id"]
                count += 1
    return reviews.with_columns(pl.Series("superseded_by", by, dtype=pl.String)), count
