"""Nothing embedded twice: a per-customer embedding cache beside the outputs.

Keyed by (embedder version, hash of the normalised text), stored as Parquet shards at
``<output root>/embedding_cache/model=<slug>/customer_id=<id>/part-<hash>.parquet``
(local or S3, each written atomically). It holds hashes and vectors only, never text,
and lives outside any ``label=`` namespace so experiments and backfills share it.

Each call that embeds something adds one shard holding only the new keys (named by a hash
of them, so a repeated call rewrites the same file): a daily run never rewrites the
customer's whole history. Past :data:`MAX_SHARDS` shards they are merged into one.
"""

from __future__ import annotations

import hashlib
import posixpath
import re

import numpy as np
import polars as pl

from taxonomy.storage import Store

_SPACE = re.compile(r"\s+")
# Shards per customer and model before they are merged into one.
MAX_SHARDS = 64


def text_key(text: str) -> str:
    """Hash of a text after the normalisation the (uncased) model itself applies: case and spacing."""
    return hashlib.blake2b(_SPACE.sub(" ", text).strip().lower().encode("utf-8"), digest_size=16).hexdigest()


def model_slug(version: str) -> str:
    """A path-safe name for an embedder version."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", version).strip("-.")[:40] or "model"
    return f"{readable}-{hashlib.sha256(version.encode()).hexdigest()[:8]}"


def _schema(dim: int) -> dict[str, pl.DataType]:
    return {"key": pl.String(), "embedding": pl.Array(pl.Float32(), dim)}


def _shards(root: Store, folder: str) -> list[str]:
    if not root.exists(folder):
        return []
    return [p for p in root.walk_files(folder) if p.endswith(".parquet")]


def _read(root: Store, paths: list[str], wanted: pl.Series | None, dim: int) -> pl.DataFrame:
    """Rows of the shards at ``paths`` (only ``wanted`` keys, if given), one row per key."""
    frames = []
    for path in paths:
        try:
            frame = pl.read_parquet(root.fs.cat_file(path))
        except FileNotFoundError:  # merged away by a concurrent writer: its rows are in the merged shard
            continue
        frames.append(frame if wanted is None else frame.filter(pl.col("key").is_in(wanted)))
    if not frames:
        return pl.DataFrame(schema=_schema(dim))
    return pl.concat(frames, how="vertical").unique("key", keep="first", maintain_order=True)


def _write_shard(root: Store, folder: str, frame: pl.DataFrame) -> str:
    frame = frame.sort("key")
    name = hashlib.sha256("".join(frame.get_column("key").to_list()).encode()).hexdigest()[:16]
    path = posixpath.join(folder, f"part-{name}.parquet")
    root.write_parquet(frame, path)
    return path


def _merge(root: Store, folder: str, dim: int) -> None:
    """Replace the shards by one: the merged shard is written before any old one is removed."""
    paths = _shards(root, folder)
    merged = _write_shard(root, folder, _read(root, paths, None, dim))
    for path in paths:
        if path != merged:
            root.fs.rm(path)


def embed_with_cache(texts: list[str], embedder, store: Store, customer_id: str) -> tuple[np.ndarray, int]:  # noqa: ANN001
    """Embed ``texts``, reusing cached vectors and computing each distinct unseen text once.

    Args:
        texts: Texts to embed, in order.
        embedder: Any :class:`taxonomy.embed.base.Embedder`.
        store: The output store (unlabelled root is used).
        customer_id: Whose cache to use.

    Returns:
        ``(vectors, computed)``: a ``(len(texts), dim)`` float32 array and how many texts were embedded now.
    """
    dim = embedder.dim
    if not texts:
        return np.zeros((0, dim), dtype=np.float32), 0
    root = Store(store.uri(store.root))
    folder = root.partition("embedding_cache", model=model_slug(embedder.version), customer_id=customer_id)
    keys = pl.Series("key", [text_key(t) for t in texts], dtype=pl.String())
    shards = _shards(root, folder)
    found = _read(root, shards, keys.unique(), dim)
    seen = set(found.get_column("key").to_list())
    missing: dict[str, str] = {}
    for key, text in zip(keys.to_list(), texts):
        if key not in seen and key not in missing:
            missing[key] = text
    if missing:
        fresh = embedder.encode(list(missing.values()))
        new = pl.DataFrame({"key": list(missing), "embedding": np.asarray(fresh, dtype=np.float32)}, schema=_schema(dim))
        _write_shard(root, folder, new)
        found = pl.concat([found, new], how="vertical")
        if len(shards) + 1 > MAX_SHARDS:
            _merge(root, folder, dim)
    vectors = found.get_column("embedding").to_numpy().reshape(found.height, dim)
    row = dict(zip(found.get_column("key").to_list(), range(found.height)))
    return np.ascontiguousarray(vectors[[row[k] for k in keys.to_list()]], dtype=np.float32), len(missing)
