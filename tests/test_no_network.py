"""No network at run time: the whole job runs with every non-loopback connection refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_pipeline import AS_OF, write_landing

pytestmark = [pytest.mark.model, pytest.mark.slow]

BLOCKER = '''
import socket, os
_connect = socket.socket.connect
def _guard(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1") or self.family == socket.AF_UNIX):
        with open(os.environ["BLOCKED_LOG"], "a") as fh:
            fh.write(f"{host}\\n")
        raise OSError(f"network blocked by test: {host}")
    return _connect(self, address)
socket.socket.connect = _guard
'''


def test_run_with_outbound_sockets_blocked(tmp_path: Path) -> None:
    landing, out, site = tmp_path / "landing", tmp_path / "out", tmp_path / "site"
    write_landing(landing, {"acme": 9}, days=3)
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    log = tmp_path / "blocked.log"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(PYTHONPATH=f"{site}{os.pathsep}{Path(__file__).resolve().parents[1]}", BLOCKED_LOG=str(log))
    proc = subprocess.run(
        [sys.executable, "-m", "taxonomy", "run", "--input", str(landing), "--output", str(out)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "acme" in proc.stdout
    assert not log.exists(), f"attempted connections: {log.read_text()}"
    assert (out / "scores" / f"as_of={AS_OF.isoformat()}" / "customer_id=acme" / "part-0.parquet").exists()
