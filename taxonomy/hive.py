"""The Hive layout every reader accepts: a partition column lives in the path only.

Spark, pandas/pyarrow, DuckDB, Polars, Trino and Athena all read ``key=value`` folders as
columns. They refuse (pyarrow, Spark) or mis-type a column that is both in the path and in the
file, so :meth:`taxonomy.storage.Store.write_partition` drops a partition column from the file
(:func:`split_partition_columns`) after checking that every row holds the path's value, and
records where it stood in the file's metadata (:data:`PARTITION_COLUMNS_KEY`).
:meth:`~taxonomy.storage.Store.read_partition` puts it back (:func:`restore_partition_columns`), so
the pipeline reads exactly the frame it wrote. Files of the older layout (partition columns
inside) carry no such key and are read as they are.

Partition values parse back to these types (:data:`PARTITION_TYPES`): ``as_of`` and ``date``
are dates, every other key (``customer_id``, ``batch``, ``model``) is a string, even when it
looks like a number (customer ``00042`` stays ``"00042"``). Readers that guess types from the
path need those types spelled out: see README, "Reading the outputs".
"""

from __future__ import annotations

import json
import posixpath
from datetime import date

import polars as pl

from taxonomy.errors import TaxonomyError

# File metadata key: the partition columns left out of the file, where they stood, and their type.
PARTITION_COLUMNS_KEY = "taxonomy.partition_columns"
DATE_KEYS = ("as_of", "date")
PARTITION_TYPES: dict[str, pl.DataType] = {"as_of": pl.Date(), "date": pl.Date()}
# The partition keys of every output dataset, outermost folder first.
DATASET_PARTITIONS: dict[str, tuple[str, ...]] = {
    "conversations_raw": ("customer_id", "date"),
    "quarantine": ("date", "batch"),
    "enriched": ("customer_id", "date"),
    "conversations": ("as_of", "customer_id"),
    "topics": ("as_of", "customer_id"),
    "scores": ("as_of", "customer_id"),
    "trends": ("as_of", "customer_id"),
    "backtest": ("as_of", "customer_id"),
    "compare": ("as_of", "against", "customer_id"),
}


def partition_type(key: str) -> pl.DataType:
    """The type a partition key's values have: dates for ``as_of``/``date``, else strings."""
    return PARTITION_TYPES.get(key, pl.String())


def partition_keys(folder: str, dataset_root: str) -> dict[str, str]:
    """``key -> value`` of the ``key=value`` segments of ``folder`` below ``dataset_root``."""
    rel = posixpath.relpath(folder, dataset_root)
    keys = {}
    for segment in rel.split("/"):
        key, sep, value = segment.partition("=")
        if sep:
            keys[key] = value
    return keys


def _parse(key: str, value: str) -> object:
    return date.fromisoformat(value) if partition_type(key) == pl.Date() else value


def split_partition_columns(df: pl.DataFrame, keys: dict[str, str], where: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """Drop the columns of ``df`` that are partition keys of its folder; return it and the metadata to restore them.

    Args:
        df: The partition's rows.
        keys: The folder's partition keys and values (:func:`partition_keys`).
        where: The folder, for error messages.

    Raises:
        TaxonomyError: a row's value differs from the folder's (a row would land in another
            customer's or day's partition), or the column has a type a reader could not give back.
    """
    moved = []
    for key, value in keys.items():
        if key not in df.columns:
            continue
        dtype = df.schema[key]
        if dtype != partition_type(key):
            raise TaxonomyError(f"partition column {key} is {dtype}, expected {partition_type(key)}", file=where, field=key)
        expected = _parse(key, value)
        column = df.get_column(key)
        if column.null_count() or (column != expected).any():  # Series checks, cheaper than a DataFrame filter
            bad = column.filter(column.is_null() | (column != expected))
            raise TaxonomyError(f"{bad.len()} row(s) with {key}={bad[0]!r} in the partition {key}={value}",
                                file=where, field=key)
        moved.append([key, df.columns.index(key)])
    if not moved:
        return df, {}
    return df.drop([k for k, _ in moved]), {PARTITION_COLUMNS_KEY: json.dumps(moved)}


def restore_partition_columns(df: pl.DataFrame, metadata: dict[str, str], keys: dict[str, str]) -> pl.DataFrame:
    """Put back the partition columns :func:`split_partition_columns` left out, where they stood."""
    raw = metadata.get(PARTITION_COLUMNS_KEY)
    if not raw:
        return df  # older layout, or nothing was moved
    for key, index in sorted(json.loads(raw), key=lambda item: item[1]):
        if key in df.columns:
            continue
        if key not in keys:
            raise TaxonomyError(f"partition column {key} is not in the path", field=key)
        dtype = partition_type(key)
        df = df.insert_column(index, pl.Series(key, [_parse(key, keys[key])] * df.height, dtype=dtype))
    return df
