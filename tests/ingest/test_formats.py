"""Readers and row-level normalisation: taxonomy.ingest.formats, formats_clean, formats_vendor."""

from __future__ import annotations

import gzip
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from taxonomy.config import Config
from taxonomy.errors import TaxonomyError
from taxonomy.ingest.formats import decode_text, read_bytes
from taxonomy.ingest.records import ERROR_KEY, SKIP_KEY
from taxonomy.ingest.clean import clean_record, clean_text, html_to_text, parse_handle_time, parse_timestamp
from taxonomy.ingest.vendor import detect

FIX = Path(__file__).parents[1] / "fixtures" / "ingest"
CFG = Config()


def _read(name: str, **kw):  # noqa: ANN202
    path = FIX / name
    return read_bytes(path.read_bytes(), str(path), **kw)


# -- text ---------------------------------------------------------------------------------------
def test_html_to_text_keeps_breaks_and_unescapes() -> None:
    html = "<p>Hi there,</p><p>How do I <b>export</b> invoices as CSV &amp; PDF?</p><div>a<br>b</div>"
    text = clean_text(html, 1000)
    assert text == "Hi there,\nHow do I export invoices as CSV & PDF?\na\nb"


def test_html_script_content_dropped_and_plain_angle_brackets_kept() -> None:
    assert "alert" not in html_to_text("<script>alert(1)</script>hello")
    assert clean_text("order <12345> costs < 5 euros", 100) == "order <12345> costs < 5 euros"


def test_whitespace_and_control_characters_normalised() -> None:
    assert clean_text("  a \t b\r\n\r\n\r\n c\x00d  ", 100) == "a b\nc d"
    assert clean_text("   \n\t ", 100) is None
    assert clean_text(None, 100) is None


def test_huge_text_is_truncated() -> None:
    text = clean_text("word " * 2_000_000, 20_000)
    assert text is not None and len(text) <= 20_000


def test_redaction_is_applied() -> None:
    text = clean_text("<p>mail me at jo.smith@example.org</p>", 1000)
    assert isinstance(text, str) and "jo.smith@example.org" not in text


# -- timestamps and numbers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "2024-01-09T10:00:00Z",
        "2024-01-09T11:00:00+01:00",
        "2024-01-09T05:00:00-05:00",
        "2024-01-09 10:00:00",  # naive = UTC
        1704794400,
        "1704794400",
        1704794400000,  # epoch milliseconds
        1704794400.0,
    ],
)
def test_parse_timestamp_mixed_formats_to_utc(value: object) -> None:
    assert parse_timestamp(value) == datetime(2024, 1, 9, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "2024-13-40", True, float("nan"), -1e300, "1e300", 5, {"a": 1}])
def test_parse_timestamp_rejects_garbage(value: object) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_parse_timestamp_empty_is_none() -> None:
    assert parse_timestamp(None) is None and parse_timestamp("  ") is None


@pytest.mark.parametrize("value", [-1, "-5", float("nan"), "inf", math.inf, 86_401, "abc", True])
def test_parse_handle_time_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_handle_time(value, 86_400)


def test_parse_handle_time_accepts() -> None:
    assert parse_handle_time("300", 86_400) == 300.0
    assert parse_handle_time(0, 86_400) == 0.0
    assert parse_handle_time("", 86_400) is None


# -- decoding -----------------------------------------------------------------------------------
def test_invalid_utf8_names_offset_and_line() -> None:
    data = b"customer_id,text\nacme,ok\nacme,caf\xe9\n"
    with pytest.raises(TaxonomyError) as err:
        decode_text(data, "x.csv")
    assert "byte offset 33" in str(err.value) and "line 3" in str(err.value) and "x.csv" in str(err.value)


def test_bom_and_crlf_csv() -> None:
    parsed = _read("generic_bom_crlf.csv")
    assert parsed.format == "csv" and parsed.columns[0] == "customer_id"
    assert [r["conversation_id"] for r in parsed.records] == ["c-1", "c-2", "c-3", "c-4"]
    assert parsed.records[2]["text"] == "Can you reset my 2FA?\nI lost my phone."
    assert [r["source_row"] for r in parsed.records] == [1, 2, 3, 4]


