"""``taxonomy export``: the customer spreadsheet, read back with openpyxl, and its CSV twin."""

from __future__ import annotations

import csv
import os
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from taxonomy.cli import main
from taxonomy.report.export import export_customer
from taxonomy.storage import Store
from tests.report.test_report import AS_OF, CUSTOMERS, OLDER, SCRIPT, write_fixture

FORMULA = "=HYPERLINK(\"http://evil.example\",\"click\")"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export")
    store = write_fixture(str(root))
    # A topic label that a spreadsheet would run as a formula if it were written as one.
    folder = store.partition("topics", as_of=AS_OF, customer_id="globex")
    topics = store.read_partition(folder)
    store.write_partition(topics.with_columns(pl.when(pl.col("rank") == 1).then(pl.lit(FORMULA))
                                              .otherwise(pl.col("label")).alias("label")), folder)
    return root


def _sheet_rows(sheet) -> list[list]:  # noqa: ANN001 - openpyxl worksheet
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_xlsx_round_trip(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "acme.xlsx"
    assert export_customer(str(published), "acme-bank", str(out)) == str(out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # like any file the user creates
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Summary", "Ladder", "Topics", "Weekly trend"]

    summary = {r[0]: r[1] for r in _sheet_rows(book["Summary"])[1:]}
    assert summary["Customer"] == "acme-bank" and summary["As of"] == datetime(2026, 3, 2)  # a date cell
    assert summary["Automation potential (share of agent hours)"] == pytest.approx(0.55)
    assert summary["Automated today (share of conversations)"] == pytest.approx(0.12)
    assert summary["Conversations"] == 4 * 20 * 4 and isinstance(summary["Conversations"], int)
    cells = {c[0].value: c[1] for c in book["Summary"].iter_rows(min_row=2)}
    assert cells["Automation potential (share of agent hours)"].number_format == "0.0%"
    assert cells["As of"].number_format == "yyyy-mm-dd" and cells["Agent hours in the window"].number_format == "#,##0.0"

    ladder = _sheet_rows(book["Ladder"])
    assert [r[0] for r in ladder[1:]] == ["1. Knowledge content", "2. + data connectors", "3. + procedures"]
    assert ladder[3][3] == pytest.approx(0.4 * 0.35 + 0.35 * 0.6 + 0.25 * 0.6 * 0 + 0.2 * 0.8 + 0.15 * 0.8, abs=0.2)
    assert sum(r[4] for r in ladder[1:]) == pytest.approx(ladder[3][3])  # the gains add up to the last step

    topics = _sheet_rows(book["Topics"])
    header = topics[0]
    assert header[:4] == ["Rank", "Topic id", "Topic", "Tier"] and "Next best action" in header
    assert [r[0] for r in topics[1:]] == [1, 2, 3, 4]
    first = dict(zip(header, topics[1]))
    assert first["Topic"] == f"card disputes {SCRIPT}"  # text from data stays text, unescaped in a spreadsheet
    assert first["Agent hours"] == pytest.approx(0.40 * 400.0) and first["Share of agent hours"] == pytest.approx(0.40)
    assert first["Next best action"].startswith("Write a procedure for card disputes")
    pct = book["Topics"].cell(row=2, column=header.index("Share of agent hours") + 1)
    assert pct.number_format == "0.0%" and isinstance(pct.value, float)

    weekly = _sheet_rows(book["Weekly trend"])
    assert weekly[0][:2] == ["Week starting", "Conversations"] and len(weekly) == 1 + 4
    assert weekly[1][0] == datetime(2026, 2, 2)
    assert weekly[1][1] == sum(weekly[1][2:5])  # total = the tiers' sum

    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        widths = [sheet.column_dimensions[c].width for c in "ABC"[: sheet.max_column]]
        assert all(8 <= w <= 62 for w in widths), (sheet.title, widths)


def test_text_is_never_a_formula(published: Path, tmp_path: Path) -> None:
    xlsx, csv_path = tmp_path / "g.xlsx", tmp_path / "g.csv"
    export_customer(str(published), "globex", str(xlsx))
    export_customer(str(published), "globex", str(csv_path))
    cell = openpyxl.load_workbook(xlsx)["Topics"].cell(row=2, column=3)
    assert cell.value == FORMULA and cell.data_type == "s"
    assert f"'{FORMULA}" in [row[2] for row in csv.reader(csv_path.open()) if len(row) > 2]


def test_csv_has_the_same_tables(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "acme.csv"
    assert main(["export", "--output", str(published), "--customer", "acme-bank", "--as-of", str(OLDER),
                 "--to", str(out)]) == 0
    sections, current = {}, None
    for row in csv.reader(out.open()):
        if row and row[0].startswith("# "):
            current = sections.setdefault(row[0][2:], [])
        elif row:
            current.append(row)
    assert list(sections) == ["Summary", "Ladder", "Topics", "Weekly trend"]
    summary = dict(r[:2] for r in sections["Summary"][1:])
    assert summary["As of"] == str(OLDER) and float(summary["Automation potential (share of agent hours)"]) == 0.55
    assert len(sections["Topics"]) == 1 + len(CUSTOMERS["acme-bank"][3])


@pytest.mark.parametrize(("argv", "message"), [
    (["--customer", "acme-bank", "--to", "x.pdf"], "must end in .xlsx or .csv"),
    (["--customer", "nobody", "--to", "x.xlsx"], "no published scores for customer nobody"),
    (["--customer", "../etc", "--to", "x.xlsx"], "invalid customer id"),
    (["--customer", "acme-bank", "--as-of", "2020-01-01", "--to", "x.xlsx"], "no scores for customer acme-bank as of 2020-01-01"),
    (["--customer", "acme-bank", "--to", "missing-folder/x.xlsx"], "folder missing-folder does not exist"),
])
def test_bad_input_is_one_clear_line(published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--output", str(published), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("taxonomy export: error:"), err
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_label_namespace(tmp_path: Path) -> None:
    write_fixture(str(tmp_path / "out"))
    labelled = Store(str(tmp_path / "out"), label="exp-1")
    prod = Store(str(tmp_path / "out"))
    for name in ("scores", "topics", "trends", "conversations"):
        frame = prod.read_partition(prod.partition(name, as_of=AS_OF, customer_id="initech"))
        if "as_of" in frame.columns:
            frame = frame.with_columns(pl.lit(date(2026, 3, 9)).alias("as_of"))
        labelled.write_partition(frame, labelled.partition(name, as_of=date(2026, 3, 9), customer_id="initech"))
    out = tmp_path / "i.xlsx"
    export_customer(str(tmp_path / "out"), "initech", str(out), label="exp-1")
    summary = {r[0]: r[1] for r in _sheet_rows(openpyxl.load_workbook(out)["Summary"])[1:]}
    assert summary["As of"] == datetime(2026, 3, 9)
