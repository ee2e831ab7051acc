"""The fault matrix: every way a server can fail, under every runtime, one table.

Rows are faults (a scripted server on 127.0.0.1 misbehaving byte by byte, ``FakeServer``'s
fault directives for the retry storms, a port that never answers); columns are the runtimes:
the sync client (``UrllibTransport``), and the async client (``H11Transport``) under asyncio
and under trio.  Each cell asserts three things:

1. the documented outcome: the ``r9s.errors`` class the design names for the fault (or
   success, for faults a client must ride out), with the events delivered before a stream
   failed being an intact prefix of the answer;
2. promptness: the call ends well within ``BOUND`` seconds (a bound against hangs, not a
   speed measurement);
3. the SAME client then completes a normal request, streamed and not: nothing the fault left
   behind (a half-read connection, a poisoned pool) leaks into the next call.

Retries are off (``retry_config=None``) except in the storm rows, whose point is the budget.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from _answers import json_answer, normal, reply_pieces, sse_answer
from _support.scripted_server import (
    BlackHole,
    Conn,
    ReceivedRequest,
    ScriptedServer,
    chunk,
    serve_requests,
)

from r9s import R9S, errors
from r9s.testing import FakeServer
from r9s.utils import BackoffStrategy, RetryConfig

KEY = "sk-fault-matrix-0123456789"
MSGS = [{"role": "user", "content": "Hello, how are you today?"}]
EXPECTED = "Hello! You said: Hello, how are you today?"
#: The text pieces the scripted stream sends, one per event.
PIECES = reply_pieces(EXPECTED)
#: Generous upper bound on any call in the table (it guards against hangs; it times nothing).
BOUND = 5.0
RUNTIMES = ["sync", "asyncio", "trio"]
#: The storm rows' policy: 10 ms doubling to 50 ms, at most 400 ms for the whole call.
STORM_RETRY = RetryConfig("backoff", BackoffStrategy(10, 50, 2, max_elapsed_time=400), True)


# -- scripted misbehaviours ---------------------------------------------------------------------
#
# Each takes the connection and the request and answers (or fails to).  The canonical answers
# come from ``_answers``; offsets are computed from their bytes, so they name a place, not a
# number.


def _parts(req: ReceivedRequest) -> tuple[bytes, list[bytes]]:
    """The canonical answer as (head, body pieces): one piece (JSON) or one per chunk (stream)."""
    if req.stream:
        return sse_answer(req)
    head, body = json_answer(req)
    return head, [body]


def reset_at(where: Callable[[bytes, list[bytes]], int]) -> Callable[[Conn, ReceivedRequest], bool]:
    """Send the canonical answer up to ``where(head, pieces)`` bytes, then a TCP reset."""

    def handler(conn: Conn, req: ReceivedRequest) -> bool:
        head, pieces = _parts(req)
        whole = head + b"".join(pieces)
        conn.send(whole[: where(head, pieces)])
        conn.reset(settle=0.05)
        return False

    return handler


def drip(conn: Conn, req: ReceivedRequest) -> bool:
    head, pieces = _parts(req)
    return conn.drip(head + b"".join(pieces))


def stall_at(where: Callable[[bytes, list[bytes]], int]) -> Callable[[Conn, ReceivedRequest], bool]:
    """Send up to ``where`` bytes, then go silent (the client's read timeout must fire)."""

    def handler(conn: Conn, req: ReceivedRequest) -> bool:
        head, pieces = _parts(req)
        conn.send((head + b"".join(pieces))[: where(head, pieces)])
        conn.hold(10.0)
        return False

    return handler


def raw(
    data: bytes | Callable[[ReceivedRequest], bytes],
) -> Callable[[Conn, ReceivedRequest], bool]:
    """Send exactly ``data``, then keep the connection open and silent, as a keep-alive server
    would: a client that misreads the framing then waits for bytes that never come."""

    def handler(conn: Conn, req: ReceivedRequest) -> bool:
        conn.send(data(req) if callable(data) else data)
        conn.hold(10.0)
        return False

    return handler


def _json_with_head_lines(lines: bytes) -> Callable[[ReceivedRequest], bytes]:
    """A canonical JSON answer whose head carries ``lines`` (CRLF-terminated) before the rest."""

    def build(req: ReceivedRequest) -> bytes:
        head, body = json_answer(req)
        status, _, rest = head.partition(b"\r\n")
        return status + b"\r\n" + lines + rest + body

    return build


def _chunked_json(size_line: bytes) -> Callable[[ReceivedRequest], bytes]:
    def build(req: ReceivedRequest) -> bytes:
        _, body = json_answer(req)
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + size_line + b"\r\n" + body + b"\r\n0\r\n\r\n"
        )

    return build


