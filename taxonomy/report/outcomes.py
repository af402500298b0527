"""Predicted vs achieved on the report pages, from the published ``backtest/`` dataset.

- The customer page gets a "Predicted vs achieved" section when the customer has a back-test as of
  the page's date (:func:`backtest_context`).
- The portfolio lists predicted and achieved potential for every customer with a back-test and draws
  the calibration across customers (:func:`calibration_chart`): predicted on x, achieved on y, a
  point per customer for the full prediction and one for the prediction of the levers that shipped.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from taxonomy.report.charts import _layout, _text, _to_html, num, tier_name
from taxonomy.schema import BACKTEST_OUT, TIERS, conform
from taxonomy.storage import Store

__all__ = ["backtest_context", "calibration_chart", "load_backtest", "portfolio_outcomes"]

TOP_TOPICS = 8


def load_backtest(store: Store, day: date, customer_id: str) -> pl.DataFrame | None:
    """The customer's back-test as of ``day`` (only its own rows), or None."""
    frame = store.read_partition(store.partition("backtest", as_of=day, customer_id=customer_id))
    if frame is None or not frame.height:
        return None
    frame = conform(frame, BACKTEST_OUT).filter(pl.col("customer_id") == customer_id)
    return frame if frame.filter(pl.col("level") == "customer").height else None


def _summary(frame: pl.DataFrame) -> dict[str, Any]:
    c = frame.filter(pl.col("level") == "customer").row(0, named=True)
    return {**c, "levers": [tier_name(t) for t in (c["levers_shipped"] or [])]}


def backtest_context(frame: pl.DataFrame | None) -> dict[str, Any] | None:
    """What the customer page's "Predicted vs achieved" section shows (None: no back-test)."""
    if frame is None:
        return None
    tiers = [{**t, "name": tier_name(t["tier"]), "css": t["tier"]} for t in frame.filter(pl.col("level") == "tier")
             .iter_rows(named=True)]
    topics = frame.filter(pl.col("level") == "topic")
    biggest = topics.filter(pl.col("status") != "vanished").sort(["conversations", "topic_id"], descending=[True, False])
    unusual = topics.filter(pl.col("status").is_in(["vanished", "split", "new"])).sort(["status", "topic_id"])
    return {
        "summary": _summary(frame), "tiers": sorted(tiers, key=lambda t: TIERS.index(t["tier"])),
        "topics": [{**t, "tier_name": tier_name(t["tier"])} for t in biggest.head(TOP_TOPICS).iter_rows(named=True)],
        "unusual": _changes([dict(t) for t in unusual.iter_rows(named=True)],
                            dict(zip(topics["topic_id"].to_list(), topics["label"].to_list()))),
    }


def _changes(rows: list[dict[str, Any]], labels: dict[str, str | None]) -> list[dict[str, Any]]:
    """Each changed topic with what happened to it in words (``note``; ``labels``: every topic's
    name by id). A predicted topic with no conversations since is told with the new topics near it,
    not once more as vanished: one carries it on under a new id ("t0026, carries on t0013"), several
    split it ("t0027, split from t0010, which has had no conversations since")."""
    status = {r["topic_id"]: r["status"] for r in rows}
    successors: dict[str, int] = {}
    for r in rows:
        if r["status"] == "split" and status.get(r["split_from"]) == "vanished":
            successors[r["split_from"]] = successors.get(r["split_from"], 0) + 1
    out = []
    for r in rows:
        if r["topic_id"] in successors:
            continue
        parent = r["split_from"]
        named = f' "{labels[parent]}"' if parent and labels.get(parent) and labels[parent] != r.get("label") else ""
        if r["status"] == "split" and successors.get(parent) == 1:
            note = f"{r['topic_id']}, carries on {parent}{named}, which has had no conversations since"
        elif r["status"] == "split" and parent in successors:
            note = f"{r['topic_id']}, split from {parent}{named}, which has had no conversations since"
        elif r["status"] == "split":
            note = f"{r['topic_id']}, split from {parent}{named}"
        else:
            note = f"{r['topic_id']}, {r['status']}"
        out.append({**r, "note": note})
    return out


def calibration_chart(points: list[dict[str, Any]], div_id: str = "chart-calibration") -> str:
    """Scatter of predicted (x) against achieved (y) potential, one point per customer, with the diagonal."""
    def trace(key: str, name: str, symbol: str, color: str) -> dict[str, Any]:
        rows = [p for p in points if p.get(key) is not None and p.get("achieved_potential") is not None]
        return {
            "type": "scatter", "mode": "markers", "name": _text(name),
            "x": [round(100 * p[key], 2) for p in rows], "y": [round(100 * p["achieved_potential"], 2) for p in rows],
            "text": [_text(p["customer_id"]) for p in rows],
            "marker": {"size": 11, "symbol": symbol, "color": color, "line": {"width": 1, "color": "#333"}},
            "hovertemplate": "%{text}<br>predicted %{x:.1f}%<br>achieved %{y:.1f}%<extra>" + _text(name) + "</extra>",
        }

    top = max([100.0 * (p.get(k) or 0.0) for p in points for k in ("predicted_potential", "achieved_potential",
                                                                  "predicted_potential_shipped")] + [10.0])
    edge = min(100.0, top * 1.1 + 2)
    diagonal = {"type": "scatter", "mode": "lines", "x": [0, edge], "y": [0, edge], "name": "prediction came true",
                "line": {"dash": "dot", "color": "#8C8C8C"}, "hoverinfo": "skip"}
    data = [diagonal, trace("predicted_potential", "full potential predicted", "circle", "#0072B2"),
            trace("predicted_potential_shipped", "predicted for the levers shipped", "diamond", "#E69F00")]
    layout = _layout("Calibration: predicted vs achieved automation (share of conversations)", height=380,
                     xaxis={"title": {"text": "predicted (%)"}, "range": [0, edge]},
                     yaxis={"title": {"text": "achieved (%)"}, "range": [0, edge]})
    layout["legend"]["y"] = -0.3
    layout["legend"]["yanchor"] = "top"
    layout["margin"]["b"] = 90
    return _to_html({"data": data, "layout": layout}, div_id)


def portfolio_outcomes(store: Store, day: date, customers: list[str]) -> dict[str, dict[str, Any]]:
    """customer id -> back-test summary as of ``day``, for the customers that have one."""
    out = {}
    for cid in customers:
        frame = load_backtest(store, day, cid)
        if frame is not None:
            out[cid] = _summary(frame)
    return out


def error_note(summary: dict[str, Any]) -> str:
    """One sentence on how far the prediction was off, in words a CSM can repeat."""
    predicted, achieved = num(summary.get("predicted_potential")), num(summary.get("achieved_potential"))
    if predicted is None or achieved is None:
        return "No outcome data to compare with."
    levers = summary.get("levers") or []
    shipped = num(summary.get("predicted_potential_shipped"))
    text = f"Predicted {100 * predicted:.1f}%, achieved {100 * achieved:.1f}% of conversations"
    if not levers:
        return text + "; no lever has shipped yet, so the gap is expected."
    if shipped is not None:
        text += (f"; for the levers that shipped ({', '.join(levers).lower()}) the prediction was "
                 f"{100 * shipped:.1f}%, off by {100 * abs(shipped - achieved):.1f} points")
    return text + "."
