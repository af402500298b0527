"""Stage 2, enrich: one customer's ``conversations_raw/`` days in, ``enriched/`` days out.

Each conversation gets its language (:mod:`taxonomy.language`), its all-MiniLM-L6-v2 vector through
the per-customer cache (:mod:`taxonomy.embed`) and its tier (:mod:`taxonomy.tiers`). Each partition is
stamped with the fingerprint of its input and models, so unchanged days are never recomputed.

``taxonomy run`` calls :func:`embed_customer_days` for every customer first (the model uses every core),
then :func:`enrich_customer_days` in worker processes, several customers at once: with every vector
already cached, what is left (language, tier, writing) is plain Python per row, one core per worker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

import polars as pl

from taxonomy.config import Config, resolve_config
from taxonomy.errors import TaxonomyError
from taxonomy.schema import ENRICHED, TIER_COLUMNS, conform
from taxonomy.storage import PART_FILE, Store, validate_customer_id

_EMBEDDERS: dict[tuple, object] = {}


def embedder(cfg: Config):  # noqa: ANN202 - returns an Embedder
    """The configured embedder, loaded once per process and settings."""
    from taxonomy.embed import get_embedder

    key = (cfg.embedding_backend, cfg.embedding_batch_size, cfg.device)
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = get_embedder(cfg.embedding_backend, batch_size=cfg.embedding_batch_size, device=cfg.device)
    return _EMBEDDERS[key]


def enrich_frame(raw: pl.DataFrame, cfg: Config, store: Store, customer_id: str) -> tuple[pl.DataFrame, str]:
    """Add the embedding (through the cache) and the model's tier to canonical conversations.

    Returns:
        The frame conformed to ``schema.ENRICHED`` and the tier model's version.
    """
    from taxonomy.embed.cache import embed_with_cache
    from taxonomy.language import detect_languages
    from taxonomy.tiers import load_classifier

    classifier = load_classifier()
    texts = raw.get_column("text").to_list()
    # The detected language replaces any the export gave (often the user's interface locale).
    raw = raw.with_columns(pl.Series("language", detect_languages(texts), dtype=pl.String))
    vectors, _ = embed_with_cache(texts, embedder(cfg), store, customer_id)
    tiers = classifier.predict(texts, vectors) if texts else pl.DataFrame(schema=TIER_COLUMNS)
    enriched = pl.concat([raw, tiers], how="horizontal").with_columns(
        pl.Series("embedding", vectors, dtype=pl.Array(pl.Float32, vectors.shape[1] if len(vectors) else 384))
    )
    return conform(enriched, ENRICHED), classifier.version


def enrich_customer(
    output_uri: str,
    customer_id: str,
    day: date,
    *,
    label: str | None = None,
    config_path: str | Config | None = None,
) -> str:
    """Embed and tier one customer-day of ``conversations_raw``; return the ``enriched`` partition URI.

    See :func:`enrich_customer_days`, which does several days of one customer at once.
    """
    return enrich_customer_days(output_uri, customer_id, [day], label=label, config_path=config_path)[day]


def enrich_customer_days(
    output_uri: str,
    customer_id: str,
    days: Iterable[date],
    *,
    label: str | None = None,
    config_path: str | Config | None = None,
) -> dict[date, str]:
    """Embed and tier some days of one customer's ``conversations_raw``, one ``enriched`` partition each.

    The days are embedded and classified together (one cache lookup, one model call), then
    written one partition per day. Each partition records the fingerprint of its input and
    models; a day whose fingerprint is unchanged is not recomputed, so re-runs and backfills of
    processed days cost next to nothing.

    Returns:
        Day -> URI of its ``enriched`` partition.
    """
    cfg = resolve_config(config_path)
    store = Store(output_uri, label=label)
    out, todo = _stale_days(store, customer_id, days, cfg)
    if todo:
        raw = _read_raw(store, customer_id, todo)
        enriched, _ = enrich_frame(raw.drop("_part"), cfg, store, customer_id)
        parts = raw.get_column("_part").to_numpy()
        for i, (day, stamp, _) in enumerate(todo):
            dst = store.partition("enriched", customer_id=customer_id, date=day)
            store.write_partition(enriched.filter(pl.Series(parts == i)), dst, metadata=stamp)
    return out


def embed_customer_days(
    output_uri: str,
    customer_id: str,
    days: Iterable[date],
    *,
    label: str | None = None,
    config_path: str | Config | None = None,
) -> list[date]:
    """Only the embedding part of :func:`enrich_customer_days`: the texts of the days it would
    recompute go into the embedding cache, so that it then needs no model pass.

    ``taxonomy run`` embeds every customer this way first, each with every core, and then tiers
    them in worker processes, several customers at once.

    Returns:
        The days :func:`enrich_customer_days` has to recompute (none: nothing was embedded).
    """
    from taxonomy.embed.cache import embed_with_cache

    cfg = resolve_config(config_path)
    store = Store(output_uri, label=label)
    _, todo = _stale_days(store, customer_id, days, cfg)
    if todo:
        embed_with_cache(_read_raw(store, customer_id, todo).get_column("text").to_list(), embedder(cfg), store, customer_id)
    return [day for day, _, _ in todo]


def _stale_days(
    store: Store, customer_id: str, days: Iterable[date], cfg: Config
) -> tuple[dict[date, str], list[tuple[date, dict[str, str], bytes]]]:
    """Every day's ``enriched`` URI, and the days whose partition is missing or was made from
    other input or models: ``(day, fingerprint, raw partition bytes)``."""
    from taxonomy.language import DETECTOR_VERSION
    from taxonomy.tiers import load_classifier

    validate_customer_id(customer_id)
    models = {"taxonomy.embedder": embedder(cfg).version, "taxonomy.tier_model": load_classifier().version,
              "taxonomy.language": DETECTOR_VERSION}
    out: dict[date, str] = {}
    todo: list[tuple[date, dict[str, str], bytes]] = []
    for day in sorted(set(days)):
        src = store.partition("conversations_raw", customer_id=customer_id, date=day)
        dst = store.partition("enriched", customer_id=customer_id, date=day)
        out[day] = store.uri(dst)
        src_file = f"{src}/{PART_FILE}"
        if not store.exists(src_file):
            raise TaxonomyError(f"no ingested data for {customer_id} on {day}: run ingest first", file=store.uri(src))
        data = store.fs.cat_file(src_file)
        stamp = {"taxonomy.input_sha256": hashlib.sha256(data).hexdigest(), **models}
        old = store.read_metadata(dst)
        if old is None or any(old.get(k) != v for k, v in stamp.items()):
            todo.append((day, stamp, data))
    return out, todo


def _read_raw(store: Store, customer_id: str, todo: list[tuple[date, dict[str, str], bytes]]) -> pl.DataFrame:
    """The stale days' raw rows in one frame, ``_part`` numbering each row's day in ``todo``."""
    return pl.concat([
        store.decode_partition(data, store.partition("conversations_raw", customer_id=customer_id, date=day))
        .with_columns(pl.lit(i).alias("_part")) for i, (day, _, data) in enumerate(todo)
    ])
