"""Probe: the tier head fitted on message-level labels instead of intent-level ones.

Run from the repository root (the tier corpus must be built, see :mod:`benchmarks._queues`)::

    TAXONOMY_CACHE_DIR=... .venv/bin/python -m benchmarks.row_labels   # ~8 minutes on 2 cores

The training labels give every message its intent's tier (the reviewed mappings, then the form
rules). ``models/tier-labels/row_labels.csv`` gives every message of the eight real training
sources a tier of its own: 26,812 messages read one by one against TIERS.md by annotators (language-
model helpers, 2026-12-02) who saw each message with its source and intent name, never its label,
the mapping or a model's tier, and who could also say that a message states no request (``N``).
Keyed by source, intent and the first 16 hex digits of the text's SHA-256 (the public texts are not
committed). The first 3,063 of them are ``benchmarks/blind_reader.py``'s first pass.

Every variant is scored the way ``metrics.json`` scores the shipped model, **against the intent-level
labels**: leave-one-source-out macro-F1 per source (a head fitted on the other sources, with the
CURRENT model's settings), Banking77 in domain (a seeded 20% held out), and the five
evaluation-only sources (a head fitted on everything). The held-out source's own message labels are
never used for its fold. Variants:

- ``intent labels``: the CURRENT model's training labels (the baseline);
- ``message labels``: each message's own tier where the annotators gave one; messages that state no
  request left out of the fit; our seed set keeps its labels (we wrote and tiered it);
- ``message labels, Banking77 as shipped``: the same for the seven corpus sources only; Banking77 keeps
  the shared, reviewed labels of ``../shared/data/banking77``.

Nothing here changes the shipped model. Writes ``results/row_labels.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from benchmarks._common import machine, machine_markdown, markdown_table, stamp_end, write_results
from taxonomy.tiers.corpus import text_key
from taxonomy.schema import TIERS

OWN = "seed"


def load_row_labels() -> dict[tuple[str, str, str], str]:
    """``(source, intent, text key) -> tier or "none"`` (:func:`taxonomy.tiers.corpus.load_message_labels`)."""
    from taxonomy.tiers.corpus import load_message_labels

    return load_message_labels()


def fit_labels(sources: np.ndarray, intents: np.ndarray, texts: list[str], tiers: np.ndarray,
               labels: dict[tuple[str, str, str], str], only: set[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The labels to fit on and which rows to fit: a message's own tier where it has one (and its
    source is in ``only``, when given), else its intent-level tier; a message that states no request
    is not fitted."""
    own = np.array([labels.get((s, i, text_key(t)), "") if only is None or s in only else ""
                    for s, i, t in zip(sources, intents, texts)], dtype=object)
    fit = np.where(np.isin(own, TIERS), own, tiers).astype(str)
    return fit, own != "none"


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    from taxonomy.tiers.train import settings_of
    from taxonomy.tiers.corpus import load_evaluation_corpus
    from taxonomy.tiers.evaluate import BANKING_SOURCE, macro_f1
    from taxonomy.tiers.model import _embeddings_of, _models_dir, _training_embeddings, current_version
    from taxonomy.tiers.rules import apply_rules, load_rules
    from taxonomy.tiers.train import fit_on, load_training_data

    info = machine(["numpy", "scikit-learn"])
    started = time.perf_counter()
    version = current_version()
    settings = settings_of(json.loads((_models_dir(None) / "tier-classifier" / version / "config.json").read_text()), version)
    data = load_training_data()
    embeddings = np.asarray(_embeddings_of(data, None))
    labels = load_row_labels()
    truth = data.tiers.copy()
    corpus = set(data.sources.tolist()) - {OWN, BANKING_SOURCE}
    variants = {"intent labels": (truth, np.ones(len(truth), bool)),
                "message labels": fit_labels(data.sources, data.intents, data.texts, truth, labels),
                "message labels, Banking77 as shipped": fit_labels(data.sources, data.intents, data.texts, truth, labels, corpus)}
    frame = load_evaluation_corpus()
    eval_texts = frame["text"].to_list()
    eval_truth, _ = apply_rules(eval_texts, frame["tier"].to_numpy().astype(str), load_rules())
    eval_x, eval_sources = _training_embeddings(eval_texts), frame["source"].to_numpy().astype(str)
    out = {}
    for name, (fit, keep) in variants.items():
        object.__setattr__(data, "tiers", fit)
        pred = np.empty(len(truth), dtype=object)
        for source in sorted(set(data.sources.tolist())):
            test = np.flatnonzero(data.sources == source)
            head = fit_on(data, np.flatnonzero((data.sources != source) & keep), embeddings, settings)
            pred[test] = np.array(TIERS)[head.logits([data.texts[i] for i in test], embeddings[test]).argmax(axis=1)]
        per = {s: float(macro_f1(truth[data.sources == s], pred[data.sources == s].astype(str))) for s in sorted(set(data.sources.tolist()))}
        real = [s for s in per if s != OWN]
        kept = np.flatnonzero(keep)
        in_domain = _in_domain(data, truth, keep, embeddings, settings)
        head = fit_on(data, kept, embeddings, settings)
        eval_pred = np.array(TIERS)[head.logits(eval_texts, eval_x).argmax(axis=1)]
        unseen = {s: float(macro_f1(eval_truth[eval_sources == s], eval_pred[eval_sources == s])) for s in sorted(set(eval_sources.tolist()))}
        out[name] = {"per_source": per, "mean": float(np.mean([per[s] for s in real])), "min": min(per[s] for s in real),
                     "rows_fitted": int(keep.sum()), "rows_relabelled": int((fit != truth).sum()),
                     "banking77_in_domain": in_domain, "evaluation_only": unseen,
                     "evaluation_only_mean": float(np.mean(list(unseen.values())))}
        object.__setattr__(data, "tiers", truth)
    data_out = {"machine": stamp_end(info), "seconds": round(time.perf_counter() - started, 1), "model": version,
                "row_labels": len(labels), "variants": out}
    write_results("row_labels", data_out, _markdown(data_out))
    print(_markdown(data_out))


