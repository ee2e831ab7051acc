"""nginx as a TLS-terminating, gzipping reverse proxy in front of ``FakeServer``, for tests.

Why nginx: it is what most gateways put in front of an OpenAI-compatible API, and it changes
the wire in ways a loopback test server does not: TLS, gzip on JSON answers (so chunked
instead of Content-Length), its own keep-alive rules, and streams relayed as they come
(``proxy_buffering off``).  Everything nginx writes (pid, logs, temp files) stays in the
directory the test gives it; it runs in the foreground (``daemon off``) as a single process
(``master_process off``), so stopping it is stopping one child process.

The access log records, per request, nginx's connection serial number and how many requests
that connection has carried, plus the ``X-Test-Tag`` request header, so a test can tell
whether its requests shared one client connection.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from _procs import TLSFiles, free_port, stop_process, wait_listening

__all__ = ["LogLine", "Nginx", "find_nginx"]

_CONFIG = """\
{user}daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;

events {{
    worker_connections 128;
}}

http {{
    log_format r9s '$connection $connection_requests $status "$http_x_test_tag" '
                   '"$sent_http_content_encoding" $request_uri';
    access_log {d}/access.log r9s;

    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;

    keepalive_timeout 60s;
    keepalive_requests 1000;

    gzip on;
    gzip_types application/json;
    gzip_min_length 0;
    gzip_proxied any;

    upstream fake {{
        server 127.0.0.1:{upstream_port};
        keepalive 8;
    }}

    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};

        location / {{
            proxy_pass http://fake;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""


def find_nginx() -> str | None:
    """The nginx binary (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _version(binary: str) -> tuple[int, ...]:
    """nginx's version, e.g. ``(1, 22, 1)``; ``()`` when it cannot be told."""
    try:
        out = subprocess.run([binary, "-v"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    match = re.search(rb"nginx/(\d+)\.(\d+)\.(\d+)", out.stderr + out.stdout)
    return tuple(int(x) for x in match.groups()) if match else ()


@dataclass(frozen=True)
class LogLine:
    """One access-log line."""

    connection: int
    connection_requests: int
    status: int
    tag: str
    content_encoding: str
    uri: str


class Nginx:
    """One nginx process proxying ``https://127.0.0.1:<port>`` to ``upstream_port``."""

    def __init__(self, binary: str, directory: Path, tls: TLSFiles, upstream_port: int) -> None:
        self.binary = binary
        self.dir = directory
        self.tls = tls
        self.upstream_port = upstream_port
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/v1"

    @property
    def access_log(self) -> Path:
        return self.dir / "access.log"

    def start(self) -> Nginx:
        """Write the config, start nginx, wait (bounded) until it listens.

        A port taken between choosing and binding it is tried again, twice.
        """
        for attempt in range(3):
            self.port = free_port()
            conf = self.dir / "nginx.conf"
            conf.write_text(
                _CONFIG.format(
                    # As root, stay root: the test's files are private to it.
                    user="user root;\n" if os.geteuid() == 0 else "",
                    d=self.dir,
                    port=self.port,
                    upstream_port=self.upstream_port,
                    cert=self.tls.cert,
                    key=self.tls.key,
                )
            )
            log = self.dir / "stderr.log"
            command = [self.binary, "-p", f"{self.dir}/", "-c", str(conf)]
            if _version(self.binary) >= (1, 19, 5):  # -e: the log for errors before the config
                command += ["-e", "stderr"]
            with log.open("wb") as out:
                self._proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            try:
                wait_listening(self.port, self._proc, log)
                return self
            except RuntimeError:
                self.stop()
                if attempt == 2 or "Address already in use" not in log.read_text(errors="replace"):
                    raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None

    def log_lines(self, tag: str, count: int, timeout: float = 5.0) -> list[LogLine]:
        """The access-log lines of requests tagged ``tag``, once there are ``count`` of them.

        nginx writes a line when it has finished a request, which may be a moment after the
        client read the answer: wait for them, bounded.
        """
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self._read_log() if line.tag == tag]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def _read_log(self) -> list[LogLine]:
        try:
            text = self.access_log.read_text(errors="replace")
        except FileNotFoundError:
            return []
        out = []
        for row in text.splitlines():
            conn, reqs, status, tag, encoding, uri = row.split(" ", 5)
            out.append(
                LogLine(int(conn), int(reqs), int(status), tag.strip('"'), encoding.strip('"'), uri)
            )
        return out

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