def _stream_then(tail: Callable[[list[bytes]], bytes]) -> Callable[[ReceivedRequest], bytes]:
    """The canonical stream's head and first two events, then ``tail(pieces)`` instead of the rest."""

    def build(req: ReceivedRequest) -> bytes:
        head, pieces = sse_answer(req)
        return head + pieces[0] + pieces[1] + tail(pieces)

    return build


def gzip_garbage(conn: Conn, req: ReceivedRequest) -> bool:
    body = b"\x1f\x8b\x08\x00 this is not a gzip member at all"
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    return conn.send(head + body)


def interim_then_answer(conn: Conn, req: ReceivedRequest) -> bool:
    head, pieces = _parts(req)
    return conn.send(b"HTTP/1.1 100 Continue\r\n\r\n" + head + b"".join(pieces))


def close_mid_keepalive(conn: Conn, req: ReceivedRequest) -> bool:
    """Answer in full, announcing ``Connection: close``, and close."""
    if req.stream:
        head, pieces = sse_answer(req, extra="Connection: close\r\n")
    else:
        head, body = json_answer(req, extra="Connection: close\r\n")
        pieces = [body]
    conn.send(head + b"".join(pieces))
    return False


def silent_close(conn: Conn, req: ReceivedRequest) -> bool:
    """Answer in full as if keeping the connection, then close it (an idle-timeout race)."""
    normal(conn, req)
    conn.hold(0.05)
    return False


def _status_line(line: bytes) -> bytes:
    return line + b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def _padding(fields: int, total: int) -> bytes:
    size = total // fields
    return b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * size) for i in range(fields))


SCENARIOS: dict[str, Callable[[Conn, ReceivedRequest], bool]] = {
    # resets at places across the answer (non-streamed: status line, head, body) ...
    "reset-before-status": reset_at(lambda h, p: 0),
    "reset-in-status-line": reset_at(lambda h, p: 7),
    "reset-in-headers": reset_at(lambda h, p: h.index(b"\r\n") + 12),
    "reset-before-blank-line": reset_at(lambda h, p: len(h) - 2),
    "reset-after-headers": reset_at(lambda h, p: len(h)),
    "reset-mid-body": reset_at(lambda h, p: len(h) + len(p[0]) // 2),
    # ... and across a stream: chunk-size line, mid-event, between events, after [DONE]
    "reset-in-chunk-size": reset_at(lambda h, p: len(h) + 1),
    "reset-mid-event": reset_at(lambda h, p: len(h) + len(p[0]) + len(p[1]) // 2),
    "reset-between-events": reset_at(lambda h, p: len(h) + len(p[0]) + len(p[1]) + len(p[2])),
    "reset-after-done": reset_at(lambda h, p: len(h) + sum(map(len, p[:-1]))),
    "drip": drip,
    "stall-before-status": stall_at(lambda h, p: 0),
    "stall-after-headers": stall_at(lambda h, p: len(h)),
    "stall-mid-stream": stall_at(lambda h, p: len(h) + len(p[0]) + len(p[1])),
    "status-not-a-number": raw(_status_line(b"HTTP/1.1 abc OK")),
    "status-two-digits": raw(_status_line(b"HTTP/1.1 99 Too Low")),
    "status-wrong-protocol": raw(_status_line(b"SPDY/3 200 OK")),
    "status-binary-junk": raw(
        b"\x16\x03\x03\x00\x2a\x02\x00\x00\x26\x03\x03" + b"\x00" * 40 + b"\r\n\r\n"
    ),
    "header-without-colon": raw(_json_with_head_lines(b"this line has no colon\r\n")),
    "header-space-before-colon": raw(_json_with_head_lines(b"X-Spaced : value\r\n")),
    "content-length-not-a-number": raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: two\r\n\r\n{}"
    ),
    "content-length-conflicting": raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nContent-Length: 7\r\n\r\n{}"
    ),
    "header-line-200k": raw(_json_with_head_lines(_padding(1, 200_000))),
    "header-block-200k-in-90-fields": raw(_json_with_head_lines(_padding(90, 200_000))),
    "header-block-200k-in-500-fields": raw(_json_with_head_lines(_padding(500, 200_000))),
    "chunk-size-not-hex": raw(_chunked_json(b"zz")),
    "chunk-size-negative": raw(_chunked_json(b"-5")),
    "stream-chunk-size-not-hex": raw(
        _stream_then(lambda p: b"q1\r\n" + p[2].partition(b"\r\n")[2])
    ),
    "stream-invalid-utf8-in-event": raw(
        _stream_then(
            lambda p: chunk(b'data: {"choices": [{"delta": {"content": "\xff\xfe"}}]}\n\n')
        )
    ),
    "gzip-garbage": gzip_garbage,
    "interim-100-continue": interim_then_answer,
    "connection-close-mid-keepalive": close_mid_keepalive,
    "silent-close-after-answer": silent_close,
}


