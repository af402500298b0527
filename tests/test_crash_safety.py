"""Kill real runs with SIGKILL at random moments; what is left is always complete, and a re-run heals it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from tests.test_pipeline import AS_OF, _digest, write_landing

pytestmark = pytest.mark.slow


def _run_cmd(landing: Path, out: Path, config: Path) -> list[str]:
    return [
        sys.executable, "-m", "taxonomy", "run", "--input", str(landing), "--output", str(out),
        "--as-of", AS_OF.isoformat(), "--config", str(config),
    ]


def _assert_readable(out: Path) -> None:
    """Every visible partition file is a complete Parquet file (never half-written)."""
    for path in out.rglob("part-0.parquet"):
        pl.read_parquet(path)  # raises on a truncated file


def test_sigkill_at_random_points_then_rerun(tmp_path: Path) -> None:
    landing, config = tmp_path / "landing", tmp_path / "c.yaml"
    write_landing(landing, {"acme": 30, "globex": 20, "initech": 10}, days=10)
    config.write_text("embedding_backend: hashing\nwindow_days: 7\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    clean = tmp_path / "clean"
    started = time.perf_counter()
    subprocess.run(_run_cmd(landing, clean, config), check=True, env=env, capture_output=True)
    full = time.perf_counter() - started
    expected = _digest(clean)

    rng = random.Random(20261125)
    for seed in range(6):
        out = tmp_path / f"killed-{seed}"
        proc = subprocess.Popen(_run_cmd(landing, out, config), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, full * 0.95))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _assert_readable(out)
        # A run over a partly written output gives exactly the clean result.
        subprocess.run(_run_cmd(landing, out, config), check=True, env=env, capture_output=True)
        got = _digest(out)
        differ = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
        assert not differ, f"seed {seed}: these partitions differ from a clean run: {differ}"
