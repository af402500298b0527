"""Tier shares of a whole queue from calibrated per-message probabilities (issue 13, item 4).

A customer-success manager reads *shares* of hours, not single labels. Counting arg-max labels
lets every error pile up on one side: a queue that is 9% disputes loses each misread dispute to
the big tiers and never gets one back. Summing calibrated probabilities does not have that bias
(if the probabilities are calibrated for the queue); :func:`adjust_to_prevalence` also corrects
for a queue whose tier mix differs from the training mix (Saerens, Latinne & Decaestecker 2002,
"Adjusting the outputs of a classifier to new a priori probabilities": EM on the priors).

Shares are summed from the head's *untempered* probabilities (:func:`untempered`), not from the
per-message calibrated ones the outputs carry (``p_<tier>``, temperature ~1.85 for tier-clf-v4):
that temperature is fitted on the leave-one-source-out negative log-likelihood of sources that
disagree with each other, which flattens every probability, and a sum of flattened probabilities
leans toward the tiers a queue has least of. Measured (``models/tier-classifier/tier-clf-v4/MODEL_CARD.md``):
on held-out public sources the largest share error is the same at temperature 0.5 to 1.3 (mean
0.144 to 0.147) and worst at the calibrated 1.85 (0.151); on the bundled sample, where the model is
right on 86-91% of messages, the hours-share error falls from 8.8 points (1.85) to 4.5 (1.0), and
TIERS.md's field example reads 0.367 instead of 0.388 (truth 0.375). ``tier-clf-v5`` (temperature
1.71) gives the same picture: 8.0 -> 4.5 points on the sample, 0.373 instead of 0.384 on the field
example; ``tier-clf-v6`` (1.65): 8.0 -> 5.0 points, 0.367 instead of 0.374
(``benchmarks/results/tier_shares.md``). Since pipeline 0.2.5 the probabilities of a customer's
window are the head's adapted to that window (:mod:`taxonomy.tiers.adapt`), un-tempered the same way:
5.0 -> 4.2 points on the sample, held-out sources' mean largest error 0.125 -> 0.110.

No model: :mod:`taxonomy.scoring` and the evaluation share it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from taxonomy.schema import TIERS

MAX_ITER = 200
TOLERANCE = 1e-7


def adjust_to_prevalence(proba: np.ndarray, train_prior: np.ndarray, *, max_iter: int = MAX_ITER) -> np.ndarray:
    """Re-weight calibrated probabilities to the tier mix of this set of messages (EM on the priors).

    Args:
        proba: ``(n, k)`` calibrated probabilities (rows sum to 1) of one queue's messages.
        train_prior: ``(k,)`` the tier prior the probabilities were calibrated under.

    Returns:
        ``(n, k)`` adjusted probabilities; ``proba`` itself when there are no rows or the prior
        is unusable (non-positive entries).
    """
    proba = np.asarray(proba, dtype=np.float64)
    prior0 = np.asarray(train_prior, dtype=np.float64)
    if not len(proba) or prior0.shape != (proba.shape[1],) or (prior0 <= 0).any():
        return proba
    prior0 = prior0 / prior0.sum()
    prior = proba.mean(axis=0)
    adjusted = proba
    for _ in range(max_iter):
        scaled = proba * (np.clip(prior, 1e-9, None) / prior0)
        adjusted = scaled / scaled.sum(axis=1, keepdims=True)
        new = adjusted.mean(axis=0)
        if np.abs(new - prior).max() < TOLERANCE:
            break
        prior = new
    return adjusted


def untempered(proba: np.ndarray, temperature: float) -> np.ndarray:
    """The head's probabilities before temperature scaling, from the calibrated ones.

    ``p = softmax(z / T)`` gives ``softmax(T * log p) = softmax(z)`` exactly (softmax ignores a
    per-row shift), so no logit needs storing. Rows with a non-finite entry come back unchanged.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if not len(proba) or temperature == 1.0:
        return proba
    z = np.log(np.clip(proba, 1e-300, None)) * temperature
    z -= z.max(axis=1, keepdims=True)
    out = np.exp(z)
    out /= out.sum(axis=1, keepdims=True)
    bad = ~np.isfinite(proba).all(axis=1)
    out[bad] = proba[bad]
    return out


def estimate_shares(proba: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted tier shares: ``sum(w * p) / sum(w)`` per tier (weights: handle time, or 1 each).

    Args:
        proba: ``(n, k)`` probabilities (adjusted or not).
        weights: ``(n,)`` non-negative weights; None counts every message once.

    Returns:
        ``(k,)`` shares summing to 1 (zeros when the weights sum to 0).
    """
    proba = np.asarray(proba, dtype=np.float64)
    w = np.ones(len(proba)) if weights is None else np.asarray(weights, dtype=np.float64)
    total = w.sum()
    if not len(proba) or total <= 0:
        return np.zeros(proba.shape[1] if proba.ndim == 2 else 0)
    return (proba * w[:, None]).sum(axis=0) / total


def for_shares(conversations: pl.DataFrame, temperature_of: Callable[[str | None], float]) -> pl.DataFrame:
    """``conversations`` with the ``p_<tier>`` of model-tiered rows replaced by :func:`untempered`
    ones (each row's temperature from its ``model_version``): what tier shares and their intervals
    are computed from. Other rows and frames without probabilities come back unchanged.
    """
    columns = [f"p_{t}" for t in TIERS]
    if not conversations.height or not set(columns) <= set(conversations.columns) or "tier_source" not in conversations.columns:
        return conversations
    versions = np.array(conversations.get_column("model_version").to_list() if "model_version" in conversations.columns
                        else [None] * conversations.height, dtype=object)
    proba = conversations.select(pl.col(c).cast(pl.Float64) for c in columns).to_numpy().copy()
    model = (conversations.get_column("tier_source") == "model").fill_null(False).to_numpy()
    for version in sorted(set(versions[model].tolist()), key=str):
        rows = model & (versions == version)
        proba[rows] = untempered(proba[rows], float(temperature_of(version)))
    return conversations.with_columns(pl.Series(c, proba[:, i], dtype=pl.Float64) for i, c in enumerate(columns))


def tier_weights(conversations: pl.DataFrame) -> np.ndarray:
    """``(n, 3)`` weight of each row in each tier (``TIERS`` order), as :mod:`taxonomy.scoring` counts it.

    Model rows with finite ``p_<tier>`` use them (:mod:`taxonomy.scoring` passes them through
    :func:`for_shares` first), and so do reviewed rows (one-hot for a person's answer, the inferred
    probabilities for the untiered rows of a split topic, :mod:`taxonomy.review.match`); other rows
    (overridden, or frames without probabilities) are one-hot on ``tier``; rows without a tier are
    all zeros.
    """
    n = conversations.height
    tier = conversations.get_column("tier") if "tier" in conversations.columns else pl.Series([None] * n, dtype=pl.String)
    weights = np.stack([(tier == t).fill_null(False).to_numpy() for t in TIERS], axis=1).astype(np.float64) \
        if n else np.zeros((0, len(TIERS)))
    columns = [f"p_{t}" for t in TIERS]
    if n and set(columns) <= set(conversations.columns) and "tier_source" in conversations.columns:
        proba = conversations.select(pl.col(c).cast(pl.Float64) for c in columns).to_numpy()
        use = conversations.get_column("tier_source").is_in(["model", "review"]).fill_null(False).to_numpy()
        use &= np.isfinite(proba).all(axis=1) & tier.is_not_null().to_numpy()
        weights[use] = proba[use]
    return weights
