"""A customer's tiers read with a correction learnt from its own queue, without a label (issue 13).

The head is trained on public sources; every customer words its requests its own way, and the head
reads a queue from an industry it never saw far worse than its own sources. The queue itself
carries the missing information: the messages the head reads with confidence show how this
customer words each tier. The analyse stage therefore fits, per customer window, a small
correction on top of the head (self-training):

1. ``L0``: the head's un-tempered logits, recovered from the stored ``p_<tier>`` as ``T * log p``
   with each row's model temperature (the identity :func:`taxonomy.tiers.shares.untempered` uses),
   so no text is re-read.
2. The rows whose un-tempered top probability is at least ``THRESHOLD`` become pseudo-labelled rows,
   each labelled with its predicted tier; each tier's rows get the same total weight.
3. ``softmax(L0 + X W^T + b)`` is fitted on them (cross-entropy, ``LAMBDA * |W|^2 + LAMBDA_BIAS *
   |b|^2``; ``X`` the message's embedding, ``W`` 3 x 384 from zero, L-BFGS, at most ``MAX_ITER``
   iterations) and applied to every model-tiered row of the window.
4. Steps 2 and 3 run ``ROUNDS`` times: each round takes its pseudo-labels from the last round's
   adapted probabilities and fits its correction from zero on top of ``L0``. The result is
   re-tempered with the head's temperature.

Nothing is shared between customers and nothing is stored: the correction lives only while the
window is analysed. The fit is deterministic (L-BFGS from zero), runs on one BLAS thread and takes
about 0.1 s for a 2,500-row window (``benchmarks/results/tiers_in_context.md`` times it).

**What it changes.** Every model-tiered row's ``p_<tier>`` in the analysis and the published
conversations, and so everything built on them: the hours and volume shares and their intervals
(:mod:`taxonomy.tiers.shares`, :mod:`taxonomy.uncertainty`, recalibrated for it in
``models/tier-classifier/uncertainty.json``), the review sheet's tier mixes, the tier each
conversation is listed under (after the topic context, :mod:`taxonomy.tiers.context`), a topic's main
tier, next best actions and weekly trends by tier. The ``enriched/`` rows keep the head's own
probabilities. ``taxonomy classify`` adapts each customer's rows of a file the same way
(:mod:`taxonomy.tiers.classify`; ``--alone`` reads rows one by one). TIERS.md's field
example is not adapted (only its 100 how-tos are 10 or more confident rows of one tier) and reads
0.368 of hours action-led as before; in the probe, without the two-tier rule, it went to 0.347.

**Measured** on queues from sources the head never saw (``python -m benchmarks.tiers_in_context``
and ``benchmarks.tier_shares``, ``benchmarks/results/``; the probe that chose the settings:
``models/tier-classifier/probes/queue-adaptation.md``). Shares: each training source as one queue,
the largest volume-share error 0.125 -> 0.110 on average, but 3 of 8 sources within 5 points (4
before: NLU++ 0.050 -> 0.057); the bundled sample's hours-share error 5.0 -> 4.2 points. Tiers: each
training source as one queue, macro-F1 0.680 -> 0.720 (mean of v4's 7 real sources, messages
alone); the 21 benchmark queues as the analyse stage lists them (adapted, then in context) 0.706 ->
0.732 over the same sources and 0.781 -> 0.821 over the 5 evaluation-only sources no model is
trained on. Two sources lose: STAR (0.667 -> 0.649) and Braun 2017 (0.928 -> 0.900).

**Settings** (chosen on the leave-one-source-out mean of the training sources, never on the
evaluation-only ones): threshold 0.8 (0.7: 0.703, 0.9: 0.702), ``LAMBDA`` 1e-4 on the head's embedding block (1e-3: 0.694
instead of 0.705), ``LAMBDA_BIAS`` 1e-2, which keeps the bias finite when a tier has no confident
row (the mean: 0.7056 unpenalised, 0.7053 at 1e-4, 0.7050 at 1e-3, 0.7056 at 1e-2), all with one
round; ``ROUNDS`` 4, where one more round stops adding (1: 0.7055, 2: 0.7131, 3: 0.7167, 4: 0.7203,
5: 0.7205, 6: 0.7196; STAR loses a little with each round, 0.740 at one, 0.730 at four).

Rows left as they are: overridden rows, rows without a tier (blank text), rows in a language the
embedder does not cover (:func:`taxonomy.language.embedder_covers`), and every row of a window with
fewer than ``MIN_CONFIDENT`` confident rows in at least two tiers. Reviewed rows take part and are
pinned to the reviewer's tier afterwards (:mod:`taxonomy.review`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from taxonomy.language import embedder_covers
from taxonomy.schema import TIERS
from taxonomy.tiers.head import softmax

THRESHOLD = 0.8
# The probe measured 1e-4 on the head's embedding block, which is the embedding times 0.75
# (tier-clf-v6's embedding_weight); on the embedding itself that is 1e-4 / 0.75**2.
LAMBDA = 1e-4 / 0.75**2
LAMBDA_BIAS = 1e-2
MAX_ITER = 300
ROUNDS = 4  # self-training rounds, each refitted from zero on the last round's pseudo-labels
MIN_CONFIDENT = 10  # confident rows needed in each of at least two tiers
MAX_FIT_ROWS = 20_000  # confident rows fitted at most (evenly spaced), so a huge window stays fast

__all__ = ["adapt_logits", "adapt_to_queue"]


def adapt_logits(logits: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """One queue's logits with the correction fitted on its confident rows (module docstring).

    Args:
        logits: ``(n, 3)`` the head's un-tempered logits (``TIERS`` order), or their log
            probabilities (the same up to a per-row shift).
        embeddings: ``(n, d)`` the messages' sentence embeddings.

    Returns:
        ``(n, 3)`` adapted logits; ``logits`` unchanged when too few rows are confident
        (``MIN_CONFIDENT`` in at least two tiers).
    """
    logits = np.asarray(logits, dtype=np.float64)
    x = np.asarray(embeddings, dtype=np.float64)
    adapted = logits
    # The fits are small (a few thousand rows by 384): BLAS threads cost more than they give, 10x on
    # a 1,000-row queue on 2 cores (0.89 s against 0.08 s).
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(ROUNDS):  # each round's pseudo-labels come from the last round's probabilities
            correction = _fit(logits, x, softmax(adapted) if len(adapted) else adapted)
            if correction is None:
                break
            adapted = logits + x @ correction[0].T + correction[1]
    return adapted


def _fit(logits: np.ndarray, x: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(W, b)`` fitted on top of ``logits`` to the rows ``proba`` is confident about, from zero; None
    when too few rows are confident."""
    confident = np.flatnonzero(proba.max(axis=1) >= THRESHOLD) if len(proba) else np.zeros(0, dtype=np.int64)
    labels = proba[confident].argmax(axis=1)
    if (np.bincount(labels, minlength=len(TIERS)) >= MIN_CONFIDENT).sum() < 2:
        return None
    if len(confident) > MAX_FIT_ROWS:
        confident = confident[np.linspace(0, len(confident) - 1, MAX_FIT_ROWS).astype(np.int64)]
        labels = proba[confident].argmax(axis=1)
    # The two products with the embeddings are most of a fit's time, and they are bound by reading the
    # matrix: in float32 they take half as long (the fit's results move by 1e-5 in probability at
    # most; on the whole training sources held out, no tier changes and the fits take 19% less time).
    rows, base = np.ascontiguousarray(x[confident], dtype=np.float32), logits[confident]
    onehot = np.eye(len(TIERS))[labels]
    weight = 1.0 / np.bincount(labels, minlength=len(TIERS))[labels]
    weight /= weight.sum()
    k, d = len(TIERS), x.shape[1]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: k * d].reshape(k, d), theta[k * d:]
        p = softmax(base + rows @ w.T.astype(np.float32) + b)
        loss = -(weight * np.log(np.clip((p * onehot).sum(axis=1), 1e-12, None))).sum()
        grad = (p - onehot) * weight[:, None]
        return (loss + LAMBDA * (w * w).sum() + LAMBDA_BIAS * (b * b).sum(),
                np.concatenate([(grad.T.astype(np.float32) @ rows + 2 * LAMBDA * w).ravel(),
                                grad.sum(axis=0) + 2 * LAMBDA_BIAS * b]))

    fit = minimize(objective, np.zeros(k * d + k), jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITER})
    return fit.x[: k * d].reshape(k, d), fit.x[k * d:]


