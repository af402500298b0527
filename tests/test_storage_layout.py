"""The Hive layout: partition columns live in the path only, and come back with the right types."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from taxonomy.cli import main
from taxonomy.errors import TaxonomyError
from taxonomy.hive import PARTITION_COLUMNS_KEY
from taxonomy.storage import PART_FILE, Store

AS_OF = date(2026, 3, 1)


def _scores(cid: str = "00042") -> pl.DataFrame:
    return pl.DataFrame({"customer_id": [cid], "as_of": [AS_OF], "conversations": [7], "rates_source": ["default"]})


def _file_schema(folder: str):  # noqa: ANN202
    return pq.read_schema(os.path.join(folder, PART_FILE))


def test_partition_columns_leave_the_file_and_come_back(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    folder = store.partition("scores", as_of=AS_OF, customer_id="00042")
    df = _scores()
    store.write_partition(df, folder, metadata={"taxonomy.fingerprint": "abc"})
    assert _file_schema(folder).names == ["conversations", "rates_source"]
    back = store.read_partition(folder)
    assert back.equals(df) and back.schema == df.schema  # same order, "00042" still a string, as_of a date
    assert store.read_metadata(folder) == {"taxonomy.fingerprint": "abc"}  # the layout key is storage's own


def test_a_row_of_another_partition_is_refused(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    folder = store.partition("scores", as_of=AS_OF, customer_id="acme")
    with pytest.raises(TaxonomyError, match="customer_id='globex'.*customer_id=acme"):
        store.write_partition(pl.concat([_scores("acme"), _scores("globex")]), folder)
    with pytest.raises(TaxonomyError, match="as_of"):
        store.write_partition(_scores("acme").with_columns(pl.lit(date(2026, 1, 1)).alias("as_of")), folder)
    with pytest.raises(TaxonomyError, match="expected"):
        store.write_partition(_scores("acme").with_columns(pl.col("as_of").cast(pl.String)), folder)
    assert not os.path.exists(folder)


def test_empty_partition_and_label(tmp_path: Path) -> None:
    store = Store(str(tmp_path), label="exp-1")
    folder = store.partition("topics", as_of=AS_OF, customer_id="acme")
    df = _scores("acme").clear()
    store.write_partition(df, folder)
    assert "customer_id" not in _file_schema(folder).names
    assert store.read_partition(folder).equals(df)


def test_older_layout_is_read_as_it_is_and_migrated_to_the_same_bytes(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    old, new = Store(str(tmp_path / "old")), Store(str(tmp_path / "new"))
    keys = {"as_of": AS_OF, "customer_id": "acme"}
    meta = {"taxonomy.fingerprint": "f1"}
    # The older layout: partition columns inside the file (what earlier versions wrote).
    old.write_parquet(_scores("acme"), f"{old.partition('scores', **keys)}/{PART_FILE}", metadata=meta)
    labelled = Store(str(tmp_path / "old"), label="exp")
    labelled.write_parquet(_scores("acme"), f"{labelled.partition('scores', **keys)}/{PART_FILE}")
    assert old.read_partition(old.partition("scores", **keys)).equals(_scores("acme"))
    new.write_partition(_scores("acme"), new.partition("scores", **keys), metadata=meta)

    assert main(["migrate-layout", "--output", str(tmp_path / "old")]) == 0
    assert "2 partition files examined, 2 rewritten" in capsys.readouterr().out
    for store in (old, labelled):
        folder = store.partition("scores", **keys)
        assert "customer_id" not in _file_schema(folder).names
        assert store.read_partition(folder).equals(_scores("acme"))
    same = [Path(s.partition("scores", **keys), PART_FILE).read_bytes() for s in (old, new)]
    assert same[0] == same[1]  # migrated == freshly written: re-runs keep skipping, bytes stay identical
    assert old.read_metadata(old.partition("scores", **keys)) == meta
    assert old.migrate_layout() == (2, 0)  # idempotent


def test_migrate_refuses_a_file_that_disagrees_with_its_path(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    folder = store.partition("scores", as_of=AS_OF, customer_id="acme")
    store.write_parquet(_scores("globex"), f"{folder}/{PART_FILE}")
    with pytest.raises(TaxonomyError, match="globex"):
        store.migrate_layout()
    assert pl.read_parquet(f"{folder}/{PART_FILE}").get_column("customer_id").to_list() == ["globex"]  # untouched


def test_decode_partition_restores_from_bytes(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    folder = store.partition("conversations_raw", customer_id="acme", date=date(2026, 1, 2))
    df = pl.DataFrame({"conversation_id": ["c1"], "customer_id": ["acme"]})
    store.write_partition(df, folder)
    data = Path(folder, PART_FILE).read_bytes()
    assert pq.read_schema(io.BytesIO(data)).metadata[PARTITION_COLUMNS_KEY.encode()] == b'[["customer_id", 1]]'
    assert store.decode_partition(data, folder).equals(df)


def test_s3_partition_columns_live_in_the_key_only(moto_server: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="out")
    store = Store("s3://out/prefix")
    folder = store.partition("scores", as_of=AS_OF, customer_id="00042")
    store.write_partition(_scores(), folder)
    body = s3.get_object(Bucket="out", Key=f"prefix/scores/as_of={AS_OF}/customer_id=00042/{PART_FILE}")["Body"].read()
    assert pq.read_schema(io.BytesIO(body)).names == ["conversations", "rates_source"]
    assert store.read_partition(folder).equals(_scores())
