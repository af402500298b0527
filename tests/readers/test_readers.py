"""Every output dataset opens in every reader a data team uses, with the same rows and column types.

Readers: pandas (``read_parquet`` on the dataset root, and with filters), ``pyarrow.dataset``,
DuckDB (``read_parquet(..., hive_partitioning = true)``) and Polars (``scan_parquet`` with hive
partitioning); each on a local root and on the loopback S3 server. The expected rows come from
the files themselves, read one by one, with the partition values parsed from each path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from taxonomy.hive import DATASET_PARTITIONS, partition_type
from taxonomy.schema import DATASETS
from tests.readers.conftest import location, upload

NAMES = sorted(DATASET_PARTITIONS)


def expected_schema(name: str) -> pa.Schema:
    """The columns a reader should give: the file's columns (schema.py) then the partition columns."""
    keys = DATASET_PARTITIONS[name]
    columns = {c: t for c, t in DATASETS[name].items() if c not in keys}
    columns.update({k: partition_type(k) for k in keys})
    return pl.DataFrame(schema=columns).to_arrow().schema


def norm(t: pa.DataType) -> str:
    """A type with the physical variants readers differ in (large/view strings and lists, tz alias) folded."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return f"list<{norm(t.value_type)}>"
    if pa.types.is_fixed_size_list(t):
        # Parquet has no fixed-size list: readers that ignore the Arrow schema hint (DuckDB, pandas)
        # see a list. canonical() casts back to the fixed size, which fails if any length differs.
        return f"list<{norm(t.value_type)}>"
    if pa.types.is_struct(t):
        return "struct<" + ", ".join(f"{f.name}: {norm(f.type)}" for f in t) + ">"
    if pa.types.is_timestamp(t):
        return f"timestamp[{t.unit}, {'UTC' if t.tz in ('UTC', 'Etc/UTC') else t.tz}]"
    return str(t)  # dictionary<...> (categoricals) stays itself, and fails the comparison


def canonical(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in the expected column order and physical types, rows sorted: comparable with equals()."""
    table = table.select(schema.names).cast(schema)
    keys = [f.name for f in schema if not pa.types.is_nested(f.type)]
    return table.sort_by([(k, "ascending") for k in keys])


def reference(root: Path, name: str) -> pa.Table:
    """Every file of the dataset read on its own, partition values parsed from its path."""
    keys, frames = DATASET_PARTITIONS[name], []
    files = sorted((root / location(name)).rglob("*.parquet"))
    assert files, f"{name}/ has no files"
    for path in files:
        if path.name.startswith("."):
            continue
        folders = path.relative_to(root / location(name)).parts[:-1]
        assert [f.split("=", 1)[0] for f in folders] == list(keys), f"{path} is not laid out as {keys}"
        frame = pl.read_parquet(path)
        assert not set(keys) & set(frame.columns), f"{path} holds a partition column"
        values = dict(f.split("=", 1) for f in folders)
        frames.append(frame.with_columns(
            pl.lit(date.fromisoformat(values[k]) if partition_type(k) == pl.Date() else values[k], dtype=partition_type(k)).alias(k)
            for k in keys))
    return canonical(pl.concat(frames, how="vertical").to_arrow(), expected_schema(name))


def hive_schema(name: str) -> pa.Schema:
    return pa.schema([(k, pa.date32() if partition_type(k) == pl.Date() else pa.string()) for k in DATASET_PARTITIONS[name]])


# -- the readers, each the way README "Reading the outputs" shows it ------------------------------------------
def read_pandas(uri: str, name: str, **kwargs: object) -> pd.DataFrame:
    return pd.read_parquet(f"{uri}/{location(name)}", partitioning=ds.partitioning(hive_schema(name), flavor="hive"), **kwargs)


def read_pyarrow(uri: str, name: str) -> pa.Table:
    return ds.dataset(f"{uri}/{location(name)}", format="parquet", partitioning=ds.partitioning(hive_schema(name), flavor="hive")).to_table()


def read_duckdb(uri: str, name: str) -> pa.Table:
    con = duckdb.connect()
    if uri.startswith("s3://"):
        import s3fs

        con.register_filesystem(s3fs.S3FileSystem())  # AWS_ENDPOINT_URL points it at the loopback server
    types = ", ".join(f"{k}: {'DATE' if partition_type(k) == pl.Date() else 'VARCHAR'}" for k in DATASET_PARTITIONS[name])
    result = con.sql(f"SELECT * FROM read_parquet('{uri}/{location(name)}/**/*.parquet', hive_partitioning = true, "
                     f"hive_types = {{{types}}})").arrow()
    return result.read_all() if isinstance(result, pa.RecordBatchReader) else result


def read_polars(uri: str, name: str) -> pl.DataFrame:
    schema = {k: partition_type(k) for k in DATASET_PARTITIONS[name]}
    return pl.scan_parquet(f"{uri}/{location(name)}/", hive_partitioning=True, hive_schema=schema).collect()