def _in_domain(data, truth: np.ndarray, keep: np.ndarray, embeddings: np.ndarray, settings) -> float:  # noqa: ANN001
    """``taxonomy.tiers.evaluate.banking_in_domain``'s split (a seeded 20% of Banking77 by group), the
    head fitted on ``data.tiers`` of the kept rows of the rest and scored against ``truth``."""
    from sklearn.model_selection import GroupShuffleSplit

    from taxonomy.tiers.evaluate import BANKING_SOURCE, macro_f1
    from taxonomy.tiers.train import fit_on

    bank = np.flatnonzero(data.sources == BANKING_SOURCE)
    _, test_part = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=settings.seed)
                        .split(np.zeros(len(bank)), groups=data.groups[bank]))
    test = bank[test_part]
    train = np.setdiff1d(np.flatnonzero(keep), test)
    head = fit_on(data, train, embeddings, settings)
    pred = np.array(TIERS)[head.logits([data.texts[i] for i in test], embeddings[test]).argmax(axis=1)]
    return float(macro_f1(truth[test], pred))


def _markdown(d: dict) -> str:
    v = d["variants"]
    sources = list(next(iter(v.values()))["per_source"])
    table = markdown_table(
        ["variant", *sources, "mean of the real sources", "lowest", "Banking77 in domain", "evaluation-only mean", "rows fitted"],
        [[name, *[f"{r['per_source'][s]:.3f}" for s in sources], f"**{r['mean']:.4f}**", f"{r['min']:.3f}",
          "" if r["banking77_in_domain"] is None else f"{r['banking77_in_domain']:.4f}", f"{r['evaluation_only_mean']:.4f}",
          r["rows_fitted"]] for name, r in v.items()])
    return "\n".join([
        "# The tier head fitted on message-level labels (probe)", "", machine_markdown(d["machine"]), "",
        f"Model settings: {d['model']} (CURRENT). {d['row_labels']:,} message labels "
        "(`models/tier-labels/row_labels.csv`). Every figure is macro-F1 against the **intent-level** labels, as "
        "`metrics.json` scores the shipped model; each source's fold never fits its own message labels. `seed` is ours, "
        "not in the mean.", "", table, "",
        "Command: `TAXONOMY_CACHE_DIR=... .venv/bin/python -m benchmarks.row_labels`.", ""])


if __name__ == "__main__":
    main()
