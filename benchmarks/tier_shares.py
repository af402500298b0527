"""Which probabilities should tier shares sum? The CURRENT tier model, by temperature.

The product sums un-tempered probabilities for tier shares (``taxonomy.tiers.shares.for_shares``);
``p_<tier>`` in the outputs is calibrated (temperature fitted on leave-one-source-out logits). Since
pipeline 0.2.5 they are the head's adapted to each customer window (:mod:`taxonomy.tiers.adapt`,
"adapted (shipped)": the correction fitted on each queue below, then summed un-tempered). This
benchmark measures the choice, for the head's own probabilities summed at temperatures 0.5, 0.75, 1
(shipped before 0.2.5), 1.3, the calibrated one, arg-max counting, and the adapted ones:

- **held-out sources**: the largest volume-share error of each source of the training data, every
  source predicted by a head trained without it (``taxonomy.tiers.train.leave_one_source_out`` on
  the artifact's own settings and data; the tier corpus must be built);
- **bundled sample**: the hours-share error (volume where no handle time) of each bundled customer's
  generated conversations, classified by the model, against the generator's tiers with TIERS.md's
  form rules applied (``taxonomy.samples.iter_conversations(truth=True)``);
- **field example**: TIERS.md's 100 password how-tos and 10 disputes (``tests/tiers/test_field_example.py``):
  the action-led share of hours (truth 0.375).

Run: ``TAXONOMY_CACHE_DIR=... python -m benchmarks.tier_shares`` (about 2 minutes on 2 cores with the
training embeddings cached). Results: ``results/tier_shares.{json,md}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks._common import cached_vectors, machine, machine_markdown, markdown_table, stamp_end, write_results

TEMPERATURES: tuple[float | str, ...] = (0.5, 0.75, 1.0, 1.3, "calibrated", "arg-max", "adapted")
OWN_SOURCES = ("seed",)  # written by us: reported, not in the mean


def _shares(logits: np.ndarray, temperature: float | str, calibrated: float, weights: np.ndarray | None = None,
            vectors: np.ndarray | None = None) -> np.ndarray:
    """One queue's shares (``vectors``: its embeddings, for the adapted head)."""
    from taxonomy.tiers.adapt import adapt_logits
    from taxonomy.tiers.head import softmax

    if temperature == "adapted":
        p = softmax(adapt_logits(logits, vectors))
    elif temperature == "arg-max":
        p = np.eye(logits.shape[1])[logits.argmax(axis=1)]
    else:
        p = softmax(logits / (calibrated if temperature == "calibrated" else float(temperature)))
    w = np.ones(len(p)) if weights is None else weights
    return (p * w[:, None]).sum(axis=0) / w.sum()


def held_out_sources(head_temperature: float) -> dict:
    """Largest volume-share error per source, leave-one-source-out, by summing temperature."""
    from taxonomy.tiers.train import settings_of
    from taxonomy.schema import TIERS
    from taxonomy.tiers.model import _embeddings_of, current_version
    from taxonomy.tiers.train import DEFAULT_MODELS_DIR, leave_one_source_out, load_head, load_training_data

    version = current_version()
    _, config = load_head(DEFAULT_MODELS_DIR / "tier-classifier" / version)
    settings = settings_of(config, version)
    data = load_training_data(use_corpus=settings.use_corpus, form_rules=settings.form_rules,
                              message_labels=settings.message_labels)
    embeddings = _embeddings_of(data, None)
    logits, folds = leave_one_source_out(data, embeddings, settings)
    out = {}
    for t in TEMPERATURES:
        errors = {}
        for source, rows in sorted(folds.items()):
            truth = np.array([(data.tiers[rows] == tier).mean() for tier in TIERS])
            errors[source] = round(float(np.abs(_shares(logits[rows], t, head_temperature, None, embeddings[rows]) - truth).max()), 4)
        real = [e for s, e in errors.items() if s not in OWN_SOURCES]
        out[str(t)] = {"per_source": errors, "mean_real": round(float(np.mean(real)), 4), "max_real": max(real),
                       "within_5_points": sum(e <= 0.05 for e in real), "real_sources": len(real)}
    return out


