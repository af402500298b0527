"""What the CSM pages show, as plain values: the ladder, the topic table, portfolio rows, rates in words.

Pure functions of one customer's published rows (:class:`CustomerData`); :mod:`taxonomy.report.pages`
reads the partitions and renders these values with the templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from taxonomy.report import charts
from taxonomy.report.charts import markup, num
from taxonomy.report.review_panel import interval_check, interval_texts
from taxonomy.report.review_panel import width as interval_width
from taxonomy.schema import TIER_LEVERS, TIERS
from taxonomy.storage import validate_customer_id

PAGE = "index.html"  # each customer's page, and the portfolio's
TOP_TOPICS_IN_TABLE = 12
EXAMPLES_PER_TOPIC = 3
EXAMPLE_MAX_CHARS = 600
LEVER_NAMES = {"knowledge_content": "knowledge content", "data_connector": "data connectors", "procedure": "procedures"}


@dataclass(frozen=True)
class CustomerData:
    """One customer's published partitions for one as-of date (rows of other customers dropped)."""

    customer_id: str
    scores: dict[str, Any]
    topics: pl.DataFrame
    trends: pl.DataFrame
    conversations: pl.DataFrame


def hours_to_win(topics: pl.DataFrame) -> float | None:
    """Agent hours per month automation could still take over, summed over a customer's topics.

    Each topic's ``hours_to_win`` (published by :mod:`taxonomy.scoring`) is its handle time times
    its tier's achievable rate over the conversations not already automated, scaled to 30 days;
    with no outcome data every conversation counts as not automated. None when no topic has a
    handle time.
    """
    if topics.height == 0:
        return None
    values = [v for v in (num(x) for x in topics.get_column("hours_to_win").to_list()) if v is not None]
    return sum(max(v, 0.0) for v in values) if values else None


def portfolio_rows(customers: list[tuple[dict[str, Any], float | None]]) -> list[dict[str, Any]]:
    """One row per customer, sorted by hours automation could still win (largest first; unknown last).

    Args:
        customers: (scores row, :func:`hours_to_win` of the customer's topics) per customer.
    """
    rows = []
    for s, win in customers:
        shares = {t: num(s.get(f"handle_time_share_{t}")) or 0.0 for t in TIERS}
        dominant = max(TIERS, key=lambda t: shares[t]) if any(shares.values()) else None
        rows.append({
            "customer_id": s["customer_id"],
            "href": f"customer_id={validate_customer_id(s['customer_id'])}/{PAGE}",
            "to_win_hours": win,
            "potential": num(s.get("automation_potential")),
            "potential_volume": num(s.get("automation_potential_volume")),
            "current": num(s.get("current_automation_rate")),
            "gap": num(s.get("automation_gap")),
            "dominant": dominant,
            "dominant_css": dominant or "unknown",
            "dominant_name": charts.tier_name(dominant),
            "dominant_share": shares[dominant] if dominant else None,
            "conversations": s.get("conversations"),
            "hours": num(s.get("handle_time_hours")),
            "rates_source": s.get("rates_source"),
            "rates_short": rates_short(s.get("rates_source")),
            "potential_text": interval_texts(s)["automation_potential"],
            "interval_width": interval_width(s),
            "reviewed": num(s.get("reviewed_hours_share")),
        })
    return sorted(rows, key=lambda r: (r["to_win_hours"] is None, -(r["to_win_hours"] or 0.0), r["customer_id"]))


def ladder(scores: dict[str, Any]) -> list[dict[str, Any]]:
    """The three ladder steps, each a cumulative potential split into per-tier segments."""
    levels = [num(scores.get(k)) for k in ("potential_knowledge_only", "potential_with_data_connectors", "potential_with_procedures")]
    steps, previous = [], 0.0
    labels = ["Knowledge content", "+ data connectors", "+ procedures"]
    for i, (tier, value) in enumerate(zip(TIERS, levels)):
        gain = None if value is None else max(value - previous, 0.0)
        segments = [
            {"color": charts.tier_color(TIERS[j]), "width": round(100 * g, 2)}
            for j, g in enumerate(_gains(levels[: i + 1]))
        ]
        steps.append({
            "label": labels[i],
            "detail": f"answers {charts.tier_name(tier).lower()} requests" + _gain_words(scores, tier, gain),
            "value": value,
            "segments": segments,
        })
        previous = value if value is not None else previous
    return steps


