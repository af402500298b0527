"""Shared plumbing for the benchmarks: the Banking77 sample, machine facts, result files.

Every benchmark compares variants side by side in one run and writes
``benchmarks/results/<name>.json`` (everything measured) and ``<name>.md`` (a table
for people), both stamped with the machine, library versions, date and load.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
BANKING77 = Path(os.environ.get("BANKING77_CSV", "/work/shared/data/banking77/train_tiers.csv"))
RESULTS = ROOT / "benchmarks" / "results"
ATTRIBUTION = (
    "Data: Banking77 training split (Casanueva et al., 2020, PolyAI), CC BY 4.0, "
    "with tier labels added by this project."
)


def banking77_sample(n: int | None, seed: int = 0, path: Path = BANKING77) -> pl.DataFrame:
    """``n`` seeded random rows (all rows if ``n`` is None or larger) with ``text``, ``intent``, ``tier``."""
    frame = pl.read_csv(path, columns=["text", "intent", "tier"])
    if n is not None and n < frame.height:
        frame = frame.sample(n=n, seed=seed, shuffle=True)
    return frame


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() or None
    except OSError:
        return None


def machine(packages: list[str]) -> dict[str, Any]:
    """Facts that make a number comparable: CPU, cores, load, versions, date (UTC), commit."""
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    from taxonomy.parallel import usable_cores

    cores = usable_cores()
    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": _cpu_model(),
        "usable_cores": cores,
        "load_average_1m_at_start": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": _git_commit(),
        "versions": versions,
    }


def stamp_end(info: dict[str, Any]) -> dict[str, Any]:
    """Add the load average at the end of the run to a :func:`machine` record."""
    info["load_average_1m_at_end"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return info


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    """A GitHub-flavoured Markdown table; floats get 4 significant digits."""
    def cell(value: Any) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(name: str, data: dict[str, Any], markdown: str, out_dir: Path = RESULTS) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.md`` under ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    json_path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    md_path.write_text(markdown.rstrip() + "\n", encoding="utf-8")
    return json_path, md_path


def machine_markdown(info: dict[str, Any]) -> str:
    """The machine block every results page starts with."""
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    return (
        f"- Run: {info['date_utc']} (commit {info.get('git_commit') or 'n/a'})\n"
        f"- Machine: {info['cpu']}, {info['usable_cores']} usable cores, Python {info['python']}; "
        f"1-min load average {info.get('load_average_1m_at_start')} at start, "
        f"{info.get('load_average_1m_at_end')} at end (the cores are shared, so absolute rates are noisy; "
        f"compare the ratios)\n"
        f"- Versions: {versions}"
    )


def cached_vectors(embedder: Any, texts: list[str]) -> tuple[Any, float | None]:
    """The embedder's vectors for ``texts``, kept between benchmark runs in the user cache.

    Keyed by the embedder's version and a hash of the texts, under
    ``$TAXONOMY_CACHE/bench/`` (see :func:`taxonomy.embed.onnx_backend.cache_root`).

    Returns:
        The vectors and the seconds spent embedding (None when they came from the cache).
    """
    import hashlib
    import time

    import numpy as np

    from taxonomy.embed.onnx_backend import cache_root

    digest = hashlib.sha256("\x1f".join([embedder.version, *texts]).encode("utf-8")).hexdigest()[:20]
    path = cache_root() / "bench" / f"vectors-{digest}.npy"
    if path.exists():
        return np.load(path), None
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    seconds = time.perf_counter() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors, seconds
