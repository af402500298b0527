"""A real output root for the reader tests: every dataset, written by the pipeline itself.

Two customers, one of them with an id that looks like a number (``00042``: it must stay the
string ``"00042"`` in every reader), a 7-day window over 10 landed days, and a file with a bad
row so ``quarantine/`` has a partition. The fast hashing embedder keeps it to a few seconds.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import boto3
import pytest

from taxonomy.config import Config
from taxonomy.pipeline import run
from tests.test_pipeline import AS_OF, write_landing

CUSTOMERS = {"acme": 12, "00042": 9}
BAD_DAY = "2026-02-27"


@pytest.fixture(scope="session")
def output_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local output root the pipeline wrote (``taxonomy run`` for ``AS_OF``)."""
    base = tmp_path_factory.mktemp("readers")
    landing, out = base / "landing", base / "out"
    write_landing(landing, CUSTOMERS, days=10)
    rows = ["conversation_id,created_at,text,handle_time_seconds", "bad-1,not-a-date,hello there,10"]
    rows += [f"ok-{i},{BAD_DAY}T10:0{i}:00Z,where is my parcel {i},{60 * i}" for i in range(1, 7)]
    (landing / "acme" / BAD_DAY / "extra.csv").write_text("\n".join(rows) + "\n")
    cfg = dataclasses.replace(Config(), embedding_backend="hashing", window_days=7)
    result = run(str(landing), str(out), as_of=AS_OF, config=cfg, progress=False)
    assert sorted(result.customers) == sorted(CUSTOMERS) and not result.failed
    assert (out / "quarantine").exists()
    return out


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
