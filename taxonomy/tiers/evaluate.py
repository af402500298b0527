"""Honest evaluation of the tier classifier, written into ``metrics.json``.

Three views, all deterministic:

- **leave-one-industry-out** (LOIO): every industry (banking included) is predicted by a head that
  never saw it. This is what a new customer in a new industry gets. Reported on all of the
  industry's rows and on its hand-written rows only (templated rows share sentence forms across
  industries and flatter the figure).
- **random split**: 20% of the rows held out by group (a hand-written sentence and its re-styled
  copy, or a banking row, never straddle the split).
- **banking-only baseline**: a logistic regression on embeddings alone, trained on banking and
  tested on the seed industries: the measured starting point (about 0.4-0.55).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import GroupShuffleSplit

from taxonomy.schema import TIERS


def _scores(truth: np.ndarray, pred: np.ndarray) -> dict:
    labels = list(TIERS)
    return {
        "n": int(len(truth)),
        "macro_f1": round(float(f1_score(truth, pred, labels=labels, average="macro", zero_division=0)), 4),
        "accuracy": round(float(np.mean(truth == pred)), 4) if len(truth) else None,
        "confusion": {"labels": labels, "rows_true_cols_pred": confusion_matrix(truth, pred, labels=labels).tolist()},
    }


def _ece(proba: np.ndarray, truth: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top-class confidence."""
    conf = proba.max(axis=1)
    correct = np.array(TIERS)[proba.argmax(axis=1)] == truth
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            total += mask.mean() * abs(conf[mask].mean() - correct[mask].mean())
    return round(float(total), 4)


def evaluate_oof(data, logits: np.ndarray, folds: dict[str, np.ndarray], temperature: float) -> dict:  # noqa: ANN001
    """Per-industry scores of out-of-industry logits, plus calibration before/after temperature."""
    from taxonomy.tiers.head import softmax

    pred = np.array(TIERS)[logits.argmax(axis=1)]
    per_industry = {}
    for industry, rows in sorted(folds.items()):
        entry = {"all": _scores(data.tiers[rows], pred[rows])}
        hand = rows[data.kinds[rows] == "handwritten"]
        if len(hand):
            entry["handwritten_only"] = _scores(data.tiers[hand], pred[hand])
        per_industry[industry] = entry
    others = [k for k in per_industry if k != "banking"]
    seed_rows = np.concatenate([folds[k] for k in others]) if others else np.array([], dtype=int)
    hand_rows = seed_rows[data.kinds[seed_rows] == "handwritten"] if len(seed_rows) else seed_rows
    return {
        "per_industry": per_industry,
        "mean_macro_f1_other_industries": round(float(np.mean([per_industry[k]["all"]["macro_f1"] for k in others])), 4)
        if others else None,
        "pooled_other_industries": _scores(data.tiers[seed_rows], pred[seed_rows]),
        "pooled_other_industries_handwritten": _scores(data.tiers[hand_rows], pred[hand_rows]),
        "calibration": {
            "temperature": temperature,
            "ece_before": _ece(softmax(logits), data.tiers),
            "ece_after": _ece(softmax(logits / temperature), data.tiers),
        },
    }


def random_split(data, embeddings: np.ndarray, settings) -> dict:  # noqa: ANN001
    """Scores on a seeded 20% group-held-out split, banking and seed rows reported apart."""
    from taxonomy.tiers.head import fit_head, sample_weights

    splitter = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=settings.seed)
    train, test = next(splitter.split(np.zeros(len(data.texts)), groups=data.groups))
    head = fit_head(
        [data.texts[i] for i in train], data.tiers[train], embeddings[train],
        sample_weights(data.industries[train], settings.banking_weight), settings,
    )
    pred = np.array(TIERS)[head.logits([data.texts[i] for i in test], embeddings[test]).argmax(axis=1)]
    is_bank = data.industries[test] == "banking"
    return {
        "banking": _scores(data.tiers[test][is_bank], pred[is_bank]),
        "seed_industries": _scores(data.tiers[test][~is_bank], pred[~is_bank]),
        "all": _scores(data.tiers[test], pred),
    }


def banking_only_baseline(data, embeddings: np.ndarray, settings) -> dict:  # noqa: ANN001
    """Logistic regression on embeddings alone, trained on banking, tested on every other industry."""
    is_bank = data.industries == "banking"
    if not is_bank.any() or is_bank.all():
        return {}
    model = LogisticRegression(C=settings.C, max_iter=settings.max_iter, random_state=settings.seed)
    model.fit(embeddings[is_bank], data.tiers[is_bank])
    pred = model.predict(embeddings[~is_bank])
    per_industry = {
        ind: _scores(data.tiers[~is_bank][data.industries[~is_bank] == ind], pred[data.industries[~is_bank] == ind])["macro_f1"]
        for ind in sorted(set(data.industries[~is_bank].tolist()))
    }
    return {"pooled_other_industries": _scores(data.tiers[~is_bank], pred), "per_industry_macro_f1": per_industry}