def test_gzip_and_truncated_gzip(tmp_path: Path) -> None:
    raw = (FIX / "generic.jsonl").read_bytes()
    parsed = read_bytes(gzip.compress(raw), "x.jsonl.gz", column_map={"ticket": "conversation_id"})
    assert len(parsed.records) == 3 and parsed.records[2]["source_row"] == 4  # blank line skipped, lines counted
    with pytest.raises(TaxonomyError, match="gzip"):
        read_bytes(gzip.compress(raw)[:20], "x.jsonl.gz")


def test_truncated_json_is_a_clear_error() -> None:
    data = (FIX / "intercom_conversation_list.json").read_bytes()[:700]
    with pytest.raises(TaxonomyError) as err:
        read_bytes(data, "page.json")
    assert "invalid JSON" in str(err.value) and "page.json" in str(err.value)


def test_jsonl_bad_line_is_its_own_error_record() -> None:
    # one broken line is quarantined as its row (like a CSV row of the wrong width); the rest are read
    parsed = read_bytes(b'{"a": 1}\n{"a": \n\n[2]\n{"a": 3}\n', "x.jsonl")
    assert [r["source_row"] for r in parsed.records] == [1, 2, 4, 5] and parsed.records[-1]["a"] == 3
    field, reason = parsed.records[1][ERROR_KEY]
    assert field == "record" and reason.startswith("invalid JSON at line 2, column") and "cut short" in reason
    assert parsed.records[2][ERROR_KEY] == ("record", "not a JSON object (list)")
    assert parsed.records[1]["_raw"] == '{"a": '  # the line itself, for the quarantine record


def test_empty_files_are_zero_rows() -> None:
    for name in ("e.csv", "e.jsonl", "e.json", "e.parquet", "e.json.gz"):
        data = gzip.compress(b"") if name.endswith(".gz") else b""
        assert read_bytes(data, name).records == []


def test_column_map_renames() -> None:
    parsed = _read("generic.jsonl", column_map={"ticket": "conversation_id", "opened": "created_at", "body": "text"})
    assert {"conversation_id", "created_at", "text"} <= set(parsed.records[0])


def test_unknown_extension_needs_format() -> None:
    with pytest.raises(TaxonomyError, match="--format"):
        read_bytes(b"a,b\n", "export.txt")


def test_a_csv_row_of_another_width_is_a_row_error_and_the_rest_is_read() -> None:
    data = (b'customer_id,conversation_id,text\nacme,c1,hello\nacme,c2,my card, it broke\n\n'
            b'acme,c3,"quoted, fine"\nacme,c4\n')
    parsed = read_bytes(data, "x.csv")
    assert [r["source_row"] for r in parsed.records] == [1, 2, 3, 4]  # nothing dropped; a blank line is no row
    assert [r.get("conversation_id") for r in parsed.records] == ["c1", None, "c3", None]
    assert parsed.records[2]["text"] == "quoted, fine"
    assert parsed.records[1][ERROR_KEY] == ("record", "4 fields where the header has 3: a comma or quote inside a "
                                                      "value that is not quoted?")
    assert parsed.records[3][ERROR_KEY][1].startswith("2 fields where the header has 3")


def test_non_object_json_line_is_a_row_error() -> None:
    parsed = read_bytes(b'{"conversation_id": "1"}\n[1, 2]\n', "x.jsonl")
    assert ERROR_KEY in parsed.records[1]


# -- vendors ------------------------------------------------------------------------------------
def test_detect() -> None:
    page = json.loads((FIX / "intercom_conversation_list.json").read_text())
    tickets = json.loads((FIX / "zendesk_incremental_tickets.json").read_text())
    assert detect([page]) == "intercom" and detect([page["conversations"][0]]) == "intercom"
    assert detect([tickets]) == "zendesk" and detect([tickets["tickets"][0]]) == "zendesk"
    assert detect([{"conversation_id": 1, "text": "x"}]) == "generic"


