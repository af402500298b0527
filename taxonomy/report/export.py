"""``taxonomy export``: one customer's results as a spreadsheet a CSM can forward.

Reads the same published partitions as the customer page (``scores/``, ``topics/``,
``trends/`` of one as-of date, only that customer's rows) and writes four tables:

- **Summary**: the headline scores and the tier mix,
- **Ladder**: what each automation lever unlocks, cumulatively,
- **Topics**: every topic by hours automation could still win, with its next best action,
- **Weekly trend**: conversations and agent hours per week, by tier.

``.xlsx`` (openpyxl): one sheet per table, numbers stored as numbers, shares as fractions shown
with a percent format, dates as dates, header row frozen and filterable, column widths set.
``.csv``: the four tables one after another, each under a ``# Title`` line and separated by a
blank line; shares are fractions (0-1), as in the Parquet outputs. Written atomically.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from taxonomy.errors import TaxonomyError
from taxonomy.report import charts
from taxonomy.report.context import LEVER_NAMES, hours_to_win, ladder
from taxonomy.report.pages import load_customer
from taxonomy.schema import TIER_LEVERS, TIERS
from taxonomy.storage import Store, validate_customer_id

# Column kinds -> Excel number formats.
FORMATS = {"int": "#,##0", "hours": "#,##0.0", "pct": "0.0%", "pts": "+0.0%;-0.0%;0.0%", "date": "yyyy-mm-dd", "text": "@"}
MAX_WIDTH = 60


@dataclass(frozen=True)
class Table:
    """One sheet: a title, ``(header, kind)`` columns and rows of plain Python values (None = empty)."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[list[Any]]


def export_customer(output_uri: str, customer_id: str, to: str, *, as_of: date | None = None,
                    label: str | None = None) -> str:
    """Write one customer's scores, ladder, topics and weekly trend to ``to`` (.xlsx or .csv).

    Args:
        output_uri: Output root of a run (local path or ``s3://``).
        customer_id: The customer.
        to: Local file to write; its suffix (``.xlsx`` or ``.csv``) picks the format.
        as_of: The as-of date; default: the latest with published scores for this customer.
        label: Output namespace (``label=<l>/``) to read from.

    Returns:
        The path written.

    Raises:
        TaxonomyError: unknown suffix, invalid or unknown customer, no scores for ``as_of``,
            or a file that cannot be written.
    """
    from taxonomy.publish import latest_as_of, read_published

    suffix = Path(to).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise TaxonomyError(f"cannot export to {to!r}: the file name must end in .xlsx or .csv", field="to")
    validate_customer_id(customer_id)
    store = Store(output_uri, label=label)
    day = as_of or latest_as_of(store, customer_id)
    read_published(store, "scores", day, customer_id)  # one clear error when this customer has none that day
    tables = customer_tables(load_customer(store, day, customer_id), day)
    data = to_xlsx(tables) if suffix == ".xlsx" else to_csv(tables).encode("utf-8")
    _write_atomic(Path(to), data)
    return str(to)


def customer_tables(data: Any, day: date) -> list[Table]:
    """The four tables of one customer (``data``: :class:`taxonomy.report.context.CustomerData`)."""
    return [_summary(data, day), _ladder(data.scores), _topics(data.topics), _weekly(data.trends)]


def _summary(data: Any, day: date) -> Table:
    s = data.scores
    rows: list[list[Any]] = [
        ["Customer", data.customer_id, "text"],
        ["As of", day, "date"],
        ["Window start", s["window_start"], "date"],
        ["Window end", s["window_end"], "date"],
        ["Conversations", s["conversations"], "int"],
        ["Agent hours in the window", s["handle_time_hours"], "hours"],
        ["Conversations without handle time", s["missing_handle_time_share"], "pct"],
        ["Automation potential (share of agent hours)", s["automation_potential"], "pct"],
        ["Automation potential (agent hours per month)", s["automation_potential_hours_per_month"], "hours"],
        ["Automation potential (share of conversations)", s["automation_potential_volume"], "pct"],
        ["Automated today (share of conversations)", s["current_automation_rate"], "pct"],
        ["Gap (potential minus automated today)", s["automation_gap"], "pts"],
        ["Still to win (agent hours per month)", hours_to_win(data.topics), "hours"],
    ]
    for tier in TIERS:
        name = charts.tier_name(tier)
        rows.append([f"{name}: share of conversations", s[f"volume_share_{tier}"], "pct"])
        rows.append([f"{name}: share of agent hours", s[f"handle_time_share_{tier}"], "pct"])
    rows += [["Achievable rates from", s["rates_source"], "text"], ["Tier model", s["model_version"], "text"],
             ["Run", s["run_id"], "text"]]
    return Table("Summary", [("Measure", "text"), ("Value", "mixed")], [[m, _plain(v), k] for m, v, k in rows])


def _ladder(scores: dict[str, Any]) -> Table:
    rows, previous = [], 0.0
    for step, tier in zip(ladder(scores), TIERS):
        value = charts.num(step["value"])
        rows.append([f"{len(rows) + 1}. {step['label']}", LEVER_NAMES[TIER_LEVERS[tier]], charts.tier_name(tier), value,
                     None if value is None else round(value - previous, 12)])
        previous = value if value is not None else previous
    return Table("Ladder", [("Step", "text"), ("Lever", "text"), ("Answers requests that are", "text"),
                            ("Potential, cumulative (share of agent hours)", "pct"), ("Gain", "pts")], rows)


