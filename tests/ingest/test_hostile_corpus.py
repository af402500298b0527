"""A fixed corpus of awkward but legal exports runs end to end: nothing lost, nothing crashes."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from taxonomy.config import Config
from taxonomy.ingest import ingest
from taxonomy.pipeline import run
from taxonomy.storage import Store

AS_OF = date(2026, 3, 1)
DAY = "2026-02-28"


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "landing"

    def put(customer: str, name: str, data: str | bytes) -> None:
        path = root / customer / DAY / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))

    # One conversation only.
    put("solo", "x.csv", "conversation_id,created_at,text,handle_time_seconds\n1,2026-02-28T10:00:00Z,where is my order,300\n")
    # Every text identical, nulls in every optional column, an extra column nobody asked for.
    rows = [
        {"conversation_id": str(i), "created_at": "2026-02-28T10:00:00+02:00", "text": "cancel my plan",
         "handle_time_seconds": None, "channel": None, "automated": None, "csat": None, "favourite_colour": "teal"}
        for i in range(12)
    ]
    put("same", "x.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    # Non-English text, mixed timestamp formats and zones, CRLF line ends and a BOM.
    lines = [
        "conversation_id,created_at,text,handle_time_seconds",
        "a,2026-02-28 09:00:00,¿Dónde está mi pedido 4411?,200",
        "b,1772272800,Ich möchte mein Abo kündigen,900",
        "c,2026-02-28T11:00:00-05:00,注文をキャンセルしたい,600",
        "d,28/02/2026 12:00,Où est mon remboursement ?,400",  # day/month or month/day? quarantined
        "e,2026-02-28T13:00:00.123456Z,Wo ist meine Rechnung?,300",
        "f,2026-02-28T14:00:00+0100,quiero un reembolso por favor,500",
        "g,2026-02-28,my order never arrived,700",
        "h,2026-02-28T16:00:00Z,  lots   of\tspace   and\u00a0odd whitespace ,100",
    ]
    put("intl", "x.csv", "\ufeff" + "\r\n".join(lines) + "\r\n")
    return root


def test_corpus_runs_end_to_end_and_keeps_every_row(corpus: Path, tmp_path: Path) -> None:
    cfg = dataclasses.replace(Config(), embedding_backend="hashing", window_days=7)
    report = ingest(str(corpus), str(tmp_path / "check"), config=cfg)
    totals = report.totals()
    assert report.ok and totals["rows_in"] == 1 + 12 + 8 and totals["quarantined"] == 1
    reasons = [r for f in report.files for r in f.reasons]
    assert any("timestamp" in str(r) for r in reasons)
    assert totals["rows_in"] == totals["accepted"] + totals["quarantined"] + totals["superseded"] + totals["skipped"]

    out = tmp_path / "out"
    result = run(str(corpus), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert not result.failed
    store = Store(str(out))
    for cid in ("solo", "same", "intl"):
        scores = store.read_partition(store.partition("scores", as_of=AS_OF, customer_id=cid))
        conversations = store.read_partition(store.partition("conversations", as_of=AS_OF, customer_id=cid))
        assert scores is not None and conversations is not None, cid
        assert conversations["topic_id"].null_count() == 0
    same = store.read_partition(store.partition("topics", as_of=AS_OF, customer_id="same"))
    assert same.height == 1 and same["conversations"][0] == 12  # identical texts: one topic
    solo = store.read_partition(store.partition("scores", as_of=AS_OF, customer_id="solo")).row(0, named=True)
    assert solo["conversations"] == 1 and solo["handle_time_hours"] == pytest.approx(300 / 3600)
    intl = store.read_partition(store.partition("conversations", as_of=AS_OF, customer_id="intl"))
    assert intl.height == 7 and "Ich möchte mein Abo kündigen" in intl["text"].to_list()
    assert intl.schema["created_at"] == pl.Datetime("us", "UTC")
