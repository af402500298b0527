"""Does reading a message's tier in its topic's context help on queues the model has not seen?
``python -m benchmarks.tiers_in_context``

Every queue of :mod:`benchmarks._queues` (real phrasing; each scored by a head of the CURRENT tier
model that never saw the queue's source, see :mod:`benchmarks._heldout`) goes through the real topic
stage (:func:`benchmarks._queues.topic_rows`) and then :func:`taxonomy.tiers.context.tiers_in_context`,
the step the analyse stage runs, at several topic weights (0: each message alone, as ``taxonomy
classify`` and the model card's leave-one-source-out figures score it). Macro-F1 per source is over
all of its queues' rows, against the gold tiers of the reviewed mappings, over the tiers the source
has. No label is used to form topics or to mix probabilities.

The shipped weight (``TOPIC_WEIGHT``, 0.5) was chosen before this benchmark existed, on a probe of
the training sources only (each source as one queue, the same out-of-source probabilities); the
evaluation-only sources, which no model version is trained on, are the check on that choice.
Hours and volume shares do not move at any weight: they sum ``p_<tier>``, which this step leaves as
they are.

The last two columns add the step before it (:mod:`taxonomy.tiers.adapt`, pipeline 0.2.5 on): each
queue's own correction, fitted on its confident rows, then the shipped context weight, the path the
analyse stage takes. Probabilities are mixed tempered, as the analyse stage mixes them (each held-out
head's own temperature).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from benchmarks._common import machine, machine_markdown, markdown_table, stamp_end, write_results
from benchmarks._heldout import ModelUnderTest
from benchmarks._queues import load_queues, topic_rows
from taxonomy.schema import TIERS
from taxonomy.tiers.adapt import adapt_logits, adapt_to_queue
from taxonomy.tiers.context import TOPIC_WEIGHT, tiers_in_context
from taxonomy.tiers.head import softmax
from taxonomy.tiers.evaluate import OWN_SOURCES, macro_f1

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
SHIPPED = "adapted, weight 0.5"
ADAPTED = {"adapted, weight 0.0": 0.0, SHIPPED: TOPIC_WEIGHT}  # the analyse stage: adapt, then context
REAL7 = ("banking77", "hint3", "hwu64", "multidogo", "sgd", "snips", "star")  # the model card's "v4's 7 real sources"


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    info = machine(["polars", "numpy", "scikit-learn", "onnxruntime"])
    t0 = time.perf_counter()
    queues, model = load_queues()
    trained = set(model.trained_on)
    gold: dict[str, list[np.ndarray]] = {}
    pred: dict[float | str, dict[str, list[np.ndarray]]] = {w: {} for w in (*WEIGHTS, *ADAPTED)}
    adapt_seconds: list[float] = []
    per_queue = {}
    for queue in queues:
        rows, topics = topic_rows(queue, adapted=False)  # adapted below, as the analyse stage does
        gold.setdefault(queue.source, []).append(np.array(rows["gold"].to_list()))
        temperature = model.head_for(queue.source).temperature
        tempered = softmax(np.log(np.clip(queue.proba, 1e-300, None)) / temperature)
        rows = rows.with_columns(  # tempered, as the analyse stage mixes them
            pl.Series("tier", np.array(TIERS)[tempered.argmax(axis=1)].tolist()), pl.Series("tier_confidence", tempered.max(axis=1)),
            *[pl.Series(f"p_{t}", tempered[:, i]) for i, t in enumerate(TIERS)])
        scores = {}
        for w in WEIGHTS:
            tiers = np.array(tiers_in_context(rows, w)["tier"].to_list())
            pred[w].setdefault(queue.source, []).append(tiers)
            scores[str(w)] = round(macro_f1(gold[queue.source][-1], tiers), 4)
        start = time.perf_counter()
        listed = adapt_to_queue(rows, queue.vectors, lambda version: temperature)
        adapt_seconds.append(time.perf_counter() - start)
        for key, w in ADAPTED.items():
            tiers = np.array(tiers_in_context(listed, w)["tier"].to_list())
            pred[key].setdefault(queue.source, []).append(tiers)
            scores[key] = round(macro_f1(gold[queue.source][-1], tiers), 4)
        per_queue[queue.name] = {"source": queue.source, "rows": len(queue.texts), "topics": topics.topics.height,
                                 "macro_f1": scores}
    per_source = {}
    for source in sorted(gold):
        g = np.concatenate(gold[source])
        per_source[source] = {
            "rows": int(len(g)), "kind": "own" if source in OWN_SOURCES else ("trained" if source in trained else "evaluation_only"),
            "macro_f1": {str(w): round(macro_f1(g, np.concatenate(pred[w][source])), 4) for w in (*WEIGHTS, *ADAPTED)},
        }

    def mean(sources: list[str], w: float) -> float | None:
        values = [per_source[s]["macro_f1"][str(w)] for s in sources if s in per_source]
        return round(float(np.mean(values)), 4) if values else None

    groups = {
        "v4's 7 real sources": list(REAL7),
        "all real training sources": sorted(s for s, v in per_source.items() if v["kind"] == "trained"),
        "evaluation-only sources": sorted(s for s, v in per_source.items() if v["kind"] == "evaluation_only"),
    }
    means = {name: {str(w): mean(sources, w) for w in (*WEIGHTS, *ADAPTED)} for name, sources in groups.items()}
    data = {"machine": stamp_end(info), "seconds": round(time.perf_counter() - t0, 1),
            "model_under_test": {"version": model.version, "description": model.describe()},
            "shipped_weight": TOPIC_WEIGHT, "weights": [*map(str, WEIGHTS), *ADAPTED], "groups": groups, "means": means,
            "adapt_seconds_per_queue": {"mean": round(float(np.mean(adapt_seconds)), 3), "max": round(float(np.max(adapt_seconds)), 3)},
            "per_source": per_source, "queues": per_queue}
    data["whole_sources"] = whole_sources(model)
    data["seconds"] = round(time.perf_counter() - t0, 1)
    json_path, md_path = write_results("tiers_in_context", data, _markdown(data))
    w = str(TOPIC_WEIGHT)
    for name, values in means.items():
        print(f"{name}: macro-F1 {values['0.0']} alone -> {values[w]} in context (weight {w}) -> "
              f"{values[SHIPPED]} adapted to the queue, then in context (the analyse stage)")
    whole = data["whole_sources"]["mean, v4's 7 real sources"]
    print(f"each training source as one queue, v4's 7 real sources: macro-F1 {whole['alone']} alone -> {whole['adapted']} adapted")
    print(f"wrote {json_path} and {md_path}")


def whole_sources(model: ModelUnderTest) -> dict:
    """Each training source as one queue, every row of it, scored by the head that never saw it (the
    model card's leave-one-source-out rows, messages alone, no topics): macro-F1 of the head and of
    the head adapted to that queue (:func:`taxonomy.tiers.adapt.adapt_logits`, the analyse stage's fit)."""
    from taxonomy.tiers.model import _embeddings_of
    from taxonomy.tiers.train import load_training_data

    data = load_training_data()
    embeddings = np.asarray(_embeddings_of(data, None), dtype=np.float64)
    out = {}
    for source in sorted(set(data.sources.tolist()) & set(model.held_out)):
        rows = np.flatnonzero(data.sources == source)
        logits = model.head_for(source).logits([data.texts[i] for i in rows], embeddings[rows])
        adapted = adapt_logits(logits, embeddings[rows])
        truth = data.tiers[rows]
        out[source] = {"rows": int(len(rows)), "alone": round(macro_f1(truth, np.array(TIERS)[logits.argmax(axis=1)]), 4),
                       "adapted": round(macro_f1(truth, np.array(TIERS)[adapted.argmax(axis=1)]), 4)}
    real7 = [out[s] for s in REAL7 if s in out]
    out["mean, v4's 7 real sources"] = {key: round(float(np.mean([v[key] for v in real7])), 4) for key in ("alone", "adapted")}
    return out


def _markdown(d: dict) -> str:
    weights = d["weights"]
    label = {w: w if w in ADAPTED else f"weight {w}" for w in weights}
    head = ["source", "kind", "rows", *[label[w] for w in weights]]
    rows = [[s, v["kind"], v["rows"], *[v["macro_f1"][w] for w in weights]] for s, v in d["per_source"].items()]
    rows += [[f"**mean, {name}**", "", "", *[values[w] for w in weights]] for name, values in d["means"].items()]
    queue_rows = [[name, q["source"], q["rows"], q["topics"], *[q["macro_f1"][w] for w in weights]]
                  for name, q in d["queues"].items()]
    return "\n\n".join([
        "# A message's tier read in its topic's context, on queues the model has not seen",
        machine_markdown(d["machine"]),
        f"- Model under test: {d['model_under_test']['description']}",
        f"- Shipped topic weight: {d['shipped_weight']} (`taxonomy.tiers.context.TOPIC_WEIGHT`); {d['seconds']} s",
        f"- Adapting one queue (`taxonomy.tiers.adapt.adapt_to_queue`): {d['adapt_seconds_per_queue']['mean']} s mean, "
        f"{d['adapt_seconds_per_queue']['max']} s the slowest",
        __doc__.split("\n\n", 1)[1].strip(),
        "## Macro-F1 per source (all its queues' rows)",
        markdown_table(head, rows),
        "## Each training source as one queue (leave-one-source-out, messages alone)",
        "Every row of the source, scored by the head that never saw it, then by that head adapted to "
        "the source's rows (`taxonomy.tiers.adapt.adapt_logits`); no topics. The training texts' fp32 "
        "vectors, as the model card's figures.",
        markdown_table(["source", "rows", "head alone", "adapted to the queue"],
                       [[s, v.get("rows", ""), v["alone"], v["adapted"]] for s, v in d["whole_sources"].items()]),
        "## Per queue",
        markdown_table(["queue", "source", "rows", "topics", *[label[w] for w in weights]], queue_rows),
    ])


if __name__ == "__main__":
    main()
