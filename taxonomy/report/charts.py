"""Plotly charts and HTML plumbing (Jinja2 environment, filters, CSP) for :mod:`taxonomy.report.pages`.

Each function takes the published frames of ONE customer and returns an HTML
snippet (a ``<div>`` and the ``<script>`` that draws into it). plotly.js itself
(4.8 MB) is one shared, content-addressed file beside the pages
(:func:`plotly_asset`: ``reports/_assets/plotly-<sha256>.min.js``), loaded by a
relative URL, never fetched from a CDN.

Safety: every string that comes from data (topic labels, tier names) goes
through :func:`_text` before it reaches a figure. Plotly renders a small
subset of HTML in labels and hover text (``<b>``, ``<br>``, ``<a href>``);
escaping first makes it show ``<script>`` literally. The figure JSON itself is
produced by ``plotly.io``, which writes ``<``, ``>`` and ``/`` as ``\\u003c``,
``\\u003e`` and ``\\u002f``, so no data can close the surrounding ``<script>``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import math
import re
from pathlib import Path
from typing import Any

import polars as pl

from taxonomy.publish import _apart as apart
from taxonomy.publish import _pts as points
from taxonomy.schema import TIERS

# One colour per tier, shared by every chart and the HTML (Okabe-Ito, colour-blind safe).
TIER_COLORS: dict[str, str] = {
    "informational": "#0072B2",
    "personalized": "#E69F00",
    "action_led": "#D55E00",
}
UNKNOWN_TIER_COLOR = "#8C8C8C"
TIER_NAMES: dict[str, str] = {
    "informational": "Informational",
    "personalized": "Personalized",
    "action_led": "Action-led",
}
# How many topics the handle-time bar chart shows; the rest are summed in its subtitle.
TOP_TOPICS_IN_CHART = 20
TEMPLATES = Path(__file__).parent / "templates"
SCRIPT_RE = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)
# No network at all (default-src 'none'); inline scripts only by hash, plus, where a page loads the
# shared plotly.js file, scripts of its own origin ('self': the folder tree on file://, the bucket
# when hosted); see with_csp.
CSP = ("default-src 'none'; script-src {sources}; style-src 'unsafe-inline'; img-src data: blob:; "
       "font-src data:; base-uri 'none'; form-action 'none'")
SCRIPT_TAG_RE = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)
SRC_RE = re.compile(r"""\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif", "size": 12}


def plotly_js() -> str:
    """The plotly.js bundle shipped with the installed ``plotly`` package."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@functools.lru_cache(maxsize=1)
def plotly_asset() -> tuple[str, bytes]:
    """File name and bytes of the shared plotly.js asset: the name pins the content by its SHA-256.

    A new plotly version gets a new name, so pages rendered earlier keep the bundle they were drawn with.
    """
    data = plotly_js().encode("utf-8")
    return f"plotly-{hashlib.sha256(data).hexdigest()[:20]}.min.js", data


def plotly_version() -> str:
    """Version of the installed ``plotly`` Python package."""
    import plotly

    return str(plotly.__version__)


def tier_color(tier: str | None) -> str:
    """The colour of a tier; grey for a missing or unknown tier."""
    return TIER_COLORS.get(tier or "", UNKNOWN_TIER_COLOR)


def tier_name(tier: str | None) -> str:
    """Human name of a tier ("Action-led"); unknown values are shown as they are (escaped later)."""
    if tier is None:
        return "unassigned"
    return TIER_NAMES.get(tier, str(tier))


def _text(value: object) -> str:
    """Escape a data string for Plotly's pseudo-HTML text renderer."""
    return html.escape("" if value is None else str(value), quote=True)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": _text(title), "x": 0, "xanchor": "left", "font": {"size": 15}},
        "template": "plotly_white",
        "font": _FONT,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        # Stacked bars reverse the legend by default; keep the tier order of every other chart.
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1, "traceorder": "normal"},
        "height": 340,
    }
    layout.update(extra)
    return layout


def _to_html(fig_dict: dict[str, Any], div_id: str) -> str:
    import plotly.graph_objects as go
    import plotly.io as pio

    fig = go.Figure(fig_dict)  # validates every property: a typo fails here, not silently in the browser
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, config=_CONFIG)


