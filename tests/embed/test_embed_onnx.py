"""The ONNX Runtime backend: built locally once, cached, normalised, in order, close to torch.

The graph is exported and quantised once per test module into a temporary cache
(about 10-25 s on 2 shared cores); the build time is printed with ``-s``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from taxonomy.embed import onnx_backend as embed_onnx
from taxonomy.embed import SentenceTransformerEmbedder, get_embedder
from taxonomy.embed.onnx_backend import OnnxEmbedder, build_model, weights_digest
from taxonomy.errors import TaxonomyError

SENTENCES = [
    "I am still waiting on my card, it has been two weeks.",
    "How do I change the PIN on my debit card?",
    "My top-up failed but the money left my account",
    "What is the exchange rate for euros today?",
    "please close my account",
    "Why was I charged a fee for a transfer to my friend in Spain last Tuesday evening?",
    "hi",
]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache root holding the int8 graph, built once for this module."""
    root = tmp_path_factory.mktemp("onnx-cache")
    started = time.perf_counter()
    path = build_model("int8", cache_dir=root)
    print(f"\nexport + int8 quantisation: {time.perf_counter() - started:.1f} s -> {path.name}")
    return root


@pytest.fixture(scope="module")
def embedder(onnx_cache: Path) -> OnnxEmbedder:
    return OnnxEmbedder(batch_size=3, cache_dir=onnx_cache)


@pytest.mark.model
def test_vectors_are_normalised_float32_rows(embedder: OnnxEmbedder) -> None:
    vectors = embedder.encode(SENTENCES)
    assert vectors.shape == (len(SENTENCES), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


@pytest.mark.model
def test_length_sorting_keeps_input_order(embedder: OnnxEmbedder) -> None:
    # Batches of 3 over 7 texts of very different lengths: sorting reshuffles them across batches.
    batched = embedder.encode(SENTENCES)
    alone = np.vstack([embedder.encode([text]) for text in SENTENCES])
    similarity = batched @ alone.T
    assert (similarity.argmax(axis=1) == np.arange(len(SENTENCES))).all()
    # Dynamic int8 quantises activations with one scale per batch, so batchmates move a vector
    # a little (measured: cosine >= 0.98 to the same text alone), never far.
    assert np.diag(similarity).min() > 0.97
    reversed_ = embedder.encode(SENTENCES[::-1])[::-1]
    assert np.diag(reversed_ @ batched.T).min() > 0.97


@pytest.mark.model
def test_close_to_the_torch_backend(embedder: OnnxEmbedder) -> None:
    ours = embedder.encode(SENTENCES)
    reference = SentenceTransformerEmbedder().encode(SENTENCES)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() > 0.95, cosine
    # Neighbours agree: each text's nearest other text is the same under both backends.
    def nearest(v: np.ndarray) -> np.ndarray:
        sim = v @ v.T
        np.fill_diagonal(sim, -1)
        return sim.argmax(axis=1)

    assert (nearest(ours) == nearest(reference)).mean() >= 6 / 7


@pytest.mark.model
def test_long_text_is_truncated_not_fatal(embedder: OnnxEmbedder) -> None:
    vectors = embedder.encode(["refund " * 2000, ""])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_input_needs_no_model(tmp_path: Path) -> None:
    out = OnnxEmbedder(cache_dir=tmp_path).encode([])
    assert out.shape == (0, 384) and out.dtype == np.float32
    assert not (tmp_path / "onnx").exists()  # nothing was built for nothing


@pytest.mark.model
def test_second_construction_reuses_the_cached_graph(onnx_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [graph] = list(onnx_cache.glob("onnx/*/model-int8.onnx"))
    before = graph.stat().st_mtime_ns

    def no_rebuild(*_args: object) -> None:
        raise AssertionError("the cached graph was rebuilt")

    monkeypatch.setattr(embed_onnx, "_export_fp32", no_rebuild)
    monkeypatch.setattr(embed_onnx, "_quantize_int8", no_rebuild)
    vectors = OnnxEmbedder(cache_dir=onnx_cache).encode(SENTENCES[:2])
    assert vectors.shape == (2, 384)
    assert graph.stat().st_mtime_ns == before
    assert not list(graph.parent.glob(".build-*"))  # no temporary build folders left behind


def test_concurrent_builds_export_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def slow_export(_model_dir: str, target: Path) -> None:
        calls.append(str(target))
        time.sleep(0.3)
        target.write_bytes(b"graph")

    monkeypatch.setattr(embed_onnx, "_export_fp32", slow_export)
    results: list[Path] = []
    workers = [threading.Thread(target=lambda: results.append(build_model("fp32", tmp_path))) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(calls) == 1 and len(set(results)) == 1 and results[0].read_bytes() == b"graph"


def test_failed_build_leaves_no_half_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_export(_model_dir: str, target: Path) -> None:
        target.write_bytes(b"half")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(embed_onnx, "_export_fp32", broken_export)
    with pytest.raises(RuntimeError):
        build_model("fp32", tmp_path)
    assert not list(tmp_path.glob("onnx/*/model-*.onnx")) and not list(tmp_path.glob("onnx/*/.build-*"))


def test_unwritable_cache_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should go")
    with pytest.raises(TaxonomyError, match="TAXONOMY_CACHE"):
        build_model("int8", cache_dir=blocker)


def test_digest_follows_the_weights(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"weights-a")
    (tmp_path / "tokenizer.json").write_text("{}")
    first = weights_digest(tmp_path)
    assert weights_digest(tmp_path) == first
    (tmp_path / "model.safetensors").write_bytes(b"weights-b")
    assert weights_digest(tmp_path) != first


def test_versions_never_mix_with_torch() -> None:
    versions = {OnnxEmbedder().version, OnnxEmbedder(quantization="fp32").version, SentenceTransformerEmbedder.version}
    assert len(versions) == 3 and all(v.startswith("all-MiniLM-L6-v2@") for v in versions)


def test_bad_settings_are_user_errors() -> None:
    with pytest.raises(TaxonomyError, match="quantization"):
        OnnxEmbedder(quantization="int4")
    with pytest.raises(TaxonomyError, match="CPU only") as info:
        get_embedder("onnx", device="cuda")
    assert info.value.field == "device"
    assert isinstance(get_embedder("onnx"), OnnxEmbedder)
    assert get_embedder("onnx-fp32").quantization == "fp32"


@pytest.mark.model
def test_worker_threads_do_not_change_the_vectors(onnx_cache: Path) -> None:
    # The batches are fixed by the lengths alone, so one worker or several give identical rows.
    texts = SENTENCES * 9
    one = OnnxEmbedder(batch_size=4, threads=1, cache_dir=onnx_cache).encode(texts)
    two = OnnxEmbedder(batch_size=4, threads=2, cache_dir=onnx_cache).encode(texts)
    assert np.array_equal(one, two)


def test_batches_respect_rows_and_padded_tokens() -> None:
    lengths = np.array([3, 3, 4, 5, 5, 9, 20, 120, 130])
    batches = embed_onnx._batches(lengths, max_rows=3, max_tokens=20)
    assert [i for a, b in batches for i in range(a, b)] == list(range(len(lengths)))  # every row once, in order
    for a, b in batches:
        assert b - a <= 3
        assert (b - a) * lengths[b - 1] <= 20 or b - a == 1  # only a lone long text may exceed the budget
    assert batches[-2:] == [(7, 8), (8, 9)]


def test_threads_follow_omp_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed_onnx, "usable_cores", lambda: 4)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert embed_onnx.default_threads() == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "16")
    assert embed_onnx.default_threads() == 4  # never more than the cores
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert embed_onnx.default_threads() == 4