def _gain_words(scores: dict[str, Any], tier: str, gain: float | None) -> str:
    """`` (+6 pts; 90%: 0–19)``: a step's gain in whole points, as sure as the tier's hours share. The gain
    is that share times the tier's achievable rate, so its interval is the share's interval times the
    rate; without an interval, the gain alone."""
    if gain is None:
        return ""
    rate = num(scores.get(f"achievable_rate_{tier}"))
    low, high = (num(scores.get(f"handle_time_share_{tier}_{side}")) for side in ("low", "high"))
    if rate is None or low is None or high is None:
        return f" (+{100 * gain:.0f}\u00a0pts)"
    return f" (+{100 * gain:.0f}\u00a0pts; 90%:\u00a0{100 * rate * low:.0f}–{100 * rate * high:.0f})"


def _gains(levels: list[float | None]) -> list[float]:
    out, previous = [], 0.0
    for value in levels:
        value = previous if value is None else min(max(value, 0.0), 1.0)
        out.append(max(value - previous, 0.0))
        previous = max(value, previous)
    return out


def topic_rows(data: CustomerData, limit: int = TOP_TOPICS_IN_TABLE) -> list[dict[str, Any]]:
    """The table's top topics (by published rank, then hours to win), each with redacted examples."""
    topics = data.topics.sort(["rank", "hours_to_win", "topic_id"], descending=[False, True, False], nulls_last=True).head(limit)
    texts = dict(zip(data.conversations.get_column("conversation_id").to_list(), data.conversations.get_column("text").to_list()))
    rows = []
    for t in topics.iter_rows(named=True):
        examples = [texts[i] for i in (t["example_conversation_ids"] or []) if texts.get(i)][:EXAMPLES_PER_TOPIC]
        rows.append({
            "topic_id": t["topic_id"],
            "label": t["label"] or t["topic_id"],
            "keywords": ", ".join(k for k in (t["keywords"] or []) if k),
            "tier_name": charts.tier_name(t["tier"]),
            "css": t["tier"] if t["tier"] in TIERS else "unknown",
            "conversations": t["conversations"],
            "hours": (num(t["handle_time_seconds"]) or 0.0) / 3600.0,
            "handle_time_share": num(t["handle_time_share"]),
            "current": num(t["current_automation_rate"]),
            "potential": num(t["automation_potential"]),
            "to_win": num(t["hours_to_win"]),
            "next_best_action": t["next_best_action"],
            "nba_questions": list(t.get("nba_questions") or []),
            "nba_records": list(t.get("nba_records") or []),
            "nba_checks": list(t.get("nba_checks") or []),
            "language_supported": t.get("language_supported") is not False,
            "examples": [_example(text) for text in examples],
        })
    return rows


def _example(text: str) -> str:
    """An example message as shown: redacted again (defence in depth) and shortened."""
    from taxonomy.redact import redact_text

    text = redact_text(text)
    return text if len(text) <= EXAMPLE_MAX_CHARS else text[: EXAMPLE_MAX_CHARS - 1].rstrip() + "\u2026"


