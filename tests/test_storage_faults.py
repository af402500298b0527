"""Object-store outages: retried, then one clear error; the last complete partition survives."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import boto3
import polars as pl
import pytest
from moto.server import ThreadedMotoServer

from taxonomy.errors import StorageError
from taxonomy.storage import Store
from tests.test_pipeline import write_landing

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def own_server(monkeypatch: pytest.MonkeyPatch):
    """A moto server of this test's own, so the test can stop and restart it."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="faults")
    yield server, port
    server.stop()


def test_outage_mid_run_fails_clearly_and_keeps_the_old_partition(own_server) -> None:
    server, port = own_server
    store = Store("s3://faults/out")
    folder = store.partition("scores", as_of="2026-01-01", customer_id="acme")
    store.write_partition(pl.DataFrame({"v": [1]}), folder)

    server.stop()
    with pytest.raises(StorageError) as err:
        store.write_partition(pl.DataFrame({"v": [2]}), folder)
    message = str(err.value)
    assert "storage failed on write_bytes_atomic s3://faults/out/scores/as_of=2026-01-01/customer_id=acme" in message
    assert "after retries" in message

    restarted = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    restarted.start()
    try:
        assert store.read_partition(folder)["v"].to_list() == [1]  # the previous complete partition
    finally:
        restarted.stop()


def test_cli_reports_an_unreachable_store_in_one_line(tmp_path: Path, own_server) -> None:
    server, _ = own_server
    server.stop()
    write_landing(tmp_path / "landing", {"acme": 3}, days=2)
    proc = subprocess.run(
        [sys.executable, "-m", "taxonomy", "ingest", "--input", str(tmp_path / "landing"), "--output", "s3://faults/out"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr
    assert "storage failed" in lines[0] and "s3://faults/out" in lines[0]
