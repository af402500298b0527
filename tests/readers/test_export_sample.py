"""``taxonomy export`` on the bundled sample: every customer, .xlsx read back with openpyxl, and .csv."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from taxonomy.cli import main
from taxonomy.publish import read_published
from taxonomy.storage import Store


def test_export_every_sample_customer(sample_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(str(sample_root))
    ids = sorted(p.name.split("=", 1)[1] for p in (sample_root / "scores").glob("as_of=*/customer_id=*"))
    assert len(ids) >= 3
    for cid in ids:
        xlsx, table = tmp_path / f"{cid}.xlsx", tmp_path / f"{cid}.csv"
        assert main(["export", "--output", str(sample_root), "--customer", cid, "--to", str(xlsx)]) == 0
        assert main(["export", "--output", str(sample_root), "--customer", cid, "--to", str(table)]) == 0
        assert capsys.readouterr().out.splitlines() == [str(xlsx), str(table)]
        book = openpyxl.load_workbook(xlsx)
        summary = {r[0].value: r[1] for r in book["Summary"].iter_rows(min_row=2)}
        as_of = summary["As of"].value.date()
        scores = read_published(store, "scores", as_of, cid).row(0, named=True)
        topics = read_published(store, "topics", as_of, cid)
        assert summary["Customer"].value == cid
        assert summary["Automation potential (share of agent hours)"].value == pytest.approx(scores["automation_potential"])
        assert summary["Automation potential (share of agent hours)"].number_format == "0.0%"
        assert summary["Conversations"].value == scores["conversations"]
        rows = list(book["Topics"].iter_rows(min_row=2, values_only=True))
        assert len(rows) == topics.height and [r[0] for r in rows] == sorted(topics.get_column("rank").to_list())
        header = [c.value for c in book["Topics"][1]]
        actions = [r[header.index("Next best action")] for r in rows]
        assert all(isinstance(a, str) and a for a in actions)
        weekly = list(book["Weekly trend"].iter_rows(min_row=2, values_only=True))
        assert weekly and all(isinstance(r[1], int) for r in weekly)
        lines = list(csv.reader(table.open()))
        assert [r[0] for r in lines if r and r[0].startswith("# ")] == ["# Summary", "# Ladder", "# Topics", "# Weekly trend"]
