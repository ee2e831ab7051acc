"""A loopback server that answers each connection's request with bytes the test chose.

One thread, one connection at a time: read the request head, send ``server.answer`` (set by
the test before its request), half-close, close.  With ``hold`` set it instead keeps the
connection open after answering and records what else the client sends on it (a request the
client wrongly thought it could send there), until the client closes or 2 s pass.  Every
socket has a timeout.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

__all__ = ["RawServer"]

SOCKET_TIMEOUT = 5.0


class RawServer:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.answer = b""
        self.hold = False
        #: What clients sent on a held connection after its answer.
        self.after_answer: list[bytes] = []
        self.connections = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((self.host, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://{self.host}:{self.port}/v1/chat/completions"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn, contextlib.suppress(OSError):
                conn.settimeout(SOCKET_TIMEOUT)
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = conn.recv(65536)
                    if not data:
                        break
                    head += data
                conn.sendall(self.answer)
                if self.hold:
                    conn.settimeout(2.0)
                    more = conn.recv(65536)
                    if more:
                        self.after_answer.append(more)
                    continue
                conn.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(SOCKET_TIMEOUT + 1)
        self._listener.close()
        assert not self._thread.is_alive(), "the raw server did not stop"

    def __enter__(self) -> RawServer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