def dispatch(conn: Conn, req: ReceivedRequest) -> bool:
    """The scripted server's handler: the scenario the request names, else a normal answer."""
    name = req.header("x-scenario")
    if name is None:
        return normal(conn, req)
    return SCENARIOS[name](conn, req)


# -- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One row: how to provoke the fault and what must come of it."""

    id: str
    #: ``X-Scenario`` for the scripted server, or ``X-R9S-Fault`` for ``FakeServer``.
    fault: str
    expect: type[errors.R9SError] | None
    stream: bool = False
    #: "scripted", "fake" (``FakeServer`` faults) or "blackhole" (never accepts).
    target: str = "scripted"
    timeout_ms: int = 1000
    retry: RetryConfig | None = None
    #: The error must come from noticing the fault, not from the read timeout running out.
    not_a_timeout: bool = False
    #: Normal requests sent on the same client before the faulty one (keep-alive reuse).
    warmup: int = 0
    #: For a stream that fails: how many text pieces arrived before the failure (none lost).
    delivered: int | None = None
    #: Runtimes where a known r9s bug makes the row fail: runtime -> reason.
    bugs: dict[str, str] = field(default_factory=dict)
    #: Extra checks: (servers, tag, elapsed seconds) -> None.
    check: Callable[[Servers, str, float], None] | None = None


@dataclass
class Servers:
    scripted: ScriptedServer
    fake: FakeServer
    blackhole: BlackHole

    def url(self, target: str) -> str:
        if target == "fake":
            return self.fake.url
        return {"scripted": self.scripted, "blackhole": self.blackhole}[target].url("/v1")


def attempts(servers: Servers, tag: str) -> int:
    return sum(1 for r in servers.fake.requests if r.headers.get("x-case-tag") == tag)


def storm_check(low: int, high: int) -> Callable[[Servers, str, float], None]:
    """The storm ended inside the 400 ms budget (plus slack) after a bounded number of tries."""

    def check(servers: Servers, tag: str, elapsed: float) -> None:
        n = attempts(servers, tag)
        assert low <= n <= high, f"{n} attempts, expected {low}..{high}"
        assert elapsed < 1.5, f"the retry budget is 400 ms, the call took {elapsed:.2f} s"

    return check


def connections(expected: int) -> Callable[[Servers, str, float], None]:
    def check(servers: Servers, tag: str, elapsed: float) -> None:
        assert servers.scripted.connections == expected

    return check


