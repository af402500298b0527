"""Training, honest evaluation and saving of the tier classifier (``taxonomy train-tiers``).

Data: Banking77 tiers (``../shared/data/banking77/train_tiers.csv``, CC BY 4.0) plus our own
multi-industry seed set (``models/tier-seed/seed-v2.csv``). Banking is one industry with four
times the rows of any other, so its rows are re-weighted to ``BANKING_WEIGHT`` of the seed set's
total weight: otherwise the head learns banking topics instead of request forms.

Model: one multinomial logistic regression over :class:`~taxonomy.tiers.features.FormFeatures`,
then temperature scaling fitted on *leave-one-industry-out* logits, so confidences are calibrated
for an industry the model has not seen (the situation of every new customer).

Everything is seeded and order-stable: the same data gives byte-identical arrays.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from taxonomy.schema import TIERS
from taxonomy.tiers.features import FormFeatures
from taxonomy.tiers.head import (
    BANKING_INDUSTRY,
    FittedHead,
    TrainSettings,
    fit_head,
    sample_weights,
    softmax,
)


REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODELS_DIR = REPO / "models"
DEFAULT_VERSION = "tier-clf-v2"
SEED_FILE = "tier-seed/seed-v2.csv"  # tier-clf-v1 was trained on seed-v1.csv (kept, see its config.json)


@dataclass
class TrainingData:
    """Rows to learn from: texts, tier labels, industry (the LOIO group) and split group."""

    texts: list[str]
    tiers: np.ndarray
    industries: np.ndarray
    groups: np.ndarray
    kinds: np.ndarray
    sources: dict[str, str] = field(default_factory=dict)  # file -> sha256


def shared_data_dir() -> Path:
    """The team's shared data folder (``TAXONOMY_SHARED_DATA`` or ``<repo>/../shared/data``)."""
    return Path(os.environ.get("TAXONOMY_SHARED_DATA", REPO.parent / "shared" / "data"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_training_data(models_dir: str | Path | None = None) -> TrainingData:
    """Banking77 tiers plus the seed set, in a fixed order.

    Raises:
        FileNotFoundError: if either file is missing (a setup problem, not a user error).
    """
    bank_path = shared_data_dir() / "banking77" / "train_tiers.csv"
    seed_path = Path(models_dir or DEFAULT_MODELS_DIR) / SEED_FILE
    bank = pl.read_csv(bank_path).filter(pl.col("tier").is_in(TIERS))
    seed = pl.read_csv(seed_path)
    n_bank = bank.height
    return TrainingData(
        texts=bank["text"].to_list() + seed["text"].to_list(),
        tiers=np.array(bank["tier"].to_list() + seed["tier"].to_list()),
        industries=np.array([BANKING_INDUSTRY] * n_bank + seed["industry"].to_list()),
        groups=np.array([f"b77-{i}" for i in range(n_bank)] + seed["group"].to_list()),
        kinds=np.array(["banking77"] * n_bank + seed["kind"].to_list()),
        sources={"banking77/train_tiers.csv": _sha256(bank_path), SEED_FILE: _sha256(seed_path)},
    )


def fit_temperature(logits: np.ndarray, tiers: np.ndarray, candidates: tuple[float, ...]) -> float:
    """The temperature minimising the negative log-likelihood of held-out logits (grid search)."""
    y = np.array([TIERS.index(t) for t in tiers])
    best, best_nll = 1.0, np.inf
    for t in candidates:
        p = softmax(logits / t)
        nll = -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)))
        if nll < best_nll - 1e-12:
            best, best_nll = float(t), nll
    return best


def leave_one_industry_out(
    data: TrainingData, embeddings: np.ndarray, settings: TrainSettings
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Out-of-industry logits for every row: each industry predicted by a head trained without it.

    Returns:
        The ``(n, 3)`` logits and, per industry, the row indices it covers.
    """
    logits = np.zeros((len(data.texts), len(TIERS)))
    folds: dict[str, np.ndarray] = {}
    for industry in sorted(set(data.industries.tolist())):
        test = np.flatnonzero(data.industries == industry)
        train = np.flatnonzero(data.industries != industry)
        head = fit_head(
            [data.texts[i] for i in train], data.tiers[train], embeddings[train],
            sample_weights(data.industries[train], settings.banking_weight), settings,
        )
        logits[test] = head.logits([data.texts[i] for i in test], embeddings[test])
        folds[industry] = test
    return logits, folds


def train(data: TrainingData, embeddings: np.ndarray, settings: TrainSettings) -> tuple[FittedHead, dict]:
    """Fit the final head on all rows and calibrate it on leave-one-industry-out logits.

    Returns:
        The calibrated head and the out-of-industry evaluation (see :mod:`taxonomy.tiers.evaluate`).
    """
    from taxonomy.tiers.evaluate import evaluate_oof

    oof_logits, folds = leave_one_industry_out(data, embeddings, settings)
    temperature = fit_temperature(oof_logits, data.tiers, settings.temperatures)
    head = fit_head(data.texts, data.tiers, embeddings, sample_weights(data.industries, settings.banking_weight), settings)
    head.temperature = temperature
    return head, evaluate_oof(data, oof_logits, folds, temperature)


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
