"""Tier of each support message: informational, personalized or action_led (``TIERS.md``).

Public contract:

- :func:`load_classifier` -> :class:`TierClassifier` (cached per process), whose
  :meth:`~TierClassifier.predict` adds the ``schema.TIER_COLUMNS`` to texts + embeddings;
- :func:`taxonomy.tiers.classify.classify_file` (``taxonomy classify``): a CSV/JSONL/Parquet file in,
  Parquet out;
- :func:`train_and_save` (``taxonomy train-tiers``): rebuilds ``models/tier-classifier/<version>/``;
- :func:`load_overrides` / :func:`apply_overrides`: per-customer pins (see :mod:`taxonomy.tiers.overrides`).

Empty or whitespace-only texts are not guessed at: their tier, confidence and probabilities are
null, and ``taxonomy classify`` says why in ``tier_note``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import polars as pl

from taxonomy.errors import TaxonomyError
from taxonomy.schema import TIER_COLUMNS, TIERS
from taxonomy.tiers.overrides import Overrides, apply_overrides, load_overrides  # noqa: F401 - re-exported
from taxonomy.tiers.train import (
    DEFAULT_MODELS_DIR,
    DEFAULT_VERSION,
    SEED_FILE,
    FittedHead,
    TrainSettings,
    load_head,
    load_training_data,
    sample_weights,
    save_head,
    settings_of,
    train,
)

MODEL_NAME = "tier-classifier"
EMPTY_TEXT_NOTE = "empty text: not classified"
# Characters of each text handed to the embedder: the model reads 256 tokens at most anyway,
# and a 100 KB row must not cost a 100 KB tokenisation.
MAX_EMBED_CHARS = 2_000
_CACHE: dict[tuple[str, str], TierClassifier] = {}
_TEMPERATURES: dict[tuple[str, str], float] = {}  # per (models_dir, version): see temperature_of


class TierClassifier:
    """A loaded tier model. ``version`` travels into every output row as ``model_version``.

    Args:
        head: The fitted, calibrated head.
        version: The artifact's version (its folder name).
    """

    def __init__(self, head: FittedHead, version: str) -> None:
        self.head = head
        self.version = version
        _TEMPERATURES[(str(None), version)] = float(head.temperature)  # what temperature_of(version) answers

    def predict_proba(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        """Calibrated ``(n, 3)`` probabilities in ``TIERS`` order (rows sum to 1)."""
        if not len(texts):
            return np.zeros((0, len(TIERS)))
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2 or embeddings.shape[0] != len(texts):
            raise ValueError(f"expected embeddings of shape ({len(texts)}, dim), got {embeddings.shape}")
        # Each distinct text is scored once (support queues repeat themselves: 16% of a 1M-row sample).
        first: dict[str, int] = {}
        inverse = np.fromiter((first.setdefault(t, i) for i, t in enumerate(texts)), dtype=np.int64, count=len(texts))
        rows = np.fromiter(first.values(), dtype=np.int64, count=len(first))
        proba = self.head.proba(list(first), embeddings[rows])
        position = np.empty(len(texts), dtype=np.int64)
        position[rows] = np.arange(len(rows))
        return proba[position[inverse]]

    def predict(self, texts: list[str], embeddings: np.ndarray) -> pl.DataFrame:
        """The tier columns for each text (rows aligned with ``texts``).

        Args:
            texts: Messages (None or blank ones get null tier and probabilities).
            embeddings: ``(len(texts), 384)`` normalised all-MiniLM-L6-v2 vectors of the same texts.

        Returns:
            A frame with exactly the ``schema.TIER_COLUMNS`` (``tier_source`` is ``"model"``).
        """
        texts = [t if isinstance(t, str) else "" for t in texts]
        proba = self.predict_proba(texts, embeddings)
        blank = np.array([not t.strip() for t in texts], dtype=bool)
        tiers = np.array(TIERS, dtype=object)[proba.argmax(axis=1)] if len(texts) else np.array([], dtype=object)
        tiers[blank] = None
        proba = proba.astype(np.float64)
        proba[blank] = np.nan
        columns = {
            "tier": tiers.tolist(),
            "tier_confidence": proba.max(axis=1) if len(texts) else [],
            **{f"p_{t}": proba[:, i] for i, t in enumerate(TIERS)},
            "tier_source": ["model"] * len(texts),
            "model_version": [self.version] * len(texts),
        }
        frame = pl.DataFrame(columns, schema=TIER_COLUMNS, nan_to_null=True)
        return frame


def _models_dir(models_dir: str | os.PathLike[str] | None) -> Path:
    return Path(models_dir) if models_dir else DEFAULT_MODELS_DIR


def current_version(models_dir: str | os.PathLike[str] | None = None) -> str:
    """The version named in ``<models_dir>/tier-classifier/CURRENT`` (default ``tier-clf-v9``)."""
    pointer = _models_dir(models_dir) / MODEL_NAME / "CURRENT"
    return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else DEFAULT_VERSION


def temperature_of(version: str | None, models_dir: str | None = None) -> float:
    """The calibration temperature of a model version: a classifier built in this process, else the
    artifact's ``config.json`` (cached); 1.0 for a version this machine has no artifact of (its
    probabilities are then taken as they are)."""
    if not version:
        return 1.0
    key = (str(models_dir), version)
    if key not in _TEMPERATURES:
        path = _models_dir(models_dir) / MODEL_NAME / version / "config.json"
        try:
            _TEMPERATURES[key] = float(json.loads(path.read_text(encoding="utf-8")).get("temperature", 1.0))
        except (OSError, ValueError):
            _TEMPERATURES[key] = 1.0
    return _TEMPERATURES[key]


def load_classifier(version: str | None = None, models_dir: str | None = None) -> TierClassifier:
    """Load (once per process) the tier classifier.

    Args:
        version: Artifact version; default: the one in ``models/tier-classifier/CURRENT``.
        models_dir: Folder holding ``tier-classifier/``; default: the project's ``models/``.

    Raises:
        TaxonomyError: if the artifact is missing or unreadable.
    """
    version = version or current_version(models_dir)
    path = _models_dir(models_dir) / MODEL_NAME / version
    key = (str(path.resolve()), version)
    if key not in _CACHE:
        if not (path / "config.json").exists():
            raise TaxonomyError("no tier model here; run `taxonomy train-tiers`", file=str(path))
        try:
            head, _ = load_head(path)
        except (ValueError, KeyError, OSError, json.JSONDecodeError) as exc:
            raise TaxonomyError(f"tier model is unreadable ({exc})", file=str(path)) from None
        _CACHE[key] = TierClassifier(head, version)
    return _CACHE[key]


def _training_embeddings(texts: list[str]) -> np.ndarray:
    """Real-model embeddings of the training texts, cached in ``TAXONOMY_CACHE_DIR`` (default ``.cache/``)."""
    from taxonomy.embed import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    digest = hashlib.sha256("\n".join([embedder.version, *texts]).encode("utf-8")).hexdigest()[:24]
    cache = Path(os.environ.get("TAXONOMY_CACHE_DIR", DEFAULT_MODELS_DIR.parent / ".cache")) / "tier-train"
    path = cache / f"{digest}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    vectors = embedder.encode(texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    return vectors


def _embeddings_of(data, embed) -> np.ndarray:  # noqa: ANN001
    """Training embeddings in row order; the real model's are cached per kind of source
    (Banking77, seed, corpus), so editing one re-embeds only that one."""
    if embed is not None:
        return np.asarray(embed(data.texts), dtype=np.float64)
    blocks = np.where(np.isin(data.kinds, ["banking77", "corpus"]), data.kinds, "seed")
    out = np.zeros((len(data.texts), 384), dtype=np.float64)
    for block in dict.fromkeys(blocks.tolist()):
        rows = np.flatnonzero(blocks == block)
        out[rows] = _training_embeddings([data.texts[i] for i in rows])
    return out


def evaluate_evaluation_sources(version: str | None = None, models_dir: str | None = None) -> dict:
    """A shipped model scored on the tier corpus's evaluation-only sources (rows no model was
    trained on, ``evaluation.parquet``), against their mapped tiers with the form rules applied;
    ``{}`` when the build has none. Embeddings of those rows are cached like the training ones."""
    from taxonomy.tiers.corpus import load_evaluation_corpus
    from taxonomy.tiers.evaluate import evaluate_unseen
    from taxonomy.tiers.rules import apply_rules, load_rules

    frame = load_evaluation_corpus()
    if frame.is_empty():
        return {}
    head, _ = load_head(_models_dir(models_dir) / MODEL_NAME / (version or current_version(models_dir)))
    texts = frame["text"].to_list()
    tiers, _ = apply_rules(texts, frame["tier"].to_numpy().astype(str), load_rules())
    logits = head.logits(texts, _training_embeddings(texts))
    return evaluate_unseen(frame, logits, head.temperature, np.asarray(tiers, dtype=str))


def _corpus_summary(models_dir: str | None) -> dict:
    """The committed counts of the tier corpus (rows per source and tier, mapped intents)."""
    path = _models_dir(models_dir) / "tier-corpus" / "counts.json"
    if not path.exists():
        return {}
    counts = json.loads(path.read_text(encoding="utf-8"))
    return {k: counts[k] for k in ("rows", "per_source", "intents_mapped") if k in counts}


def train_and_save(
    version: str | None = None,
    models_dir: str | None = None,
    *,
    embed=None,  # noqa: ANN001 - callable(list[str]) -> np.ndarray; default: cached real model
    settings: TrainSettings | None = None,
    evaluate: bool = True,
    reviews_uri: str | None = None,
) -> str:
    """Train on Banking77 + the seed set + the tier corpus, evaluate, and write ``<models_dir>/tier-classifier/<version>/``.

    Seeded and order-stable: rerunning with the same data writes identical ``weights.npz``,
    ``vocabulary.json``, ``config.json`` and ``metrics.json``.

    Args:
        version: Version to write; default: the current one.
        models_dir: Folder holding ``tier-seed/`` and ``tier-classifier/``; default: the project's ``models/``.
        embed: Embedding function for the training texts (tests pass a fake); default: the real model.
        settings: Hyper-parameters; default: the settings the version's ``config.json`` records when it
            exists (a rebuild gives the same artifact whatever today's defaults), else :class:`TrainSettings`.
        evaluate: Also write the Banking77 in-domain figure (the LOSO ones always come with training).
        reviews_uri: Also learn from the reviewed messages of every customer under this output root
            (embeddings only, see :mod:`taxonomy.tiers.reviewed`); adds ``leave_one_customer_out``.

    Returns:
        The artifact folder.

    Raises:
        TaxonomyError: when the tier corpus is needed and has not been built on this machine, or the
            models folder has no seed set.
    """
    from taxonomy.tiers.corpus import MISSING_REASON, corpus_available, corpus_path
    from taxonomy.tiers.evaluate import banking_in_domain

    version = version or current_version(models_dir)
    if settings is None:  # a rebuild keeps the version's own settings, a new version gets today's defaults
        config = _models_dir(models_dir) / MODEL_NAME / version / "config.json"
        settings = settings_of(json.loads(config.read_text(encoding="utf-8")), version) if config.is_file() else TrainSettings()
    seed = _models_dir(models_dir) / SEED_FILE
    if not seed.is_file():
        raise TaxonomyError("the seed set is missing: --models-dir must hold tier-seed/ (copy the project's models/tier-seed/)",
                            file=str(seed))
    if settings.use_corpus and not corpus_available():
        raise TaxonomyError(MISSING_REASON, file=str(corpus_path()))
    data = load_training_data(models_dir, use_corpus=settings.use_corpus, form_rules=settings.form_rules,
                              message_labels=settings.message_labels)
    embeddings = _embeddings_of(data, embed)
    head, loso = train(data, embeddings, settings)
    loco = None
    if reviews_uri:
        head, data, embeddings, loco = _learn_from_reviews(head, data, embeddings, reviews_uri, settings)
    path = _models_dir(models_dir) / MODEL_NAME / version
    weights = sample_weights(data.sources, settings.source_power)
    prior = [round(float(weights[data.fit_labels == t].sum() / weights.sum()), 6) for t in TIERS]
    meta = {"version": version, "training_data": data.files, "train_prior": prior,
            # message_labels only when on: a model trained without them keeps its config.json byte for byte
            "settings": {k: v for k, v in vars(settings).items() if k != "temperatures" and (k != "message_labels" or v)}}
    save_head(head, path, meta)
    rows = {s: {t: int(((data.sources == s) & (data.tiers == t)).sum()) for t in TIERS} for s in sorted(set(data.sources.tolist()))}
    metrics = {"version": version, "rows": rows, "leave_one_source_out": loso, "corpus": _corpus_summary(models_dir)}
    if data.fit_tiers is not None:  # rows whose tier to fit is their message label's, not their intent's
        moved = data.fit_tiers != data.tiers
        metrics["rows_fitted_on_another_tier"] = {s: int(moved[data.sources == s].sum()) for s in sorted(set(data.sources.tolist()))}
    if loco is not None:
        metrics["leave_one_customer_out"] = loco
    if evaluate:
        metrics["banking77_in_domain"] = banking_in_domain(data, embeddings, settings)
    (path / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    pointer = _models_dir(models_dir) / MODEL_NAME / "CURRENT"
    if not pointer.exists():
        pointer.write_text(version + "\n", encoding="utf-8")
    _CACHE.clear()
    return str(path)


def _learn_from_reviews(head: FittedHead, data, embeddings: np.ndarray, uri: str, settings: TrainSettings):  # noqa: ANN001, ANN202
    """Refit the head on public rows plus every customer's reviewed messages (embeddings only), keeping
    the temperature calibrated on held-out sources; return it, the data, vectors and LOCO figures."""
    from taxonomy.tiers.head import fit_head, sample_weights
    from taxonomy.tiers.reviewed import leave_one_customer_out, load_reviewed_store, with_reviews

    reviewed = load_reviewed_store(uri)
    if not len(reviewed[1]):
        raise TaxonomyError("no reviewed messages under this output root: run `taxonomy review --apply` first", file=uri)
    loco = leave_one_customer_out(data, embeddings, reviewed, settings)
    combined, vectors = with_reviews(data, embeddings, reviewed)
    refit = fit_head(combined.texts, combined.fit_labels, vectors, sample_weights(combined.sources, settings.source_power), settings)
    refit.temperature = head.temperature
    return refit, combined, vectors, loco
