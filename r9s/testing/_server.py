"""``FakeServer``: a local OpenAI-compatible HTTP/1.1 server for tests, demos and benchmarks.

Why: SDK tests need a real socket peer (keep-alive, chunked streams, gzip, broken
connections) without network access or an API key, and fault injection needs a server that
breaks the protocol exactly when told.  The server runs in daemon threads (one accept thread,
one thread per connection), listens on loopback only, and uses the standard library alone.

Shutdown is prompt and bounded: ``close()`` wakes the accept thread through a socket pair,
wakes every stalled or delayed answer through one ``threading.Event``, shuts down every
client socket (which ends blocked reads and writes at once) and joins the threads with a
deadline.  Every wait in the server is also bounded by its own timeout.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import struct
import sys
import threading
import time
import traceback
import zlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

from r9s.testing._anthropic import anthropic_error_body
from r9s.testing._endpoints import Answer, Catalog, Route, answer_route, resolve
from r9s.testing._fault import Fault
from r9s.testing._http import (
    BodySink,
    HttpError,
    Request,
    RequestReader,
    StreamOut,
    accepts_gzip,
    head_bytes,
)
from r9s.testing._media import BinaryBody, TextBody
from r9s.testing._multipart import FormError, FormParser, boundary_of
from r9s.testing._openai import (
    CONTENT,
    POST,
    ApiError,
    SseStream,
    error_body,
)

__all__ = ["FakeServer", "RecordedRequest"]

#: Longest a connection may sit idle (or a read or write may block) before it is closed.
IDLE_TIMEOUT: Final = 60.0
#: How long ``close()`` waits for the server's threads, in total.
JOIN_TIMEOUT: Final = 1.0
MAX_CONNECTIONS: Final = 1024
MAX_REQUESTS_PER_CONNECTION: Final = 10_000_000
_NO_FAULT: Final = Fault()
#: A binary body's ``cut_after`` / ``stall_after`` count is in blocks of this many bytes.
BINARY_UNIT: Final = 64 * 1024
_LOOPBACK: Final = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request as the server received it."""

    method: str
    #: The path, without the query string.
    path: str
    #: Header names in lower case; repeated headers joined with ", ".
    headers: dict[str, str]
    body: bytes
    #: The parsed JSON body, or None when the body is empty or not JSON.
    json: Any
    #: The query string (without ``?``), usually empty.
    query: str = ""
    #: The request target exactly as received: path and query, nothing percent-decoded
    #: (``/v1/models/openai%2Fgpt-4o-mini?x=1``), so tests can assert what went on the wire.
    target: str = ""
    #: The body's size in bytes.  A multipart upload is streamed, not kept: then ``body``
    #: holds only its first ``RECORD_LIMIT`` (1 MiB) bytes, and ``body_size`` says how many
    #: arrived.
    body_size: int = 0
    #: For a multipart request, what the server read of it: ``{"fields": {name: value or
    #: [values]}, "files": [{"name", "filename", "content_type", "size", "sha256"}],
    #: "order": [part names]}``; None otherwise (or when the body was malformed).
    form: Any = None


class _Discard:
    """A sink for a body that is streamed and dropped (a non-multipart upload)."""

    __slots__ = ()

    def feed(self, data: bytes) -> None:
        pass


def _choose_sink(method: str, target: str, headers: dict[str, str]) -> BodySink | None:
    """Stream the body of a multipart endpoint into a parser; read others whole."""
    if method != "POST":
        return None
    path = target.partition("?")[0]
    if path.startswith(("http://", "https://")):
        path = urlsplit(path).path
    route = resolve(path)
    if route is None or not route.wants_form:
        return None
    boundary = boundary_of(headers.get("content-type", ""))
    return _Discard() if boundary is None else FormParser(boundary)


class _NotAllowed(Exception):
    """A 405: the error to send and the methods the path allows."""

    def __init__(self, error: ApiError, methods: tuple[str, ...]) -> None:
        super().__init__(error.message)
        self.error = error
        self.methods = methods


class _Reset(Exception):
    """Raised to drop a connection with a TCP reset instead of an answer."""


class _Queued:
    __slots__ = ("fault", "left")

    def __init__(self, fault: Fault, left: int) -> None:
        self.fault = fault
        self.left = left


