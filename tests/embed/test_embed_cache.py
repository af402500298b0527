"""The embedding cache: identical and already-seen texts are never embedded again."""

from __future__ import annotations

import numpy as np

from taxonomy.embed import HashingEmbedder
from taxonomy.embed.cache import embed_with_cache, model_slug, text_key
from taxonomy.storage import Store


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += texts
        return super().encode(texts)


def test_identical_texts_once_and_seen_texts_never(tmp_path) -> None:
    store, emb = Store(str(tmp_path)), CountingEmbedder()
    texts = ["Where is my order?", "where is  my ORDER?", "cancel my plan", "Where is my order?"]
    vectors, computed = embed_with_cache(texts, emb, store, "acme")
    assert computed == 2 and len(emb.calls) == 2  # case and spacing do not matter to an uncased model
    assert vectors.shape == (4, emb.dim) and np.allclose(vectors[0], vectors[3])
    again, computed = embed_with_cache(["cancel my plan", "a new one"], emb, store, "acme")
    assert computed == 1 and emb.calls[-1] == "a new one"
    assert np.allclose(again[0], vectors[2])


def test_cache_is_per_customer_and_per_model_and_outside_labels(tmp_path) -> None:
    emb = CountingEmbedder()
    embed_with_cache(["hello"], emb, Store(str(tmp_path)), "acme")
    _, computed = embed_with_cache(["hello"], emb, Store(str(tmp_path), label="exp"), "acme")
    assert computed == 0  # a labelled run reuses production's cache
    _, computed = embed_with_cache(["hello"], emb, Store(str(tmp_path)), "globex")
    assert computed == 1
    files = list(tmp_path.rglob("*.parquet"))
    assert files
    assert all("label=" not in str(p) for p in files)
    assert all(b"hello" not in p.read_bytes() for p in files)  # hashes and vectors only, no text


def test_keys_and_slugs() -> None:
    assert text_key(" A  b ") == text_key("a b") != text_key("a c")
    slug = model_slug("all-MiniLM-L6-v2@gt-0.1")
    assert slug.startswith("all-MiniLM-L6-v2-gt-0.1-") and len(slug) <= 64
    assert model_slug("x@1") != model_slug("x#1")


def test_each_call_adds_a_shard_of_new_keys_and_shards_merge(tmp_path, monkeypatch) -> None:
    import taxonomy.embed.cache as cache

    monkeypatch.setattr(cache, "MAX_SHARDS", 3)
    store, emb = Store(str(tmp_path)), CountingEmbedder()
    first, _ = embed_with_cache(["day one"], emb, store, "acme")
    embed_with_cache(["day one", "day two"], emb, store, "acme")
    shards = sorted(tmp_path.rglob("*.parquet"))
    assert len(shards) == 2 and emb.calls == ["day one", "day two"]  # the second shard holds only "day two"
    embed_with_cache(["day three"], emb, store, "acme")
    embed_with_cache(["day four"], emb, store, "acme")  # a fourth shard: over the limit, merged into one
    assert len(list(tmp_path.rglob("*.parquet"))) == 1
    again, computed = embed_with_cache(["day four", "day one", "day two"], emb, store, "acme")
    assert computed == 0 and np.allclose(again[1], first[0])
