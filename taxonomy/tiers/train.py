"""Training, honest evaluation and saving of the tier classifier (``taxonomy train-tiers``).

Data, one *source* per origin: Banking77 tiers (``../shared/data/banking77/train_tiers.csv``,
CC BY 4.0), our own multi-industry seed set (``models/tier-seed/seed-v2.csv``) and, from
``tier-clf-v3`` on, the public tier corpus (:mod:`taxonomy.tiers.corpus`: HWU64, SGD, SNIPS, HINT3,
MultiDoGO, STAR; NLU++ from ``tier-clf-v5`` on; Haptik's telecom queries and the Bot Framework skills'
examples from ``tier-clf-v9`` on). From ``tier-clf-v4`` on, TIERS.md's row-level form rules
(:mod:`taxonomy.tiers.rules`) correct the intent mappings' tiers. With ``TrainSettings.message_labels``
(``tier-clf-v8`` on) a corpus message is fitted on its own tier from the message labels
(``models/tier-labels/``) rather than its intent's; every figure is still scored against the
intent-level labels. Each source gets a total weight proportional to ``rows ** source_power``
(:func:`~taxonomy.tiers.head.sample_weights`; equal weights to ``tier-clf-v4``, 0.25 to v7, 0.75 from v8) so
that no corpus's topics or labelling habits decide what the head learns.

Model: one multinomial logistic regression over :class:`~taxonomy.tiers.features.FormFeatures`,
then temperature scaling fitted on *leave-one-source-out* logits, so confidences are calibrated
for data written by other hands than any training row (the situation of every new customer).

Everything is seeded and order-stable: the same data gives byte-identical arrays.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import polars as pl

from taxonomy.errors import TaxonomyError
from taxonomy.schema import TIERS
from taxonomy.tiers.corpus import MESSAGE_LABELS, corpus_sha256, load_corpus, load_message_labels, text_key
from taxonomy.tiers.features import FormFeatures
from taxonomy.tiers.head import (  # noqa: F401 - sample_weights re-exported for the model module
    BANKING_INDUSTRY,
    BANKING_SOURCE,
    FittedHead,
    TrainSettings,
    fit_head,
    sample_weights,
    softmax,
)
from taxonomy.tiers.rules import RULES_KEY, apply_rules, load_rules, rules_sha256


REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODELS_DIR = REPO / "models"
DEFAULT_VERSION = "tier-clf-v9"
SEED_FILE = "tier-seed/seed-v2.csv"  # tier-clf-v1 was trained on seed-v1.csv (kept, see its config.json)
SEED_SOURCE = "seed"
CORPUS_FILE = "tier-corpus/corpus.parquet"
LABELS_FILE = "tier-labels/row_labels.csv"


@dataclass
class TrainingData:
    """Rows to learn from: texts, tier labels, and per row its source (the LOSO fold), industry,
    intent, split group and kind; ``files`` maps each input file to its SHA-256."""

    texts: list[str]
    tiers: np.ndarray
    sources: np.ndarray
    industries: np.ndarray
    intents: np.ndarray
    groups: np.ndarray
    kinds: np.ndarray
    files: dict[str, str] = field(default_factory=dict)
    mapped: np.ndarray | None = None  # the tiers as the intent mappings gave them, before the form rules
    ruled_by: np.ndarray | None = None  # per row, the form rule that changed its tier ("" where none did)
    # The tiers a head is fitted on where they differ from ``tiers`` (the message labels, when asked for);
    # ``tiers`` stay what every figure is scored against.
    fit_tiers: np.ndarray | None = None

    @property
    def fit_labels(self) -> np.ndarray:
        """The tiers a head learns: ``fit_tiers`` where given, else ``tiers``."""
        return self.tiers if self.fit_tiers is None else self.fit_tiers

    def subset(self, rows: np.ndarray) -> TrainingData:
        """The rows at ``rows`` (indices), in that order."""
        return TrainingData(
            [self.texts[i] for i in rows], self.tiers[rows], self.sources[rows], self.industries[rows],
            self.intents[rows], self.groups[rows], self.kinds[rows], self.files,
            None if self.mapped is None else self.mapped[rows], None if self.ruled_by is None else self.ruled_by[rows],
            None if self.fit_tiers is None else self.fit_tiers[rows],
        )


def shared_data_dir() -> Path:
    """The team's shared data folder (``TAXONOMY_SHARED_DATA`` or ``<repo>/../shared/data``)."""
    return Path(os.environ.get("TAXONOMY_SHARED_DATA", REPO.parent / "shared" / "data"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_training_data(
    models_dir: str | Path | None = None, *, use_corpus: bool = True, form_rules: bool = True, message_labels: bool = False,
) -> TrainingData:
    """Banking77 tiers, the seed set and (``use_corpus``) the tier corpus, in a fixed order; with
    ``form_rules``, TIERS.md's row-level rules (:mod:`taxonomy.tiers.rules`) applied to their tiers.

    With ``message_labels`` (``tier-clf-v8`` on), a corpus message's own tier from
    :data:`~taxonomy.tiers.corpus.MESSAGE_LABELS` replaces its intent's as the tier to fit
    (``fit_tiers``; a message that states no request keeps its intent's), the form rules applied on
    top. Banking77 keeps its shared labels and our seed set its own. ``tiers`` stay the intent-level
    labels every figure is scored against.

    Raises:
        FileNotFoundError: if a file is missing (a setup problem, not a user error).
    """
    bank_path = shared_data_dir() / "banking77" / "train_tiers.csv"
    seed_path = Path(models_dir or DEFAULT_MODELS_DIR) / SEED_FILE
    bank = pl.read_csv(bank_path).filter(pl.col("tier").is_in(TIERS))
    seed = pl.read_csv(seed_path)
    frames = [
        pl.DataFrame({
            "text": bank["text"], "tier": bank["tier"], "source": BANKING_SOURCE, "industry": BANKING_INDUSTRY,
            "intent": bank["intent"], "group": [f"b77-{i}" for i in range(bank.height)], "kind": "banking77",
        }),
        pl.DataFrame({
            "text": seed["text"], "tier": seed["tier"], "source": SEED_SOURCE, "industry": seed["industry"],
            "intent": seed["kind"], "group": seed["group"], "kind": seed["kind"],
        }),
    ]
    files = {"banking77/train_tiers.csv": _sha256(bank_path), SEED_FILE: _sha256(seed_path)}
    if use_corpus:
        corpus = load_corpus()
        frames.append(corpus.select("text", "tier", "source", "industry", "intent", "group").with_columns(kind=pl.lit("corpus")))
        files[CORPUS_FILE] = corpus_sha256()
    rows = pl.concat([f.select("text", "tier", "source", "industry", "intent", "group", "kind").cast(pl.String) for f in frames])
    texts, mapped = rows["text"].to_list(), rows["tier"].to_numpy().astype(str)
    tiers, ruled_by, rules = mapped, np.full(len(mapped), ""), load_rules() if form_rules else None
    if form_rules:
        tiers, ruled_by = apply_rules(texts, mapped, rules)
        files[RULES_KEY] = rules_sha256()
    sources, intents = rows["source"].to_numpy().astype(str), rows["intent"].to_numpy().astype(str)
    fit = None
    if message_labels and use_corpus:
        labels = load_message_labels()
        own = np.array([labels.get((s, i, text_key(t)), "") if k == "corpus" else ""
                        for s, i, t, k in zip(sources, intents, texts, rows["kind"].to_list())], dtype=object)
        fit = np.where(np.isin(own, TIERS), own, mapped).astype(str)
        if form_rules:  # the rules read each row alone: only the rows whose tier moved need reading again
            moved = np.flatnonzero(fit != mapped)
            ruled, _ = apply_rules([texts[i] for i in moved], fit[moved], rules)
            fit = tiers.copy()
            fit[moved] = ruled
        files[LABELS_FILE] = _sha256(MESSAGE_LABELS)
    return TrainingData(
        texts=texts, tiers=tiers, sources=sources,
        industries=rows["industry"].to_numpy().astype(str), intents=intents,
        groups=rows["group"].to_numpy().astype(str), kinds=rows["kind"].to_numpy().astype(str), files=files,
        mapped=mapped, ruled_by=ruled_by, fit_tiers=fit,
    )


def settings_of(config: dict, version: str) -> TrainSettings:
    """A saved artifact's training settings (its ``config.json``) as today's :class:`TrainSettings`.

    A setting added after the artifact was trained is off for it (``form_rules`` before tier-clf-v4,
    ``message_labels`` before tier-clf-v8), so ``taxonomy train-tiers --version <it>`` rebuilds it as it was.

    Raises:
        TaxonomyError: when the artifact was trained with settings today's code does not know (an
            older model that cannot be rebuilt the same way).
    """
    known = {f.name for f in fields(TrainSettings)}
    given = config.get("settings", {})
    unknown = sorted(set(given) - known)
    if unknown:
        raise TaxonomyError(f"{version} was trained with settings {unknown} that today's training code does not have; "
                            "it cannot be rebuilt the same way")
    return TrainSettings(**{"form_rules": False, "message_labels": False, **given})


def fit_temperature(logits: np.ndarray, tiers: np.ndarray, candidates: tuple[float, ...], weights: np.ndarray | None = None) -> float:
    """The temperature minimising the (weighted) negative log-likelihood of held-out logits (grid search)."""
    y = np.array([TIERS.index(t) for t in tiers])
    w = np.ones(len(y)) if weights is None else weights
    best, best_nll = 1.0, np.inf
    for t in candidates:
        p = softmax(logits / t)
        nll = -np.sum(w * np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))) / w.sum()
        if nll < best_nll - 1e-12:
            best, best_nll = float(t), nll
    return best


