"""How far a careful reader of TIERS.md gets on the same labels, against the tier model.

Run from the repository root (the tier corpus must be built, see :mod:`benchmarks._queues`)::

    TAXONOMY_CACHE_DIR=... .venv/bin/python -m benchmarks.blind_reader   # ~1 minute, held-out heads cached

Issue 13's labels are intent-level: every message of an intent gets the intent's tier (through the
reviewed mappings and the form rules). Two questions no leave-one-source-out figure answers:

1. **How much of the gap to 0.80 is the labels?** A reader who applies TIERS.md to each message on its
   own words cannot agree with intent-level labels where an intent mixes tiers.
2. **Are the model's errors errors?** Where the model disagrees with the label, does a reader side with
   the label or with the model?

The reader: ``benchmarks/data/blind_reader.csv``, one judgment per message (``I``, ``P``, ``A``, or
``N`` for a message that states no request: a bare product name, a greeting) for a seeded sample of
up to 10 distinct messages of every intent of every training source but our own seed set (3,063
messages, 321 intents; tier-clf-v7's labels). The judgments were made on 2026-12-02 by five
annotators (language-model helpers), one per group of sources, who were given TIERS.md and the
messages with their intent names only: no tier, no mapping file, no model output. Messages are keyed
by source, intent and the first 16 hex digits of the text's SHA-256 (the public texts are not
committed; they come from the built corpus and the Banking77 training split).

Each sampled message is weighted by its intent's rows over the intent's sampled messages, so that a
source's figures estimate the whole source (the model's weighted figures land within 0.05 of its
leave-one-source-out ones). The model is the CURRENT tier model's head refit without the message's
source (:mod:`benchmarks._heldout`), messages alone. Macro-F1 is over the tiers the source's labels
hold, on the messages the reader found a request in. Writes ``results/blind_reader.{json,md}``.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score, f1_score

from benchmarks._common import machine, machine_markdown, markdown_table, stamp_end, write_results
from taxonomy.schema import TIERS
from taxonomy.tiers.corpus import text_key

JUDGMENTS = Path(__file__).resolve().parent / "data" / "blind_reader.csv"
LETTERS = {"I": "informational", "P": "personalized", "A": "action_led", "N": None}




def load_judgments(path: Path = JUDGMENTS, column: str = "judgment") -> dict[tuple[str, str, str], str | None]:
    """``(source, intent, text key) -> tier`` (``None``: the message states no request), from the first
    pass (``judgment``) or the second (``second``)."""
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["source"], r["intent"], r["text_sha256"]): LETTERS[r[column]] for r in csv.DictReader(f)}


def macro_f1(truth: list[str], pred: list[str], weights: list[float]) -> float:
    """Weighted macro-F1 over the tiers ``truth`` holds."""
    labels = [t for t in TIERS if t in set(truth)]
    return float(f1_score(truth, pred, labels=labels, average="macro", sample_weight=weights, zero_division=0))


def score(rows: list[dict]) -> dict[str, float]:
    """One group's figures; ``rows`` hold ``label``, ``reader``, ``model`` and ``weight``."""
    w = np.array([r["weight"] for r in rows])
    request = np.array([r["reader"] is not None for r in rows])
    req = [r for r in rows if r["reader"] is not None]
    rw = [r["weight"] for r in req]
    wrong = [r for r in req if r["model"] != r["label"]]
    return {
        "messages": len(rows),
        "no_request": float(w[~request].sum() / w.sum()),
        "reader_agrees": float(sum(r["weight"] for r in req if r["reader"] == r["label"]) / sum(rw)),
        "reader_f1": macro_f1([r["label"] for r in req], [r["reader"] for r in req], rw),
        "model_f1": macro_f1([r["label"] for r in req], [r["model"] for r in req], rw),
        "model_f1_vs_reader": macro_f1([r["reader"] for r in req], [r["model"] for r in req], rw),
        "model_errors_reader_backs": float(sum(r["weight"] for r in wrong if r["reader"] == r["model"])
                                           / max(sum(r["weight"] for r in wrong), 1e-12)),
    }


def joined_rows(judgments: dict[tuple[str, str, str], str | None]) -> list[dict]:
    """Each judged message with its label, its intent's weight and the held-out model's tier."""
    from benchmarks._heldout import model_under_test
    from taxonomy.tiers.model import _embeddings_of
    from taxonomy.tiers.train import load_training_data

    data = load_training_data()
    keys = [(s, i, text_key(t)) for s, i, t in zip(data.sources, data.intents, data.texts)]
    first: dict[tuple[str, str, str], int] = {}
    for n, key in enumerate(keys):
        first.setdefault(key, n)
    missing = [k for k in judgments if k not in first]
    if missing:
        raise SystemExit(f"{len(missing)} judged messages are not in the training data (first: {missing[0]}): rebuild the corpus")
    sizes: dict[tuple[str, str], int] = {}
    for s, i in zip(data.sources, data.intents):
        sizes[(s, i)] = sizes.get((s, i), 0) + 1
    sampled: dict[tuple[str, str], int] = {}
    for s, i, _ in judgments:
        sampled[(s, i)] = sampled.get((s, i), 0) + 1
    embeddings = np.asarray(_embeddings_of(data, None), dtype=np.float64)
    rows = []
    for source in sorted({k[0] for k in judgments}):
        at = [first[k] for k in judgments if k[0] == source]
        head = model_under_test({source}).head_for(source)
        model = np.array(TIERS)[head.logits([data.texts[n] for n in at], embeddings[at]).argmax(axis=1)]
        for n, tier in zip(at, model):
            key = keys[n]
            rows.append({"source": source, "intent": key[1], "key": key, "label": str(data.tiers[n]), "mapped": str(data.mapped[n]),
                         "reader": judgments[key],
                         "model": str(tier), "weight": sizes[key[:2]] / sampled[key[:2]]})
    return rows