def test_intercom_mapping() -> None:
    parsed = _read("intercom_conversation_list.json")
    assert parsed.format == "intercom"
    rows = [clean_record(r, default_customer="acme", config=CFG) for r in parsed.records]
    assert all(problem is None for _, problem in rows)
    first, second, third = (row for row, _ in rows)
    assert first["conversation_id"] == "14915" and first["created_at"] == datetime(2024, 1, 9, 14, 13, 20, tzinfo=UTC)
    assert first["text"] == "Hi there,\nHow do I export my invoices as a CSV & PDF?"
    assert first["handle_time_seconds"] == 540 and first["csat"] == 4 and first["automated"] is False
    assert first["channel"] == "chat" and first["transcript"].startswith("admin: Go to Billing > Invoices.")
    assert second["channel"] == "email" and second["automated"] is True and second["handle_time_seconds"] is None
    assert "jo.smith@example.org" not in second["text"]
    # adjusted_handling_time (active time) is preferred over handling_time; routed_to_team is not automated
    assert third["handle_time_seconds"] == 1500 and third["automated"] is False and third["channel"] == "whatsapp"


def test_intercom_single_object_and_jsonl_pages() -> None:
    page = json.loads((FIX / "intercom_conversation_list.json").read_text())
    single = read_bytes(json.dumps(page["conversations"][0]).encode(), "one.json")
    assert single.format == "intercom" and len(single.records) == 1
    lines = "\n".join([json.dumps(page), json.dumps(page["conversations"][1])]).encode()
    parsed = read_bytes(gzip.compress(lines), "pull.jsonl.gz", fmt="intercom")
    assert [r["source_row"] for r in parsed.records] == [1, 2, 3, 4]


def test_zendesk_mapping_with_custom_field_and_metric() -> None:
    parsed = _read("zendesk_incremental_tickets.json", options={"zendesk.handle_time_field": "360028417751"})
    assert parsed.format == "zendesk" and len(parsed.records) == 3
    assert parsed.records[2][SKIP_KEY]  # deleted ticket
    row, problem = clean_record(parsed.records[0], default_customer="acme", config=CFG)
    assert problem is None
    assert row["handle_time_seconds"] == 780 and row["csat"] == 5.0 and row["channel"] == "web"
    assert row["automated"] is None and "Where is my order" not in row["text"]  # description, not subject
    assert "order 88123" in row["text"]
    row2, _ = clean_record(parsed.records[1], default_customer="acme", config=CFG)
    assert row2["created_at"] == datetime(2024, 1, 9, 15, 20, tzinfo=UTC) and row2["automated"] is True
    assert row2["csat"] is None and row2["handle_time_seconds"] is None
    by_metric = _read("zendesk_incremental_tickets.json", options={"zendesk.handle_time_metric": "agent_wait_time_in_minutes.business"})
    assert by_metric.records[0]["handle_time_seconds"] == 9 * 60 and by_metric.records[1]["handle_time_seconds"] == 25 * 60


def test_zendesk_unknown_option_rejected() -> None:
    with pytest.raises(TaxonomyError, match="unknown source option"):
        _read("zendesk_incremental_tickets.json", options={"zendesk.handle_time_feild": "1"})


def test_clean_record_reports_first_problem() -> None:
    rec = {"conversation_id": "1", "created_at": "2024-01-01T00:00:00Z", "text": "hi", "handle_time_seconds": -3, "source_row": 7}
    row, problem = clean_record(rec, default_customer="acme", config=CFG)
    assert problem is not None and problem[0] == "handle_time_seconds" and row["source_row"] == 7
    _, problem = clean_record({**rec, "handle_time_seconds": 1, "customer_id": "other"}, default_customer="acme", config=CFG)
    assert problem is not None and problem[0] == "customer_id" and "landing folder" in problem[1]
    _, problem = clean_record({**rec, "handle_time_seconds": 1, "customer_id": "../etc"}, default_customer=None, config=CFG)
    assert problem is not None and problem[0] == "customer_id"


def test_invalid_utf8_offset_counts_the_bom() -> None:
    with pytest.raises(TaxonomyError, match=r"byte 0xe9 at byte offset 5 \(line 1\)"):
        decode_text(b"\xef\xbb\xbfab\xe9", "x.csv")