def weekly_by_tier(trends: pl.DataFrame) -> pl.DataFrame:
    """Conversations and handle hours per (week, tier), every tier present for every week.

    Args:
        trends: One customer's ``trends`` partition (``schema.TRENDS_OUT``).

    Returns:
        Columns ``week``, ``tier``, ``conversations``, ``hours``; sorted by week then tier order.
    """
    trends = trends.filter(pl.col("week").is_not_null())  # a row without a week cannot be placed
    if trends.height == 0:
        return pl.DataFrame(schema={"week": pl.Date(), "tier": pl.String(), "conversations": pl.Int64(), "hours": pl.Float64()})
    agg = trends.group_by("week", "tier").agg(
        pl.col("conversations").fill_null(0).sum(),
        (pl.col("handle_time_seconds").fill_null(0).sum() / 3600.0).alias("hours"),
    )
    tiers = [t for t in TIERS] + sorted({t for t in agg.get_column("tier").to_list() if t not in TIERS}, key=str)
    grid = agg.select("week").unique().join(pl.DataFrame({"tier": tiers}, schema={"tier": pl.String()}), how="cross")
    order = {t: i for i, t in enumerate(tiers)}
    out = grid.join(agg, on=["week", "tier"], how="left", nulls_equal=True).with_columns(
        pl.col("conversations").fill_null(0), pl.col("hours").fill_null(0.0)
    )
    return out.with_columns(pl.col("tier").replace_strict(order, default=len(order)).alias("_o")).sort("week", "_o").drop("_o")


def volume_chart(weekly: pl.DataFrame, div_id: str = "chart-volume") -> str:
    """Stacked bars: raw conversations per week, one segment per tier."""
    traces = []
    for tier in weekly.get_column("tier").unique(maintain_order=True).to_list():
        part = weekly.filter(pl.col("tier").eq_missing(tier))
        traces.append({
            "type": "bar",
            "name": _text(tier_name(tier)),
            "x": [d.isoformat() for d in part.get_column("week").to_list()],
            "y": part.get_column("conversations").to_list(),
            "marker": {"color": tier_color(tier)},
            "customdata": [round(h, 1) for h in part.get_column("hours").to_list()],
            "hovertemplate": "week of %{x}<br>%{y:,} conversations<br>%{customdata:,} agent hours<extra>"
            + _text(tier_name(tier)) + "</extra>",
        })
    layout = _layout("Conversations per week, by tier", barmode="stack",
                     xaxis={"type": "date", "tickformat": "%d %b", "title": {"text": "week starting"}},
                     yaxis={"title": {"text": "conversations"}, "rangemode": "tozero"})
    return _to_html({"data": traces, "layout": layout}, div_id)


def split_chart(weekly: pl.DataFrame, div_id: str = "chart-split") -> str:
    """100% stacked bars: each week's split by tier, of handle time (or of conversations when no handle time)."""
    by_hours = weekly.height > 0 and float(weekly.get_column("hours").sum()) > 0
    measure = "hours" if by_hours else "conversations"
    totals = weekly.group_by("week").agg(pl.col(measure).sum().alias("_total"))
    shares = weekly.join(totals, on="week").with_columns(
        pl.when(pl.col("_total") > 0).then(pl.col(measure) / pl.col("_total")).otherwise(0.0).alias("share")
    )
    traces = []
    for tier in weekly.get_column("tier").unique(maintain_order=True).to_list():
        part = shares.filter(pl.col("tier").eq_missing(tier)).sort("week")
        traces.append({
            "type": "bar",
            "name": _text(tier_name(tier)),
            "x": [d.isoformat() for d in part.get_column("week").to_list()],
            "y": part.get_column("share").to_list(),
            "marker": {"color": tier_color(tier)},
            "hovertemplate": "week of %{x}<br>%{y:.0%} of " + ("handle time" if by_hours else "conversations")
            + "<extra>" + _text(tier_name(tier)) + "</extra>",
        })
    title = "Split of handle time by tier, per week" if by_hours else "Split of conversations by tier, per week (no handle time recorded)"
    layout = _layout(title, barmode="stack",
                     xaxis={"type": "date", "tickformat": "%d %b", "title": {"text": "week starting"}},
                     yaxis={"tickformat": ".0%", "range": [0, 1], "title": {"text": "share"}})
    return _to_html({"data": traces, "layout": layout}, div_id)


def topics_chart(topics: pl.DataFrame, div_id: str = "chart-topics") -> str:
    """Horizontal bars: handle hours per topic, largest on top, each bar coloured by the topic's tier."""
    ranked = topics.with_columns((pl.col("handle_time_seconds").fill_null(0) / 3600.0).alias("hours")).sort(
        ["hours", "conversations", "topic_id"], descending=[True, True, False]
    )
    head, rest = ranked.head(TOP_TOPICS_IN_CHART), ranked.slice(TOP_TOPICS_IN_CHART)
    rows = head.select("topic_id", "label", "tier", "hours", "conversations").to_dicts()
    rows.reverse()  # Plotly draws the first category at the bottom
    names = _category_names(rows)
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [round(float(r["hours"]), 2) for r in rows],
        "y": names,
        "marker": {"color": [tier_color(r["tier"]) for r in rows]},
        "customdata": [[_text(tier_name(r["tier"])), int(r["conversations"] or 0)] for r in rows],
        "hovertemplate": "%{y}<br>%{x:,.1f} agent hours<br>%{customdata[1]:,} conversations<br>%{customdata[0]}<extra></extra>",
        "showlegend": False,
    }
    # Legend-only traces so the tier colours are explained once.
    legend = [{"type": "bar", "orientation": "h", "x": [None], "y": [None], "name": _text(tier_name(t)),
               "marker": {"color": TIER_COLORS[t]}, "showlegend": True, "hoverinfo": "skip"} for t in TIERS]
    height = max(260, 24 * len(rows) + 130)
    layout = _layout("Agent hours per topic, coloured by tier", height=height,
                     margin={"l": 260, "r": 20, "t": 60, "b": 45},
                     xaxis={"title": {"text": "agent hours in the window"}, "rangemode": "tozero"},
                     yaxis={"automargin": True, "tickfont": {"size": 11}})
    if rest.height:
        # The long tail is told in words, not drawn: one bar summing 80 small topics would dwarf the rest.
        total = float(ranked.get_column("hours").sum())
        tail = float(rest.get_column("hours").sum())
        layout["title"]["subtitle"] = {"text": _text(
            f"The {head.height} largest of {ranked.height} topics; the other {rest.height} hold {tail:,.0f} h"
            + (f" ({100 * tail / total:.0f}% of agent hours)" if total > 0 else "")
        )}
        layout["margin"]["t"] = 75
    return _to_html({"data": [trace, *legend], "layout": layout}, div_id)


