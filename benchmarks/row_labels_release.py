"""Would a model trained on the message labels pass issue 13's bars? Candidate releases, trained for real.

Run from the repository root (the tier corpus must be built, see :mod:`benchmarks._queues`)::

    TAXONOMY_CACHE_DIR=... .venv/bin/python -m benchmarks.row_labels_release   # ~3.5 minutes a candidate

:mod:`benchmarks.row_labels` probes the message labels by refitting the CURRENT model's head. This
trains each candidate the way ``taxonomy train-tiers`` would ship it (:func:`taxonomy.tiers.train_and_save`
into a temporary models folder, ``TrainSettings(message_labels=True, source_power=P)``: a corpus
message fitted on its own tier, the form rules on top, Banking77 and the seed set on their labels)
for each source weight power ``P`` asked for, and reads every figure that decides a release:

- from the candidate's ``metrics.json``: leave-one-source-out macro-F1 (mean and lowest of the 8 real
  sources, Banking77 held out) and Banking77 in domain, all **against the intent-level labels**;
- the five evaluation-only sources (never trained on, never used to choose anything here), scored as
  :mod:`benchmarks.row_labels` scores them;
- TIERS.md's field example (``tests/tiers/test_field_example.py``'s queue): the action-led share of
  hours from the head's un-tempered probabilities (:func:`benchmarks.tier_shares.field_example`;
  ``taxonomy run``, which the test runs, adapts them to the queue first and reads a little lower).

The CURRENT model is the first row, read the same way. Nothing here changes the shipped model.
Writes ``results/row_labels_release.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._common import machine, machine_markdown, markdown_table, stamp_end, write_results
from taxonomy.schema import TIERS

POWERS = (0.25, 0.35, 0.5, 0.75, 1.0)
BARS = "leave-one-source-out >= 0.80, lowest real source >= 0.70, Banking77 held out >= 0.85, in domain >= 0.92, field example 0.375 +- 0.01"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--powers", type=float, nargs="+", default=list(POWERS), help="source weight powers to train (default: %(default)s)")
    args = parser.parse_args(argv)
    from benchmarks.tier_shares import field_example
    from taxonomy.embed import get_embedder
    from taxonomy.tiers import load_classifier, train_and_save
    from taxonomy.tiers.corpus import load_evaluation_corpus
    from taxonomy.tiers.evaluate import macro_f1
    from taxonomy.tiers.head import TrainSettings
    from taxonomy.tiers.model import _models_dir, _training_embeddings, current_version
    from taxonomy.tiers.rules import apply_rules, load_rules

    info = machine(["numpy", "scikit-learn", "onnxruntime"])
    started = time.perf_counter()
    frame = load_evaluation_corpus()
    texts = frame["text"].to_list()
    truth, _ = apply_rules(texts, frame["tier"].to_numpy().astype(str), load_rules())
    vectors, sources = _training_embeddings(texts), frame["source"].to_numpy().astype(str)
    embedder = get_embedder("onnx")

    def read(name: str, models_dir: str | None, version: str) -> dict:
        metrics = json.loads((_models_dir(models_dir) / "tier-classifier" / version / "metrics.json").read_text(encoding="utf-8"))
        loso, classifier = metrics["leave_one_source_out"], load_classifier(version, models_dir)
        pred = np.array(TIERS)[classifier.head.logits(texts, vectors).argmax(axis=1)]
        unseen = {s: round(float(macro_f1(truth[sources == s], pred[sources == s])), 4) for s in sorted(set(sources.tolist()))}
        return {"candidate": name, "loso_mean": loso["mean_macro_f1_real_sources"], "loso_lowest": loso["min_macro_f1_real_sources"],
                "banking_held_out": loso["banking_held_out_macro_f1"], "in_domain": round(metrics["banking77_in_domain"]["macro_f1"], 4),
                "evaluation_only": unseen, "evaluation_only_mean": round(float(np.mean(list(unseen.values()))), 4),
                "field_example": field_example(classifier, embedder)["1.0"],
                "rows_fitted_on_another_tier": sum(metrics.get("rows_fitted_on_another_tier", {}).values())}

    version = current_version()
    rows = [read(f"{version} (CURRENT)", None, version)]
    for power in args.powers:
        folder = Path(tempfile.mkdtemp(prefix="tier-candidate-"))
        try:
            for part in ("tier-seed", "tier-corpus"):
                shutil.copytree(_models_dir(None) / part, folder / part)
            train_and_save("tier-clf-candidate", str(folder), settings=TrainSettings(message_labels=True, source_power=power))
            rows.append(read(f"message labels, source power {power}", str(folder), "tier-clf-candidate"))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(json.dumps(rows[-1]), flush=True)
    data = {"machine": stamp_end(info), "seconds": round(time.perf_counter() - started, 1), "bars": BARS, "candidates": rows}
    write_results("row_labels_release", data, _markdown(data))
    print(_markdown(data))


def _markdown(d: dict) -> str:
    table = markdown_table(
        ["candidate", "leave-one-source-out mean", "lowest", "Banking77 held out", "Banking77 in domain", "field example",
         "evaluation-only mean", "rows fitted on another tier"],
        [[r["candidate"], f"{r['loso_mean']:.4f}", f"{r['loso_lowest']:.3f}", f"{r['banking_held_out']:.3f}",
          f"{r['in_domain']:.4f}", f"{r['field_example']:.4f}", f"{r['evaluation_only_mean']:.4f}",
          r["rows_fitted_on_another_tier"]] for r in d["candidates"]])
    return "\n".join([
        "# Candidate releases trained on the message labels", "", machine_markdown(d["machine"]), "",
        f"Issue 13's bars: {d['bars']}. Every figure is against the **intent-level** labels; the evaluation-only "
        "sources chose nothing. Field example: the head's un-tempered probabilities (`taxonomy run` adapts them first).",
        "", table, "", "Command: `TAXONOMY_CACHE_DIR=... .venv/bin/python -m benchmarks.row_labels_release`.", ""])


if __name__ == "__main__":
    main()
