"""taxonomy.ingest end to end on local landing folders: formats, quarantine, invariant, idempotency, CLI."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from taxonomy.cli import main
from taxonomy.config import Config, IngestConfig
from taxonomy.errors import TaxonomyError
from taxonomy.ingest import batch_id, ingest, print_report, read_export
from taxonomy.storage import Store

FIX = Path(__file__).parents[1] / "fixtures" / "ingest"
DAY = "2024-01-09"
ZD = {"zendesk.handle_time_field": "360028417751"}
COLS = ["conversation_id", "created_at", "updated_at", "text", "handle_time_seconds", "channel", "automated", "csat"]


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns or list(rows[0]), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def good_rows(n: int, prefix: str = "c", **extra: object) -> list[dict]:
    return [
        {"conversation_id": f"{prefix}{i}", "created_at": f"{DAY}T{8 + i % 10:02d}:{i % 60:02d}:00Z", "updated_at": "",
         "text": f"How do I change the delivery address for order {1000 + i}?", "handle_time_seconds": 60 + i,
         "channel": "chat", "automated": "false", "csat": "", **extra}
        for i in range(n)
    ]


@pytest.fixture()
def landing(tmp_path: Path) -> Path:
    """Three customers, three formats, one landing day."""
    root = tmp_path / "landing"
    (root / "acme" / DAY).mkdir(parents=True)
    shutil.copy(FIX / "generic_bom_crlf.csv", root / "acme" / DAY / "export.csv")
    (root / "loopdesk" / DAY).mkdir(parents=True)
    page = (FIX / "intercom_conversation_list.json").read_bytes()
    (root / "loopdesk" / DAY / "page-1.json").write_bytes(page)
    second = json.loads(page)
    for conv in second["conversations"]:
        conv["id"] = conv["id"] + "9"
    (root / "loopdesk" / DAY / "pull.jsonl.gz").write_bytes(gzip.compress(json.dumps(second).encode() + b"\n"))
    (root / "shopwave" / DAY).mkdir(parents=True)
    shutil.copy(FIX / "zendesk_incremental_tickets.json", root / "shopwave" / DAY / "tickets-001.json")
    (root / "_PROVENANCE.md").write_text("sample")
    return root


def read_raw(out: Path, customer: str, day: str = DAY) -> pl.DataFrame:
    """One conversations_raw partition as the pipeline reads it (customer_id put back from the path)."""
    from taxonomy.storage import Store

    store = Store(str(out))
    return store.read_partition(store.partition("conversations_raw", customer_id=customer, date=date.fromisoformat(day)))


def read_quarantine(out: Path) -> pl.DataFrame:
    files = sorted((out / "quarantine").rglob("part-0.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files]) if files else pl.DataFrame()


def test_landing_with_every_format(landing: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = ingest(str(landing), str(out), options=ZD)
    assert report.ok and not report.warnings
    by_name = {Path(f.file).name: f for f in report.files}
    assert by_name["export.csv"].accepted == 4 and by_name["export.csv"].format == "csv"
    assert by_name["page-1.json"].format == "intercom" and by_name["pull.jsonl.gz"].accepted == 3
    assert (by_name["tickets-001.json"].accepted, by_name["tickets-001.json"].skipped) == (2, 1)  # deleted ticket
    assert sorted((p[0], p[1], p[2]) for p in report.partitions) == [
        ("acme", date(2024, 1, 9), 4), ("loopdesk", date(2024, 1, 9), 6), ("shopwave", date(2024, 1, 9), 2)]
    acme = read_raw(out, "acme")
    assert acme.columns[:5] == ["customer_id", "conversation_id", "created_at", "updated_at", "text"]
    c2 = acme.filter(pl.col("conversation_id") == "c-2").row(0, named=True)
    assert c2["text"] == "I was charged twice for order 5521" and c2["handle_time_seconds"] == 1500.5
    assert c2["created_at"] == datetime(2024, 1, 9, 10, 30, tzinfo=UTC) and c2["automated"] is False
    c4 = acme.filter(pl.col("conversation_id") == "c-4").row(0, named=True)
    assert c4["created_at"] == datetime(2024, 1, 9, 8, 30, tzinfo=UTC)  # +05:30 offset -> UTC
    shop = read_raw(out, "shopwave")
    assert shop.get_column("handle_time_seconds").to_list() == [780.0, None]
    assert not (out / "quarantine").exists()
    assert str(landing) not in "".join(str(p) for p in (out / "conversations_raw").rglob("*"))  # no path leak


def test_reingest_is_idempotent(landing: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ingest(str(landing), str(out), options=ZD)
    first = {p: p.read_bytes() for p in sorted(out.rglob("*.parquet"))}
    report = ingest(str(landing), str(out), options=ZD)
    assert report.ok and {p: p.read_bytes() for p in sorted(out.rglob("*.parquet"))} == first


def test_reingest_reads_only_changed_customer_days(landing: Path, tmp_path: Path, monkeypatch) -> None:
    import taxonomy.ingest.landing as fl

    out = tmp_path / "out"
    write_csv(landing / "acme" / DAY / "bad.csv", [*good_rows(9, "b"), {**good_rows(1, "z")[0], "text": ""}], COLS)
    first = ingest(str(landing), str(out), options=ZD)
    before = {p: p.read_bytes() for p in sorted(out.rglob("*.parquet"))}
    reads: list[str] = []
    real = fl.read_export
    monkeypatch.setattr(fl, "read_export", lambda src, path, **kw: reads.append(Path(path).name) or real(src, path, **kw))
    again = ingest(str(landing), str(out), options=ZD)
    assert reads == [] and again.ok  # nothing changed: counted from the partitions' metadata
    assert again.totals() == first.totals() and sorted(again.partitions) == sorted(first.partitions)
    assert {p: p.read_bytes() for p in sorted(out.rglob("*.parquet"))} == before
    assert ingest(str(landing), str(out), options={}).ok and len(reads) == 5  # other settings: all read again
    reads.clear()
    ingest(str(landing), str(out), options=ZD)
    reads.clear()
    write_csv(landing / "acme" / DAY / "bad.csv", good_rows(10, "b"), COLS)  # one customer's day changes
    report = ingest(str(landing), str(out), options=ZD)
    assert sorted(reads) == ["bad.csv", "export.csv"] and report.ok and report.totals()["quarantined"] == 0
    reads.clear()
    shutil.rmtree(out / "quarantine")
    write_csv(landing / "acme" / DAY / "bad.csv", [*good_rows(9, "b"), {**good_rows(1, "z")[0], "text": ""}], COLS)
    ingest(str(landing), str(out), options=ZD)
    reads.clear()
    for batch in (out / "quarantine").rglob("part-0.parquet"):
        batch.unlink()  # a reported quarantine batch went missing: that day is ingested again
    ingest(str(landing), str(out), options=ZD)
    assert sorted(reads) == ["bad.csv", "export.csv"] and len(read_quarantine(out)) == 1


def test_a_bad_file_read_in_a_worker_process_is_named(tmp_path: Path) -> None:
    for i in range(8):
        write_csv(tmp_path / "landing" / f"cust{i}" / DAY / "x.csv", good_rows(3), COLS)
    write_csv(tmp_path / "landing" / "cust5" / DAY / "x.csv", good_rows(3), [c for c in COLS if c != "text"])
    with pytest.raises(TaxonomyError) as err:
        ingest(str(tmp_path / "landing"), str(tmp_path / "out"), config=Config(workers=2))
    assert err.value.file.endswith("cust5/2024-01-09/x.csv") and err.value.field == "text"


def test_each_bad_row_class_goes_to_quarantine(tmp_path: Path) -> None:
    rows = good_rows(40)
    bad = [
        {**rows[0], "conversation_id": "b1", "text": "  "},
        {**rows[0], "conversation_id": "b2", "created_at": "next tuesday"},
        {**rows[0], "conversation_id": "b3", "handle_time_seconds": "-12"},
        {**rows[0], "conversation_id": "b4", "handle_time_seconds": "NaN"},
        {**rows[0], "conversation_id": "b5", "handle_time_seconds": "inf"},
        {**rows[0], "conversation_id": "b6", "handle_time_seconds": "90000"},
        {**rows[0], "conversation_id": "dup", "text": "first version"},
        {**rows[0], "conversation_id": "dup", "text": "second version"},
    ]
    mixed_tz = {**rows[0], "conversation_id": "tz", "created_at": "2024-01-09T12:00:00+02:00"}
    path = write_csv(tmp_path / "landing" / "acme" / DAY / "x.csv", rows + bad + [mixed_tz], COLS)
    out = tmp_path / "out"
    report = ingest(str(tmp_path / "landing"), str(out))
    f = report.files[0]
    assert report.ok and (f.rows_in, f.accepted, f.quarantined) == (49, 41, 8)
    q = read_quarantine(out)
    reasons = dict(zip(q.get_column("conversation_id"), zip(q.get_column("field"), q.get_column("reason"))))
    assert reasons["b1"][0] == "text" and reasons["b2"][0] == "created_at"
    assert [reasons[k][0] for k in ("b3", "b4", "b5", "b6")] == ["handle_time_seconds"] * 4
    assert reasons["dup"][1].startswith("conflicting duplicate")
    assert set(q.get_column("source_file")) == {str(path)} and q.get_column("source_row").min() >= 41
    assert (out / "quarantine" / f"date={DAY}" / f"batch={batch_id(str(path))}" / "part-0.parquet").exists()
    tz = read_raw(out, "acme").filter(pl.col("conversation_id") == "tz").row(0, named=True)
    assert tz["created_at"] == datetime(2024, 1, 9, 10, tzinfo=UTC)


def test_a_broken_jsonl_line_is_quarantined_and_the_rest_ingested(tmp_path: Path) -> None:
    lines = [json.dumps(r) for r in good_rows(20)]
    lines.insert(7, lines[7][:25])  # a line cut short (a pull interrupted mid-write)
    path = tmp_path / "landing" / "acme" / DAY / "pull.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    report = ingest(str(tmp_path / "landing"), str(out))
    f = report.files[0]
    assert report.ok and (f.rows_in, f.accepted, f.quarantined) == (21, 20, 1)  # nothing lost
    q = read_quarantine(out).row(0, named=True)
    assert q["source_row"] == 8 and q["field"] == "record" and q["reason"].startswith("invalid JSON at line 8")
    assert read_raw(out, "acme").height == 20
    path.write_text("\n".join(lines[:2] + [line[:25] for line in lines[2:]]) + "\n")  # mostly broken: the file fails
    with pytest.raises(TaxonomyError, match="invalid JSON") as err:
        ingest(str(tmp_path / "landing"), str(tmp_path / "out2"))
    assert "pull.jsonl" in str(err.value) and "max_bad_row_share" in str(err.value)


def test_invalid_customer_ids_are_quarantined_never_paths(tmp_path: Path) -> None:
    rows = [{**r, "customer_id": "globex"} for r in good_rows(20)]
    rows += [{**rows[0], "conversation_id": "x1", "customer_id": "../../etc"},
             {**rows[0], "conversation_id": "x2", "customer_id": "a=b"}]
    write_csv(tmp_path / "landing" / DAY / "shared.csv", rows, ["customer_id", *COLS])  # shared drop folder
    write_csv(tmp_path / "landing" / "acme" / DAY / "a.csv",
              [*good_rows(10), {**good_rows(1)[0], "conversation_id": "y", "customer_id": "globex"}],
              ["customer_id", *COLS])
    out = tmp_path / "out"
    report = ingest(str(tmp_path / "landing"), str(out))
    assert report.ok and {p[0] for p in report.partitions} == {"acme", "globex"}
    q = read_quarantine(out)
    assert sorted(q.get_column("conversation_id")) == ["x1", "x2", "y"]
    assert "landing folder" in q.filter(pl.col("conversation_id") == "y").get_column("reason")[0]
    names = {p.name for p in out.rglob("*")}
    assert {n for n in names if n.startswith("customer_id=")} == {"customer_id=acme", "customer_id=globex"}
    assert not any("etc" in n for n in names) and all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))


def test_too_many_bad_rows_stop_the_file(tmp_path: Path) -> None:
    rows = good_rows(7) + [{**good_rows(1)[0], "conversation_id": f"b{i}", "created_at": "garbage"} for i in range(3)]
    write_csv(tmp_path / "landing" / "acme" / DAY / "x.csv", rows, COLS)
    with pytest.raises(TaxonomyError) as err:
        ingest(str(tmp_path / "landing"), str(tmp_path / "out"))
    assert err.value.field == "created_at" and "x.csv" in str(err.value) and "30%" in str(err.value)
    assert not (tmp_path / "out").exists()  # nothing written for the failing day
    lenient = Config(ingest=IngestConfig(max_bad_row_share=0.5))
    assert ingest(str(tmp_path / "landing"), str(tmp_path / "out"), config=lenient).totals()["quarantined"] == 3


def test_a_failing_day_leaves_earlier_days_written(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    write_csv(root / "acme" / "2024-01-08" / "x.csv", good_rows(5), COLS)
    write_csv(root / "acme" / "2024-01-09" / "x.csv", [{**r, "text": ""} for r in good_rows(5)], COLS)
    with pytest.raises(TaxonomyError, match="field 'text'"):
        ingest(str(root), str(tmp_path / "out"))
    assert read_raw(tmp_path / "out", "acme", "2024-01-08").height == 5
    assert not (tmp_path / "out" / "conversations_raw" / "customer_id=acme" / "date=2024-01-09").exists()


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("x.csv", b"conversation_id,created_at\n1,2024-01-01\n", "field 'text'"),
        ("x.csv", b"conversation_id,created_at,text\n1,2024-01-01,caf\xe9\n", "byte offset"),
        ("x.json", b'{"type": "conversation.list", "conversations": [{"id": "1", "crea', "invalid JSON"),
        ("x.parquet", b"PAR1 not really", "Parquet"),
        ("x.csv", b'a,b\n1,2,3\n"unclosed\n', "missing required column"),
        # An unclosed quote swallows the rest of the file into one row of the wrong width: too many bad rows.
        ("x.csv", b'conversation_id,created_at,text\n1,2024-01-01,hi\n2,"2024-01-01,unclosed\n3,2024-01-01,x\n',
         "fields where the header has 3"),
    ],
)
def test_batch_level_failures_name_the_file(tmp_path: Path, name: str, data: bytes, needle: str) -> None:
    path = tmp_path / "landing" / "acme" / DAY / name
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    with pytest.raises(TaxonomyError) as err:
        ingest(str(tmp_path / "landing"), str(tmp_path / "out"))
    assert needle in str(err.value) and name in str(err.value)


def test_empty_files_are_fine(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "acme" / DAY
    folder.mkdir(parents=True)
    for name in ("a.csv", "b.jsonl", "c.json", "d.jsonl.gz"):
        (folder / name).write_bytes(gzip.compress(b"") if name.endswith(".gz") else b"")
    (folder / "e.csv").write_text(",".join(COLS) + "\n")
    report = ingest(str(tmp_path / "landing"), str(tmp_path / "out"))
    assert report.ok and report.totals()["rows_in"] == 0 and report.partitions == []


def test_huge_text_is_truncated_not_fatal(tmp_path: Path) -> None:
    rows = good_rows(5)
    rows[0]["text"] = "refund please " * 800_000  # ~11 MB field
    write_csv(tmp_path / "landing" / "acme" / DAY / "x.csv", rows, COLS)
    report = ingest(str(tmp_path / "landing"), str(tmp_path / "out"))
    assert report.ok and report.totals()["accepted"] == 5
    assert read_raw(tmp_path / "out", "acme").get_column("text").str.len_chars().max() <= 20_000


def test_duplicates_across_files_latest_update_wins(tmp_path: Path) -> None:
    old = {**good_rows(1)[0], "conversation_id": "d", "updated_at": f"{DAY}T09:00:00Z", "text": "old wording"}
    new = {**old, "updated_at": f"{DAY}T10:00:00Z", "text": "new wording"}
    write_csv(tmp_path / "landing" / "acme" / DAY / "a.csv", [old, *good_rows(5, "a")], COLS)
    write_csv(tmp_path / "landing" / "acme" / DAY / "b.csv", [new, new, *good_rows(5, "b")], COLS)
    report = ingest(str(tmp_path / "landing"), str(tmp_path / "out"))
    assert report.ok and report.totals()["superseded"] == 2 and report.totals()["quarantined"] == 0
    kept = read_raw(tmp_path / "out", "acme").filter(pl.col("conversation_id") == "d")
    assert kept.get_column("text").to_list() == ["new wording"]


def test_bad_folders_are_skipped_with_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    write_csv(root / "acme" / DAY / "ok.csv", good_rows(3), COLS)
    write_csv(root / "bad..id" / DAY / "x.csv", good_rows(3), COLS)
    write_csv(root / "Zürich" / DAY / "x.csv", good_rows(3), COLS)
    write_csv(root / "acme" / "not-a-date" / "x.csv", good_rows(3), COLS)
    write_csv(root / "acme" / DAY / "deeper" / "x.csv", good_rows(3), COLS)
    (root / "acme" / DAY / "notes.txt").write_text("hi")
    report = ingest(str(root), str(tmp_path / "out"))
    assert [Path(f.file).name for f in report.files] == ["ok.csv"] and len(report.warnings) == 5
    assert sorted(p.name for p in (tmp_path / "out" / "conversations_raw").iterdir()) == ["customer_id=acme"]


def test_date_and_customer_selection(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    for day in ("2024-01-08", "2024-01-09", "2024-01-10"):
        write_csv(root / "acme" / day / "x.csv", good_rows(3), COLS)
        write_csv(root / "globex" / day / "x.csv", good_rows(3), COLS)
    write_csv(root / "2024-01-09" / "shared.csv", [{**r, "customer_id": c} for c in ("acme", "initech") for r in good_rows(2, "s")],
              ["customer_id", *COLS])
    report = ingest(str(root), str(tmp_path / "out"), start=date(2024, 1, 9), end=date(2024, 1, 9), customers=["acme"])
    assert report.ok and [(p[0], p[1], p[2]) for p in report.partitions] == [("acme", date(2024, 1, 9), 5)]
    shared = [f for f in report.files if f.file.endswith("shared.csv")][0]
    assert (shared.rows_in, shared.accepted, shared.skipped) == (4, 2, 2)
    with pytest.raises(TaxonomyError, match="invalid customer id"):
        ingest(str(root), str(tmp_path / "out"), customers=["../x"])
    with pytest.raises(TaxonomyError, match="after"):
        ingest(str(root), str(tmp_path / "out"), start=date(2024, 1, 10), end=date(2024, 1, 9))


def test_single_file_partitions_by_created_date(tmp_path: Path) -> None:
    rows = good_rows(4)
    rows[3]["created_at"] = "2024-01-10T01:00:00+03:00"  # still 2024-01-09 in UTC
    rows[2]["created_at"] = "2024-01-11T10:00:00Z"
    path = write_csv(tmp_path / "export.csv", rows, COLS)
    with pytest.raises(TaxonomyError, match="customer_id"):
        ingest(str(path), str(tmp_path / "out"))
    report = ingest(str(path), str(tmp_path / "out"), customers=["acme"], end=date(2024, 1, 10))
    assert report.ok and [(p[1], p[2]) for p in report.partitions] == [(date(2024, 1, 9), 3)]
    assert report.files[0].skipped == 1


def test_single_file_with_several_customers(tmp_path: Path) -> None:
    rows = [{**r, "customer_id": c} for c in ("acme", "globex") for r in good_rows(3, c)]
    rows.append({**good_rows(1, "n")[0], "customer_id": ""})  # blank and no --customer: quarantined
    path = write_csv(tmp_path / "acme" / DAY / "multi.csv", rows, ["customer_id", *COLS])
    report = ingest(str(path), str(tmp_path / "out"), config=Config(ingest=IngestConfig(max_bad_row_share=0.5)))
    assert report.ok and sorted((p[0], p[2]) for p in report.partitions) == [("acme", 3), ("globex", 3)]
    assert read_quarantine(tmp_path / "out").get_column("reason").to_list() == ["missing customer_id"]


def test_fixed_file_clears_its_quarantine_batch(tmp_path: Path) -> None:
    rows = good_rows(10)
    path = write_csv(tmp_path / "landing" / "acme" / DAY / "x.csv", [*rows, {**rows[0], "conversation_id": "z", "text": ""}], COLS)
    ingest(str(tmp_path / "landing"), str(tmp_path / "out"))
    assert len(read_quarantine(tmp_path / "out")) == 1
    write_csv(path, rows, COLS)
    ingest(str(tmp_path / "landing"), str(tmp_path / "out"))
    assert read_quarantine(tmp_path / "out").is_empty()


def test_a_day_is_never_marked_ingested_before_its_quarantine_is_written(tmp_path: Path, monkeypatch) -> None:
    """A run killed between the writes leaves no raw partition without its quarantine: a raw partition
    marks its day ingested (a retried Airflow ingest skips the day), so its quarantined rows would be lost."""
    rows = good_rows(10)
    write_csv(tmp_path / "landing" / "acme" / DAY / "x.csv", [*rows, {**rows[0], "conversation_id": "z", "text": ""}], COLS)
    real = Store.write_partition

    def killed_at_the_quarantine(self, df, folder, *args, **kwargs):  # noqa: ANN001, ANN202
        if "/quarantine/" in f"{folder}/":
            raise SystemExit("killed")
        return real(self, df, folder, *args, **kwargs)

    monkeypatch.setattr(Store, "write_partition", killed_at_the_quarantine)
    with pytest.raises(SystemExit):
        ingest(str(tmp_path / "landing"), str(tmp_path / "out"))
    assert not list((tmp_path / "out").rglob("conversations_raw/**/*.parquet"))
    monkeypatch.setattr(Store, "write_partition", real)
    report = ingest(str(tmp_path / "landing"), str(tmp_path / "out"))
    assert report.ok and len(read_quarantine(tmp_path / "out")) == 1 and read_raw(tmp_path / "out", "acme").height == 10


def test_read_export_contract(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", [*good_rows(9), {**good_rows(1)[0], "conversation_id": "q", "created_at": ""}], COLS)
    result = read_export(Store(str(tmp_path)), str(path), customer_id="acme")
    assert result.ok and result.rows_in == 10 and result.accepted.height == 9 and result.quarantined.height == 1
    assert result.accepted.schema["created_at"] == pl.Datetime("us", "UTC") and result.format == "csv"


def test_print_report(landing: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    print_report(ingest(str(landing), str(tmp_path / "out"), options=ZD))
    text = capsys.readouterr().out
    assert "acme/2024-01-09/export.csv" in text and "total" in text and "conversations_raw: 3 partitions" in text


def test_per_customer_source_options(landing: Path, tmp_path: Path) -> None:
    report = ingest(str(landing), str(tmp_path / "out"), customer_options={"shopwave": ZD})
    assert report.ok and read_raw(tmp_path / "out", "shopwave").get_column("handle_time_seconds").to_list() == [780.0, None]
    with pytest.raises(TaxonomyError, match="unknown source option"):
        ingest(str(landing), str(tmp_path / "out"), customer_options={"shopwave": {"zendesk.nope": "1"}})


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "landing" / "acme" / DAY / "x.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"tickets": [')
    assert main(["ingest", "--input", str(tmp_path / "landing"), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "x.json" in err and "invalid JSON" in err
    assert main(["ingest", "--input", str(tmp_path / "missing"), "--output", str(tmp_path / "out")]) == 2


def test_cli_ingest_with_zendesk_option(landing: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["ingest", "--input", str(landing), "--output", str(tmp_path / "out"),
                 "--column-map", "zendesk.handle_time_field=360028417751", "--customer", "shopwave"])
    assert code == 0 and "tickets-001.json" in capsys.readouterr().out
    assert read_raw(tmp_path / "out", "shopwave").get_column("handle_time_seconds").to_list() == [780.0, None]
