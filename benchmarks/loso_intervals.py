"""How sure are the model card's leave-one-source-out figures? Bootstrap intervals (issue 13).

Run from the repository root (the tier corpus must be built; the held-out heads come from
:mod:`benchmarks._heldout`, about 1 min once they are cached, 7 min to fit them the first time)::

    TAXONOMY_CACHE_DIR=... .venv/bin/python -m benchmarks.loso_intervals

The card's headline is each real source's macro-F1 when a head trained without that source reads it
(against the intent-level labels, TIERS.md's form rules applied, over the tiers the source has), the
mean over the real sources, and each source's largest volume-share error (the probabilities summed
at the artifact's temperature). Every one of those is measured on the rows one public data set
happens to hold, and the mean on the sources the corpus happens to hold. Cards and probes compare
versions that differ by +-0.005; this says how much of that is noise. Two kinds of uncertainty:

1. **Within a source**: which intents and messages it holds. A cluster bootstrap resamples the
   source's intents with replacement (an intent the model misreads is misread in all its messages,
   so messages are not independent draws), ``DRAWS`` times, seeded. It gives a 90% interval of each
   source's macro-F1 and largest share error, and of the mean over the real sources, each source
   resampled on its own: how far the figure could move on another sample of the same kind of
   requests. (Two versions compared on the same rows share most of this noise: a difference between
   them needs a paired comparison, not two of these intervals side by side.) A largest share error
   is a maximum of absolute errors, and resampling adds noise to it, so its interval leans high: for
   a source whose error is small the point can sit at or below the interval's low end.
2. **Between sources**: which industries the corpus holds. Resampling the real sources themselves
   (with replacement, each one's measured figure kept) gives an interval for the mean a source *not*
   in the corpus would be drawn from: what a new customer's industry faces. It is the wider of the
   two, and it is why the issue asks for no source below 0.70 as well as the mean.

Both also say in what share of the draws the issue's bars are met (mean >= 0.80; every source >=
0.70; a source's share error within 5 points). The figures themselves are recomputed from the
held-out heads and match the card (the same code, data and embeddings). Writes
``benchmarks/results/loso_intervals.{json,md}``.

``--against MODELS_DIR`` compares the CURRENT model with another one trained on the same files (a
candidate with changed settings, written by ``taxonomy.tiers.train_and_save(version, MODELS_DIR,
settings=...)`` into a folder holding copies of ``tier-seed/`` and ``tier-corpus/``, its
``tier-classifier/CURRENT`` naming that version; its held-out heads are fitted once and cached, as
this model's): both read the same rows, and each draw resamples the same intents for both, so the
difference per source and in the mean comes with the interval a decision to ship needs. Printed,
nothing written.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from benchmarks._common import machine, machine_markdown, markdown_table, stamp_end, write_results
from taxonomy.schema import TIERS
from taxonomy.tiers.evaluate import OWN_SOURCES

DRAWS = 2000
SEED = 13
LEVEL = 0.90
MEAN_BAR, SOURCE_BAR, SHARE_BAR = 0.80, 0.70, 0.05


def per_intent(truth: np.ndarray, pred: np.ndarray, proba: np.ndarray, intents: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One source's rows summed per intent: ``(k, 3, 3)`` confusion counts (true x predicted),
    ``(k, 3)`` true counts and ``(k, 3)`` summed probabilities, intents in sorted order."""
    names, inverse = np.unique(intents, return_inverse=True)
    t = np.array([TIERS.index(x) for x in truth])
    p = np.array([TIERS.index(x) for x in pred])
    confusion = np.zeros((len(names), len(TIERS), len(TIERS)))
    np.add.at(confusion, (inverse, t, p), 1.0)
    summed = np.zeros((len(names), len(TIERS)))
    np.add.at(summed, inverse, proba)
    return confusion, confusion.sum(axis=2), summed


def macro_f1_from(confusion: np.ndarray) -> np.ndarray:
    """Macro-F1 over the tiers present (as :func:`taxonomy.tiers.evaluate.macro_f1`) of ``(..., 3, 3)``
    confusion counts; a tier absent from the truth is left out of its mean."""
    tp = np.diagonal(confusion, axis1=-2, axis2=-1)
    true_n, pred_n = confusion.sum(axis=-1), confusion.sum(axis=-2)
    denom = true_n + pred_n
    f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)
    present = true_n > 0
    return (f1 * present).sum(axis=-1) / np.maximum(present.sum(axis=-1), 1)


