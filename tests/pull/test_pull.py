"""Pulling from Intercom and Zendesk: paging, faults, atomic landing, catch-up, secrets."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from taxonomy.pull.http import RetryPolicy
from taxonomy.pull import Credentials
from taxonomy.errors import TaxonomyError
from taxonomy.pull import PullResult, pull_customer, pulled_through
from taxonomy.storage import Store
from tests.fake_apis import (  # noqa: F401 - no_proxy_for_loopback is an autouse fixture
    FakeIntercom,
    FakeZendesk,
    intercom_conversation,
    no_proxy_for_loopback,
    zendesk_ticket,
)

TOKEN = "tok-9f8e7d6c5b4a-DO-NOT-LEAK"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=4, backoff_base=0.5, read_timeout=0.2, connect_timeout=0.5)
D24, D25 = date(2026, 11, 24), date(2026, 11, 25)

CONVERSATIONS = [
    intercom_conversation("c1", "2026-11-24T01:00:00"),
    intercom_conversation("c2", "2026-11-24T05:00:00"),
    intercom_conversation("c3", "2026-11-24T09:00:00", body=""),  # opened without a body: parts fetched
    intercom_conversation("c4", "2026-11-24T23:59:59"),
    intercom_conversation("c5", "2026-11-25T00:00:00"),
    intercom_conversation("c6", "2026-11-26T10:00:00"),
    intercom_conversation("c7", "2026-11-27T10:00:00"),
]
TICKETS = [
    zendesk_ticket(i, f"2026-11-{day}T{hour:02d}:00:00")
    for i, (day, hour) in enumerate([(24, 1), (24, 6), (24, 12), (24, 23), (25, 0), (25, 8), (27, 3)], start=101)
]


class Sleeps(list):
    """Records the waits the client asked for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def intercom() -> Iterator[FakeIntercom]:
    with FakeIntercom(TOKEN, CONVERSATIONS) as fake:
        yield fake


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk(TOKEN, TICKETS) as fake:
        yield fake


def sources_file(tmp_path: Path, platform: str, url: str, **options: object) -> str:
    opts = {"base_url": url, **options}
    if platform == "zendesk":
        opts.setdefault("subdomain", "acme")
    path = tmp_path / "sources.yaml"
    path.write_text(
        json.dumps({"customers": {"acme": {"platform": platform, "conn_id": f"{platform}_acme", "options": opts}}})
    )
    return str(path)


def pull(
    tmp_path: Path,
    fake: FakeIntercom | FakeZendesk,
    start: date,
    end: date,
    *,
    creds: Credentials | None = None,
    sleeps: Sleeps | None = None,
    now: datetime = NOW,
    **options: object,
) -> PullResult:
    platform = "intercom" if isinstance(fake, FakeIntercom) else "zendesk"
    login = None if platform == "intercom" else fake.email  # type: ignore[union-attr]
    return pull_customer(
        "acme",
        start,
        end,
        str(tmp_path / "landing"),
        sources_file=sources_file(tmp_path, platform, fake.url, **options),
        credentials=creds or Credentials(secret=TOKEN, login=login),
        policy=POLICY,
        sleep=sleeps if sleeps is not None else Sleeps(),
        now=now,
    )


def landed(tmp_path: Path, day: date, platform: str = "intercom") -> Path:
    return tmp_path / "landing" / "acme" / day.isoformat() / f"{platform}-pull.jsonl.gz"


def pages_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).decode().splitlines()]


def test_intercom_pages_land_one_file_per_day(tmp_path: Path, intercom: FakeIntercom) -> None:
    result = pull(tmp_path, intercom, D24, D25, per_page=2)
    pages = pages_of(landed(tmp_path, D24))
    assert [p["type"] for p in pages] == ["conversation.list"] * 2
    assert [c["id"] for p in pages for c in p["conversations"]] == ["c1", "c2", "c3", "c4"]
    assert "next" in pages[0]["pages"] and "next" not in pages[1]["pages"]
    assert [c["id"] for p in pages_of(landed(tmp_path, D25)) for c in p["conversations"]] == ["c5"]
    # The conversation without an opening body was fetched whole, in place of its summary.
    fetched = {c["id"]: c for p in pages for c in p["conversations"]}
    assert "conversation_parts" in fetched["c3"] and "conversation_parts" not in fetched["c1"]
    searches = [r for r in intercom.requests if r["path"] == "/conversations/search"]
    assert all(r["headers"]["Intercom-Version"] == "2.14" for r in intercom.requests)
    first = json.loads(searches[0]["body"])
    assert first["query"]["value"][0] == {"field": "updated_at", "operator": ">", "value": 1795478400 - 1}
    assert json.loads(searches[1]["body"])["pagination"]["starting_after"]
    assert [d.records for d in result.days] == [4, 1] and all(d.complete for d in result.days)
    assert pulled_through(Store(str(tmp_path / "landing")), "acme") == D25


