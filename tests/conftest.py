"""Shared fixtures.

``moto_server``: a real S3-speaking server (moto's ``ThreadedMotoServer``) on
127.0.0.1 and a free port, started once per session. Each test that uses the
fixture gets a fresh, empty server state, the endpoint URL as the fixture value,
and ``AWS_ENDPOINT_URL`` / credentials / region set in the environment (restored
afterwards), so ``taxonomy.storage.Store("s3://...")`` talks to it.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def _moto_endpoint() -> Iterator[str]:
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture()
def moto_server(_moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Endpoint URL of the loopback S3 server, with a clean state and the AWS_* variables set."""
    # Forget buckets and objects left by earlier tests.
    request = urllib.request.Request(f"{_moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback test server
        pass
    for key, value in {
        "AWS_ENDPOINT_URL": _moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    yield _moto_endpoint
