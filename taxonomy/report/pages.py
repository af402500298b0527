"""The CSM cockpit: one self-contained HTML page per customer, plus a portfolio page.

Reads only the published datasets (``scores/``, ``topics/``, ``trends/``,
``conversations/``) of one as-of date and writes

- ``<output>/[label=<l>/]reports/as_of=<date>/customer_id=<id>/index.html``
- ``<output>/[label=<l>/]reports/as_of=<date>/index.html`` (portfolio, relative links)

- ``<output>/[label=<l>/]reports/_assets/plotly-<sha256>.min.js`` (plotly.js, once for every page)

Pages are light (~100 KB) and offline: styles and chart data are inlined; plotly.js
(4.8 MB) is one shared file beside them, named by its SHA-256 and loaded by a
relative URL, written once and never overwritten (a new plotly gets a new name, so
older pages keep theirs). A Content-Security-Policy allows no network request and
no script but ours, so a page opens the same from a laptop folder or an object
store (copy the whole ``reports/`` folder; on S3 the files carry their content type).

Safety: all text from data is HTML-escaped by Jinja2 (autoescape); chart text
is escaped for Plotly and its JSON cannot close a ``<script>``
(:mod:`taxonomy.report.charts`). The CSP only lets the scripts this module
wrote run (by their SHA-256), so even a missed escape could not execute.
Each page reads one customer's partitions and keeps only that customer's rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from taxonomy.errors import TaxonomyError
from taxonomy.report import charts
from taxonomy.report.charts import SCRIPT_RE, environment, markup, with_csp
from taxonomy.report.context import (
    PAGE,
    CustomerData,
    customer_context,
    hours_to_win,
    portfolio_rows,
)
from taxonomy.schema import (
    CONVERSATIONS_OUT,
    SCORES_OUT,
    TOPICS_OUT,
    TRENDS_OUT,
    conform,
)
from taxonomy.storage import Store, validate_customer_id

REPORTS = "reports"
ASSETS = "_assets"  # beside the as_of= folders; "_" so no Hive reader takes it for a partition


def render_reports(
    output_uri: str,
    as_of: date | None = None,
    customers: list[str] | None = None,
    label: str | None = None,
) -> list[str]:
    """Render the customer pages and the portfolio page of one as-of date.

    Args:
        output_uri: Output root of a run (local path or ``s3://``).
        as_of: The as-of date to report; default: the latest published in ``scores/``.
        customers: Only these customers' pages (default: every customer with scores that day).
            The portfolio always lists every customer of the date.
        label: Output namespace (``label=<l>/``) to read from and write to.

    Returns:
        URIs of the pages written: customer pages in the order given (or sorted), then the portfolio.

    Raises:
        TaxonomyError: no published scores, unknown as-of date, invalid or unknown customer id.
    """
    store = Store(output_uri, label=label)
    day = resolve_as_of(store, as_of)
    published = store.list_partitions("scores", "customer_id", within=f"{store.dataset('scores')}/as_of={day}")
    published = [c for c in published if _valid(c)]
    wanted = _select_customers(store, day, published, customers)
    env, common = environment(), _common_context(day, label)
    if wanted:
        common["plotly_src"] = _write_plotly_asset(store, depth=2)
    written = [_render_customer_page(store, day, cid, env, common) for cid in wanted]
    written.append(_render_portfolio(store, day, published, wanted, env, common))
    return written


def _render_customer_page(store: Store, day: date, customer_id: str, env: Any, common: dict[str, Any]) -> str:
    """Render and write one customer's page; return its URI."""
    from taxonomy.report.outcomes import backtest_context, error_note, load_backtest

    scripts = charts.page_scripts()
    from taxonomy.report.review_panel import review_panel

    context = customer_context(load_customer(store, day, customer_id))
    context["backtest"] = backtest_context(load_backtest(store, day, customer_id))
    if context["backtest"]:
        context["backtest"]["note"] = error_note(context["backtest"]["summary"])
    context["review"] = review_panel(store, day, customer_id, context["s"])
    html = env.get_template("customer.html").render(**common, **context, scripts={k: markup(v) for k, v in scripts.items()})
    allowed = [*scripts.values(), *(body for chart in context["charts"].values() if chart for body in SCRIPT_RE.findall(chart))]
    return _write_page(store, f"{store.partition(REPORTS, as_of=day, customer_id=customer_id)}/{PAGE}", html, allowed,
                       (common["plotly_src"],))


def _write_plotly_asset(store: Store, depth: int) -> str:
    """Write the shared plotly.js file once (content-addressed: an existing one is the same bytes);
    return its URL relative to a page ``depth`` folders below ``reports/`` (customer 2, portfolio 1)."""
    name, data = charts.plotly_asset()
    path = f"{store.dataset(REPORTS)}/{ASSETS}/{name}"
    if not store.exists(path):
        store.write_bytes_atomic(path, data, content_type="text/javascript; charset=utf-8")
    return "../" * depth + f"{ASSETS}/{name}"


def _render_portfolio(
    store: Store, day: date, published: list[str], rendered: list[str], env: Any, common: dict[str, Any]
) -> str:
    """Render and write the portfolio page of every published customer; return its URI."""
    rows = portfolio_rows([
        (_scores_row(store, day, cid), hours_to_win(_read(store, "topics", day, cid, TOPICS_OUT))) for cid in published
    ])
    for row in rows:  # link only to pages that exist (a --customer run renders a subset)
        page = f"{store.partition(REPORTS, as_of=day, customer_id=row['customer_id'])}/{PAGE}"
        if row["customer_id"] not in rendered and not store.exists(page):
            row["href"] = None
    top = max((r["to_win_hours"] or 0.0 for r in rows), default=0.0)
    for row in rows:
        row["bar_width"] = round(100 * (row["to_win_hours"] or 0.0) / top, 1) if top > 0 else 0.0
    totals = {
        "total_to_win": sum(r["to_win_hours"] or 0.0 for r in rows),
        "total_conversations": sum(r["conversations"] or 0 for r in rows),
        "total_hours": sum(r["hours"] or 0.0 for r in rows),
    }
    from taxonomy.report.outcomes import calibration_chart, portfolio_outcomes

    outcomes = portfolio_outcomes(store, day, published)
    for row in rows:
        row["outcome"] = outcomes.get(row["customer_id"])
    chart = markup(calibration_chart(list(outcomes.values()))) if outcomes else None
    scripts = charts.page_scripts() if chart else {}
    src = _write_plotly_asset(store, depth=1) if chart else None
    html = env.get_template("portfolio.html").render(**{**common, "plotly_src": src}, rows=rows, **totals, calibration=chart,
                                                     outcomes=len(outcomes), scripts={k: markup(v) for k, v in scripts.items()})
    allowed = [*scripts.values(), *SCRIPT_RE.findall(chart)] if chart else []
    return _write_page(store, f"{store.partition(REPORTS, as_of=day)}/{PAGE}", html, allowed, (src,) if src else ())


def resolve_as_of(store: Store, as_of: date | None) -> date:
    """The as-of date to report: ``as_of`` if published, else the latest published date."""
    values = []
    for value in store.list_partitions("scores", "as_of"):
        try:
            values.append(date.fromisoformat(value))
        except ValueError:
            continue  # not a partition we wrote
    where = store.uri(store.dataset("scores"))
    if not values:
        raise TaxonomyError("no published scores: run `taxonomy run` first", file=where)
    if as_of is None:
        return max(values)
    if as_of not in values:
        known = ", ".join(d.isoformat() for d in sorted(values)[-5:])
        raise TaxonomyError(f"no scores published as of {as_of.isoformat()} (latest: {known})", file=where, field="as_of")
    return as_of


def _valid(customer_id: str) -> bool:
    try:
        validate_customer_id(customer_id)
    except TaxonomyError:
        return False
    return True


def _select_customers(store: Store, day: date, published: list[str], customers: list[str] | None) -> list[str]:
    if not customers:
        return published
    where = store.uri(f"{store.dataset('scores')}/as_of={day.isoformat()}")
    for cid in customers:
        validate_customer_id(cid)
        if cid not in published:
            raise TaxonomyError(f"unknown customer {cid!r}: no scores published as of {day}", file=where, field="customer_id")
    return list(dict.fromkeys(customers))


def _read(store: Store, name: str, day: date, customer_id: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """One published partition conformed to its schema (empty if absent), only this customer's rows."""
    frame = store.read_partition(store.partition(name, as_of=day, customer_id=customer_id))
    if frame is None:
        return pl.DataFrame(schema=schema)
    frame = conform(frame, schema)
    # Tenant isolation, belt and braces: a row of another customer never reaches this page.
    return frame.filter(pl.col("customer_id") == customer_id)


def _scores_row(store: Store, day: date, customer_id: str) -> dict[str, Any]:
    scores = _read(store, "scores", day, customer_id, SCORES_OUT)
    if scores.height == 0:
        raise TaxonomyError(f"scores partition of {customer_id} as of {day} is empty",
                            file=store.uri(store.partition("scores", as_of=day, customer_id=customer_id)))
    return scores.row(0, named=True)


def load_customer(store: Store, day: date, customer_id: str) -> CustomerData:
    """Read one customer's published partitions for ``day``, all from one publication (see
    :func:`taxonomy.publish.read_customer_outputs`: a page never mixes a promotion's old and new outputs)."""
    from taxonomy.publish import read_customer_outputs

    frames = read_customer_outputs(store, day, customer_id)

    def own(name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        frame = frames.get(name)
        return pl.DataFrame(schema=schema) if frame is None else conform(frame, schema).filter(pl.col("customer_id") == customer_id)

    scores = own("scores", SCORES_OUT)
    if scores.height == 0:
        raise TaxonomyError(f"scores partition of {customer_id} as of {day} is empty",
                            file=store.uri(store.partition("scores", as_of=day, customer_id=customer_id)))
    return CustomerData(customer_id=customer_id, scores=scores.row(0, named=True), topics=own("topics", TOPICS_OUT),
                        trends=own("trends", TRENDS_OUT), conversations=own("conversations", CONVERSATIONS_OUT))


def _common_context(day: date, label: str | None) -> dict[str, Any]:
    from taxonomy import __version__

    return {
        "as_of": day.isoformat(), "label": label, "pipeline_version": __version__,
        "plotly_version": charts.plotly_version(), "colors": charts.TIER_COLORS,
        "unknown_color": charts.UNKNOWN_TIER_COLOR,
    }


def _write_page(store: Store, path: str, html: str, allowed_scripts: list[str], sources: tuple[str, ...] = ()) -> str:
    store.write_bytes_atomic(path, with_csp(html, allowed_scripts, sources).encode("utf-8"),
                             content_type="text/html; charset=utf-8")
    return store.uri(path)
