"""`taxonomy classify` as a user runs it: each file read as queues (adapted) against `--alone`, and its speed.

Run from the repository root::

    .venv/bin/python -m benchmarks.classify_queues      # ~2 min on 2 shared cores

Accuracy (macro-F1 over the tiers each file has, against the gold tiers):

- **evaluation-only sources** of the tier corpus (``/work/data/tier-corpus/evaluation.parquet`` or
  ``TIER_EVALUATION``; fetched data, never committed, never trained on), each source written as one
  CSV file, so each file is one queue; gold = their mapped tiers with TIERS.md's form rules applied,
  as :func:`taxonomy.tiers.model.evaluate_evaluation_sources` scores them;
- **the bundled sample**: every CSV export of ``examples/landing/`` in one file (three customers,
  one queue per ``customer_id``), gold = ``examples/landing_truth.csv``; and the same rows with the
  queues taken by ``channel`` instead, which mixes customers.

Speed: ``taxonomy classify`` in a fresh process (model loads included) against plain
sentence-transformers (torch, load + encode the same texts), ``--texts`` evaluation-corpus texts, each
run ``--repeats`` times alternately; the bar is 2.5x (issue 13). Writes
``benchmarks/results/classify_queues.{json,md}``. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks._common import machine, machine_markdown, markdown_table, stamp_end, write_results
from taxonomy.tiers.evaluate import macro_f1

ROOT = Path(__file__).resolve().parents[1]
EVALUATION = Path(os.environ.get("TIER_EVALUATION", "/work/data/tier-corpus/evaluation.parquet"))
CORPUS = EVALUATION.with_name("corpus.parquet")
TAXONOMY = [sys.executable, "-m", "taxonomy"]
PACKAGES = ["numpy", "polars", "onnxruntime", "torch", "sentence-transformers"]
_PLAIN = ("import os, sys; os.environ['HF_HUB_OFFLINE'] = '1'; import polars as pl; "
          "from taxonomy.embed import SentenceTransformerEmbedder; "
          "SentenceTransformerEmbedder().encode(pl.read_csv(sys.argv[1])['text'].to_list())")


def classify(src: Path, out: Path, *extra: str) -> tuple[pl.DataFrame, str]:
    """``taxonomy classify`` on ``src``: the output and what it printed."""
    done = subprocess.run([*TAXONOMY, "classify", "--input", str(src), "--output", str(out), *extra],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return pl.read_parquet(out), done.stdout.strip().splitlines()[-1]


def evaluation_sources(work: Path) -> dict[str, dict[str, Any]]:
    from taxonomy.tiers.rules import apply_rules, load_rules

    frame = pl.read_parquet(EVALUATION)
    gold, _ = apply_rules(frame["text"].to_list(), frame["tier"].to_numpy().astype(str), load_rules())
    frame = frame.with_columns(pl.Series("gold", np.asarray(gold, dtype=str)))
    out = {}
    for source in sorted(set(frame["source"])):
        src = work / f"{source}.csv"
        frame.filter(pl.col("source") == source).select("text", "gold").write_csv(src)
        row: dict[str, Any] = {"rows": frame.filter(pl.col("source") == source).height}
        for mode, extra in (("alone", ["--alone"]), ("adapted", [])):
            got, said = classify(src, work / f"{source}.{mode}.parquet", *extra)
            row[mode] = round(macro_f1(got["gold"].to_numpy().astype(str), got["tier"].to_numpy().astype(str)), 4)
            row[f"{mode} said"] = said
        out[source] = row
        print(source, {k: v for k, v in row.items() if "said" not in k}, flush=True)
    return out


def sample(work: Path) -> dict[str, dict[str, Any]]:
    files = sorted((ROOT / "examples" / "landing").glob("*/*/conversations.csv"))
    frame = pl.concat([pl.read_csv(f, infer_schema_length=0).select("customer_id", "conversation_id", "text", "channel")
                       for f in files])
    src = work / "sample.csv"
    frame.write_csv(src)
    truth = pl.read_csv(ROOT / "examples" / "landing_truth.csv").select("customer_id", "conversation_id",
                                                                         pl.col("tier").alias("gold"))
    out = {}
    for mode, extra in (("alone", ["--alone"]), ("adapted, one queue per customer", []),
                        ("adapted, queues by channel (customers mixed)", ["--queue-column", "channel"])):
        got, said = classify(src, work / "sample.out.parquet", *extra)
        got = got.join(truth, on=["customer_id", "conversation_id"])
        row = {c: round(macro_f1(g["gold"].to_numpy().astype(str), g["tier"].to_numpy().astype(str)), 4)
               for (c,), g in got.sort("customer_id").group_by("customer_id", maintain_order=True)}
        row["all"] = round(macro_f1(got["gold"].to_numpy().astype(str), got["tier"].to_numpy().astype(str)), 4)
        out[mode] = {"macro_f1": row, "rows": got.height, "said": said}
        print(mode, row, flush=True)
    return out


def speed(work: Path, n_texts: int, repeats: int) -> dict[str, Any]:
    texts = pl.read_parquet(CORPUS).sample(n=n_texts, seed=0, shuffle=True).select("text")
    src = work / f"speed{n_texts}.csv"
    texts.write_csv(src)
    runs: dict[str, list[float]] = {"classify": [], "classify --alone": [], "plain sentence-transformers": []}
    for _ in range(repeats):
        for name, cmd in (("classify", [*TAXONOMY, "classify", "--input", str(src), "--output", str(work / "s.parquet")]),
                          ("classify --alone", [*TAXONOMY, "classify", "--alone", "--input", str(src),
                                                "--output", str(work / "s.parquet")]),
                          ("plain sentence-transformers", [sys.executable, "-c", _PLAIN, str(src)])):
            started = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
            runs[name].append(round(time.perf_counter() - started, 2))
    plain = float(np.median(runs["plain sentence-transformers"]))
    return {"texts": n_texts, "seconds": runs,
            "ratio": {k: round(plain / float(np.median(v)), 2) for k, v in runs.items() if k.startswith("classify")}}


def _markdown(d: dict[str, Any]) -> str:
    ev = d["evaluation_sources"]
    ev_rows = [[s, v["rows"], v["alone"], v["adapted"]] for s, v in ev.items()]
    ev_rows.append(["**mean**", "", round(float(np.mean([v["alone"] for v in ev.values()])), 4),
                    round(float(np.mean([v["adapted"] for v in ev.values()])), 4)])
    customers = [c for c in next(iter(d["sample"].values()))["macro_f1"]]
    sp = d["speed"]
    return "\n\n".join([
        "# `taxonomy classify`: files read as queues, against each row alone",
        machine_markdown(d["machine"]),
        __doc__[__doc__.index("Accuracy"):].strip(),
        "Command: `.venv/bin/python -m benchmarks.classify_queues`",
        "## Evaluation-only sources, each source one file (macro-F1)",
        markdown_table(["source", "rows", "`--alone`", "adapted (one queue)"], ev_rows),
        "## The bundled sample's CSV customers in one file (macro-F1 against `examples/landing_truth.csv`)",
        markdown_table(["reading", *customers], [[m, *[v["macro_f1"][c] for c in customers]] for m, v in d["sample"].items()]),
        "What the command printed:\n\n" + "\n".join(f"- {m}: `{v['said']}`" for m, v in d["sample"].items()),
        f"## Speed: {sp['texts']:,} texts, fresh processes, model loads included (bar 2.5x)",
        markdown_table(["command", "seconds per run", "plain sentence-transformers / this"],
                       [[k, ", ".join(map(str, v)), sp["ratio"].get(k, "")] for k, v in sp["seconds"].items()]),
    ]) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000, help="texts for the speed runs (default 2,000)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each command, alternated (default 2)")
    args = parser.parse_args(argv)
    if not EVALUATION.exists():
        raise SystemExit(f"{EVALUATION}: the tier corpus is not built (models/tier-corpus/SOURCES.md)")
    info = machine(PACKAGES)
    with tempfile.TemporaryDirectory(prefix="classify-queues-") as tmp:
        work = Path(tmp)
        data = {"evaluation_sources": evaluation_sources(work), "sample": sample(work),
                "speed": speed(work, args.texts, args.repeats)}
    data["machine"] = stamp_end(info)
    json_path, md_path = write_results("classify_queues", data, _markdown(data))
    print(f"speed ratio: {data['speed']['ratio']}\nwrote {json_path} and {md_path}")


if __name__ == "__main__":
    main()