NoResponse = errors.NoResponseError
CASES = [
    Case("reset-before-status", "reset-before-status", NoResponse),
    Case("reset-in-status-line", "reset-in-status-line", NoResponse),
    Case("reset-in-headers", "reset-in-headers", NoResponse),
    Case("reset-before-blank-line", "reset-before-blank-line", NoResponse),
    Case("reset-after-headers", "reset-after-headers", NoResponse),
    Case("reset-mid-body", "reset-mid-body", NoResponse),
    Case("reset-in-chunk-size", "reset-in-chunk-size", NoResponse, stream=True),
    Case("reset-mid-event", "reset-mid-event", NoResponse, stream=True, delivered=0),
    Case("reset-between-events", "reset-between-events", NoResponse, stream=True, delivered=2),
    Case("reset-after-done", "reset-after-done", None, stream=True),
    Case("drip-json", "drip", None),
    Case("drip-stream", "drip", None, stream=True),
    Case("stall-before-status", "stall-before-status", errors.RequestTimeoutError, timeout_ms=300),
    Case("stall-after-headers", "stall-after-headers", errors.RequestTimeoutError, timeout_ms=300),
    Case(
        "stall-mid-stream",
        "stall-mid-stream",
        errors.RequestTimeoutError,
        stream=True,
        timeout_ms=300,
        delivered=1,
    ),
    Case("never-accepts", "", errors.RequestTimeoutError, target="blackhole", timeout_ms=300),
    Case("status-not-a-number", "status-not-a-number", NoResponse, not_a_timeout=True),
    Case("status-two-digits", "status-two-digits", NoResponse, not_a_timeout=True),
    Case("status-wrong-protocol", "status-wrong-protocol", NoResponse, not_a_timeout=True),
    Case("status-binary-junk", "status-binary-junk", NoResponse, not_a_timeout=True),
    Case(
        "header-without-colon",
        "header-without-colon",
        NoResponse,
        not_a_timeout=True,
    ),
    Case(
        "header-space-before-colon",
        "header-space-before-colon",
        NoResponse,
        not_a_timeout=True,
    ),
    Case(
        "content-length-not-a-number",
        "content-length-not-a-number",
        NoResponse,
        not_a_timeout=True,
    ),
    Case(
        "content-length-conflicting",
        "content-length-conflicting",
        NoResponse,
        not_a_timeout=True,
    ),
    Case("header-line-200k", "header-line-200k", NoResponse, not_a_timeout=True),
    Case(
        "header-block-200k-in-90-fields",
        "header-block-200k-in-90-fields",
        NoResponse,
        not_a_timeout=True,
    ),
    Case(
        "header-block-200k-in-500-fields",
        "header-block-200k-in-500-fields",
        NoResponse,
        not_a_timeout=True,
    ),
    Case("chunk-size-not-hex", "chunk-size-not-hex", NoResponse, not_a_timeout=True),
    Case(
        "chunk-size-negative",
        "chunk-size-negative",
        NoResponse,
        not_a_timeout=True,
    ),
    Case(
        "stream-chunk-size-not-hex",
        "stream-chunk-size-not-hex",
        NoResponse,
        stream=True,
        not_a_timeout=True,
        delivered=1,
    ),
    Case(
        "stream-invalid-utf8-in-event",
        "stream-invalid-utf8-in-event",
        errors.ResponseValidationError,
        stream=True,
        delivered=1,
    ),
    Case("gzip-garbage", "gzip-garbage", errors.ResponseValidationError),
    Case("interim-100-continue", "interim-100-continue", None),
    Case(
        "connection-close-mid-keepalive",
        "connection-close-mid-keepalive",
        None,
        warmup=2,
        check=connections(2),
    ),
    Case(
        "connection-close-mid-keepalive-stream",
        "connection-close-mid-keepalive",
        None,
        stream=True,
        warmup=2,
        check=connections(2),
    ),
    Case(
        "silent-close-after-answer",
        "silent-close-after-answer",
        None,
        warmup=1,
        check=connections(2),
    ),
    Case(
        "storm-429-retry-after-ms-100",
        "status=429,retry_after_ms=100",
        errors.RateLimitError,
        target="fake",
        retry=STORM_RETRY,
        check=storm_check(2, 5),
    ),
    Case(
        "storm-503-html-backoff",
        "status=503,body=html",
        errors.ServiceUnavailableError,
        target="fake",
        retry=STORM_RETRY,
        check=storm_check(3, 30),
    ),
    Case(
        "storm-503-retry-after-0",
        "status=503,retry_after=0",
        errors.ServiceUnavailableError,
        target="fake",
        retry=STORM_RETRY,
        check=storm_check(3, 41),  # Retry-After: 0 must not bypass the 10 ms backoff
    ),
    Case(
        "storm-429-retry-after-beyond-budget",
        "status=429,retry_after=2",
        errors.RateLimitError,
        target="fake",
        retry=STORM_RETRY,
        check=storm_check(1, 1),
    ),
]


def _params() -> Iterator[Any]:
    for case in CASES:
        for runtime in RUNTIMES:
            marks = []
            if runtime in case.bugs:
                marks.append(pytest.mark.skip(reason=case.bugs[runtime]))
            yield pytest.param(case, runtime, id=f"{case.id}-{runtime}", marks=marks)


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture(scope="module")
def blackhole() -> Iterator[BlackHole]:
    with BlackHole() as hole:
        yield hole


@pytest.fixture
def servers(fake: FakeServer, blackhole: BlackHole) -> Iterator[Servers]:
    with ScriptedServer(serve_requests(dispatch)) as scripted:
        yield Servers(scripted, fake, blackhole)


