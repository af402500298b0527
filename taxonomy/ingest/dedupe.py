"""Duplicate ``(customer_id, conversation_id)`` rows: collapse or quarantine.

Exports repeat conversations (incremental exports return a ticket again each
time it changes; pages overlap). For each key seen more than once:

- all rows have the same content (every column but lineage and ``updated_at``):
  one row is kept, the one with the latest ``updated_at`` (ties and nulls: the
  last in file order); the others are *superseded*;
- content differs and every row has an ``updated_at`` and the latest ones agree:
  the latest update wins, the others are *superseded*;
- content differs and the rows cannot be ordered (an ``updated_at`` is missing,
  or the latest ones disagree): every row of the key is a *conflicting duplicate*
  and goes to quarantine, since choosing one would be a guess.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl

from taxonomy.schema import CONVERSATION

KEY = ["customer_id", "conversation_id"]
CONTENT = [c for c in CONVERSATION if c not in ("source_file", "source_row", "updated_at")]


def dedupe(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split canonical rows into ``(kept, superseded, conflicting)``.

    Args:
        df: Rows conforming to ``schema.CONVERSATION``.

    Returns:
        Three frames with ``df``'s schema; ``kept`` has unique keys and is sorted by
        customer, creation time and id so the same input always gives the same bytes.
    """
    if df.height == 0:
        return df, df.clear(), df.clear()
    order = ["customer_id", "created_at", "conversation_id", "source_file", "source_row"]
    if df.select(pl.struct(KEY).n_unique()).item() == df.height:  # the common case: nothing repeats
        return df.sort(order, nulls_last=True), df.clear(), df.clear()
    indexed = df.with_row_index("_i")
    dup = indexed.select(pl.struct(KEY).is_duplicated()).to_series()
    multi = indexed.filter(dup).with_columns(pl.struct(CONTENT).hash().alias("_h"))
    superseded: list[int] = []
    conflicting: list[int] = []
    for _, group in multi.group_by(KEY, maintain_order=True):
        rows = group.select("_i", "_h", "updated_at").rows()
        winner = _winner(rows)
        if winner is None:
            conflicting += [r[0] for r in rows]
        else:
            superseded += [r[0] for r in rows if r[0] != winner]
    dropped = set(superseded) | set(conflicting)
    kept = indexed.filter(~pl.col("_i").is_in(list(dropped))).drop("_i")
    kept = kept.sort(order, nulls_last=True)

    def pick(ids: list[int]) -> pl.DataFrame:
        return indexed.filter(pl.col("_i").is_in(ids)).drop("_i")

    return kept, pick(superseded), pick(conflicting)


def _winner(rows: list[tuple[int, int, datetime | None]]) -> int | None:
    """Row index that wins among one key's rows, or None when they conflict."""
    if len({r[1] for r in rows}) == 1:
        # Same content: the latest update (nulls first, so any dated row beats an undated one), then file order.
        return max(rows, key=lambda r: (r[2] is not None, r[2] or datetime.min, r[0]))[0]
    if any(r[2] is None for r in rows):
        return None
    latest = max(r[2] for r in rows)
    top = [r for r in rows if r[2] == latest]
    if len({r[1] for r in top}) > 1:
        return None
    return max(top, key=lambda r: r[0])[0]


def conflict_rows(conflicting: pl.DataFrame, ingested_at: datetime) -> list[dict[str, Any]]:
    """Quarantine rows for conflicting duplicates (text in the record is already redacted)."""
    if conflicting.height == 0:
        return []
    from taxonomy.ingest.clean import RECORD_CHARS

    counts = conflicting.group_by(KEY).len()
    sizes = {(r[0], r[1]): r[2] for r in counts.rows()}
    out = []
    for row in conflicting.to_dicts():
        n = sizes[(row["customer_id"], row["conversation_id"])]
        record = {k: v for k, v in row.items() if k not in ("source_file", "source_row")}
        out.append(
            {
                "source_file": row["source_file"],
                "source_row": row["source_row"],
                "customer_id": row["customer_id"],
                "conversation_id": row["conversation_id"],
                "field": "conversation_id",
                "reason": f"conflicting duplicate: {n} rows share this id with different content and no updated_at to order them",
                "record": json.dumps(record, default=str, ensure_ascii=False)[:RECORD_CHARS],
                "ingested_at": ingested_at,
            }
        )
    return out