def fit_on(data: TrainingData, rows: np.ndarray, embeddings: np.ndarray, settings: TrainSettings) -> FittedHead:
    """A head fitted on ``rows`` of ``data``, each of their sources weighed by ``settings.source_power``."""
    part = data.subset(rows)
    return fit_head(part.texts, part.fit_labels, embeddings[rows], sample_weights(part.sources, settings.source_power), settings)


def leave_one_source_out(
    data: TrainingData, embeddings: np.ndarray, settings: TrainSettings
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Out-of-source logits for every row: each source predicted by a head trained on all the others.

    Returns:
        The ``(n, 3)`` logits and, per source, the row indices it covers.
    """
    logits = np.zeros((len(data.texts), len(TIERS)))
    folds: dict[str, np.ndarray] = {}
    for source in sorted(set(data.sources.tolist())):
        test = np.flatnonzero(data.sources == source)
        head = fit_on(data, np.flatnonzero(data.sources != source), embeddings, settings)
        logits[test] = head.logits([data.texts[i] for i in test], embeddings[test])
        folds[source] = test
    return logits, folds


def train(data: TrainingData, embeddings: np.ndarray, settings: TrainSettings) -> tuple[FittedHead, dict]:
    """Fit the final head on all rows and calibrate it on leave-one-source-out logits.

    Returns:
        The calibrated head and the out-of-source evaluation (see :mod:`taxonomy.tiers.evaluate`).
    """
    from taxonomy.tiers.evaluate import evaluate_loso

    oof_logits, folds = leave_one_source_out(data, embeddings, settings)
    weights = sample_weights(data.sources, settings.source_power)
    temperature = fit_temperature(oof_logits, data.tiers, settings.temperatures, weights)
    head = fit_on(data, np.arange(len(data.texts)), embeddings, settings)
    head.temperature = temperature
    return head, evaluate_loso(data, oof_logits, folds, temperature)


def save_head(head: FittedHead, path: Path, meta: dict) -> None:
    """Write the head as plain arrays (``weights.npz``) and JSON: nothing here needs pickle."""
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "weights.npz", "wb") as fh:
        np.savez(fh, coef=head.coef, intercept=head.intercept, idf=head.features.idf_)
    (path / "vocabulary.json").write_text(json.dumps(head.features.terms_, ensure_ascii=False) + "\n", encoding="utf-8")
    config = {
        **meta,
        "classes": list(TIERS),
        "temperature": head.temperature,
        "embedding_weight": head.features.embedding_weight,
        "format": "weights.npz (coef, intercept, idf) + vocabulary.json; features: taxonomy.tiers.features.FormFeatures",
    }
    (path / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_head(path: Path) -> tuple[FittedHead, dict]:
    """Read a head written by :func:`save_head` (``allow_pickle=False``)."""
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    terms = json.loads((path / "vocabulary.json").read_text(encoding="utf-8"))
    with np.load(path / "weights.npz", allow_pickle=False) as arrays:
        coef, intercept, idf = arrays["coef"], arrays["intercept"], arrays["idf"]
    if config.get("classes") != list(TIERS) or coef.shape != (len(TIERS), len(terms) + 384) or idf.shape != (len(terms),):
        raise ValueError(f"tier model at {path} is inconsistent (classes, coef {coef.shape}, vocabulary {len(terms)})")
    features = FormFeatures.from_arrays(terms, idf, float(config["embedding_weight"]))
    return FittedHead(features, coef, intercept, float(config["temperature"])), config