def test_retry_after_5xx_and_timeout_are_retried(tmp_path: Path, intercom: FakeIntercom) -> None:
    intercom.script = ["429", "500", "sleep"]
    sleeps = Sleeps()
    result = pull(tmp_path, intercom, D24, D24, sleeps=sleeps, fetch_parts="never")
    assert sleeps[0] == 7.0  # Retry-After honoured exactly
    assert 0.5 <= sleeps[1] <= 1.0 and 1.0 <= sleeps[2] <= 2.0  # exponential backoff with jitter
    assert result.retries == 3 and result.days[0].records == 4


def test_gives_up_with_a_clear_message_and_lands_nothing(tmp_path: Path, intercom: FakeIntercom) -> None:
    intercom.script = ["500"] * 4
    with pytest.raises(
        TaxonomyError, match=r"Intercom: POST /conversations/search failed after 4 attempts; last: HTTP 500"
    ):
        pull(tmp_path, intercom, D24, D24)
    assert not (tmp_path / "landing").exists() or not any((tmp_path / "landing").rglob("*.gz"))
    assert pulled_through(Store(str(tmp_path / "landing")), "acme") is None


def test_malformed_page_keeps_the_previous_file(tmp_path: Path, intercom: FakeIntercom) -> None:
    pull(tmp_path, intercom, D24, D24, per_page=2, fetch_parts="never")
    before = landed(tmp_path, D24).read_bytes()
    intercom.script = ["ok", "truncate"]  # second page cut in half
    with pytest.raises(TaxonomyError, match="not valid JSON"):
        pull(tmp_path, intercom, D24, D24, per_page=2, fetch_parts="never")
    assert landed(tmp_path, D24).read_bytes() == before
    assert [p.name for p in landed(tmp_path, D24).parent.iterdir()] == ["intercom-pull.jsonl.gz"]  # no temp left


def test_repull_replaces_with_identical_bytes(tmp_path: Path, intercom: FakeIntercom) -> None:
    pull(tmp_path, intercom, D24, D25)
    first = {d: landed(tmp_path, d).read_bytes() for d in (D24, D25)}
    pull(tmp_path, intercom, D24, D25)
    assert {d: landed(tmp_path, d).read_bytes() for d in (D24, D25)} == first


def test_missed_days_are_caught_up(tmp_path: Path, zendesk: FakeZendesk) -> None:
    pull(tmp_path, zendesk, D24, D24)
    result = pull(tmp_path, zendesk, date(2026, 11, 27), date(2026, 11, 27))
    assert result.caught_up_from == D25
    assert [d.day.day for d in result.days] == [25, 26, 27]
    for day in (25, 26, 27):
        assert landed(tmp_path, date(2026, 11, day), "zendesk").exists()
    assert pulled_through(Store(str(tmp_path / "landing")), "acme") == date(2026, 11, 27)


def test_unfinished_day_is_landed_but_not_marked(tmp_path: Path, intercom: FakeIntercom) -> None:
    result = pull(tmp_path, intercom, D24, D25, now=datetime(2026, 11, 25, 9, tzinfo=UTC))
    assert [d.complete for d in result.days] == [True, False]
    assert pulled_through(Store(str(tmp_path / "landing")), "acme") == D24


def test_zendesk_cursor_export_stops_after_the_interval(tmp_path: Path, zendesk: FakeZendesk) -> None:
    result = pull(tmp_path, zendesk, D24, D24, per_page=2, include_metric_sets=True)
    pages = pages_of(landed(tmp_path, D24, "zendesk"))
    ids = [t["id"] for p in pages for t in p["tickets"]]
    assert ids[:4] == [101, 102, 103, 104] and 107 not in ids  # stopped once a page passed the day's end
    assert pages[-1]["end_of_stream"] is False and all("metric_sets" in p for p in pages)
    queries = [r["query"] for r in zendesk.requests]
    assert queries[0]["start_time"] == ["1795478400"] and "cursor" in queries[1]
    assert all(q["include"] == ["metric_sets"] and q["per_page"] == ["2"] for q in queries)
    assert result.days[0].pages == len(zendesk.requests) == 3


def test_zendesk_rate_limit_honours_retry_after(tmp_path: Path, zendesk: FakeZendesk) -> None:
    zendesk.script = ["429", "ok", "429"]
    sleeps = Sleeps()
    pull(tmp_path, zendesk, D24, D24, sleeps=sleeps, per_page=2)
    assert sleeps == [7.0, 7.0]


