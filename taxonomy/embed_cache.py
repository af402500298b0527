"""Nothing embedded twice: a per-customer embedding cache beside the outputs.

Keyed by (embedder version, hash of the normalised text), stored as Parquet at
``<output root>/embedding_cache/model=<slug>/customer_id=<id>/part-0.parquet``
(local or S3, written atomically). It holds hashes and vectors only, never text,
and lives outside any ``label=`` namespace so experiments and backfills share it.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import polars as pl

from taxonomy.storage import Store

_SPACE = re.compile(r"\s+")


def text_key(text: str) -> str:
    """Hash of a text after the normalisation the (uncased) model itself applies: case and spacing."""
    return hashlib.blake2b(_SPACE.sub(" ", text).strip().lower().encode("utf-8"), digest_size=16).hexdigest()


def model_slug(version: str) -> str:
    """A path-safe name for an embedder version."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", version).strip("-.")[:40] or "model"
    return f"{readable}-{hashlib.sha256(version.encode()).hexdigest()[:8]}"


def embed_with_cache(texts: list[str], embedder, store: Store, customer_id: str) -> tuple[np.ndarray, int]:  # noqa: ANN001
    """Embed ``texts``, reusing cached vectors and computing each distinct unseen text once.

    Args:
        texts: Texts to embed, in order.
        embedder: Any :class:`taxonomy.embed.Embedder`.
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
    cached = root.read_partition(folder)
    known: dict[str, np.ndarray] = {}
    if cached is not None and cached.height:
        vectors = np.asarray(cached.get_column("embedding").to_numpy(), dtype=np.float32).reshape(cached.height, dim)
        known = dict(zip(cached.get_column("key").to_list(), vectors))
    keys = [text_key(t) for t in texts]
    missing: dict[str, str] = {}
    for key, text in zip(keys, texts):
        if key not in known and key not in missing:
            missing[key] = text
    if missing:
        fresh = embedder.encode(list(missing.values()))
        known.update(zip(missing.keys(), fresh))
        all_keys = sorted(known)
        table = pl.DataFrame(
            {"key": all_keys, "embedding": np.stack([known[k] for k in all_keys])},
            schema={"key": pl.String(), "embedding": pl.Array(pl.Float32(), dim)},
        )
        root.write_partition(table, folder)
    return np.stack([known[k] for k in keys]).astype(np.float32, copy=False), len(missing)
