"""``taxonomy review``: what it prints."""

from __future__ import annotations

import json
from datetime import date

from taxonomy.config import Config
from taxonomy.review.apply import apply_sheet
from taxonomy.review.sheet import latest_analysis, messages_path, write_sheet
from taxonomy.review.state import active, load_reviews
from taxonomy.storage import Store

PIN_TARGET = 0.8


def review_cli(
    output: str, customer_id: str, *, as_of: date | None, sheet: str | None, apply: str | None,
    reviewer: str | None, config: Config, label: str | None = None,
) -> str:
    """Write a sheet or apply one; return the lines to print."""
    store = Store(output, label=label)
    if apply:
        result = apply_sheet(store, customer_id, apply, config, reviewer=reviewer)
        lines = [f"recorded {len(result.recorded)} reviewed topics for {customer_id} (sheet as of {result.as_of})"]
        if result.unchanged:
            lines.append(f"  already recorded with the same answer: {', '.join(result.unchanged)}")
        if result.superseded:
            lines.append(f"  {result.superseded} earlier reviews of the same topics are superseded (kept on record)")
        lines.append("  the next `taxonomy run` (or DAG run) for this customer applies them")
        return "\n".join(lines)
    path, ordered = write_sheet(store, customer_id, as_of, sheet, config)
    lines = [f"wrote {path} ({ordered.height} topics) and {messages_path(path)}"]
    todo = ordered.filter(ordered["status"] == "to review") if ordered.height else ordered
    if todo.height:
        pinned = float(ordered.filter(ordered["status"] == "reviewed")["hours_share"].sum())
        n = int((todo["cumulative_hours_share"] < PIN_TARGET - pinned).sum()) + 1 if pinned < PIN_TARGET else 0
        n = min(n, todo.height)
        lines.append(f"  confirm the first {n} topics to pin {100 * PIN_TARGET:.0f}% of the hours"
                     f" (already reviewed: {100 * pinned:.0f}%)")
    reviews, _ = load_reviews(store, customer_id)
    superseded = reviews.height - active(reviews).height
    if reviews.height:
        lines.append(f"  {active(reviews).height} reviews in force, {superseded} superseded (kept on record)")
        lines += _unmatched(store, customer_id, reviews, as_of or latest_analysis(store, customer_id))
    return "\n".join(lines)


def _unmatched(store: Store, customer_id: str, reviews, as_of: date) -> list[str]:  # noqa: ANN001 - a polars frame
    """One line per review the analysis of ``as_of`` could not match to any conversation or topic."""
    meta = store.read_metadata(store.partition("analysis", as_of=as_of, customer_id=customer_id)) or {}
    missing = set(json.loads(meta.get("taxonomy.reviews", "{}")).get("unmatched", []))
    out = []
    for r in reviews.filter(reviews["review_id"].is_in(sorted(missing))).iter_rows(named=True):
        out.append(f"  NO LONGER MATCHES ANY TOPIC: {r['topic_id']} {r['label']!r} = {r['tier']} "
                   f"(reviewed {r['reviewed_at']:%Y-%m-%d} by {r['reviewer']} on the analysis of {r['as_of']})")
    return out
