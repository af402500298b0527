"""`taxonomy run` at growing scale, cold and re-run: wall time per stage, embedding share, peak memory.

Run from the repository root::

    .venv/bin/python -m benchmarks.pipeline_scale --sizes 10000 100000 1000000 --backend onnx   # ~20 min, 2 cores
    .venv/bin/python -m benchmarks.pipeline_scale --sizes 2000 20000 --backend hashing          # plumbing, 2 min

For each size: synthetic exports from the project's generator (``taxonomy make-sample``,
``--customers`` customers, all inside one ``--days`` window), then ``pipeline.run`` in a fresh
child process twice on the same output root: *cold*, then a *re-run* of the already processed
dates (every stage finds its inputs unchanged and skips). Per run:

- wall seconds per stage (ingest, enrich, analyse, publish) and the seconds spent inside the
  embedder's ``encode`` (measured by wrapping the configured embedder);
- ``other_vs_embedding``: (total - embedding) / embedding: issue 7 wants < 0.25 cold;
- ``rerun_share``: re-run total / cold total: issue 7 wants < 0.10;
- peak resident memory of the child (``ru_maxrss``): issue 7 wants <= 4 GB at 1M;
- seconds per 1,000 conversations at each size and the marginal cost between sizes, whose
  flatness shows linear growth;
- a sampled profile of every run (``benchmarks/_sampler.py``, every 10 ms: own time per
  function, and inclusive time of the pipeline's functions); the page shows the largest cold run's.

Writes ``benchmarks/results/pipeline_scale.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, machine, machine_markdown, markdown_table, stamp_end, write_results

PACKAGES = ["polars", "pyarrow", "torch", "onnxruntime", "scikit-learn", "numpy"]


class TimedEmbedder:
    """Wraps an embedder and adds up the seconds spent in ``encode`` (and the texts it saw)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.version, self.dim = inner, inner.version, inner.dim
        self.seconds, self.texts = 0.0, 0

    def encode(self, texts: list[str]) -> Any:
        started = time.perf_counter()
        out = self.inner.encode(texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return out


def child(landing: str, output: str, backend: str, window_days: int) -> dict[str, Any]:
    """One ``pipeline.run`` in this process, sampled; returns stage and embedding seconds, peak RSS, profile."""
    import resource

    import taxonomy.embed as embed
    from benchmarks._sampler import timed
    from taxonomy.config import load_config
    from taxonomy.pipeline import run

    made: list[TimedEmbedder] = []
    original = embed.get_embedder

    def timed_get_embedder(*args: Any, **kwargs: Any) -> TimedEmbedder:
        made.append(TimedEmbedder(original(*args, **kwargs)))
        return made[-1]

    embed.get_embedder = timed_get_embedder  # pipeline imports it at call time
    cfg = load_config(None, embedding_backend=backend, window_days=window_days)
    result, seconds, sampler = timed(run, landing, output, config=cfg, progress=False)
    return {
        "total_seconds": seconds, "stage_seconds": result.seconds,
        "embed_seconds": sum(e.seconds for e in made), "texts_embedded": sum(e.texts for e in made),
        "customers": len(result.customers), "failed": len(result.failed),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "profile_own": sampler.top(12, seconds), "profile_taxonomy": sampler.top(15, seconds, within="taxonomy/"),
    }


def run_child(landing: str, output: str, backend: str, window_days: int) -> dict:
    """:func:`child` in a fresh interpreter, so peak memory and caches belong to this run only."""
    cmd = [sys.executable, "-m", "benchmarks.pipeline_scale", "--child", landing, output,
           "--backend", backend, "--window-days", str(window_days)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"pipeline run failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_size(n: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Generate ``n`` conversations, run cold and re-run; the record for this size."""
    from taxonomy.samples import write_sample

    landing, output = work / f"landing-{n}", work / f"output-{n}"
    started = time.perf_counter()
    write_sample(str(landing), customers=args.customers, conversations=n, days=args.days, seed=args.seed)
    generate = time.perf_counter() - started
    cold = run_child(str(landing), str(output), args.backend, args.days)
    rerun = run_child(str(landing), str(output), args.backend, args.days)
    other = cold["total_seconds"] - cold["embed_seconds"]
    return {"conversations": n, "generate_seconds": generate, "cold": cold, "rerun": rerun,
            "rerun_share": rerun["total_seconds"] / cold["total_seconds"],
            "other_seconds": other, "other_vs_embedding": other / max(cold["embed_seconds"], 1e-9),
            "cold_seconds_per_1k": 1000 * cold["total_seconds"] / n}


def growth(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Marginal cost between consecutive sizes: seconds per 1,000 extra conversations, in all and
    outside embedding. Linear growth means these stay flat as the size grows tenfold."""
    rows = []
    for a, b in zip(sizes, sizes[1:]):
        extra = (b["conversations"] - a["conversations"]) / 1000
        rows.append({"from": a["conversations"], "to": b["conversations"],
                     "total_per_1k": (b["cold"]["total_seconds"] - a["cold"]["total_seconds"]) / extra,
                     "embedding_per_1k": (b["cold"]["embed_seconds"] - a["cold"]["embed_seconds"]) / extra,
                     "other_per_1k": (b["other_seconds"] - a["other_seconds"]) / extra,
                     "peak_rss_mb_per_1k": (b["cold"]["peak_rss_mb"] - a["cold"]["peak_rss_mb"]) / extra})
    return rows


def to_markdown(result: dict[str, Any]) -> str:
    """The results page."""
    rows = [[r["conversations"], r["cold"]["total_seconds"], r["cold"]["embed_seconds"], r["other_seconds"],
             r["other_vs_embedding"], r["rerun"]["total_seconds"], r["rerun_share"], r["cold_seconds_per_1k"],
             r["cold"]["peak_rss_mb"], " / ".join(f"{k} {v:.1f}" for k, v in r["cold"]["stage_seconds"].items())]
            for r in result["sizes"]]
    table = markdown_table(["conversations", "cold s", "embedding s", "other s", "other / embedding", "re-run s",
                            "re-run / cold", "cold s per 1k", "peak RSS MB", "cold stages (s)"], rows)
    lines = ["# Pipeline scale and re-run", "", machine_markdown(result["machine"]),
             f"- Settings: {json.dumps(result['settings'])}",
             f"- Targets: {json.dumps(result['targets'])}", "", table, ""]
    if result["growth"]:
        lines += ["Growth between sizes (marginal seconds per 1,000 extra conversations; flat = linear):", "",
                  markdown_table(["from", "to", "total s / 1k", "embedding s / 1k", "other s / 1k", "peak RSS MB / 1k"],
                                 [[g["from"], g["to"], g["total_per_1k"], g["embedding_per_1k"], g["other_per_1k"],
                                   g["peak_rss_mb_per_1k"]] for g in result["growth"]]), ""]
    largest = result["sizes"][-1]
    lines += [f"Where the cold run at {largest['conversations']} spends its time (sampled every 10 ms; native code "
              "counts for its Python caller):", "",
              markdown_table(["function (own time)", "share", "seconds"],
                             [[p["function"], p["share"], p["seconds"]] for p in largest["cold"]["profile_own"]]), "",
              markdown_table(["pipeline function (inclusive)", "share", "seconds"],
                             [[p["function"], p["share"], p["seconds"]] for p in largest["cold"]["profile_taxonomy"]]), ""]
    lines.append("Command: `.venv/bin/python -m benchmarks.pipeline_scale` (see benchmarks/README.md).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--days", type=int, default=28, help="history = analysis window (default: %(default)s)")
    parser.add_argument("--backend", default="onnx", help="embedding backend (default: %(default)s, the product's)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", default=None, help="keep generated data here (default: a temp dir)")
    parser.add_argument("--name", default="pipeline_scale")
    parser.add_argument("--child", nargs=2, metavar=("LANDING", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--window-days", type=int, default=28, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.child:
        print(json.dumps(child(*args.child, args.backend, args.window_days)))
        return
    info = machine(PACKAGES)
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="scale-") as tmp:
        sizes = [one_size(n, args, Path(tmp)) for n in sorted(args.sizes)]
    result = {"benchmark": "pipeline_scale", "machine": stamp_end(info), "sizes": sizes, "growth": growth(sizes),
              "settings": {"customers": args.customers, "days": args.days, "backend": args.backend, "seed": args.seed},
              "targets": {"other_vs_embedding_max": 0.25, "rerun_share_max": 0.10, "peak_rss_mb_max": 4096}}
    json_path, md_path = write_results(args.name, result, to_markdown(result))
    print(to_markdown(result))
    print(f"\nwrote {json_path} and {md_path}")


if __name__ == "__main__":
    main()
