"""What the cockpit shows of uncertainty and review: intervals, hours reviewed, the sheet's top rows.

The top rows come from the same ordering as ``taxonomy review --sheet`` (the customer's analysis of
the page's as-of date); the page names how many topics a reviewer should confirm to pin
``PIN_TARGET`` of the hours.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from taxonomy.config import Config
from taxonomy.errors import TaxonomyError
from taxonomy.report.charts import num, tier_name
from taxonomy.schema import TIERS
from taxonomy.storage import Store
from taxonomy.uncertainty import format_interval

PIN_TARGET = 0.8
MAX_ROWS = 10


def interval_texts(s: dict[str, Any]) -> dict[str, str]:
    """``45% (38–52%)`` for the potential and each tier's hours share."""
    names = ["automation_potential", *[f"handle_time_share_{t}" for t in TIERS]]
    out = {n: format_interval(num(s.get(n)), num(s.get(f"{n}_low")), num(s.get(f"{n}_high"))) for n in names}
    lo, hi = num(s.get("automation_potential_low")), num(s.get("automation_potential_high"))
    out["automation_potential_range"] = "n/a" if lo is None or hi is None else f"{100 * lo:.0f}–{100 * hi:.0f}%"
    return out


def interval_check(model_version: str | None, reviewed: float | None = None) -> str | None:
    """What the intervals' "90%" was measured to be on sources the tier model never saw, in words
    (``taxonomy.uncertainty.held_out_check``); None when the model version records no such check.
    Where a person has reviewed some of the hours (``reviewed``: ``reviewed_hours_share``), it adds
    what intervals after a review held: far narrower, and short of 90%."""
    from taxonomy.uncertainty import after_review_held, held_out_check

    check = held_out_check(model_version)
    if not check:
        return None
    text = (f"Checked on queues from {check['sources']} sources the tier model was never trained on, intervals "
            f"like these held the true hours share in {100 * check['coverage']:.0f}% of {check['checks']} checks.")
    after = held_out_check(model_version, after_review=True)
    if after and reviewed:
        text += f" {100 * reviewed:.0f}% of these hours are reviewed. On the same kind of queues reviewed in full, {after_review_held(after)}."
    return text


def width(s: dict[str, Any]) -> float | None:
    """Width of the potential's 90% interval (None when unknown)."""
    lo, hi = num(s.get("automation_potential_low")), num(s.get("automation_potential_high"))
    return None if lo is None or hi is None else hi - lo


def review_panel(store: Store, day: date, customer_id: str, s: dict[str, Any]) -> dict[str, Any]:
    """The customer page's review card: reviewed share, reviews in force or unmatched, top rows."""
    from taxonomy.review.sheet import load_snapshot, review_rows

    panel: dict[str, Any] = {
        "reviewed": num(s.get("reviewed_hours_share")), "applied": s.get("reviews_applied") or 0,
        "unmatched": s.get("reviews_unmatched") or 0, "rows": [], "to_pin": 0, "pinned_after": None,
    }
    try:
        snap = load_snapshot(store, customer_id, day, Config(), vectors=False)
    except TaxonomyError:
        return panel  # the analysis behind the page is gone: the card says so
    ordered = review_rows(snap, Config().scoring.default_rates)
    todo = [r for r in ordered.iter_rows(named=True) if r["status"] == "to review"] if ordered.height else []
    already = sum(r["hours_share"] for r in ordered.iter_rows(named=True) if r["status"] == "reviewed") if ordered.height else 0.0
    count = 0
    if already < PIN_TARGET:
        reached = [i for i, r in enumerate(todo, start=1) if already + r["cumulative_hours_share"] >= PIN_TARGET - 1e-9]
        count = reached[0] if reached else len(todo)
    panel["to_pin"] = count
    panel["pinned_after"] = min(already + (todo[count - 1]["cumulative_hours_share"] if count else 0.0), 1.0)
    panel["rows"] = [{**r, "css": r["proposed_tier"] if r["proposed_tier"] in TIERS else "unknown",
                      "tier_name": tier_name(r["proposed_tier"])} for r in todo[:min(count, MAX_ROWS)]]
    panel["more"] = max(count - MAX_ROWS, 0)
    return panel