# -- one cell ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    error: BaseException | None = None
    deltas: list[str] = field(default_factory=list)
    elapsed: float = 0.0


def _call_kwargs(case: Case, servers: Servers, tag: str) -> dict[str, Any]:
    headers = {"X-Case-Tag": tag}
    if case.target == "fake":
        headers["X-R9S-Fault"] = case.fault
    elif case.target == "scripted":
        headers["X-Scenario"] = case.fault
    return {
        "model": "m",
        "messages": MSGS,
        "stream": case.stream,
        "http_headers": headers,
        "server_url": servers.url(case.target),
    }


def _client(case: Case, servers: Servers) -> R9S:
    # A blackhole row's follow-up goes to the scripted server: the hole never answers anyone.
    home = servers.url("scripted" if case.target == "blackhole" else case.target)
    return R9S(api_key=KEY, server_url=home, retry_config=case.retry, timeout_ms=case.timeout_ms)


def _text(chunks: Iterator[Any] | list[Any], into: list[str]) -> str:
    for ch in chunks:
        if ch.choices:
            into.append(ch.choices[0].delta.content or "")
    return "".join(into)


def run_sync(case: Case, servers: Servers, tag: str) -> Outcome:
    out = Outcome()
    with _client(case, servers) as c:
        for _ in range(case.warmup):
            assert c.chat.create(model="m", messages=MSGS).choices[0].message.content == EXPECTED
        kwargs = _call_kwargs(case, servers, tag)
        t0 = time.monotonic()
        try:
            if case.stream:
                with c.chat.create(**kwargs) as stream:
                    _text(stream, out.deltas)
            else:
                out.deltas.append(c.chat.create(**kwargs).choices[0].message.content)
        except errors.R9SError as exc:
            out.error = exc
        out.elapsed = time.monotonic() - t0
        # the same client, a normal request, streamed and not
        assert c.chat.create(model="m", messages=MSGS).choices[0].message.content == EXPECTED
        assert _text(c.chat.create(model="m", messages=MSGS, stream=True), []) == EXPECTED
    return out


async def run_async(case: Case, servers: Servers, tag: str) -> Outcome:
    out = Outcome()
    async with _client(case, servers) as c:
        for _ in range(case.warmup):
            res = await c.chat.create_async(model="m", messages=MSGS)
            assert res.choices[0].message.content == EXPECTED
        kwargs = _call_kwargs(case, servers, tag)
        t0 = time.monotonic()
        try:
            if case.stream:
                async with await c.chat.create_async(**kwargs) as stream:
                    async for ch in stream:
                        if ch.choices:
                            out.deltas.append(ch.choices[0].delta.content or "")
            else:
                res = await c.chat.create_async(**kwargs)
                out.deltas.append(res.choices[0].message.content)
        except errors.R9SError as exc:
            out.error = exc
        out.elapsed = time.monotonic() - t0
        res = await c.chat.create_async(model="m", messages=MSGS)
        assert res.choices[0].message.content == EXPECTED
        got: list[str] = []
        async for ch in await c.chat.create_async(model="m", messages=MSGS, stream=True):
            if ch.choices:
                got.append(ch.choices[0].delta.content or "")
        assert "".join(got) == EXPECTED
    return out


@pytest.mark.parametrize(("case", "runtime"), list(_params()))
def test_fault(case: Case, runtime: str, servers: Servers) -> None:
    tag = uuid.uuid4().hex
    if runtime == "sync":
        out = run_sync(case, servers, tag)
    else:
        out = anyio.run(run_async, case, servers, tag, backend=runtime)

    assert out.elapsed < BOUND, f"took {out.elapsed:.2f} s"
    text = "".join(out.deltas)
    if case.expect is None:
        assert out.error is None, f"expected success, got {out.error!r}"
        assert text == EXPECTED
    else:
        assert isinstance(out.error, case.expect), (
            f"expected {case.expect.__name__}, got {out.error!r}"
        )
        assert EXPECTED.startswith(text), f"delivered events are not a prefix: {text!r}"
        if case.delivered is not None:
            assert text == "".join(PIECES[: case.delivered]), "events before the fault were lost"
        if case.not_a_timeout:
            assert not isinstance(out.error, errors.RequestTimeoutError), (
                f"the fault was not noticed; the read timeout ended the call: {out.error}"
            )
        assert KEY not in str(out.error) and KEY not in repr(out.error)
    if case.check is not None:
        case.check(servers, tag, out.elapsed)
