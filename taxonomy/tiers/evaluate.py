"""Honest evaluation of the tier classifier, written into ``metrics.json``.

- **leave-one-source-out** (LOSO): every source (each public corpus, Banking77, our seed set) is
  predicted by a head trained on all the others: rows written by other hands, labelled by other
  people, mostly from other industries. This is what a new customer gets. Per source: macro-F1
  over the tiers the source has, a confusion matrix, the worst intents, and the error of the tier
  shares a CSM would read (:mod:`taxonomy.tiers.shares`: calibrated probabilities summed, against
  arg-max counting). "Banking held out" is the Banking77 fold: no Banking77 row in training.
- **Labels**: scored against the training labels (the intent mappings with TIERS.md's form rules,
  :mod:`taxonomy.tiers.rules`) and, as ``as_mapped``, against the intent mappings alone.
- **Banking77 in domain**: 20% of the Banking77 *training* split held out by row (the Banking77
  test split is reserved and never read), the head trained on everything else.

Deterministic; the mean over real sources leaves out our own seed set (we wrote it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import GroupShuffleSplit

from taxonomy.schema import TIERS
from taxonomy.tiers.head import BANKING_SOURCE, fit_head, sample_weights, softmax
from taxonomy.tiers.shares import estimate_shares

OWN_SOURCES = ("seed",)  # written by us: reported, not in the real-source mean
WORST_INTENTS = 5


def macro_f1(truth: np.ndarray, pred: np.ndarray) -> float | None:
    """Macro-F1 over the tiers present in ``truth`` (a source without personalized rows is not
    charged a zero for it); None when ``truth`` is empty."""
    present = [t for t in TIERS if (truth == t).any()]
    return float(f1_score(truth, pred, labels=present, average="macro", zero_division=0)) if present else None


def _scores(truth: np.ndarray, pred: np.ndarray) -> dict:
    """:func:`macro_f1`, accuracy, and the full confusion matrix."""
    f1 = macro_f1(truth, pred)
    return {
        "n": int(len(truth)),
        "macro_f1": round(f1, 4) if f1 is not None else None,
        "accuracy": round(float(np.mean(truth == pred)), 4) if len(truth) else None,
        "confusion": {"labels": list(TIERS), "rows_true_cols_pred": confusion_matrix(truth, pred, labels=list(TIERS)).tolist()},
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


def share_errors(truth: np.ndarray, proba: np.ndarray) -> dict:
    """Volume-weighted tier shares of one held-out set: truth, estimated, and the largest error.

    (The public sources carry no handle time, so shares are by volume; the product weights the same
    probabilities by handle time.)
    """
    true_share = np.array([(truth == t).mean() for t in TIERS])
    summed = estimate_shares(proba)
    counted = np.array([(proba.argmax(axis=1) == i).mean() for i in range(len(TIERS))])
    return {
        "true": dict(zip(TIERS, np.round(true_share, 4).tolist())),
        "estimated": dict(zip(TIERS, np.round(summed, 4).tolist())),
        "max_abs_error": round(float(np.abs(summed - true_share).max()), 4),
        "max_abs_error_argmax_count": round(float(np.abs(counted - true_share).max()), 4),
    }


def worst_intents(intents: np.ndarray, truth: np.ndarray, pred: np.ndarray, k: int = WORST_INTENTS) -> list[dict]:
    """The ``k`` intents (5+ rows) with the lowest accuracy, with what they were mostly called."""
    out = []
    for intent in sorted(set(intents.tolist())):
        rows = intents == intent
        if rows.sum() >= 5:
            called, counts = np.unique(pred[rows], return_counts=True)
            out.append({"intent": intent, "tier": str(truth[rows][0]), "n": int(rows.sum()),
                        "accuracy": round(float((pred[rows] == truth[rows]).mean()), 3), "mostly_called": str(called[counts.argmax()])})
    return sorted(out, key=lambda r: (r["accuracy"], r["intent"]))[:k]


def evaluate_loso(data, logits: np.ndarray, folds: dict[str, np.ndarray], temperature: float) -> dict:  # noqa: ANN001
    """Per-source scores of out-of-source logits, their means, and calibration before/after temperature."""
    pred = np.array(TIERS)[logits.argmax(axis=1)]
    proba = softmax(logits / temperature)
    per_source = {}
    mapped = data.tiers if data.mapped is None else data.mapped
    for source, rows in sorted(folds.items()):
        as_mapped = _scores(mapped[rows], pred[rows])
        per_source[source] = {
            **_scores(data.tiers[rows], pred[rows]),
            "shares": share_errors(data.tiers[rows], proba[rows]),
            "worst_intents": worst_intents(data.intents[rows], data.tiers[rows], pred[rows]),
            "rows_relabelled_by_form_rules": int((data.tiers[rows] != mapped[rows]).sum()),
            "as_mapped": {"macro_f1": as_mapped["macro_f1"], "accuracy": as_mapped["accuracy"]},
        }
    real = [s for s in per_source if s not in OWN_SOURCES]
    f1 = [per_source[s]["macro_f1"] for s in real]
    f1_mapped = [per_source[s]["as_mapped"]["macro_f1"] for s in real]
    return {
        "per_source": per_source,
        "mean_macro_f1_real_sources": round(float(np.mean(f1)), 4) if f1 else None,
        "mean_macro_f1_real_sources_as_mapped": round(float(np.mean(f1_mapped)), 4) if f1_mapped else None,
        "min_macro_f1_real_sources": min(f1) if f1 else None,
        "max_share_error_real_sources": max(per_source[s]["shares"]["max_abs_error"] for s in real) if real else None,
        "banking_held_out_macro_f1": per_source.get(BANKING_SOURCE, {}).get("macro_f1"),
        "calibration": {
            "temperature": temperature,
            "ece_before": _ece(softmax(logits), data.tiers),
            "ece_after": _ece(proba, data.tiers),
        },
    }


def banking_in_domain(data, embeddings: np.ndarray, settings) -> dict:  # noqa: ANN001
    """Macro-F1 on a seeded 20% of the Banking77 training split, the head trained on everything else."""
    bank = np.flatnonzero(data.sources == BANKING_SOURCE)
    if not len(bank) or len(bank) == len(data.texts):
        return {}
    splitter = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=settings.seed)
    _, test_part = next(splitter.split(np.zeros(len(bank)), groups=data.groups[bank]))
    test = bank[test_part]
    train = np.setdiff1d(np.arange(len(data.texts)), test)
    head = fit_head([data.texts[i] for i in train], data.fit_labels[train], embeddings[train],
                    sample_weights(data.sources[train], settings.source_power), settings)
    pred = np.array(TIERS)[head.logits([data.texts[i] for i in test], embeddings[test]).argmax(axis=1)]
    return _scores(data.tiers[test], pred)


def evaluate_unseen(frame, logits: np.ndarray, temperature: float, tiers: np.ndarray) -> dict:
    """Scores of one head on rows from sources it never saw (the corpus's evaluation-only sources):
    per source as in :func:`evaluate_loso`, and per industry within each source.

    Args:
        frame: The rows (``source``, ``industry``, ``intent`` columns), in the order of ``logits``.
        logits: The head's un-tempered logits for the rows.
        temperature: The head's temperature (``shares`` are reported at it, as in ``metrics.json``;
            ``shares_untempered`` sum the un-tempered probabilities, as the product does).
        tiers: The true tiers (the mappings with the form rules applied).
    """
    pred = np.array(TIERS)[logits.argmax(axis=1)]
    proba, raw = softmax(logits / temperature), softmax(logits)
    sources, industries = frame["source"].to_numpy().astype(str), frame["industry"].to_numpy().astype(str)
    out = {}
    for source in sorted(set(sources.tolist())):
        rows = sources == source
        entry = {**_scores(tiers[rows], pred[rows]), "shares": share_errors(tiers[rows], proba[rows]),
                 "shares_untempered": share_errors(tiers[rows], raw[rows]),
                 "worst_intents": worst_intents(frame["intent"].to_numpy().astype(str)[rows], tiers[rows], pred[rows])}
        entry["per_industry"] = {
            industry: {**{k: v for k, v in _scores(tiers[part], pred[part]).items() if k != "confusion"},
                       "max_share_error": share_errors(tiers[part], proba[part])["max_abs_error"],
                       "max_share_error_untempered": share_errors(tiers[part], raw[part])["max_abs_error"]}
            for industry in sorted(set(industries[rows].tolist())) for part in [rows & (industries == industry)]
        }
        out[source] = entry
    return out


def train_summary(path: str) -> str:
    """What ``taxonomy train-tiers`` prints: where the artifact went and its headline figures
    (read back from the ``metrics.json`` it wrote), so nobody has to open the file to see them."""
    folder = Path(path)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    loso = metrics["leave_one_source_out"]
    per = loso["per_source"]
    real = [s for s in per if s not in OWN_SOURCES]
    lines = [f"wrote {folder}/ (config.json, weights.npz, vocabulary.json, metrics.json)",
             f"  leave-one-source-out macro-F1, mean of {len(real)} real sources: {loso['mean_macro_f1_real_sources']:.4f}"
             f" (lowest {loso['min_macro_f1_real_sources']:.4f}); largest tier-share error {loso['max_share_error_real_sources']:.4f}",
             "  per source: " + ", ".join(f"{s} {per[s]['macro_f1']:.3f}" for s in sorted(real))
             + "".join(f"; {s} (ours, not in the mean) {per[s]['macro_f1']:.3f}" for s in sorted(set(per) - set(real)))]
    if "banking77_in_domain" in metrics:
        lines.append(f"  Banking77 in domain: {metrics['banking77_in_domain']['macro_f1']:.4f}")
    if "leave_one_customer_out" in metrics:
        lines.append("  leave-one-customer-out figures are in metrics.json (leave_one_customer_out)")
    return "\n".join(lines)