def test_bad_credentials_fail_fast_without_leaking(tmp_path: Path, zendesk: FakeZendesk) -> None:
    wrong = "wrong-" + TOKEN
    with pytest.raises(TaxonomyError) as err:
        pull(tmp_path, zendesk, D24, D24, creds=Credentials(secret=wrong, login=zendesk.email))
    assert "HTTP 401" in str(err.value) and "refused" in str(err.value)
    assert TOKEN not in str(err.value) and len(zendesk.requests) == 1


def test_no_secret_in_logs_files_state_or_errors(
    tmp_path: Path,
    intercom: FakeIntercom,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from taxonomy.cli import main

    caplog.set_level(logging.DEBUG)
    conn = json.dumps({"conn_type": "http", "password": TOKEN, "host": intercom.url})
    monkeypatch.setenv("AIRFLOW_CONN_INTERCOM_ACME", conn)
    src = sources_file(tmp_path, "intercom", intercom.url)
    args = [
        "pull",
        "--customer",
        "acme",
        "--start",
        "2026-11-23",
        "--end",
        "2026-11-24",
        "--landing",
        str(tmp_path / "landing"),
        "--sources",
        src,
    ]
    assert main(args) == 0
    intercom.script = ["401"]
    assert main(args) == 2  # a refused token: one line on stderr, exit 2
    out, err = capsys.readouterr()
    assert "acme (intercom): landed 2 day(s)" in out and "HTTP 401" in err
    texts = [out, err, caplog.text, repr(Credentials(secret=TOKEN)), str(Credentials(secret=TOKEN))]
    for path in (tmp_path / "landing").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            texts.append((gzip.decompress(data) if path.suffix == ".gz" else data).decode())
    assert any(".state" in str(p) for p in (tmp_path / "landing").rglob("*.json"))
    assert not [t for t in texts if TOKEN in t]
    assert all(r["headers"]["Authorization"] == f"Bearer {TOKEN}" for r in intercom.requests[:-1])  # it was used


def test_catch_up_reaches_back_at_most_max_catchup_days(tmp_path: Path, zendesk: FakeZendesk) -> None:
    pull(tmp_path, zendesk, date(2026, 10, 1), date(2026, 10, 1))
    result = pull_customer(
        "acme", date(2026, 11, 27), date(2026, 11, 27), str(tmp_path / "landing"),
        sources_file=sources_file(tmp_path, "zendesk", zendesk.url),
        credentials=Credentials(secret=TOKEN, login=zendesk.email), policy=POLICY, sleep=Sleeps(), now=NOW,
        max_catchup_days=2,
    )  # fmt: skip
    assert result.caught_up_from == D25 and [d.day.day for d in result.days] == [25, 26, 27]


def test_dag_extract_step_pulls_then_ingest_reads_it(
    tmp_path: Path, intercom: FakeIntercom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily DAG's per-customer group: discover finds the API customer, extract lands, ingest reads."""
    from types import SimpleNamespace

    import polars as pl

    from taxonomy import airflow_tasks

    landing, out = tmp_path / "landing", tmp_path / "out"
    monkeypatch.setenv("AIRFLOW_CONN_INTERCOM_ACME", json.dumps({"conn_type": "http", "password": TOKEN, "host": intercom.url}))
    monkeypatch.setenv(airflow_tasks.SOURCES_ENV, sources_file(tmp_path, "intercom", intercom.url))
    monkeypatch.setenv(airflow_tasks.LANDING_ENV, str(landing))
    monkeypatch.setenv(airflow_tasks.OUTPUT_ENV, str(out))
    start = datetime(2026, 11, 24, tzinfo=UTC)
    ctx = {
        "data_interval_start": start, "data_interval_end": datetime(2026, 11, 25, tzinfo=UTC),
        "params": {}, "dag_run": SimpleNamespace(run_after=None),
    }
    monkeypatch.setattr(airflow_tasks, "_airflow_variable", lambda key: None)
    assert airflow_tasks.discover_task(ctx) == ["acme"]  # nothing landed yet: known from the sources file
    landed = airflow_tasks.extract_task(ctx, "acme")
    assert list(landed) == ["2026-11-24"] and landed["2026-11-24"].endswith("intercom-pull.jsonl.gz")
    ingested = airflow_tasks.ingest_task(ctx, "acme")
    raw = pl.read_parquet(Path(ingested["2026-11-24"]) / "part-0.parquet")
    assert sorted(raw["conversation_id"].to_list()) == ["c1", "c2", "c3", "c4"]
    assert all(TOKEN not in str(v) for v in raw.rows())