def intents(rows: list[dict], share: float = 0.6) -> list[dict]:
    """Per intent, the reader's tier by the v6 audit's rule: the tier of ``share`` or more of the
    messages that state a request, else ``ambiguous``; ``label`` is the intent's mapped tier (before
    the form rules relabel single messages)."""
    out: dict[tuple[str, str], dict] = {}
    for r in rows:
        g = out.setdefault((r["source"], r["intent"]), {"source": r["source"], "intent": r["intent"], "label": r["mapped"],
                                                        **{t: 0 for t in TIERS}, "none": 0})
        g[r["reader"] or "none"] += 1
    for g in out.values():
        n = sum(g[t] for t in TIERS)
        top = max(TIERS, key=lambda t: g[t])
        g["reader"] = top if n and g[top] >= share * n else "ambiguous"
    return sorted(out.values(), key=lambda g: (g["source"], g["intent"]))


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    info = machine(["numpy", "scikit-learn"])
    started = time.perf_counter()
    rows = joined_rows(load_judgments())
    second = load_judgments(column="second")
    for r in rows:
        r["second"] = second[r["key"]]
    sources = sorted({r["source"] for r in rows})
    per_source = {s: score([r for r in rows if r["source"] == s]) for s in sources}
    again = {s: score([{**r, "reader": r["second"]} for r in rows if r["source"] == s])["reader_f1"] for s in sources}
    real = [s for s in sources if s != "banking77"]
    by_intent = intents(rows)
    data = {"machine": stamp_end(info), "seconds": round(time.perf_counter() - started, 1), "per_source": per_source,
            "mean": {k: float(np.mean([per_source[s][k] for s in sources])) for k in ("reader_f1", "model_f1")},
            "mean_without_banking77": {k: float(np.mean([per_source[s][k] for s in real])) for k in ("reader_f1", "model_f1")},
            "all": score(rows),
            "second_pass": {"same_judgment": float(np.mean([r["reader"] == r["second"] for r in rows])),
                            "kappa": float(cohen_kappa_score([str(r["reader"]) for r in rows], [str(r["second"]) for r in rows])),
                            "reader_f1": again, "mean_reader_f1": float(np.mean(list(again.values())))},
            "intents": {"count": len(by_intent), "reader_same_tier": sum(g["reader"] == g["label"] for g in by_intent),
                        "differing": [g for g in by_intent if g["reader"] != g["label"]]}}
    write_results("blind_reader", data, _markdown(data))
    print(_markdown(data))


def _markdown(d: dict) -> str:
    ps = d["per_source"]
    table = markdown_table(
        ["source", "messages", "no request", "reader = label", "reader macro-F1 vs labels", "model macro-F1 vs labels",
         "model vs reader", "model errors the reader backs"],
        [[s, v["messages"], f"{100 * v['no_request']:.1f}%", f"{100 * v['reader_agrees']:.1f}%", f"{v['reader_f1']:.3f}",
          f"{v['model_f1']:.3f}", f"{v['model_f1_vs_reader']:.3f}", f"{100 * v['model_errors_reader_backs']:.0f}%"]
         for s, v in ps.items()]
        + [["**mean of sources**", "", "", "", f"{d['mean']['reader_f1']:.3f}", f"{d['mean']['model_f1']:.3f}", "", ""]])
    it, two = d["intents"], d["second_pass"]
    differing = markdown_table(["source", "intent", "label", "reader (60% of requests)", "I / P / A / no request"],
                               [[g["source"], g["intent"], g["label"], g["reader"],
                                 f"{g['informational']} / {g['personalized']} / {g['action_led']} / {g['none']}"] for g in it["differing"]])
    return "\n".join([
        "# A blind reader of TIERS.md against the labels and the tier model", "", machine_markdown(d["machine"]), "",
        "Up to 10 messages of every intent of every training source (our seed set aside), each tiered on its own words by an "
        "annotator who saw TIERS.md and the intent name, not the label, the mapping or the model. Weighted to the sources' "
        "intent sizes. Macro-F1 on the messages the reader found a request in; the model is each source's held-out head "
        "(leave-one-source-out), messages alone.", "",
        table, "",
        f"A second pass (the same kind of annotators, fresh, on the same messages) gives the same judgment for "
        f"{100 * two['same_judgment']:.1f}% of them (Cohen's kappa {two['kappa']:.3f}) and a mean reader macro-F1 of "
        f"{two['mean_reader_f1']:.3f}: the judgments are stable, but both passes are the same language model, so this is "
        f"not the agreement two people would reach.", "",
        f"Intent by intent (the v6 audit's rule: a tier needs 60% of the messages that state a request): the reader gives "
        f"{it['reader_same_tier']} of {it['count']} intents their label's tier. Those it does not (10 messages each, so a "
        f"5 / 5 split reads ambiguous):", "", differing, "",
        "Command: `TAXONOMY_CACHE_DIR=... .venv/bin/python -m benchmarks.blind_reader`.", ""])


if __name__ == "__main__":
    main()
