"""An output root written by the previous version (partition columns inside the files), for real.

The previous version's code is taken from git (the commit before the Hive layout) and run in a
subprocess on the same landing folder. Then: pandas refuses that root; this version reads it as
it is and re-runs on it; ``taxonomy migrate-layout`` makes it readable by every reader; and a re-run
after migrating ends byte for byte where a fresh run of this version ends.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from taxonomy.cli import main
from taxonomy.config import Config
from taxonomy.pipeline import run
from taxonomy.publish import show
from taxonomy.storage import PART_FILE, Store
from tests.readers.test_readers import check_every_reader, read_pandas
from tests.test_pipeline import AS_OF, write_landing

REPO = Path(__file__).resolve().parents[2]
PREVIOUS = "eaf4e46"  # main just before issue 15: customer_id (and as_of in scores/) inside every file
CFG = dataclasses.replace(Config(), embedding_backend="hashing", window_days=7)
RUN_OLD = f"""
import dataclasses, sys
from datetime import date
from taxonomy.config import Config
from taxonomy.pipeline import run
cfg = dataclasses.replace(Config(), embedding_backend="hashing", window_days=7)
result = run(sys.argv[1], sys.argv[2], as_of=date.fromisoformat("{AS_OF.isoformat()}"), config=cfg, progress=False)
assert not result.failed, result.failed
"""


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.parquet"))
            if "quarantine" not in p.parts and not p.name.startswith(".")}


def _previous_code(dest: Path) -> Path:
    if not shutil.which("git") or subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", PREVIOUS],
                                                 capture_output=True).returncode:
        pytest.skip(f"needs git and the repository history (commit {PREVIOUS}) to run the previous version")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", PREVIOUS, "taxonomy", "models", "expectations"],
                             capture_output=True, check=True).stdout
    dest.mkdir()
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


@pytest.mark.slow
def test_previous_versions_root_is_read_migrated_and_rerun(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_code = _previous_code(tmp_path / "previous")
    landing, out, fresh = tmp_path / "landing", tmp_path / "out", tmp_path / "fresh"
    write_landing(landing, {"acme": 12, "00042": 9}, days=10)
    env = {**os.environ, "PYTHONPATH": str(old_code)}
    proc = subprocess.run([sys.executable, "-c", RUN_OLD, str(landing), str(out)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    scores_file = out / "scores" / f"as_of={AS_OF}" / "customer_id=acme" / PART_FILE
    assert "customer_id" in pl.read_parquet(scores_file).columns  # really the older layout
    with pytest.raises(Exception, match="customer_id|as_of"):
        read_pandas(str(out), "scores")

    # This version reads the older layout as it is: every partition, with its partition columns.
    store = Store(str(out))
    for path in sorted(out.rglob(PART_FILE)):
        folder = str(path.parent)
        if "/scores/" in folder or "/enriched/" in folder:
            frame = store.read_partition(folder)
            assert set(frame.get_column("customer_id")) == {folder.split("customer_id=")[1].split("/")[0]}
    assert "acme" in show(str(out), "acme") and "00042" in show(str(out), "00042")
    # A re-run on it works (it recomputes only what its fingerprints say changed between the versions).
    run(str(landing), str(out), as_of=AS_OF, config=CFG, progress=False)

    assert main(["migrate-layout", "--output", str(out)]) == 0
    assert "rewritten in the Hive layout" in capsys.readouterr().out
    for name in ("scores", "topics", "conversations", "trends", "enriched", "conversations_raw"):
        check_every_reader(str(out), out, name)

    run(str(landing), str(fresh), as_of=AS_OF, config=CFG, progress=False)
    new = Store(str(fresh))
    for path in sorted((fresh / "scores").rglob(PART_FILE)):  # same rows as a fresh run, before any re-run
        folder = str(path.parent)
        assert store.read_partition(folder.replace(str(fresh), str(out))).drop("run_id").equals(
            new.read_partition(folder).drop("run_id"))
    run(str(landing), str(out), as_of=AS_OF, config=CFG, progress=False)
    # After one re-run: byte for byte what this version writes. The embedding cache is not rewritten
    # (its keys are all there), and the previous version compressed its vectors: same rows, other bytes.
    cache = {k for k in _digest(fresh) if k.startswith("embedding_cache/")}
    assert cache and {k: v for k, v in _digest(out).items() if k not in cache} == \
        {k: v for k, v in _digest(fresh).items() if k not in cache}
    for key in cache:
        assert pl.read_parquet(out / key).equals(pl.read_parquet(fresh / key))
