"""Ingestion over S3: landing read from s3:// and outputs written to s3://, against moto on loopback."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl
import pytest

from taxonomy.errors import TaxonomyError
from taxonomy.ingest import ingest

FIX = Path(__file__).parents[1] / "fixtures" / "ingest"
DAY = "2024-01-09"


def _client(endpoint: str):  # noqa: ANN202
    import boto3

    return boto3.client("s3", endpoint_url=endpoint)


def test_landing_on_s3_to_output_on_s3(moto_server: str) -> None:
    s3 = _client(moto_server)
    s3.create_bucket(Bucket="landing")
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="landing", Key=f"drops/acme/{DAY}/export.csv", Body=(FIX / "generic_bom_crlf.csv").read_bytes())
    page = (FIX / "intercom_conversation_list.json").read_bytes()
    s3.put_object(Bucket="landing", Key=f"drops/loopdesk/{DAY}/pull.jsonl.gz", Body=gzip.compress(page.replace(b"\n", b"") + b"\n"))
    bad = b"conversation_id,created_at,text\n" + b"".join(f"g{i},{DAY}T10:00:00Z,hello {i}\n".encode() for i in range(9))
    s3.put_object(Bucket="landing", Key=f"drops/globex/{DAY}/x.csv", Body=bad + b"g9,never,hello\n")

    report = ingest("s3://landing/drops", "s3://lake/prod", label="exp1")
    assert report.ok and report.totals() == {"rows_in": 17, "accepted": 16, "quarantined": 1, "superseded": 0, "skipped": 0}
    uris = sorted(p[3] for p in report.partitions)
    assert uris[0] == f"s3://lake/prod/label=exp1/conversations_raw/customer_id=acme/date={DAY}/part-0.parquet"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"])
    assert len([k for k in keys if "/conversations_raw/" in k]) == 3
    assert len([k for k in keys if "/quarantine/" in k]) == 1
    body = s3.get_object(Bucket="lake", Key=f"prod/label=exp1/conversations_raw/customer_id=loopdesk/date={DAY}/part-0.parquet")["Body"].read()
    frame = pl.read_parquet(io.BytesIO(body))
    assert frame.height == 3 and frame.get_column("source_file")[0] == f"s3://landing/drops/loopdesk/{DAY}/pull.jsonl.gz"

    # Single file on S3, and a clear error for a missing one.
    single = ingest(f"s3://landing/drops/acme/{DAY}/export.csv", "s3://lake/single")
    assert single.ok and single.totals()["accepted"] == 4
    with pytest.raises(TaxonomyError, match="input not found"):
        ingest("s3://landing/nothing-here", "s3://lake/prod")
