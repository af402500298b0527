"""A customer's trailing analysis window: its bounds, its enriched rows, the topic state before
it, and the fingerprint of everything an analysis of it depends on (see
:func:`taxonomy.pipeline.analyse_customer`, which skips a window whose fingerprint is unchanged).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from taxonomy import __version__ as PIPELINE_VERSION
from taxonomy.config import Config
from taxonomy.schema import ENRICHED, conform
from taxonomy.storage import Store, validate_customer_id

# Partition metadata key: the fingerprint of the inputs an analysis was computed from.
FINGERPRINT = "taxonomy.fingerprint"


def window_bounds(as_of: date, window_days: int) -> tuple[date, date]:
    """First and last day (inclusive) of the window that ends the day before ``as_of``."""
    return as_of - timedelta(days=window_days), as_of - timedelta(days=1)


def load_window(store: Store, customer_id: str, as_of: date, window_days: int) -> pl.DataFrame:
    """One customer's enriched conversations created in the window, latest version of each."""
    start, last = window_bounds(as_of, window_days)
    folder = store.dataset("enriched") + f"/customer_id={validate_customer_id(customer_id)}"
    frames = []
    for value in store.list_partitions("enriched", "date", within=folder):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            continue
        if start <= day <= last:
            frame = store.read_partition(store.partition("enriched", customer_id=customer_id, date=day))
            if frame is not None and frame.height:
                frames.append(frame.with_columns(pl.lit(day).alias("_landed")))
    if not frames:
        return conform(pl.DataFrame(), ENRICHED)
    lo = datetime(start.year, start.month, start.day, tzinfo=timezone.utc)
    hi = datetime(as_of.year, as_of.month, as_of.day, tzinfo=timezone.utc)
    df = pl.concat(frames, how="vertical_relaxed").filter(
        (pl.col("created_at") >= lo) & (pl.col("created_at") < hi)
    )
    if df.get_column("conversation_id").n_unique() < df.height:
        # A conversation re-exported on a later day: its latest update wins, then its latest landing.
        df = df.sort(["conversation_id", "updated_at", "_landed"], nulls_last=False).unique(
            subset=["conversation_id"], keep="last", maintain_order=True
        )
    return conform(df.sort("conversation_id"), ENRICHED)


def _previous_state(store: Store, customer_id: str, as_of: date) -> tuple[str, dict[str, str]] | None:
    """Folder and metadata of this customer's latest topic state before ``as_of``, if any."""
    earlier = [d for d in store.list_partitions("topic_state", "as_of") if d < as_of.isoformat()]
    for value in reversed(earlier):
        folder = store.partition("topic_state", as_of=value, customer_id=customer_id)
        meta = store.read_metadata(folder)
        if meta is not None:
            return folder, meta
    return None


def previous_topic_state(store: Store, customer_id: str, as_of: date, embedder_version: str) -> pl.DataFrame | None:
    """The topic centroids of the latest run before ``as_of`` for this customer, if any.

    Centroids from another embedding model live in another vector space: they are ignored
    (topics then get fresh ids) rather than matched wrongly.
    """
    found = _previous_state(store, customer_id, as_of)
    if found is None or found[1].get("taxonomy.embedder") != embedder_version:
        return None
    return store.read_partition(found[0])


def analysis_fingerprint(store: Store, customer_id: str, as_of: date, cfg: Config, embedder_version: str) -> str:
    """What an analysis depends on: the window's enriched partitions (by their input and model
    stamps), the previous topic state, the settings, the overrides file, the customer's recorded
    reviews and the code version."""
    start, last = window_bounds(as_of, cfg.window_days)
    folder = store.dataset("enriched") + f"/customer_id={validate_customer_id(customer_id)}"
    days = [v for v in store.list_partitions("enriched", "date", within=folder) if start.isoformat() <= v <= last.isoformat()]
    stamps = [(v, store.read_metadata(store.partition("enriched", customer_id=customer_id, date=date.fromisoformat(v))))
              for v in days]
    previous = _previous_state(store, customer_id, as_of)
    overrides = None
    if cfg.overrides_dir:
        path = Path(cfg.overrides_dir) / f"{customer_id}.yaml"
        overrides = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    blob = [PIPELINE_VERSION, as_of.isoformat(), cfg.window_days, dataclasses.asdict(cfg.topics), embedder_version,
            stamps, previous and (previous[0][len(store.base):], previous[1].get(FINGERPRINT)), overrides]
    reviews = reviews_digest(store, customer_id)
    if reviews:  # appended only when there are reviews: fingerprints of unreviewed customers are unchanged
        blob.append(reviews)
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def reviews_digest(store: Store, customer_id: str) -> str | None:
    """SHA-256 of the customer's review state (``reviews/`` and ``review_messages/`` under the
    output root, shared by labelled runs; see :mod:`taxonomy.review.state`), None when there is none."""
    root = Store(store.uri(store.root))
    digest = hashlib.sha256()
    found = False
    for name in ("reviews", "review_messages"):
        path = f"{root.partition(name, customer_id=validate_customer_id(customer_id))}/part-0.parquet"
        if root.exists(path):
            digest.update(name.encode() + root.fs.cat_file(path))
            found = True
    return digest.hexdigest() if found else None
