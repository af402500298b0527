"""The review sheet: one row per topic, in the order a reviewer's minutes pay most.

``taxonomy review --sheet FILE.csv`` writes ``FILE.csv`` (topics) and ``FILE.messages.csv`` (a few
messages of every topic, for mixed ones). ``tier_mix`` is how the topic's hours split over the
tiers by the model's probabilities (or the reviewed tiers), the same probabilities the published
shares sum; ``proposed_tier`` is the tier with the largest part of those hours and ``confidence``
that part. (The published ``topics/`` tier counts conversations instead, so a topic of many short
how-tos and a few long disputes can read ``informational`` there and ``action_led`` here: the
hours are what a reviewer pins.) Order: the topics whose confirmation narrows the
interval most per minute of reading (:func:`taxonomy.uncertainty.topic_value`; reading a topic's
examples is taken as one minute for every topic), so heavy, uncertain and mixed topics
come first; already reviewed topics come last. ``cumulative_hours_share`` says how much of the
hours would be pinned once the reviewer got that far.

How to fill it (also in the sheet's ``how_to`` column of row 1): write ``informational``,
``personalized`` or ``action_led`` in ``tier`` (leave it empty to skip a topic), or ``split``
when the topic mixes tiers, and then give a tier to some of its messages in the messages sheet
(the topic's other messages then follow the tiered messages most like them, and that mix). Do not edit ``topic_id``,
``customer_id``, ``as_of`` or ``check``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from taxonomy.config import Config
from taxonomy.errors import TaxonomyError
from taxonomy.schema import TIERS
from taxonomy.storage import Store, validate_customer_id
from taxonomy.uncertainty import SPLIT_SAMPLE, topic_inputs, topic_value
from taxonomy.window import load_window

EXAMPLES = 5
MESSAGES_PER_TOPIC = SPLIT_SAMPLE  # the interval model takes a split topic's mix as known as from this sample
EXAMPLE_CHARS = 240
MIXED_BELOW = 0.7  # a topic whose leading tier holds less of it than this reads as mixed
SHEET_COLUMNS = ["rank", "topic_id", "label", "hours", "hours_share", "cumulative_hours_share", "conversations",
                 "proposed_tier", "confidence", "tier_mix", "hint", "status", "examples", "tier", "reviewer", "note",
                 "customer_id", "as_of", "check", "how_to"]
MESSAGE_COLUMNS = ["topic_id", "conversation_id", "text", "proposed_tier", "tier", "customer_id", "as_of", "check"]
HOW_TO = ("Write informational, personalized or action_led in 'tier' (empty = skip), or 'split' for a mixed topic "
          "and then tier its messages in the .messages.csv sheet. Do not edit topic_id, customer_id, as_of, check.")


@dataclass
class Snapshot:
    """What a sheet shows of one customer's analysis (one as-of date)."""

    customer_id: str
    as_of: date
    rows: pl.DataFrame  # the analysed window: conversation_id, text, handle time, tier columns, topic_id
    topics: pl.DataFrame  # analysis_topics
    centroids: pl.DataFrame  # topic_state
    embeddings: dict[str, np.ndarray] | None  # conversation_id -> vector (when loaded)


def check_code(*parts: object) -> str:
    """The sheet's tamper check of an id (not a secret: it catches edited or pasted ids)."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:12]


def latest_analysis(store: Store, customer_id: str) -> date:
    """The latest as-of date with an analysis of this customer."""
    days = [d for d in store.list_partitions("analysis", "as_of")
            if store.read_metadata(store.partition("analysis", as_of=d, customer_id=customer_id)) is not None]
    if not days:
        raise TaxonomyError(f"no analysis for customer {customer_id}: run `taxonomy run` first", file=store.uri(store.base))
    return date.fromisoformat(days[-1])


def load_snapshot(store: Store, customer_id: str, as_of: date | None, cfg: Config, *, vectors: bool = True) -> Snapshot:
    """Read one customer's analysis, topics, centroids and (optionally) its window's embeddings."""
    validate_customer_id(customer_id)
    as_of = as_of or latest_analysis(store, customer_id)
    keys = {"as_of": as_of, "customer_id": customer_id}
    parts = {name: store.read_partition(store.partition(name, **keys)) for name in ("analysis", "analysis_topics", "topic_state")}
    if any(v is None for v in parts.values()):
        raise TaxonomyError(f"no analysis for customer {customer_id} as of {as_of}", file=store.uri(store.dataset("analysis")))
    embeddings = None
    if vectors:
        window = load_window(store, customer_id, as_of, cfg.window_days)
        embeddings = dict(zip(window["conversation_id"].to_list(),
                              np.asarray(window["embedding"].to_list(), dtype=np.float32).reshape(window.height, -1)))
    return Snapshot(customer_id, as_of, parts["analysis"], parts["analysis_topics"], parts["topic_state"], embeddings)


def _hours_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows for ordering: a missing handle time counts as the window's mean (volume stands in)."""
    known = rows["handle_time_seconds"].drop_nulls()
    fill = float(known.mean()) if len(known) else 60.0
    return rows.with_columns(pl.col("handle_time_seconds").fill_null(fill))


