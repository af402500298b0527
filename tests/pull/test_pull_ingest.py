"""What the puller lands, the ingestion readers read: pull from the fakes, then ingest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from taxonomy.pull import Credentials, ingest_options
from taxonomy.pull.extract import landing_path, pull_customer
from taxonomy.storage import Store
from tests.fake_apis import (  # noqa: F401 - no_proxy_for_loopback is an autouse fixture
    FakeIntercom,
    FakeZendesk,
    intercom_conversation,
    no_proxy_for_loopback,
    zendesk_ticket,
)
from tests.pull.test_pull import NOW, POLICY, TOKEN, Sleeps

DAY = date(2026, 11, 24)


def _sources(tmp_path: Path, platform: str, url: str, options: dict) -> str:
    path = tmp_path / f"{platform}.yaml"
    path.write_text(
        json.dumps(
            {"customers": {"acme": {"platform": platform, "conn_id": "c", "options": {"base_url": url, **options}}}}
        )
    )
    return str(path)


def test_intercom_landing_reads_back(tmp_path: Path) -> None:
    from taxonomy.ingest import read_export

    convs = [
        intercom_conversation(
            f"c{i}", f"2026-11-24T{i:02d}:30:00", body=f"<p>Refund for order #{i}00? Call +44 20 7946 095{i}</p>"
        )
        for i in range(1, 6)
    ] + [intercom_conversation("c9", "2026-11-24T20:00:00", body="")]
    landing = str(tmp_path / "landing")
    with FakeIntercom(TOKEN, convs) as fake:
        pull_customer(
            "acme",
            DAY,
            DAY,
            landing,
            sources_file=_sources(tmp_path, "intercom", fake.url, {"per_page": 2}),
            credentials=Credentials(secret=TOKEN),
            policy=POLICY,
            sleep=Sleeps(),
            now=NOW,
        )
    store = Store(landing)
    res = read_export(store, landing_path(store, "acme", DAY, "intercom"), customer_id="acme")
    assert res.format == "intercom" and res.rows_in == 6
    acc = res.accepted.sort("conversation_id")
    assert acc.get_column("conversation_id").to_list() == ["c1", "c2", "c3", "c4", "c5", "c9"]
    assert acc.get_column("handle_time_seconds").to_list() == [300.0] * 6
    assert "<PHONE>" in acc.get_column("text")[0] and "+44" not in "".join(acc.get_column("text").to_list())
    # c9 opened without a body: its parts were fetched and the end-user's first part is its text.
    assert acc.filter(pl.col("conversation_id") == "c9")["text"][0].strip() != ""
    assert res.quarantined.height == 0


def test_zendesk_landing_ingests_with_source_options(tmp_path: Path) -> None:
    from taxonomy.ingest import ingest

    tickets = [zendesk_ticket(100 + i, f"2026-11-24T{i:02d}:00:00") for i in range(1, 5)]
    landing, out = str(tmp_path / "landing"), str(tmp_path / "out")
    with FakeZendesk(TOKEN, tickets) as fake:
        src = _sources(
            tmp_path, "zendesk", fake.url, {"subdomain": "acme", "handle_time_field": 360012345678, "per_page": 3}
        )
        pull_customer(
            "acme",
            DAY,
            DAY,
            landing,
            sources_file=src,
            credentials=Credentials(secret=TOKEN, login=fake.email),
            policy=POLICY,
            sleep=Sleeps(),
            now=NOW,
        )
    options = ingest_options(src, "acme")
    assert options == {"zendesk.handle_time_field": "360012345678"}
    report = ingest(landing, out, start=DAY, end=DAY, options=options)
    part = pl.read_parquet(Path(out) / "conversations_raw" / "customer_id=acme" / f"date={DAY}" / "part-0.parquet")
    assert sorted(part.get_column("conversation_id").to_list()) == ["101", "102", "103", "104"]
    assert part.get_column("handle_time_seconds").to_list() == [420.0] * 4
    assert not [w for w in report.warnings if ".state" in w]  # the pull state is never mistaken for an export


def test_dag_extract_uses_the_airflow_connection(tmp_path: Path, monkeypatch, caplog) -> None:  # noqa: ANN001
    from taxonomy.ingest import read_export
    from taxonomy.pull import extract_for_interval

    tickets = [zendesk_ticket(200 + i, f"2026-11-24T{i:02d}:00:00") for i in range(1, 4)]
    landing = str(tmp_path / "landing")
    with FakeZendesk(TOKEN, tickets) as fake:
        # Airflow's own convention: the task resolves conn_id "zendesk_acme" through BaseHook.
        conn = {"conn_type": "http", "login": fake.email, "password": TOKEN, "host": fake.url}
        monkeypatch.setenv("AIRFLOW_CONN_ZENDESK_ACME", json.dumps(conn))
        path = tmp_path / "sources.yaml"
        path.write_text(
            json.dumps(
                {
                    "customers": {
                        "acme": {"platform": "zendesk", "conn_id": "zendesk_acme", "options": {"subdomain": "acme"}}
                    }
                }
            )
        )
        uri = extract_for_interval("acme", DAY, landing, str(path))
    assert uri is not None and uri.endswith("acme/2026-11-24/zendesk-pull.jsonl.gz")
    store = Store(landing)
    assert read_export(store, uri, customer_id="acme").accepted.height == 3
    assert TOKEN not in caplog.text and TOKEN not in uri


def test_pull_to_s3_lands_and_marks(tmp_path: Path, moto_server: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket="landing")
    convs = [intercom_conversation(f"c{i}", f"2026-11-{day}T10:00:00") for i, day in enumerate((23, 24, 24), start=1)]
    with FakeIntercom(TOKEN, convs) as fake:
        src = _sources(tmp_path, "intercom", fake.url, {})
        kwargs = dict(sources_file=src, credentials=Credentials(secret=TOKEN), policy=POLICY, sleep=Sleeps(), now=NOW)
        pull_customer("acme", date(2026, 11, 23), date(2026, 11, 23), "s3://landing/root", **kwargs)
        result = pull_customer("acme", DAY, DAY, "s3://landing/root", **kwargs)
        again = pull_customer("acme", DAY, DAY, "s3://landing/root", **kwargs)
    assert result.days[0].uri == "s3://landing/root/acme/2026-11-24/intercom-pull.jsonl.gz"
    s3 = boto3.client("s3", endpoint_url=moto_server)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="landing")["Contents"])
    assert keys == [
        "root/.state/acme.json",
        "root/acme/2026-11-23/intercom-pull.jsonl.gz",
        "root/acme/2026-11-24/intercom-pull.jsonl.gz",
    ]
    assert json.loads(s3.get_object(Bucket="landing", Key="root/.state/acme.json")["Body"].read())[
        "pulled_through"
    ] == str(DAY)
    assert result.days[0].records == again.days[0].records == 2