def share_error_from(true_counts: np.ndarray, summed: np.ndarray) -> np.ndarray:
    """The largest volume-share error of ``(..., 3)`` true counts and summed probabilities."""
    n = true_counts.sum(axis=-1, keepdims=True)
    return np.abs(summed / n - true_counts / n).max(axis=-1)


def bootstrap_source(confusion: np.ndarray, counts: np.ndarray, summed: np.ndarray, rng: np.random.Generator,
                     draws: int = DRAWS) -> tuple[np.ndarray, np.ndarray]:
    """Macro-F1 and largest share error of ``draws`` resamples of one source's intents."""
    pick = rng.integers(0, len(confusion), size=(draws, len(confusion)))
    return macro_f1_from(confusion[pick].sum(axis=1)), share_error_from(counts[pick].sum(axis=1), summed[pick].sum(axis=1))


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    lo, hi = np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def intervals(frames: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], draws: int = DRAWS, seed: int = SEED) -> dict[str, Any]:
    """Point figures, within-source and between-source intervals and bar probabilities, from each
    source's :func:`per_intent` sums (sources in ``OWN_SOURCES`` are reported, never in the mean)."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"sources": {}}
    f1_draws, share_draws = {}, {}
    for source in sorted(frames):
        confusion, counts, summed = frames[source]
        f1_draws[source], share_draws[source] = bootstrap_source(confusion, counts, summed, rng, draws)
        point_f1 = float(macro_f1_from(confusion.sum(axis=0)))
        point_share = float(share_error_from(counts.sum(axis=0), summed.sum(axis=0)))
        out["sources"][source] = {
            "rows": int(counts.sum()), "intents": int(len(confusion)), "macro_f1": point_f1,
            "macro_f1_interval": interval(f1_draws[source]), "share_error": point_share,
            "share_error_interval": interval(share_draws[source]),
            "p_macro_f1_at_least_bar": float((f1_draws[source] >= SOURCE_BAR).mean()),
            "p_share_error_within_bar": float((share_draws[source] <= SHARE_BAR).mean()),
        }
    real = [s for s in sorted(frames) if s not in OWN_SOURCES]
    stacked = np.stack([f1_draws[s] for s in real])  # (sources, draws)
    mean_within = stacked.mean(axis=0)
    points = np.array([out["sources"][s]["macro_f1"] for s in real])
    between = points[rng.integers(0, len(points), size=(draws, len(points)))].mean(axis=1)
    out["real_sources"] = real
    out["mean"] = float(points.mean())
    out["mean_interval_within"] = interval(mean_within)
    out["mean_interval_between"] = interval(between)
    out["p_mean_at_least_bar_within"] = float((mean_within >= MEAN_BAR).mean())
    out["p_every_source_at_least_bar_within"] = float((stacked.min(axis=0) >= SOURCE_BAR).mean())
    out["draws"], out["seed"], out["level"] = draws, seed, LEVEL
    return out


Frames = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


def load_frames(models_dirs: list[str | None]) -> list[tuple[Frames, str]]:
    """For the CURRENT model of each of ``models_dirs`` (None: this checkout's), each training
    source's held-out rows as :func:`per_intent` sums, from its held-out heads on this checkout's
    training rows and embeddings (the card's figures; read once for all the models), and the
    model's description."""
    from benchmarks._heldout import model_under_test
    from taxonomy.tiers.head import softmax
    from taxonomy.tiers.model import _training_embeddings
    from taxonomy.tiers.train import load_training_data

    data = load_training_data(message_labels=True)
    vectors = _training_embeddings(data.texts)
    out = []
    for models_dir in models_dirs:
        model = model_under_test(models_dir=models_dir)
        frames = {}
        for source in sorted(set(data.sources.tolist())):
            rows = np.flatnonzero(data.sources == source)
            logits = model.head_for(source).logits([data.texts[i] for i in rows], vectors[rows])
            pred = np.asarray(TIERS)[logits.argmax(axis=1)]
            frames[source] = per_intent(data.tiers[rows], pred, softmax(logits / model.head.temperature), data.intents[rows])
        out.append((frames, model.describe()))
    return out


def _source_label(source: str) -> str:
    return source if source not in OWN_SOURCES else f"{source} (ours, not in the mean)"


def paired(head: Frames, base: Frames, draws: int = DRAWS, seed: int = SEED) -> dict[str, Any]:
    """``head`` minus ``base`` on the same rows: per source and for the mean over the real sources,
    the measured difference in macro-F1 and its 90% interval, each draw resampling the same intents
    for both models."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"sources": {}}
    deltas = {}
    for source in sorted(head):
        (ch, _, _), (cb, _, _) = head[source], base[source]
        pick = rng.integers(0, len(ch), size=(draws, len(ch)))
        deltas[source] = macro_f1_from(ch[pick].sum(axis=1)) - macro_f1_from(cb[pick].sum(axis=1))
        point = float(macro_f1_from(ch.sum(axis=0)) - macro_f1_from(cb.sum(axis=0)))
        out["sources"][source] = {"difference": point, "interval": interval(deltas[source]),
                                  "p_better": float((deltas[source] > 0).mean())}
    real = [s for s in sorted(head) if s not in OWN_SOURCES]
    mean = np.stack([deltas[s] for s in real]).mean(axis=0)
    out.update(real_sources=real, difference=float(np.mean([out["sources"][s]["difference"] for s in real])),
               interval=interval(mean), p_better=float((mean > 0).mean()), draws=draws, seed=seed)
    return out


def _paired_markdown(d: dict[str, Any], head: str, base: str) -> str:
    rows = [[_source_label(s), f"{r['difference']:+.4f}",
             f"{r['interval'][0]:+.3f} to {r['interval'][1]:+.3f}", f"{r['p_better']:.2f}"] for s, r in d["sources"].items()]
    rows.append([f"**mean of the {len(d['real_sources'])} real sources**", f"**{d['difference']:+.4f}**",
                 f"{d['interval'][0]:+.3f} to {d['interval'][1]:+.3f}", f"{d['p_better']:.2f}"])
    return "\n\n".join([f"# {head}\n\nminus {base}", f"{d['draws']:,} paired draws (the same intents for both), seed {d['seed']}.",
                        markdown_table(["held-out source", "macro-F1 difference", "90% interval", "share of draws better"], rows)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="MODELS_DIR", default=None,
                        help="compare with the CURRENT model of this folder (same training files): paired "
                             "differences per source and in the mean, printed; nothing written")
    args = parser.parse_args(argv)
    if args.against:
        (head, head_says), (base, base_says) = load_frames([None, args.against])
        print(_paired_markdown(paired(head, base), head_says, base_says))
        return
    info = machine(["numpy", "scikit-learn"])
    started = time.perf_counter()
    [(frames, described)] = load_frames([None])
    result = intervals(frames)
    data = {"machine": stamp_end(info), "model_under_test": described, "seconds": round(time.perf_counter() - started, 1), **result}
    write_results("loso_intervals", data, _markdown(data))
    print(_markdown(data))


def _markdown(d: dict[str, Any]) -> str:
    pct = lambda lo_hi: f"{lo_hi[0]:.3f}-{lo_hi[1]:.3f}"  # noqa: E731
    rows = [[_source_label(s), r["rows"], r["intents"], f"{r['macro_f1']:.4f}", pct(r["macro_f1_interval"]), f"{r['p_macro_f1_at_least_bar']:.2f}",
             f"{100 * r['share_error']:.1f}", f"{100 * r['share_error_interval'][0]:.1f}-{100 * r['share_error_interval'][1]:.1f}",
             f"{r['p_share_error_within_bar']:.2f}"] for s, r in d["sources"].items()]
    return "\n\n".join([
        "# How sure are the leave-one-source-out figures?", machine_markdown(d["machine"]),
        f"- Model under test: {d['model_under_test']}",
        __doc__.split("\n\n", 2)[2].strip(),
        f"{d['draws']:,} draws, seed {d['seed']}, {d['level']:.0%} intervals.",
        markdown_table(["held-out source", "rows", "intents", "macro-F1", "90% interval (intents resampled)",
                        f"share of draws >= {SOURCE_BAR}", "largest share error, points", "90% interval",
                        f"share of draws within {100 * SHARE_BAR:.0f} points"], rows),
        markdown_table(["mean over the real sources", "value"], [
            ["measured", f"{d['mean']:.4f} ({len(d['real_sources'])} sources)"],
            ["90% interval, each source's intents resampled", pct(d["mean_interval_within"])],
            ["90% interval, the sources resampled (a source not in the corpus)", pct(d["mean_interval_between"])],
            [f"share of draws with the mean >= {MEAN_BAR}", f"{d['p_mean_at_least_bar_within']:.3f}"],
            [f"share of draws with every source >= {SOURCE_BAR}", f"{d['p_every_source_at_least_bar_within']:.3f}"],
        ]),
        f"Wall time {d['seconds']} s.",
    ])


if __name__ == "__main__":
    main()
