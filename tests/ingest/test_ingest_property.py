"""Property tests: whatever the rows, rows in = accepted + quarantined + superseded + skipped.

Bounded (tens of examples, no deadline) so the suite stays quick on a 2-core CI box.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxonomy.config import Config, IngestConfig
from taxonomy.errors import TaxonomyError
from taxonomy.ingest import read_export
from taxonomy.storage import Store

LENIENT = Config(ingest=IngestConfig(max_bad_row_share=1.0))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

timestamps = st.one_of(
    st.none(), st.just(""), st.integers(min_value=-10**13, max_value=10**13),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")), st.text(max_size=12),
)
numbers = st.one_of(
    st.none(), st.just(""), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
    st.sampled_from(["NaN", "-inf", "12.5", "abc", "1e9"]),
)
texts = st.one_of(st.none(), st.text(max_size=60), st.sampled_from(["<p>hi &amp; bye</p>", "  ", "\x00\x01", "é" * 30]))
rows = st.fixed_dictionaries(
    {
        "customer_id": st.one_of(st.none(), st.sampled_from(["acme", "globex", "../x", "", "a" * 70, "Zürich", "a=b"])),
        "conversation_id": st.one_of(st.none(), st.sampled_from(["1", "2", "3"]), st.text(max_size=8)),
        "created_at": timestamps,
        "updated_at": timestamps,
        "text": texts,
        "handle_time_seconds": numbers,
        "automated": st.one_of(st.none(), st.booleans(), st.sampled_from(["yes", "no", "maybe", "1"])),
        "csat": numbers,
    }
)


def _write(rows_: list[dict], fmt: str, folder: Path) -> Path:
    if fmt == "jsonl":
        path = folder / "x.jsonl"
        path.write_text("\n".join(json.dumps(r, allow_nan=True) for r in rows_) + "\n", encoding="utf-8")
    else:
        path = folder / "x.csv"
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows_[0]))
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows_)
        path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return path


@SETTINGS
@given(st.lists(rows, min_size=1, max_size=25), st.sampled_from(["csv", "jsonl"]))
def test_invariant_holds_for_any_rows(rows_: list[dict], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(rows_, fmt, Path(tmp))
        result = read_export(Store(tmp), str(path), config=LENIENT)
        assert result.ok and result.rows_in == len(rows_)
        assert result.quarantined.get_column("reason").null_count() == 0
        ids = result.accepted.select("customer_id", "conversation_id")
        assert ids.n_unique() == ids.height  # keys unique after duplicates are resolved
        assert set(result.accepted.get_column("customer_id")) <= {"acme", "globex"}


@SETTINGS
@given(st.lists(rows, min_size=1, max_size=25))
def test_default_limit_either_stops_or_keeps_the_invariant(rows_: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(rows_, "jsonl", Path(tmp))
        try:
            result = read_export(Store(tmp), str(path))
        except TaxonomyError as exc:
            assert "x.jsonl" in str(exc) and exc.field
            return
        assert result.ok and result.quarantined.height <= 0.2 * (result.rows_in - result.skipped)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["x.csv", "x.jsonl", "x.json", "x.parquet", "x.json.gz"]))
def test_random_bytes_never_crash(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            result = read_export(Store(tmp), str(path), customer_id="acme", config=LENIENT)
        except TaxonomyError:
            return
        assert result.ok


@pytest.mark.parametrize("fmt", ["intercom", "zendesk"])
def test_vendor_formats_with_hostile_objects(tmp_path: Path, fmt: str) -> None:
    key = "conversations" if fmt == "intercom" else "tickets"
    objs = [None, 1, "x", [], {}, {"id": None}, {"id": "1", "created_at": "soon", "source": "not a dict", "via": 3},
            {"id": 2, "created_at": 1704794400, "updated_at": "2024-01-09T10:00:00Z", "description": "<b>hi</b>",
             "source": {"body": "<b>hi</b>"}, "statistics": {"handling_time": -5}}]
    doc = {key: objs, "type": "conversation.list"} if fmt == "intercom" else {key: objs, "end_of_stream": True}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc))
    result = read_export(Store(str(tmp_path)), str(path), fmt=fmt, customer_id="acme", config=LENIENT)
    assert result.ok and result.rows_in == len(objs) and result.quarantined.height >= len(objs) - 1
