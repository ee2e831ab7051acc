"""Helpers for the integration tests: free ports, bounded waits, child processes, certificates.

Every wait here has a deadline, and every process started is stopped (terminate, then kill)
with a bounded wait, so a misbehaving server fails a test instead of hanging the suite.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "STARTUP_TIMEOUT",
    "AsgiServer",
    "TLSFiles",
    "free_port",
    "make_tls_files",
    "stop_process",
    "wait_listening",
]

#: Longest a server may take to start listening.
STARTUP_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(
    port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = STARTUP_TIMEOUT
) -> None:
    """Return once 127.0.0.1:``port`` accepts a connection.

    Raises:
        RuntimeError: the process exited, or nothing listened within ``timeout`` (with the
            process's log in the message).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-4000:]
    except OSError:
        return "(no log)"


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Terminate ``proc`` and wait for it; kill it if it does not exit within ``timeout``."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


@dataclass(frozen=True)
class AsgiServer:
    """Where the uvicorn fixture serves."""

    url: str
    port: int


@dataclass(frozen=True)
class TLSFiles:
    """A private CA, a server certificate it signed, and an unrelated self-signed certificate."""

    ca: Path
    cert: Path
    key: Path
    self_signed_cert: Path
    self_signed_key: Path


#: Extensions of a server certificate for 127.0.0.1 and localhost.
_SERVER_EXT = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=serverAuth\n"
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_tls_files(d: Path) -> TLSFiles:
    """Make the certificates in ``d`` with the ``openssl`` CLI (P-256 keys: fast to make).

    Raises:
        FileNotFoundError: ``openssl`` is not installed (callers skip).
    """
    if shutil.which("openssl") is None:
        raise FileNotFoundError("openssl")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=r9s integration test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )  # fmt: skip
    _openssl(
        "req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
        cwd=d,
    )  # fmt: skip
    (d / "server.ext").write_text(_SERVER_EXT)
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        cwd=d,
    )  # fmt: skip
    _openssl(
        "req", "-x509", *key, "-keyout", "self.key", "-out", "self.pem", "-days", "2",
        "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        cwd=d,
    )  # fmt: skip
    return TLSFiles(
        ca=d / "ca.pem",
        cert=d / "server.pem",
        key=d / "server.key",
        self_signed_cert=d / "self.pem",
        self_signed_key=d / "self.key",
    )
