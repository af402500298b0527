"""A real output root for the reader tests: every dataset, written by the pipeline itself.

Two customers, one of them with an id that looks like a number (``00042``: it must stay the
string ``"00042"`` in every reader), 7-day windows over 17 landed days published for two dates (the
second back-tests the first: ``backtest/``), a labelled run compared with production
(``label=exp/compare/``), and a file with a bad row so ``quarantine/`` has a partition. The fast
hashing embedder keeps it to seconds.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from taxonomy.config import Config
from taxonomy.hive import DATASET_PARTITIONS
from taxonomy.pipeline import run
from taxonomy.proving import compare_runs
from tests.test_pipeline import AS_OF, write_landing

CUSTOMERS = {"acme": 12, "00042": 9}
LABEL = "exp"
BAD_DAY = "2026-02-27"


@pytest.fixture(scope="session")
def output_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local output root the pipeline wrote (``taxonomy run`` for ``AS_OF``)."""
    base = tmp_path_factory.mktemp("readers")
    landing, out = base / "landing", base / "out"
    write_landing(landing, CUSTOMERS, days=17)
    rows = ["conversation_id,created_at,text,handle_time_seconds", "bad-1,not-a-date,hello there,10"]
    rows += [f"ok-{i},{BAD_DAY}T10:0{i}:00Z,where is my parcel {i},{60 * i}" for i in range(1, 7)]
    (landing / "acme" / BAD_DAY / "extra.csv").write_text("\n".join(rows) + "\n")
    cfg = dataclasses.replace(Config(), embedding_backend="hashing", window_days=7)
    cfg = dataclasses.replace(cfg, scoring=dataclasses.replace(cfg.scoring, backtest_after_days=7))
    run(str(landing), str(out), as_of=AS_OF - timedelta(days=7), config=cfg, progress=False)  # the prediction
    result = run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)  # publishes and back-tests it
    assert sorted(result.customers) == sorted(CUSTOMERS) and not result.failed
    # A labelled run with acme's password requests pinned to action-led, compared with production.
    overrides = base / "overrides"
    overrides.mkdir()
    (overrides / "acme.yaml").write_text('rules:\n  - pattern: "password"\n    tier: action_led\n')
    run(str(landing), str(out), as_of=AS_OF, config=dataclasses.replace(cfg, overrides_dir=str(overrides)),
        label=LABEL, progress=False)
    compare_runs(str(out), LABEL)
    for name in DATASET_PARTITIONS:
        assert any((out / location(name)).rglob("*.parquet")), f"the fixture wrote no {name}/"
    return out


def location(name: str) -> str:
    """Where a dataset lives under the output root (``compare/`` only exists in a label's namespace)."""
    return f"label={LABEL}/{name}" if name == "compare" else name


def upload(root: Path, endpoint: str, bucket: str = "lake", prefix: str = "out") -> str:
    """Copy an output root to the loopback S3 server, object for object; return its ``s3://`` URI."""
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=bucket)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(root).as_posix()}")
    return f"s3://{bucket}/{prefix}"


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample (examples/landing, examples/config.yaml) run by ``taxonomy run``.

    The fast hashing embedder replaces the configured one: the layout and the readers do not
    depend on the vectors, and the real model's run is covered elsewhere.
    """
    from taxonomy.config import load_config

    repo = Path(__file__).resolve().parents[2]
    out = tmp_path_factory.mktemp("sample") / "out"
    cfg = load_config(str(repo / "examples" / "config.yaml"), embedding_backend="hashing")
    result = run(str(repo / "examples" / "landing"), str(out), config=cfg, progress=False)
    assert len(result.customers) >= 3 and not result.failed
    return out
