"""The Embedder contract on the real torch backend, and backend/device selection."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from taxonomy.embed import DIM, Embedder, HashingEmbedder, SentenceTransformerEmbedder, get_embedder
from taxonomy.errors import TaxonomyError

TEXTS = [
    "Where is my new card? I ordered it two weeks ago.",
    "My card still has not arrived",
    "How do I reset my online banking password?",
    "I want to dispute a payment I do not recognise",
    "",
]


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(batch_size=2)


@pytest.mark.model
def test_shape_dtype_and_unit_rows(torch_embedder: SentenceTransformerEmbedder) -> None:
    vectors = torch_embedder.encode(TEXTS)
    assert isinstance(torch_embedder, Embedder)
    assert vectors.shape == (len(TEXTS), DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.model
def test_deterministic_and_independent_of_batching(torch_embedder: SentenceTransformerEmbedder) -> None:
    first = torch_embedder.encode(TEXTS)
    assert np.array_equal(first, torch_embedder.encode(TEXTS))
    alone = np.vstack([torch_embedder.encode([t]) for t in TEXTS])
    assert np.allclose(first, alone, atol=1e-5)  # fp32: padding is masked out exactly


@pytest.mark.model
def test_meaning_not_words(torch_embedder: SentenceTransformerEmbedder) -> None:
    v = torch_embedder.encode(TEXTS[:3])
    # Two ways of asking about a missing card are closer than a card and a password question.
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_empty_input_loads_nothing() -> None:
    embedder = SentenceTransformerEmbedder()
    assert embedder.encode([]).shape == (0, DIM)
    assert embedder._model is None


@pytest.mark.model
def test_loads_offline_without_any_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the embedder tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    vectors = SentenceTransformerEmbedder().encode(["is the app down?"])
    assert vectors.shape == (1, DIM)


def test_cuda_without_a_gpu_is_a_clear_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for device in ("cuda", "cuda:0"):
        with pytest.raises(TaxonomyError, match="no CUDA GPU") as info:
            get_embedder("torch", device=device)
        assert info.value.field == "device"


def test_cuda_with_a_gpu_selects_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    embedder = get_embedder("torch", batch_size=128, device="cuda")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.device == "cuda" and embedder.batch_size == 128  # nothing loaded yet


@pytest.mark.skipif("not __import__('torch').cuda.is_available()")
@pytest.mark.model
def test_cuda_matches_cpu_where_a_gpu_exists() -> None:
    gpu = get_embedder("torch", device="cuda").encode(TEXTS)
    cpu = get_embedder("torch").encode(TEXTS)
    assert (gpu * cpu).sum(axis=1).min() > 0.999


def test_backend_names() -> None:
    assert isinstance(get_embedder("torch"), SentenceTransformerEmbedder)
    assert isinstance(get_embedder("hashing"), HashingEmbedder)
    with pytest.raises(TaxonomyError, match="unknown embedding backend") as info:
        get_embedder("tensorflow")
    assert info.value.field == "embedding_backend"


def test_default_backend_is_onnx() -> None:
    from taxonomy.config import Config
    from taxonomy.embed.onnx_backend import OnnxEmbedder

    assert Config().embedding_backend == "onnx"
    assert isinstance(get_embedder(), OnnxEmbedder) and get_embedder().quantization == "int8"