def _category_names(rows: list[dict[str, Any]]) -> list[str]:
    """Escaped, shortened axis labels; the topic id is appended where two labels would collide."""
    short = [_shorten(str(r["label"] or r["topic_id"] or "?")) for r in rows]
    seen: dict[str, int] = {}
    for name in short:
        seen[name] = seen.get(name, 0) + 1
    return [_text(f"{name} [{r['topic_id']}]" if seen[name] > 1 and r["topic_id"] else name) for name, r in zip(short, rows)]


def _shorten(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def num(value: object) -> float | None:
    """A finite float, or None for null / NaN / infinite."""
    if value is None:
        return None
    out = float(value)  # type: ignore[arg-type]
    return out if math.isfinite(out) else None


# -- HTML plumbing -------------------------------------------------------------------------------------
def markup(snippet: str) -> Any:
    """Mark HTML as safe for Jinja2: only for HTML this module or plotly.io generated, never for data."""
    from markupsafe import Markup

    return Markup(snippet)  # noqa: S704


def _pct(value: object, digits: int = 1) -> str:
    number = num(value)
    return "n/a" if number is None else f"{100 * number:.{digits}f}%"


def _pts(value: object, digits: int = 1) -> str:
    return points(num(value), digits)


def _apart(value: object, digits: int = 1) -> str:
    return apart(num(value), digits)


def _hours(value: object, digits: int | None = None) -> str:
    """Hours with one decimal under 100 (``digits`` fixes the decimals: 0 for an estimate whose
    interval is many hours wide)."""
    number = num(value)
    if number is None:
        return "n/a"
    digits = (1 if abs(number) < 100 else 0) if digits is None else digits
    return f"{number:,.{digits}f} h"


def _count(value: object) -> str:
    number = num(value)
    return "n/a" if number is None else f"{int(number):,}"


def environment() -> Any:
    """The Jinja2 environment of the report templates: autoescaping on, undefined names an error."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every value from data is escaped unless explicitly marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=_pct, pts=_pts, apart=_apart, hours=_hours, count_fmt=_count)
    return env


@functools.lru_cache(maxsize=1)
def page_scripts() -> dict[str, str]:
    """The inline scripts a customer page may run besides its charts: Plotly's config and the print helper."""
    return {
        "plotly_config": 'window.PlotlyConfig = {MathJaxConfig: "local"};',
        "print": (TEMPLATES / "print.js").read_text(encoding="utf-8"),
    }


def with_csp(page: str, allowed_scripts: list[str], allowed_sources: tuple[str, ...] = ()) -> str:
    """Insert a Content-Security-Policy that runs only ``allowed_scripts`` and allows no network request.

    The hashes come from the scripts this module generated, never from the rendered page, so a
    script that data smuggled in (were escaping ever to fail) would not run; and the page is refused
    outright if it holds any inline script that is not on the list, or a ``<script src>`` other than
    ``allowed_sources`` (the shared plotly.js file, by its relative URL). With such a source the
    policy adds ``'self'``: the page's own folder tree (file://) or bucket, never another host.

    Raises:
        RuntimeError: the page holds a script that is not allowed (a bug, never a user error).
    """
    stray = []
    for attrs, body in SCRIPT_TAG_RE.findall(page):
        src = SRC_RE.search(attrs)
        if src is None:
            ok = body in allowed_scripts
        else:
            ok = not body.strip() and src.group(1) in allowed_sources
        if not ok:
            stray.append((src.group(1) if src else body)[:80])
    if stray:
        raise RuntimeError(f"refusing to write a report page with unexpected scripts: {stray!r}")
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii") + "'"
        for body in dict.fromkeys(allowed_scripts)
    ]
    sources = " ".join((["'self'"] if allowed_sources else []) + hashes) or "'none'"
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP.format(sources=sources)}">'
    return page.replace("<!--CSP-->", meta, 1)