def bundled_sample(classifier, embedder) -> dict:  # noqa: ANN001
    """Hours-share error per bundled customer (points), by summing temperature."""
    from taxonomy.samples import iter_conversations
    from taxonomy.schema import TIERS
    from taxonomy.tiers.rules import apply_rules, load_rules

    rows = [r for r in iter_conversations(truth=True) if r["text"] and r["true_tier"]]
    texts = [r["text"] for r in rows]
    truth, _ = apply_rules(texts, np.array([r["true_tier"] for r in rows]), load_rules())
    seconds = np.array([r["handle_time_seconds"] or 0 for r in rows], dtype=np.float64)
    customers = np.array([r["customer_id"] for r in rows])
    vectors, _ = cached_vectors(embedder, [t[:2000] for t in texts])
    vectors = np.asarray(vectors)
    logits = classifier.head.logits(texts, vectors)
    out = {}
    for t in TEMPERATURES:
        errors = {}
        for c in sorted(set(customers.tolist())):
            m = customers == c
            w = seconds[m] if seconds[m].sum() > 0 else np.ones(int(m.sum()))
            true = np.array([(w * (truth[m] == tier)).sum() for tier in TIERS]) / w.sum()
            errors[c] = round(float(100 * np.abs(_shares(logits[m], t, classifier.head.temperature, w, vectors[m]) - true).max()), 2)
        out[str(t)] = {"per_customer_points": errors, "mean_points": round(float(np.mean(list(errors.values()))), 2)}
    return {"conversations": len(rows), "by_temperature": out}


def field_example(classifier, embedder) -> dict:  # noqa: ANN001
    """TIERS.md's field example: action-led share of hours by summing temperature (truth 0.375)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tiers"))
    from test_field_example import DISPUTES, HOW_TOS

    texts = [HOW_TOS[i % len(HOW_TOS)] for i in range(100)] + DISPUTES  # the queue as the test sends it
    vectors = embedder.encode(texts)
    logits = classifier.head.logits(texts, vectors)
    weights = np.array([300] * 100 + [1800] * len(DISPUTES), dtype=np.float64)
    return {str(t): round(float(_shares(logits, t, classifier.head.temperature, weights, vectors)[2]), 4) for t in TEMPERATURES}


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0]).parse_args()
    from taxonomy.embed import get_embedder
    from taxonomy.tiers import load_classifier

    info = machine(["numpy", "scikit-learn", "onnxruntime"])
    started = time.perf_counter()
    classifier, embedder = load_classifier(), get_embedder("onnx")
    data = {
        "model": classifier.version, "calibrated_temperature": classifier.head.temperature,
        "held_out_sources": held_out_sources(classifier.head.temperature),
        "bundled_sample": bundled_sample(classifier, embedder),
        "field_example_action_led_share": field_example(classifier, embedder),
    }
    data["seconds"] = round(time.perf_counter() - started, 1)
    data["machine"] = stamp_end(info)
    write_results("tier_shares", data, _markdown(data))
    print(_markdown(data))


def _markdown(d: dict) -> str:
    name = {str(t): (f"T {t}" if isinstance(t, float) else t) for t in TEMPERATURES}
    name["calibrated"] = f"calibrated (T {d['calibrated_temperature']})"
    name["1.0"] = "T 1.0 (shipped before 0.2.5)"
    name["adapted"] = "adapted to each queue, T 1.0 (shipped)"
    held, sample, field = d["held_out_sources"], d["bundled_sample"]["by_temperature"], d["field_example_action_led_share"]
    rows = [[name[k], held[k]["mean_real"], held[k]["max_real"], f"{held[k]['within_5_points']} of {held[k]['real_sources']}",
             sample[k]["mean_points"], field[k]] for k in held]
    return "\n\n".join([
        f"# Tier shares: which probabilities to sum ({d['model']})",
        machine_markdown(d["machine"]),
        __doc__.split("\n\n", 1)[1].strip(),
        markdown_table(["summed at", "held-out sources: mean of the largest share error", "largest", "within 5 points",
                        f"bundled sample ({d['bundled_sample']['conversations']:,} conversations): mean hours-share error, points",
                        "field example: action-led share of hours (truth 0.375)"], rows),
        f"Wall time {d['seconds']} s.",
    ])


if __name__ == "__main__":
    main()
