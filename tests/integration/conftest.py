"""Fixtures for the integration tests: certificates, nginx in front of FakeServer, uvicorn.

Each server is started once (uvicorn per session, nginx per module), on a port of 127.0.0.1,
and stopped at the end; a missing tool (openssl, nginx, uvicorn, sse-starlette) skips the
tests that need it, saying which tool and how to get it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _nginx import Nginx, find_nginx
from _procs import AsgiServer, TLSFiles, make_tls_files, stop_process

from r9s.testing import FakeServer

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A private CA with a server certificate for 127.0.0.1, and a self-signed certificate."""
    try:
        return make_tls_files(tmp_path_factory.mktemp("certs"))
    except FileNotFoundError:
        pytest.skip("the openssl command-line tool is not installed (apt-get install openssl)")


# nginx and its upstream live per module, not per session: FakeServer runs threads in this
# process, and tests elsewhere (tests/testing) check that none outlives its own server.


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeServer]:
    """The built-in FakeServer, in process: what nginx proxies to."""
    with FakeServer() as server:
        yield server


@pytest.fixture(scope="module")
def nginx(
    tmp_path_factory: pytest.TempPathFactory, certs: TLSFiles, upstream: FakeServer
) -> Iterator[Nginx]:
    """nginx on https://127.0.0.1:<port> (TLS, gzip, unbuffered streams) in front of FakeServer."""
    binary = find_nginx()
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    with Nginx(binary, tmp_path_factory.mktemp("nginx"), certs, upstream.port) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def asgi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsgiServer]:
    """uvicorn serving ``_asgi_app`` (Starlette + sse-starlette) in a child process."""
    for name in ("uvicorn", "sse_starlette", "starlette"):
        pytest.importorskip(name, reason=f"{name} is not installed (pip install -e '.[test]')")
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    # The parent binds and listens; the child serves on the inherited socket, so the port
    # cannot be taken in between and connections made before uvicorn is up simply wait.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = int(listener.getsockname()[1])
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, str(HERE / "_asgi_app.py"), str(listener.fileno())],
                pass_fds=(listener.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=HERE,
            )
    finally:
        listener.close()
    try:
        _wait_healthy(port, proc, log)
        yield AsgiServer(f"http://127.0.0.1:{port}/v1", port)
    finally:
        stop_process(proc)


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("GET", "/health")
        status = conn.getresponse().status
    except OSError as exc:
        raise RuntimeError(
            f"uvicorn did not answer: {exc}\n{log.read_text(errors='replace')}"
        ) from exc
    finally:
        conn.close()
    assert status == 200