def adapt_to_queue(
    frame: pl.DataFrame, embeddings: np.ndarray, temperature_of: Callable[[str | None], float],
) -> pl.DataFrame:
    """One customer window's model tiers read through the correction fitted on the window itself.

    Args:
        frame: The window (``tier``, ``tier_source``, ``tier_confidence``, ``p_<tier>``,
            ``model_version``, ``language``; other columns are kept as they are).
        embeddings: ``(frame.height, d)`` the rows' embeddings, in row order.
        temperature_of: A model version's calibration temperature
            (:func:`taxonomy.tiers.model.temperature_of`).

    Returns:
        ``frame`` with ``tier``, ``tier_confidence`` and ``p_<tier>`` replaced on the adapted rows
        (probabilities re-tempered, as the head's are, so :func:`taxonomy.tiers.shares.for_shares`
        un-tempers them the same way); ``frame`` itself when no row is adapted.
    """
    columns = [f"p_{t}" for t in TIERS]
    n = frame.height
    if not n or not {"tier", "tier_source", "tier_confidence", *columns} <= set(frame.columns):
        return frame
    proba = frame.select(pl.col(c).cast(pl.Float64) for c in columns).to_numpy()
    usable = ((frame.get_column("tier_source") == "model").fill_null(False).to_numpy()
              & frame.get_column("tier").is_not_null().to_numpy() & np.isfinite(proba).all(axis=1))
    if "language" in frame.columns:
        usable &= np.array([embedder_covers(c) for c in frame.get_column("language").to_list()], dtype=bool)
    rows = np.flatnonzero(usable)
    if not len(rows):
        return frame
    versions = frame.get_column("model_version").to_list() if "model_version" in frame.columns else [None] * n
    temperature = np.array([float(temperature_of(versions[i])) for i in rows])
    logits = np.log(np.clip(proba[rows], 1e-300, None)) * temperature[:, None]
    adapted = adapt_logits(logits, np.asarray(embeddings)[rows])
    if adapted is logits:
        return frame
    out = proba.copy()
    out[rows] = softmax(adapted / temperature[:, None])
    tier = np.array(frame.get_column("tier").to_list(), dtype=object)
    tier[rows] = np.array(TIERS, dtype=object)[out[rows].argmax(axis=1)]
    confidence = frame.get_column("tier_confidence").cast(pl.Float64).to_numpy().copy()
    confidence[rows] = out[rows].max(axis=1)
    dtypes = frame.schema
    return frame.with_columns(
        pl.Series("tier", tier.tolist(), dtype=dtypes["tier"]),
        pl.Series("tier_confidence", confidence, dtype=dtypes["tier_confidence"]),
        *[pl.Series(c, out[:, i], dtype=dtypes[c]) for i, c in enumerate(columns)],
    )
