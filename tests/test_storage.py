"""Storage: partition paths never escape the root; writes are atomic and idempotent."""

from __future__ import annotations

import os
from datetime import date

import polars as pl
import pytest

from taxonomy.errors import TaxonomyError
from taxonomy.storage import Store, validate_customer_id


@pytest.mark.parametrize(
    "bad",
    ["", "../etc", "..", "a/b", "a=b", "x" * 65, "caf\u00e9", ".hidden", "-dash", "a..b", "a b", None, 7],
)
def test_invalid_customer_ids_are_rejected(bad: object) -> None:
    with pytest.raises(TaxonomyError, match="customer_id"):
        validate_customer_id(bad)


@pytest.mark.parametrize("good", ["acme", "acme-bank", "A1", "shop_wave.eu", "x" * 64])
def test_valid_customer_ids(good: str) -> None:
    assert validate_customer_id(good) == good


def test_partition_path_is_hive_style_and_inside_root(tmp_path) -> None:
    store = Store(str(tmp_path))
    path = store.partition("scores", as_of=date(2026, 1, 2), customer_id="acme")
    assert path == f"{tmp_path}/scores/as_of=2026-01-02/customer_id=acme"
    with pytest.raises(TaxonomyError):
        store.partition("scores", as_of=date(2026, 1, 2), customer_id="../../etc")


def test_label_namespaces_outputs(tmp_path) -> None:
    prod, exp = Store(str(tmp_path)), Store(str(tmp_path), label="exp-1")
    keys = {"as_of": date(2026, 1, 2), "customer_id": "acme"}
    assert exp.partition("scores", **keys).startswith(f"{tmp_path}/label=exp-1/")
    prod.write_partition(pl.DataFrame({"x": [1]}), prod.partition("scores", **keys))
    exp.write_partition(pl.DataFrame({"x": [2]}), exp.partition("scores", **keys))
    assert prod.read_partition(prod.partition("scores", **keys))["x"].to_list() == [1]
    with pytest.raises(TaxonomyError):
        Store(str(tmp_path), label="../prod")


def test_write_is_atomic_and_idempotent(tmp_path) -> None:
    store = Store(str(tmp_path))
    folder = store.partition("topics", as_of="2026-01-02", customer_id="acme")
    df = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    store.write_partition(df, folder)
    first = open(os.path.join(folder, "part-0.parquet"), "rb").read()
    store.write_partition(df, folder)
    assert open(os.path.join(folder, "part-0.parquet"), "rb").read() == first
    assert os.listdir(folder) == ["part-0.parquet"]  # no temporary files left behind
    assert store.read_partition(folder).equals(df)


def test_metadata_round_trip(tmp_path) -> None:
    store = Store(str(tmp_path))
    folder = store.partition("enriched", customer_id="acme", date=date(2026, 1, 1))
    store.write_partition(pl.DataFrame({"a": [1]}), folder, metadata={"taxonomy.k": "v"})
    assert store.read_metadata(folder)["taxonomy.k"] == "v"
    assert store.read_metadata(folder + "-missing") is None


def test_list_partitions(tmp_path) -> None:
    store = Store(str(tmp_path))
    for cid in ("b", "a"):
        store.write_partition(pl.DataFrame({"a": [1]}), store.partition("scores", as_of="2026-01-01", customer_id=cid))
    assert store.list_partitions("scores", "as_of") == ["2026-01-01"]
    within = store.dataset("scores") + "/as_of=2026-01-01"
    assert store.list_partitions("scores", "customer_id", within=within) == ["a", "b"]
    assert store.list_partitions("missing", "as_of") == []


def test_s3_round_trip(moto_server: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket="out")
    store = Store("s3://out/prefix", label="exp")
    folder = store.partition("scores", as_of="2026-01-01", customer_id="acme")
    df = pl.DataFrame({"a": [1, 2]})
    uri = store.write_partition(df, folder)
    assert uri == "s3://out/prefix/label=exp/scores/as_of=2026-01-01/customer_id=acme/part-0.parquet"
    assert store.read_partition(folder).equals(df)
    assert store.list_partitions("scores", "as_of") == ["2026-01-01"]


def test_column_max_reads_the_footer(tmp_path) -> None:
    from datetime import datetime, timezone

    store = Store(str(tmp_path))
    folder = store.partition("conversations_raw", customer_id="acme", date="2026-01-02")
    assert store.column_max(folder, "created_at") is None  # absent
    stamps = [datetime(2026, 1, 2, h, tzinfo=timezone.utc) for h in (9, 17, 3)]
    store.write_partition(pl.DataFrame({"created_at": stamps}), folder)
    assert store.column_max(folder, "created_at") == stamps[1]
    store.write_partition(pl.DataFrame({"created_at": stamps[:0]}, schema={"created_at": pl.Datetime("us", "UTC")}), folder)
    assert store.column_max(folder, "created_at") is None  # empty
