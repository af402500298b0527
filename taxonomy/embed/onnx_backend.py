"""A faster CPU embedding backend: all-MiniLM-L6-v2 on ONNX Runtime, int8 quantised.

The ONNX graph is a build artifact, never committed and never downloaded: on first
use it is exported locally from the packaged weights
(:func:`taxonomy.embed.base.packaged_model_dir`) with torch's TorchScript exporter, then
dynamically quantised to int8 (signed weights, per output channel), and cached in
``$TAXONOMY_CACHE/onnx/<digest>/model-<quantization>.onnx`` (default cache root
``~/.cache/support-taxonomy``). The digest covers the packaged weights, the
tokenizer, the export recipe and the onnxruntime version, so a change to any of
them builds a fresh graph. The build holds a file lock and publishes the file with
an atomic rename, so concurrent workers build it once and never read half a file.

At run time only ``onnxruntime``, ``tokenizers`` and numpy are used (torch is needed
for the one-off export only). Texts are tokenised with the model's own fast
tokenizer and sorted by token length; consecutive texts then form batches of at most
``batch_size`` rows and about ``max_batch_tokens`` padded tokens, so each batch is
padded only to its own longest text and its activations stay in the core's cache
(measured on 2 Sapphire Rapids cores: 512-token batches cost 20-25 % less CPU per
message than fixed batches of 64). One worker thread per usable core runs whole
batches through a shared session whose kernels are single-threaded: no per-operator
synchronisation between threads, and a core taken by another process slows only
its own worker. Token vectors are mean-pooled over real tokens and L2-normalised in
numpy (what sentence-transformers does for this model), then put back in input
order.

Vectors differ slightly from the torch backend's (quantisation), so ``version``
differs too and embedding caches never mix the two.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from taxonomy.embed.base import DIM, SentenceTransformerEmbedder, packaged_model_dir
from taxonomy.errors import TaxonomyError
from taxonomy.parallel import usable_cores

# Bump when the export or quantisation recipe changes: it is part of the cache key.
RECIPE = "torchscript-opset17-eager+dyn-qint8-per-channel-matmul-only/2"
QUANTIZATIONS = ("int8", "fp32")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Padded tokens per forward pass (rows x longest text): small enough that a batch's
# activations (~tokens x 1536 floats in the feed-forward layers) stay in a 2 MB L2 cache.
MAX_BATCH_TOKENS = 512
# Part of ``OnnxEmbedder.version``: bump when the vectors change without the graph changing
# (int8 activations are quantised with one scale per batch, so batching moves them slightly).
_VECTORS = "2"
# Texts tokenised and length-sorted together: large enough that sorting pays, small
# enough that a million-row call never holds a million token lists at once.
_SORT_CHUNK = 8192


def cache_root() -> Path:
    """Where built artifacts live: ``$TAXONOMY_CACHE`` or ``~/.cache/support-taxonomy``."""
    root = os.environ.get("TAXONOMY_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "support-taxonomy")
    return Path(root)


def weights_digest(model_dir: str | os.PathLike[str]) -> str:
    """A short hash of everything the exported graph depends on.

    Args:
        model_dir: The packaged sentence-transformers folder.

    Returns:
        16 hex characters over the weight, config and tokenizer files, the recipe and the
        onnxruntime version (a newer quantiser may produce a different graph).
    """
    import onnxruntime

    h = hashlib.sha256(f"{RECIPE}|onnxruntime={onnxruntime.__version__}".encode())
    for name in ("model.safetensors", "config.json", "tokenizer.json", "sentence_bert_config.json"):
        path = Path(model_dir) / name
        h.update(name.encode())
        if path.exists():
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:16]


def _export_fp32(model_dir: str, target: Path) -> None:
    """Export the BertModel (token embeddings out) to ONNX with dynamic batch and length axes."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" would print on every build

    # Eager attention traces to plain MatMul/Softmax that ORT fuses and quantises well.
    bert = AutoModel.from_pretrained(model_dir, local_files_only=True, attn_implementation="eager").eval()

    class _Tokens(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN201
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    # Two rows of different length so the traced graph sees a real padding mask.
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 2073, 2003, 2026, 4003, 102]])
    mask = (ids != 0).long()
    axes = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, "token_embeddings")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation chatter about the legacy exporter
        torch.onnx.export(
            _Tokens(bert), (ids, mask, torch.zeros_like(ids)), str(target), dynamo=False,
            input_names=list(_INPUTS), output_names=["token_embeddings"], dynamic_axes=axes, opset_version=17,
        )


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the MatMul weights: signed, per output channel.

    Activations are quantised to uint8 at run time, one scale per batch. The embedding
    tables (Gather) stay float32: quantising them saves no time and costs accuracy.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # ORT's pre-processing (symbolic shape inference) fails on this graph, and its hint to run it
    # would print on every build; the quantiser works without it.
    hint = logging.Filter()
    hint.filter = lambda record: "pre-processing before quantization" not in record.getMessage()  # type: ignore
    logging.getLogger().addFilter(hint)
    try:
        quantize_dynamic(
            str(source), str(target), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"],
            # The legacy export leaves some MatMul outputs untyped; they are all float32.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        logging.getLogger().removeFilter(hint)


def build_model(quantization: str = "int8", cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cached ONNX graph for ``quantization``, exported and quantised first if missing.

    Args:
        quantization: ``"int8"`` (default) or ``"fp32"``.
        cache_dir: Cache root; defaults to :func:`cache_root`.

    Returns:
        Path of ``<cache root>/onnx/<digest>/model-<quantization>.onnx``.

    Raises:
        TaxonomyError: unknown quantization, or a cache folder that cannot be created.
    """
    if quantization not in QUANTIZATIONS:
        raise TaxonomyError(f"unknown ONNX quantization {quantization!r} (known: {', '.join(QUANTIZATIONS)})")
    model_dir = packaged_model_dir()
    folder = Path(cache_dir or cache_root()) / "onnx" / weights_digest(model_dir)
    target = folder / f"model-{quantization}.onnx"
    if target.exists():
        return target
    from filelock import FileLock

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TaxonomyError(f"cannot create the ONNX model cache ({exc.strerror}); point TAXONOMY_CACHE "
                            "at a writable folder", file=str(folder)) from None
    with FileLock(str(folder / ".build.lock")):
        if target.exists():  # another worker built it while we waited
            return target
        with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as tmp:
            fp32 = Path(tmp) / "model-fp32.onnx"
            _export_fp32(model_dir, fp32)
            built = fp32
            if quantization == "int8":
                built = Path(tmp) / "model-int8.onnx"
                _quantize_int8(fp32, built)
            os.replace(built, target)  # atomic: readers see the whole file or none
    return target


def default_threads() -> int:
    """Worker threads: ``OMP_NUM_THREADS`` where set (a deployment's per-task thread budget, which
    the torch backend honours too), never more than the usable cores."""
    cores = usable_cores()
    try:
        budget = int(os.environ.get("OMP_NUM_THREADS", "") or cores)
    except ValueError:
        budget = cores
    return max(1, min(budget, cores))


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime (CPU), behind the :class:`taxonomy.embed.base.Embedder` contract.

    Args:
        batch_size: Most texts per forward pass (after length sorting).
        quantization: ``"int8"`` (dynamic, per-channel) or ``"fp32"``.
        threads: Worker threads, each running whole batches on one core; defaults to
            :func:`default_threads` (``OMP_NUM_THREADS`` where set, else the usable cores).
        cache_dir: Where the built graph is cached; defaults to :func:`cache_root`.
        max_batch_tokens: Most padded tokens per forward pass (a single longer text still
            forms a batch of its own).
    """

    dim = DIM

    def __init__(
        self,
        batch_size: int = 64,
        quantization: str = "int8",
        threads: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
    ) -> None:
        if quantization not in QUANTIZATIONS:
            raise TaxonomyError(f"unknown ONNX quantization {quantization!r} (known: {', '.join(QUANTIZATIONS)})")
        self.batch_size = max(1, int(batch_size))
        self.quantization = quantization
        self.threads = threads
        self.cache_dir = cache_dir
        self.max_batch_tokens = max(1, int(max_batch_tokens))
        # Differs from torch's (vectors differ slightly) so caches never mix them; a change of
        # RECIPE or batching that moves the vectors must change this string too (_VECTORS).
        self.version = f"{SentenceTransformerEmbedder.version}+onnx-{quantization}.{_VECTORS}"
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> tuple[Any, Any]:
        if self._session is None:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model_dir = packaged_model_dir()
            with open(os.path.join(model_dir, "sentence_bert_config.json"), encoding="utf-8") as fh:
                max_len = int(json.load(fh)["max_seq_length"])
            tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
            tokenizer.enable_truncation(max_len)
            tokenizer.no_padding()  # each batch is padded to its own longest text below
            options = ort.SessionOptions()
            # Parallel over batches, not inside operators: each run stays on its calling worker
            # thread (ORT releases the GIL), so threads never wait on each other per operator,
            # and no idle pool threads busy-wait on cores other processes need.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            path = build_model(self.quantization, self.cache_dir)
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return a ``(len(texts), 384)`` float32 array of L2-normalised rows, in input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        workers = max(1, self.threads or default_threads())
        # A pool per call: never a pool whose threads a fork left behind.
        with ThreadPoolExecutor(workers, thread_name_prefix="onnx-embed") if workers > 1 else nullcontext() as pool:
            for start in range(0, len(texts), _SORT_CHUNK):
                chunk = list(texts[start : start + _SORT_CHUNK])
                out[start : start + len(chunk)] = self._encode_sorted(chunk, pool)
        return out

    def _encode_sorted(self, texts: list[str], pool: ThreadPoolExecutor | None) -> np.ndarray:
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)

        def run(rows: np.ndarray) -> None:
            width = max(1, int(lengths[rows[-1]]))  # sorted: the last row is the longest
            ids = np.zeros((len(rows), width), dtype=np.int64)
            for i, row in enumerate(rows):
                ids[i, : lengths[row]] = encodings[row].ids
            mask = (np.arange(width)[None, :] < lengths[rows][:, None]).astype(np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            tokens = session.run(None, feeds)[0]
            out[rows] = _mean_pool_normalise(tokens, mask)

        batches = _batches(lengths[order], self.batch_size, self.max_batch_tokens)
        rows_of = [order[a:b] for a, b in batches]
        if pool is None or len(rows_of) == 1:
            for rows in rows_of:
                run(rows)
        else:
            list(pool.map(run, rows_of))  # re-raises a worker's error here
        return out


def _batches(sorted_lengths: np.ndarray, max_rows: int, max_tokens: int) -> list[tuple[int, int]]:
    """``(start, end)`` slices of ascending lengths: at most ``max_rows`` rows and, unless one row alone
    exceeds it, at most ``max_tokens`` padded tokens (rows x the slice's last, longest, length)."""
    out, start, n = [], 0, len(sorted_lengths)
    while start < n:
        end = start + 1
        while end < n and end - start < max_rows and (end + 1 - start) * max(1, int(sorted_lengths[end])) <= max_tokens:
            end += 1
        out.append((start, end))
        start = end
    return out


def _mean_pool_normalise(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens, then unit length (sentence-transformers' pooling for this model)."""
    weights = mask[..., None].astype(np.float32)
    pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