def _topics(topics: pl.DataFrame) -> Table:
    ordered = topics.sort(["rank", "hours_to_win", "topic_id"], descending=[False, True, False], nulls_last=True)
    rows = [[
        t["rank"], t["topic_id"], t["label"] or t["topic_id"], charts.tier_name(t["tier"]),
        ", ".join(k for k in (t["keywords"] or []) if k), t["conversations"],
        None if charts.num(t["handle_time_seconds"]) is None else t["handle_time_seconds"] / 3600.0,
        charts.num(t["handle_time_share"]), charts.num(t["current_automation_rate"]),
        charts.num(t["automation_potential"]), charts.num(t["hours_to_win"]), t["next_best_action"], t["action_kind"],
    ] for t in ordered.iter_rows(named=True)]
    return Table("Topics", [
        ("Rank", "int"), ("Topic id", "text"), ("Topic", "text"), ("Tier", "text"), ("Keywords", "text"),
        ("Conversations", "int"), ("Agent hours", "hours"), ("Share of agent hours", "pct"),
        ("Automated now", "pct"), ("Potential (share of its hours)", "pct"), ("Still to win (hours per month)", "hours"),
        ("Next best action", "text"), ("Action kind", "text"),
    ], rows)


def _weekly(trends: pl.DataFrame) -> Table:
    weekly = charts.weekly_by_tier(trends)
    tiers = [t for t in weekly.get_column("tier").unique(maintain_order=True).to_list()]
    columns = [("Week starting", "date"), ("Conversations", "int")]
    columns += [(f"{charts.tier_name(t)} conversations", "int") for t in tiers]
    columns += [("Agent hours", "hours")] + [(f"{charts.tier_name(t)} agent hours", "hours") for t in tiers]
    rows = []
    for week in weekly.get_column("week").unique(maintain_order=True).to_list():
        part = weekly.filter(pl.col("week") == week)
        by = {r["tier"]: r for r in part.iter_rows(named=True)}
        rows.append([week, int(part.get_column("conversations").sum()), *(int(by[t]["conversations"]) for t in tiers),
                     float(part.get_column("hours").sum()), *(float(by[t]["hours"]) for t in tiers)])
    return Table("Weekly trend", columns, rows)


def _plain(value: Any) -> Any:
    """A finite number, a date or text; None for null/NaN."""
    if isinstance(value, float):
        return charts.num(value)
    return value


# -- writers ---------------------------------------------------------------------------------------------------
def to_xlsx(tables: list[Table]) -> bytes:
    """An .xlsx workbook with one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.title)
        sheet.append([header for header, _ in table.columns])
        for cell in sheet[1]:
            cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="E8ECF2")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        mixed = table.columns[-1][1] == "mixed"  # Summary: the kind travels with each row
        for values in table.rows:
            kinds = [k for _, k in table.columns[:-1]] + [values[-1]] if mixed else [k for _, k in table.columns]
            sheet.append([v for v in (values[:-1] if mixed else values)])
            for cell, kind in zip(sheet[sheet.max_row], kinds):
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text from data is never a formula ("=HYPERLINK(...)" stays text)
                if cell.value is not None:
                    cell.number_format = FORMATS.get(kind, "General")
        for index, (header, _) in enumerate(table.columns, start=1):
            cells = [sheet.cell(row=r, column=index) for r in range(2, sheet.max_row + 1)]
            longest = max([len(_shown(c.value, c.number_format)) for c in cells] + [min(len(header), 24)])
            sheet.column_dimensions[get_column_letter(index)].width = max(9, min(longest + 2, MAX_WIDTH))
        sheet.freeze_panes = "A2"
        if table.rows:
            sheet.auto_filter.ref = sheet.dimensions
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _shown(value: Any, number_format: str) -> str:
    """Roughly how wide a value looks in its format (for column widths)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{100 * value:,.1f}%" if "%" in number_format else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def to_csv(tables: list[Table]) -> str:
    """The tables one after another: ``# Title``, a header row, the rows, then a blank line."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for table in tables:
        mixed = table.columns[-1][1] == "mixed"
        writer.writerow([f"# {table.title}"])
        writer.writerow([header for header, _ in table.columns])
        for values in table.rows:
            writer.writerow([_csv_cell(v) for v in (values[:-1] if mixed else values)])
        writer.writerow([])
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    """A CSV field: dates in ISO form, floats without binary noise, text never read as a formula.

    Spreadsheets run a field that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage
    return) as a formula; such text gets a leading apostrophe (OWASP's advice on CSV injection).
    """
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 10)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write_atomic(path: Path, data: bytes) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise TaxonomyError(f"cannot write {path}: folder {folder} does not exist", file=str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as a plain open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        if "tmp" in locals() and os.path.exists(tmp):
            os.unlink(tmp)
        raise TaxonomyError(f"cannot write {path}: {exc.strerror or exc}", file=str(path)) from None