@dataclass(eq=False)
class _Conn:
    """One client connection; ``close`` and ``shutdown`` may race, so both take the lock."""

    sock: socket.socket
    number: int
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False

    def shutdown(self) -> None:
        with self.lock:
            if not self.closed:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self, *, reset: bool = False) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            if reset:
                linger = struct.pack("HH" if os.name == "nt" else "ii", 1, 0)
                try:
                    self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                except OSError:
                    pass
            self.sock.close()


class FakeServer:
    """An OpenAI-compatible server on loopback, answering deterministically.

    Use as a context manager (or call ``start`` and ``close``)::

        with FakeServer() as server:
            client = R9S(api_key="test", server_url=server.url)
            server.add_fault(Fault(status=503, retry_after=1), times=2)

    Endpoints (every answer derived from the request alone):

    - ``POST /v1/chat/completions``, ``/v1/completions``, ``/v1/responses``, streamed or not;
    - ``GET /v1/models`` (the ``models=`` given, else a few fixed ids) and
      ``GET /v1/models/{model}`` (the id percent-decoded and may hold ``/``:
      ``/v1/models/openai/gpt-4o-mini`` is ``openai/gpt-4o-mini``);
    - ``POST /v1/embeddings`` and ``/v1/engines/{model}/embeddings``: short vectors (8 floats
      unless ``dimensions`` says) hashed from each input, ``encoding_format="base64"`` as
      little-endian float32 bytes in base64;
    - ``POST /v1/moderations`` (a text with the word "hurt" or "kill" is flagged for
      violence), ``/v1/edits`` (a fixed edit of the input), ``/v1/search`` (``extra.num``
      results on example.com, 3 by default);
    - ``/v1/nextrouter/proxy/{channelid}/{target}`` (any method): a chat request to the target
      ``chat/completions`` is answered as a (non-streamed) chat completion; anything else with
      what arrived (``channelid``, ``target``, ``path``, ``query``, ``method``, ``body``);
    - ``POST /v1/images/generations`` (JSON) and ``/v1/images/edits`` (multipart: ``image`` or
      ``image[]`` parts, ``mask``): ``n`` tiny PNGs (at most 64x64 pixels) as URLs or
      ``b64_json``; ``stream`` gives partial-image events, then the completed image; an edit's
      answer echoes what it read as ``received`` (fields, files with size and SHA-256, order);
    - ``POST /v1/audio/speech``: audio bytes in ``response_format`` (mp3 by default) holding
      the input text (``R9S_INPUT=<n>:<text>`` in the format's header), a few KB, or exactly
      the size the request header ``X-R9S-Audio-Bytes: N`` asks (up to 1 GiB; sent from a
      repeated 64 KiB block, never built whole);
    - ``POST /v1/audio/transcriptions`` and ``/v1/audio/translations`` (multipart): the text a
      speech file of this server holds, else ``"Transcribed N bytes of <filename>."``; json,
      verbose_json, text, srt or vtt;
    - ``POST /v1/messages``: the Anthropic Messages API, streamed or not, with thinking and
      tool-use blocks (``r9s.testing._anthropic`` says how the answer is made); its errors are
      Anthropic-shaped, and it takes the key as ``x-api-key`` too.

    Multipart bodies are streamed through a parser that hashes each part and keeps only text
    fields and each file's first 64 KiB (uploads up to 1 GiB); ``RecordedRequest.body`` keeps
    their first 1 MiB, ``body_size`` their size, ``form`` what was read.  A malformed one gets
    400 ``invalid_request_error`` saying what is wrong.  Other bodies are read whole (64 MiB
    at most).  ``r9s.testing._media`` details the images and audio answers.

    Which models exist: with ``models=``, exactly those; without, every id except those
    beginning with ``does-not-exist``.  Any other model gets OpenAI's 404 ``model_not_found``,
    on every endpoint that names one.  A wrong method gets 405 with ``Allow``; an unknown path
    404 ``unknown_url``.  Every request is recorded (``requests``), its raw target included.

    Faults come from the queue (``add_fault``) or, with priority, from the request's
    ``X-R9S-Fault`` header (a request that carries the header leaves the queue alone); they
    apply to every endpoint alike, before the request is even routed (``Fault`` says what a
    count means on each kind of answer).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        gzip: bool = False,
        models: Iterable[str] | None = None,
    ) -> None:
        """Configure the server (``start`` binds it).

        Args:
            host: ``127.0.0.1`` (or ``localhost``) or ``::1``; nothing else is allowed.
            port: the port, 0 for a free one.
            api_key: if set, the bearer token every request must carry.
            gzip: gzip answers for clients that accept it.
            models: if set, the only model names served, and what ``GET /v1/models`` lists;
                any other gets OpenAI's answer to an unknown model (404, ``code``
                ``model_not_found``).  ``None``: any name but those beginning with
                ``does-not-exist``.
        """
        if host not in _LOOPBACK:
            raise ValueError(f"FakeServer binds loopback only (127.0.0.1 or ::1), not {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"bad port {port!r}")
        self._host = _LOOPBACK[host]
        self._port = port
        self._api_key = api_key
        self._gzip = gzip
        self._catalog = Catalog(models)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._state = "new"
        self._faults: deque[_Queued] = deque()
        self._requests: list[RecordedRequest] = []
        self._opened = 0
        self._accepted = 0
        self._counter = 0
        self._conns: dict[int, _Conn] = {}
        self._listener: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._acceptor: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeServer:
        """Bind and start serving in daemon threads.

        Returns:
            The server itself.  Raises RuntimeError if already started or closed, OSError if
            the port cannot be bound.
        """
        with self._lock:
            if self._state != "new":
                raise RuntimeError(f"FakeServer cannot start: it is {self._state}")
            self._state = "starting"
        family = socket.AF_INET6 if self._host == "::1" else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            if os.name != "nt":
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, self._port))
            listener.listen(128)
            listener.setblocking(False)
            wake = socket.socketpair()
        except BaseException:
            listener.close()
            with self._lock:
                self._state = "new"
            raise
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._wake = wake
        acceptor = threading.Thread(
            target=self._accept_loop,
            args=(listener, wake[0]),
            name=f"r9s-testing-accept-{self._port}",
            daemon=True,
        )
        self._acceptor = acceptor
        with self._lock:
            self._state = "running"
        acceptor.start()
        return self

    def close(self) -> None:
        """Stop serving: wake every stall, close every connection, join the threads.

        Idempotent; returns within about ``JOIN_TIMEOUT`` even with stalled streams and idle
        keep-alive connections.
        """
        with self._lock:
            if self._state == "closed":
                return
            was = self._state
            self._state = "closed"
        self._closing.set()
        if was != "running":
            return
        deadline = time.monotonic() + JOIN_TIMEOUT
        assert self._wake is not None and self._listener is not None
        try:
            self._wake[1].send(b"x")
        except OSError:
            pass
        if self._acceptor is not None:
            self._acceptor.join(JOIN_TIMEOUT)
        self._listener.close()
        for end in self._wake:
            end.close()
        with self._lock:
            conns = list(self._conns.values())
        for conn in conns:
            conn.shutdown()
        for conn in conns:
            thread = conn.thread
            if thread is not None and thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        for conn in conns:
            conn.close()

    def __enter__(self) -> FakeServer:
        if self._state == "new":
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ inspection

    @property
    def host(self) -> str:
        """The bound address: ``127.0.0.1`` or ``::1``."""
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the one asked for until ``start``)."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL to give an SDK, e.g. ``http://127.0.0.1:PORT/v1``."""
        if self._state == "new":
            raise RuntimeError("FakeServer is not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}/v1"

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted since start (or the last ``reset_stats``)."""
        with self._lock:
            return self._opened

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received since start (or the last ``reset_stats``)."""
        with self._lock:
            return list(self._requests)

    def reset_stats(self) -> None:
        """Forget recorded requests and reset ``connections_opened`` to 0 (ids keep counting)."""
        with self._lock:
            self._requests.clear()
            self._opened = 0

    # ------------------------------------------------------------------ faults

    def add_fault(self, fault: Fault | str, times: int = 1) -> None:
        """Queue a fault for the next ``times`` requests (FIFO, after earlier faults).

        Args:
            fault: the Fault, or its header form such as ``"status=503,retry_after=1"``.
            times: how many requests it applies to (>= 1).
        """
        if isinstance(fault, str):
            fault = Fault.parse(fault)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be an int >= 1, not {times!r}")
        with self._lock:
            self._faults.append(_Queued(fault, times))

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def _pop_fault(self) -> Fault:
        with self._lock:
            if not self._faults:
                return _NO_FAULT
            head = self._faults[0]
            head.left -= 1
            if head.left <= 0:
                self._faults.popleft()
            return head.fault

    # ------------------------------------------------------------------ threads

    def _accept_loop(self, listener: socket.socket, wake: socket.socket) -> None:
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(listener, selectors.EVENT_READ)
                selector.register(wake, selectors.EVENT_READ)
                # Ends when close() writes to the wake socket; the timeout re-checks the flag.
                while not self._closing.is_set():
                    for key, _ in selector.select(timeout=1.0):
                        if key.fileobj is wake:
                            return
                        self._accept_one(listener)
        except (OSError, ValueError):
            # The listener was closed under us: close() is running.
            return

    def _accept_one(self, listener: socket.socket) -> None:
        try:
            sock, _ = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError:
            # Out of file descriptors or similar: back off instead of spinning.
            self._closing.wait(0.05)
            return
        sock.setblocking(True)
        sock.settimeout(IDLE_TIMEOUT)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        with self._lock:
            self._opened += 1
            self._accepted += 1
            refuse = self._closing.is_set() or len(self._conns) >= MAX_CONNECTIONS
            conn = _Conn(sock, self._accepted)
            if not refuse:
                conn.thread = threading.Thread(
                    target=self._serve,
                    args=(conn,),
                    name=f"r9s-testing-conn-{conn.number}",
                    daemon=True,
                )
                self._conns[conn.number] = conn
        if refuse or conn.thread is None:
            sock.close()
            return
        conn.thread.start()

    def _serve(self, conn: _Conn) -> None:
        reader = RequestReader(conn.sock)
        reset = False
        try:
            for _ in range(MAX_REQUESTS_PER_CONNECTION):
                if self._closing.is_set():
                    break
                try:
                    request = reader.read(_choose_sink)
                except HttpError as exc:
                    self._send_http_error(conn, exc)
                    break
                if request is None or not self._exchange(conn, request):
                    break
        except _Reset:
            reset = True
        except OSError:
            pass  # The client went away, a timeout expired, or close() shut the socket.
        except Exception:
            print(f"r9s.testing: error on connection {conn.number}:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
        finally:
            conn.close(reset=reset)
            with self._lock:
                self._conns.pop(conn.number, None)

    def _next_ident(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    # ------------------------------------------------------------------ one exchange

    def _exchange(self, conn: _Conn, request: Request) -> bool:
        """Answer one request.  Returns whether the connection may carry another one."""
        ident = self._next_ident()
        target, _, query = request.target.partition("?")
        path = urlsplit(target).path if target.startswith(("http://", "https://")) else target
        route = resolve(path)
        parsed: Any = None
        form_error: str | None = None
        received: Any = None
        sink = request.sink
        if isinstance(sink, FormParser):
            try:
                form = sink.result()
            except FormError as exc:
                form_error = f"Malformed multipart/form-data body: {exc}"
            else:
                received = form.received()
        elif request.body and sink is None:
            try:
                parsed = json.loads(request.body)
            except ValueError:
                parsed = None
        recorded = RecordedRequest(
            request.method,
            path,
            dict(request.headers),
            request.body,
            parsed,
            query,
            request.target,
            request.size,
            received,
        )
        with self._lock:
            self._requests.append(recorded)

        extra = [("x-request-id", f"req_{ident}"), ("server", "r9s-testing"), *_rate_limits(ident)]
        head_only = request.method == "HEAD"
        keep = request.keep_alive and not self._closing.is_set()
        anthropic = route is not None and route.anthropic
        header = request.headers.get("x-r9s-fault")
        if header is not None:
            try:
                fault = Fault.parse(header)
            except ValueError as exc:
                error = ApiError(400, f"bad X-R9S-Fault header: {exc}", param="x-r9s-fault")
                return self._send_api_error(
                    conn, error, extra, _NO_FAULT, keep, False, head_only, anthropic
                )
        else:
            fault = self._pop_fault()
        if fault.reset:
            raise _Reset
        if fault.close:
            keep = False
        retry_after = fault.retry_after_header
        if retry_after is not None:
            extra.append(("retry-after", retry_after))
        if fault.retry_after_ms is not None:
            extra.append(("retry-after-ms", str(fault.retry_after_ms)))
        gzip = (self._gzip or fault.gzip) and accepts_gzip(
            request.headers.get("accept-encoding", "")
        )

        if fault.stall_after == 0:
            self._closing.wait(fault.stall_seconds)
            return False
        if fault.status is not None:
            body, content_type = _fault_body(fault, anthropic)
            return self._send_body(
                conn, fault.status, extra, body, content_type, fault, keep, gzip, head_only
            )
        try:
            result = self._route(request, route, path, query, parsed, ident, form_error)
        except _NotAllowed as refused:
            extra.append(("allow", ", ".join(refused.methods)))
            return self._send_api_error(
                conn, refused.error, extra, fault, keep, gzip, head_only, anthropic
            )
        except ApiError as error:
            return self._send_api_error(conn, error, extra, fault, keep, gzip, head_only, anthropic)
        if isinstance(result, SseStream):
            return self._send_stream(conn, request, result, extra, fault, keep, gzip)
        if isinstance(result, BinaryBody):
            return self._send_binary(conn, request, result, extra, fault, keep, gzip)
        content_type = "application/json"
        if isinstance(result, TextBody):
            data, content_type = result.data, result.content_type
        else:
            data = result
        if fault.invalid_json:
            data = b'{"id": oops'
        return self._send_body(conn, 200, extra, data, content_type, fault, keep, gzip, head_only)

    def _route(
        self,
        request: Request,
        route: Route | None,
        path: str,
        query: str,
        parsed: Any,
        ident: int,
        form_error: str | None,
    ) -> Answer:
        if route is None:
            message = f"Unknown request URL: {request.method} {path}. Please check the URL."
            raise ApiError(404, message, code="unknown_url")
        if request.method not in route.methods:
            allowed = " or ".join(m for m in route.methods if m != "HEAD")
            message = f"Method {request.method} is not allowed for {path}; use {allowed}."
            error = ApiError(405, message, code="method_not_allowed")
            raise _NotAllowed(error, route.methods)
        self._authenticate(request, route)
        if route.wants_json_object and not isinstance(parsed, dict):
            message = "We could not parse the JSON body of your request: it must be a JSON object."
            raise ApiError(400, message)
        form = None
        if route.wants_form:
            if form_error is not None:
                raise ApiError(400, form_error)
            sink = request.sink
            if not isinstance(sink, FormParser):
                given = request.headers.get("content-type", "none")
                message = (
                    f"Invalid Content-Type header ({given}), expected multipart/form-data "
                    "with a boundary parameter."
                )
                raise ApiError(400, message)
            form = sink.result()
        return answer_route(
            route,
            request.method,
            parsed,
            ident=ident,
            catalog=self._catalog,
            path=path,
            query=query,
            form=form,
            headers=request.headers,
        )

    def _authenticate(self, request: Request, route: Route) -> None:
        """Check the bearer token (or, for the Messages API, also ``x-api-key``)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            token = ""
        if route.anthropic and not token:
            token = request.headers.get("x-api-key", "").strip()
            if not token:
                message = "x-api-key header is required (or Authorization: Bearer)"
                raise ApiError(401, message, type="authentication_error")
        if not token:
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            raise ApiError(401, message)
        if self._api_key is not None and token != self._api_key:
            if route.anthropic:
                raise ApiError(401, "invalid x-api-key", type="authentication_error")
            raise ApiError(401, "Incorrect API key provided.", code="invalid_api_key")

    # ------------------------------------------------------------------ writing

    def _send_http_error(self, conn: _Conn, exc: HttpError) -> None:
        ident = self._next_ident()
        body = error_body(exc.message, "invalid_request_error", None, None)
        headers = [
            ("content-type", "application/json"),
            ("x-request-id", f"req_{ident}"),
            ("server", "r9s-testing"),
            ("content-length", str(len(body))),
            ("connection", "close"),
        ]
        conn.sock.sendall(head_bytes(exc.status, headers) + body)

    def _send_api_error(
        self,
        conn: _Conn,
        error: ApiError,
        extra: list[tuple[str, str]],
        fault: Fault,
        keep: bool,
        gzip: bool,
        head_only: bool,
        anthropic: bool = False,
    ) -> bool:
        if anthropic:
            kind = None if error.type == "invalid_request_error" else error.type
            body = anthropic_error_body(error.status, error.message, kind)
        else:
            body = error.body()
        return self._send_body(
            conn,
            error.status,
            extra,
            body,
            "application/json",
            fault,
            keep,
            gzip,
            head_only,
        )

    def _send_body(
        self,
        conn: _Conn,
        status: int,
        extra: list[tuple[str, str]],
        body: bytes,
        content_type: str | None,
        fault: Fault,
        keep: bool,
        gzip: bool,
        head_only: bool,
    ) -> bool:
        """Send a whole (non-stream) answer, applying the faults that fit one."""
        if fault.delay_ms and self._closing.wait(fault.delay_ms / 1000):
            return False
        headers: list[tuple[str, str]] = []
        if content_type is not None:
            headers.append(("content-type", content_type))
        headers.extend(extra)
        if gzip and body:
            compressor = zlib.compressobj(wbits=31)
            body = compressor.compress(body) + compressor.flush()
            headers.append(("content-encoding", "gzip"))
        broken = fault.short_body or fault.cut_after is not None or fault.stall_after is not None
        keep = keep and not broken
        declared = len(body) + (20 if fault.short_body else 0)
        headers.append(("content-length", str(declared)))
        if not keep:
            headers.append(("connection", "close"))
        head = head_bytes(status, headers)
        if head_only:
            conn.sock.sendall(head)
            return keep
        if fault.stall_after is not None:
            conn.sock.sendall(head)
            self._closing.wait(fault.stall_seconds)
            return False
        if fault.cut_after is not None:
            conn.sock.sendall(head + body[: len(body) // 2])
            return False
        conn.sock.sendall(head + body)
        return keep

    def _send_stream(
        self,
        conn: _Conn,
        request: Request,
        stream: SseStream,
        extra: list[tuple[str, str]],
        fault: Fault,
        keep: bool,
        gzip: bool,
    ) -> bool:
        """Send a streamed answer, breaking it where the fault says."""
        chunked = request.version == "HTTP/1.1"
        keep = keep and chunked
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            *extra,
        ]
        if gzip:
            headers.append(("content-encoding", "gzip"))
        if chunked:
            headers.append(("transfer-encoding", "chunked"))
        if not keep:
            headers.append(("connection", "close"))
        out = StreamOut(conn.sock, head_bytes(200, headers), chunked=chunked, gzip=gzip)
        trigger = _first_trigger(fault)
        delay = fault.delay_ms / 1000 if fault.delay_ms else None
        batch = delay is None
        sent = 0
        first = True
        events = stream.events(
            crlf=fault.crlf, big_event=fault.big_event, invalid_json=fault.invalid_json
        )
        for kind, data in events:
            # A count of 0 fires before the first event of all (the role chunk included), so
            # a stream can fail before the client saw anything.
            if trigger is not None and (
                kind == POST or ((kind == CONTENT or first) and sent >= trigger[0])
            ):
                return self._break_stream(out, stream, trigger[1], fault, keep)
            if not first and delay is not None and self._closing.wait(delay):
                return False
            out.write(data, batch=batch)
            first = False
            if kind == CONTENT:
                sent += 1
        if stream.has_done and not fault.no_done:
            if delay is not None and self._closing.wait(delay):
                return False
            out.write(stream.done_event(), batch=batch)
        out.flush()
        if fault.hold_after_done is not None and self._closing.wait(fault.hold_after_done):
            return False
        out.finish()
        return keep

    def _send_binary(
        self,
        conn: _Conn,
        request: Request,
        binary: BinaryBody,
        extra: list[tuple[str, str]],
        fault: Fault,
        keep: bool,
        gzip: bool,
    ) -> bool:
        """Send a binary body as it is made, breaking it where the fault says.

        ``cut_after`` / ``stall_after`` N: after N blocks of 64 KiB, but at most half the
        body (so a small body is truly cut too); ``short_body`` declares 20 bytes more.  With
        gzip the body goes out chunked (close-delimited to an HTTP/1.0 client).
        """
        if fault.delay_ms and self._closing.wait(fault.delay_ms / 1000):
            return False
        trigger = _first_trigger(fault)
        limit = binary.size
        if trigger is not None:
            limit = min(trigger[0] * BINARY_UNIT, binary.size // 2)
        broken = trigger is not None or fault.short_body
        headers = [("content-type", binary.content_type), *extra]
        out: StreamOut | None = None
        if gzip:
            chunked = request.version == "HTTP/1.1"
            keep = keep and chunked and not broken
            headers.append(("content-encoding", "gzip"))
            if chunked:
                headers.append(("transfer-encoding", "chunked"))
            if not keep:
                headers.append(("connection", "close"))
            out = StreamOut(conn.sock, head_bytes(200, headers), chunked=chunked, gzip=True)
        else:
            keep = keep and not broken
            declared = binary.size + (20 if fault.short_body else 0)
            headers.append(("content-length", str(declared)))
            if not keep:
                headers.append(("connection", "close"))
            conn.sock.sendall(head_bytes(200, headers))
        left = limit
        # Bounded by the body's size (at most 1 GiB) in pieces of at most 256 KiB.
        for piece in binary.chunks():
            if len(piece) > left:
                piece = piece[:left]
            if piece:
                if out is None:
                    conn.sock.sendall(piece)
                else:
                    out.write(piece, batch=False)
            left -= len(piece)
            if left <= 0:
                break
        if trigger is not None:
            if out is not None:
                out.flush()
            if trigger[1] == "stall":
                self._closing.wait(fault.stall_seconds)
            return False
        if out is not None:
            out.finish()
        return keep

    def _break_stream(
        self, out: StreamOut, stream: SseStream, action: str, fault: Fault, keep: bool
    ) -> bool:
        if action == "error":
            out.write(stream.error_event())
            out.finish()
            return keep
        out.flush()
        if action == "stall":
            self._closing.wait(fault.stall_seconds)
        return False


def _first_trigger(fault: Fault) -> tuple[int, str] | None:
    """The stream fault that fires first: (content chunks before it, action)."""
    candidates = [
        (count, rank, action)
        for count, rank, action in (
            (fault.stall_after, 0, "stall"),
            (fault.cut_after, 1, "cut"),
            (fault.stream_error_after, 2, "error"),
        )
        if count is not None
    ]
    if not candidates:
        return None
    count, _, action = min(candidates)
    return count, action


# Error shapes for status faults: (type, code, message).
_FAULT_ERRORS: Final[dict[int, tuple[str, str | None, str]]] = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to make this request."),
    404: ("invalid_request_error", "not_found", "The requested resource does not exist."),
    409: ("invalid_request_error", "conflict", "The request conflicts with the current state."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
    504: ("server_error", None, "Gateway timeout."),
}


# Messages of Anthropic-shaped status faults (the type comes from the status).
_ANTHROPIC_FAULTS: Final = {
    400: "Bad request.",
    401: "invalid x-api-key",
    403: "You are not allowed to make this request.",
    404: "The requested resource does not exist.",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    529: "Overloaded",
}


def _phrase(status: int) -> str:
    if status == 503:
        return "Service Temporarily Unavailable"  # nginx's wording
    if status == 529:
        return "Overloaded"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _fault_body(fault: Fault, anthropic: bool = False) -> tuple[bytes, str | None]:
    """The body of a ``status`` fault answer and its content type (a JSON body in Anthropic's
    shape on the Messages API)."""
    status = fault.status or 500
    if anthropic and fault.body == "json":
        message = _ANTHROPIC_FAULTS.get(status, f"{status} {_phrase(status)}")
        return anthropic_error_body(status, message), "application/json"
    if fault.body == "empty":
        return b"", None
    title = f"{status} {_phrase(status)}"
    if fault.body == "text":
        return f"{title}\n".encode(), "text/plain; charset=utf-8"
    if fault.body == "html":
        page = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        return page.encode(), "text/html"
    default = ("server_error" if status >= 500 else "invalid_request_error", None, title)
    type_, code, message = _FAULT_ERRORS.get(status, default)
    return error_body(message, type_, None, code), "application/json"


def _rate_limits(ident: int) -> list[tuple[str, str]]:
    """``x-ratelimit-*`` headers as OpenAI-compatible gateways send them (the remaining
    request count goes down by one per request, from 10,000)."""
    return [
        ("x-ratelimit-limit-requests", "10000"),
        ("x-ratelimit-remaining-requests", str(max(0, 10000 - ident))),
        ("x-ratelimit-reset-requests", "6ms"),
        ("x-ratelimit-limit-tokens", "2000000"),
        ("x-ratelimit-remaining-tokens", "1999000"),
        ("x-ratelimit-reset-tokens", "1m2.5s"),
    ]