def review_rows(snap: Snapshot, rates: dict[str, float]) -> pl.DataFrame:
    """The sheet's topic rows in review order (no examples): what the cockpit shows too."""
    rows = _hours_rows(snap.rows)
    inputs = topic_inputs(share_rows(rows))
    versions = snap.rows["model_version"].drop_nulls().unique().sort().to_list() if "model_version" in snap.rows.columns else []
    value = topic_value(inputs, rates, model_version=",".join(versions) or None)
    labels = dict(zip(snap.topics["topic_id"].to_list(), snap.topics["label"].to_list()))
    counts = rows.group_by("topic_id").len()
    n_of = dict(zip(counts["topic_id"].to_list(), counts["len"].to_list()))
    records = []
    all_hours, mixes = inputs.hours(), inputs.mix()
    for k, topic in enumerate(inputs.topic_ids):
        hours, mix = float(all_hours[k]), mixes[k]
        open_share = inputs.open_hours[k] / hours if hours else 0.0
        lead = proposal(mix)
        mixed = float(mix.max()) < MIXED_BELOW
        records.append({
            "topic_id": topic, "label": labels.get(topic, topic), "hours": round(hours, 3),
            "conversations": int(n_of.get(topic, 0)), "proposed_tier": TIERS[lead], "confidence": round(float(mix[lead]), 3),
            "tier_mix": " / ".join(f"{t} {100 * m:.0f}%" for t, m in zip(TIERS, mix)),
            "hint": "looks mixed: check the messages sheet, answer split if its messages differ" if mixed else "",
            "status": "to review" if open_share > 0.5 else "reviewed",
            "_order": (open_share <= 0.5, -float(value[k]), -hours, topic),
        })
    records.sort(key=lambda r: r.pop("_order"))
    total = sum(r["hours"] for r in records) or 1.0
    cumulative = 0.0
    for rank, r in enumerate(records, start=1):
        cumulative += r["hours"]
        r.update(rank=rank, hours_share=round(r["hours"] / total, 4), cumulative_hours_share=round(cumulative / total, 4))
    return pl.DataFrame(records, infer_schema_length=None) if records else pl.DataFrame(schema={c: pl.String for c in SHEET_COLUMNS[:10]})


def share_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with the probabilities the scores' shares and intervals use (un-tempered, see
    :func:`taxonomy.tiers.shares.for_shares`), so the sheet's mixes match the published figures."""
    from taxonomy.tiers.model import temperature_of
    from taxonomy.tiers.shares import for_shares

    return for_shares(rows, temperature_of)


def proposal(mix: np.ndarray) -> int:
    """Index of the proposed tier of a topic whose hours split as ``mix``: the largest part (a tie
    goes to the heavier lever, action_led first, as in :mod:`taxonomy.scoring`)."""
    return max(range(len(TIERS)), key=lambda i: (round(float(mix[i]), 9), i))


def spread(members: list[str], embeddings: dict[str, np.ndarray], k: int, texts: dict[str, str] | None = None) -> list[str]:
    """``k`` members spread over the topic: evenly spaced along their similarity to the topic's mean,
    from the most typical to the least (not the ``k`` most similar); one per distinct text when
    ``texts`` is given."""
    have = [m for m in sorted(members) if m in embeddings]
    if texts is not None:
        first: dict[str, str] = {}
        for m in have:
            first.setdefault((texts.get(m) or "").strip().lower(), m)
        have = sorted(first.values())
    if len(have) <= k:
        return have
    x = np.stack([embeddings[m] for m in have])
    centre = x.mean(axis=0)
    order = np.lexsort((np.arange(len(have)), -np.round(x @ centre, 6)))
    picks = np.unique(np.round(np.linspace(0, len(have) - 1, k)).astype(int))
    return [have[order[p]] for p in picks]


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(buffer.getvalue(), encoding="utf-8-sig")  # the BOM makes spreadsheet apps read UTF-8
    os.replace(tmp, path)


def messages_path(sheet: str | os.PathLike[str]) -> Path:
    """``FILE.csv`` -> ``FILE.messages.csv``."""
    path = Path(sheet)
    return path.with_name(path.stem + ".messages.csv")


def write_sheet(store: Store, customer_id: str, as_of: date | None, sheet: str, cfg: Config) -> tuple[Path, pl.DataFrame]:
    """Write the review sheet and its messages sheet; return the sheet's path and its rows."""
    snap = load_snapshot(store, customer_id, as_of, cfg)
    ordered = review_rows(snap, cfg.scoring.default_rates)
    members = snap.rows.group_by("topic_id").agg(pl.col("conversation_id"))
    member_of = dict(zip(members["topic_id"].to_list(), members["conversation_id"].to_list()))
    text_of = dict(zip(snap.rows["conversation_id"].to_list(), snap.rows["text"].to_list()))
    tier_of = dict(zip(snap.rows["conversation_id"].to_list(), snap.rows["tier"].to_list()))
    common = {"customer_id": customer_id, "as_of": snap.as_of.isoformat()}
    topic_rows, message_rows = [], []
    for r in ordered.iter_rows(named=True):
        ids = member_of.get(r["topic_id"], [])
        shown = spread(ids, snap.embeddings or {}, EXAMPLES, text_of)
        examples = "\n".join(f"{i}) {(text_of.get(c) or '')[:EXAMPLE_CHARS]}" for i, c in enumerate(shown, start=1))
        topic_rows.append({**r, **common, "examples": examples, "tier": "", "reviewer": "", "note": "",
                           "check": check_code(customer_id, snap.as_of, r["topic_id"]),
                           "how_to": HOW_TO if not topic_rows else ""})
        for c in spread(ids, snap.embeddings or {}, MESSAGES_PER_TOPIC, text_of):
            message_rows.append({"topic_id": r["topic_id"], "conversation_id": c, "text": (text_of.get(c) or "")[:EXAMPLE_CHARS * 2],
                                 "proposed_tier": tier_of.get(c) or "", "tier": "", **common,
                                 "check": check_code(customer_id, snap.as_of, r["topic_id"], c)})
    path = Path(sheet)
    _write_csv(messages_path(path), MESSAGE_COLUMNS, message_rows)
    _write_csv(path, SHEET_COLUMNS, topic_rows)
    return path, ordered