READERS: dict[str, Callable[[str, str], pa.Table]] = {
    # pandas' types are checked as pandas dtypes below (an empty list has no arrow type to infer back),
    # its rows here, converted with the expected schema (which fails on any value that does not fit).
    "pandas": lambda uri, name: pa.Table.from_pandas(read_pandas(uri, name), schema=expected_schema(name),
                                                     preserve_index=False),
    "pyarrow.dataset": read_pyarrow,
    "duckdb": read_duckdb,
    "polars": lambda uri, name: read_polars(uri, name).to_arrow(),
}


def check_every_reader(uri: str, root: Path, name: str) -> None:
    want = reference(root, name)
    schema = expected_schema(name)
    failures = []
    for reader, read in READERS.items():
        got = read(uri, name)
        types = {f.name: norm(f.type) for f in got.schema}
        expected = {f.name: norm(f.type) for f in schema}
        if types != expected:
            diff = {k: (types.get(k), v) for k, v in expected.items() if types.get(k) != v}
            diff.update({k: (v, None) for k, v in types.items() if k not in expected})
            failures.append(f"{reader}: column types differ (got, expected): {diff}")
        elif not canonical(got, schema).equals(want):
            failures.append(f"{reader}: rows differ ({got.num_rows} rows vs {want.num_rows})")
    # pandas' own column dtypes: what pandas gives for the expected arrow types (no categoricals, dates as dates).
    got_dtypes = read_pandas(uri, name).dtypes.astype(str).to_dict()
    want_dtypes = want.to_pandas().dtypes.astype(str).to_dict()
    if got_dtypes != want_dtypes:
        failures.append(f"pandas dtypes {got_dtypes} != {want_dtypes}")
    assert not failures, f"{name} at {uri}:\n" + "\n".join(failures)


def check_pandas_filters(uri: str, root: Path, name: str) -> None:
    want = reference(root, name).to_pandas()
    outer, inner = DATASET_PARTITIONS[name][0], DATASET_PARTITIONS[name][-1]
    value = want[inner].iloc[0]
    got = read_pandas(uri, name, filters=[(inner, "==", value)])
    assert len(got) == int((want[inner] == value).sum()) > 0 and set(got[inner]) == {value}
    first = want[outer].min()
    got = read_pandas(uri, name, filters=[(outer, ">=", first), (outer, "<=", first)])
    assert len(got) == int((want[outer] == first).sum()) > 0


@pytest.mark.parametrize("name", NAMES)
def test_local_root_opens_in_every_reader(output_root: Path, name: str) -> None:
    check_every_reader(str(output_root), output_root, name)
    check_pandas_filters(str(output_root), output_root, name)


@pytest.mark.parametrize("name", NAMES)
def test_s3_root_opens_in_every_reader(output_root: Path, moto_server: str, name: str) -> None:
    uri = upload(output_root, moto_server)
    check_every_reader(uri, output_root, name)
    check_pandas_filters(uri, output_root, name)


def test_ids_that_look_like_numbers_stay_strings(output_root: Path) -> None:
    assert set(read_duckdb(str(output_root), "scores").column("customer_id").to_pylist()) == {"00042", "acme"}
    assert set(read_pandas(str(output_root), "scores")["customer_id"]) == {"00042", "acme"}
    assert set(read_polars(str(output_root), "scores").get_column("as_of").to_list()) == {date(2026, 2, 22), date(2026, 3, 1)}


def test_every_dataset_is_covered() -> None:
    assert set(DATASET_PARTITIONS) == set(DATASETS)


def test_older_root_fails_in_pandas_until_migrated(output_root: Path, tmp_path: Path) -> None:
    """The layout before the fix (partition columns inside the files) breaks pandas; migrate-layout mends it."""
    import shutil

    from taxonomy.storage import PART_FILE, Store

    root = tmp_path / "out"
    shutil.copytree(output_root / "scores", root / "scores")
    store = Store(str(root))
    for path in sorted((root / "scores").rglob(PART_FILE)):
        folder = str(path.parent)
        frame = store.read_partition(folder)  # partition columns put back in the frame...
        store.write_parquet(frame, str(path), metadata=store.read_metadata(folder))  # ...and into the file
    with pytest.raises(Exception, match="customer_id|as_of"):
        read_pandas(str(root), "scores")
    files = len(list((root / "scores").rglob(PART_FILE)))
    assert store.migrate_layout() == (files, files)
    check_every_reader(str(root), root, "scores")


@pytest.mark.parametrize("name", NAMES)
def test_the_commands_from_issue_15_work_as_typed(output_root: Path, name: str) -> None:
    """No types given: pandas and pyarrow still open every dataset (partition values as text)."""
    rows = reference(output_root, name).num_rows
    frame = pd.read_parquet(output_root / location(name))
    assert len(frame) == rows and set(DATASET_PARTITIONS[name]) <= set(frame.columns)
    table = ds.dataset(output_root / location(name), partitioning="hive").to_table()
    assert table.num_rows == rows