def customer_context(data: CustomerData) -> dict[str, Any]:
    """Everything the customer template shows, computed from the customer's data alone."""
    s = data.scores
    weekly = charts.weekly_by_tier(data.trends)
    chart_html = {"volume": None, "split": None, "topics": None}
    if weekly.height:
        chart_html["volume"] = markup(charts.volume_chart(weekly))
        chart_html["split"] = markup(charts.split_chart(weekly))
    if data.topics.height:
        chart_html["topics"] = markup(charts.topics_chart(data.topics))
    mix = [{
        "css": t, "name": charts.tier_name(t), "lever": LEVER_NAMES[TIER_LEVERS[t]],
        "volume": num(s.get(f"volume_share_{t}")), "hours": num(s.get(f"handle_time_share_{t}")),
    } for t in TIERS]
    rates_note = describe_rates_source(s.get("rates_source"))
    from taxonomy.language import embedder_covers, language_name

    languages = [{"name": language_name(x["language"]), "share": x["share"], "supported": embedder_covers(x["language"])}
                 for x in (s.get("language_shares") or [])]
    return {
        "customer_id": data.customer_id, "s": s, "to_win_hours": hours_to_win(data.topics), "ladder": ladder(s),
        "languages": languages, "mix": mix, "charts": chart_html, "topics": topic_rows(data), "rates_note": rates_note,
        "rates_short": rates_short(s.get("rates_source")),
        "intervals": interval_texts(s), "interval_check": interval_check(s.get("model_version"), num(s.get("reviewed_hours_share"))),
    }


def rates_short(source: str | None) -> str:
    """A few words for a ``rates_source`` in the headline ("3 peer customers, 75th percentile"; ``n/a`` when
    none is recorded); :func:`describe_rates_source` says it whole in the method section."""
    said = []
    for part in (source or "").split(";"):
        calibrated = re.fullmatch(r"calibrated:([a-z_]+)=\d+((?:,[a-z_]+=\d+)*)", part)
        peers = re.fullmatch(r"peers:p(\d+):n=(\d+)", part)
        default = re.fullmatch(r"default(?::([a-z_,]+))?", part)
        if calibrated:
            tiers = [calibrated.group(1)] + re.findall(r",([a-z_]+)=", calibrated.group(2))
            said.append("back-tests (" + ", ".join(charts.tier_name(t).lower() for t in tiers) + ")")
        elif peers:
            said.append(f"{peers.group(2)} peer customers, {peers.group(1)}th percentile")
        elif default:
            tiers = default.group(1)
            said.append("configured defaults" + (" (" + ", ".join(charts.tier_name(t).lower() for t in tiers.split(",")) + ")"
                                                 if tiers else ""))
        elif part:
            said.append(part)
    return "; ".join(said) or "n/a"


def describe_rates_source(source: str | None) -> str:
    """Plain words for a ``rates_source`` (``"default"``, ``"peers:p75:n=5"``, ``"peers:p75:n=5;default:action_led"``,
    any of them after ``"calibrated:informational=4;"``)."""
    calibrated = re.fullmatch(r"calibrated:([a-z_]+=\d+(?:,[a-z_]+=\d+)*)(?:;(.*))?", source or "")
    if calibrated:
        parts = [f"{charts.tier_name(t).lower()} from {n} customer{'s' if n != '1' else ''}"
                 for t, n in (p.split("=") for p in calibrated.group(1).split(","))]
        text = ("what customers achieved after shipping the lever (a percentile, by default the median, of their back-tests: "
                + "; ".join(parts) + ")")
        return text + ("; the other tiers: " + describe_rates_source(calibrated.group(2)) if calibrated.group(2) else "")
    match = re.fullmatch(r"peers:p(\d+):n=(\d+)(?:;default:([a-z_,]+))?", source or "")
    if match:
        pct, n, fallback = match.groups()
        text = (f"the peers: the {pct}th percentile of the automated rate in each tier among the {n} customers "
                "of this run whose exports record which conversations were automated")
        if fallback:
            names = ", ".join(charts.tier_name(t).lower() for t in fallback.split(","))
            text += f"; too few peers had outcome data for {names} requests, so those use the configured default"
        return text
    if source == "default":
        return "the configured default rates, because too few customers in this run had outcome data to learn from"
    return f"the rates source recorded as {source!r}" if source else "an unrecorded source"
