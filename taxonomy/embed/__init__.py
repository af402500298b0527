"""Stage 2, embed: texts in, L2-normalised all-MiniLM-L6-v2 vectors (float32, 384 wide) out.

- :mod:`~taxonomy.embed.base`: the :class:`Embedder` contract and the fp32 sentence-transformers
  backend (the reference, and the GPU path).
- :mod:`~taxonomy.embed.onnx_backend`: ONNX Runtime int8 on CPU, the default backend.
- :mod:`~taxonomy.embed.cache`: per-customer vectors keyed by model version and text hash
  (``embedding_cache/``), so a text is embedded once.

Reads nothing from the pipeline's datasets itself; :func:`taxonomy.enrich.enrich_customer_days` embeds the
texts of ``conversations_raw/`` through :func:`~taxonomy.embed.cache.embed_with_cache`.
"""

from __future__ import annotations

from taxonomy.embed.base import (
    DIM,
    MODEL_NAME,
    Embedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    packaged_model_dir,
)

__all__ = [
    "DIM",
    "MODEL_NAME",
    "Embedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "get_embedder",
    "packaged_model_dir",
]


def get_embedder(backend: str = "onnx", batch_size: int = 64, device: str = "cpu") -> Embedder:
    """The embedder for a backend name.

    Args:
        backend: ``onnx`` (the default, as in :class:`taxonomy.config.Config`: ONNX Runtime, int8,
            CPU; :mod:`taxonomy.embed.onnx_backend`), ``torch`` (sentence-transformers, fp32, the reference
            and the GPU path), ``onnx-fp32`` (ONNX Runtime, unquantised), or ``hashing`` (tests only).
        batch_size: Texts per forward pass.
        device: ``cpu``, or ``cuda`` for the torch backend where torch sees a GPU.

    Raises:
        TaxonomyError: unknown backend, or a device the backend cannot use here.
    """
    from taxonomy.errors import TaxonomyError

    if device != "cpu" and backend.startswith("onnx"):
        raise TaxonomyError(f"the {backend!r} backend runs on CPU only; use embedding_backend 'torch' for {device!r}",
                            field="device")
    if backend == "torch":
        if device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise TaxonomyError(f"device {device!r} asked for, but torch sees no CUDA GPU on this machine "
                                    "(use device 'cpu')", field="device")
        return SentenceTransformerEmbedder(batch_size=batch_size, device=device)
    if backend in ("onnx", "onnx-int8", "onnx-fp32"):
        from taxonomy.embed.onnx_backend import OnnxEmbedder

        return OnnxEmbedder(batch_size=batch_size, quantization="fp32" if backend == "onnx-fp32" else "int8")
    if backend == "hashing":
        return HashingEmbedder()
    raise TaxonomyError(f"unknown embedding backend {backend!r} (known: torch, onnx, onnx-fp32, hashing)",
                        field="embedding_backend")
