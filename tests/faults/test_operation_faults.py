"""Every JSON operation against scripted bad servers, under sync, asyncio and trio.

The fault matrix (``test_fault_matrix.py``) goes deep on chat; this table goes wide: each
operation of the published surface meets the faults a gateway or the proxy in front of it
produces — an HTML 502 page, a 200 that is not JSON, a 404, a 429 with ``retry-after-ms``
then success, a body cut short, a server that stalls — and must end in the documented
``r9s.errors`` class (or its result, after the retry), promptly, with the same client then
completing a normal call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import trio
from _support.scripted_server import Conn, ReceivedRequest, ScriptedServer, response, serve_requests

from r9s import R9S, errors, models
from r9s.utils import BackoffStrategy, RetryConfig

KEY = "sk-op-faults-0123456789"
#: Upper bound on any call here: it guards against hangs, it times nothing.
BOUND = 5.0
RUNTIMES = ["sync", "asyncio", "trio"]
FAST_RETRY = RetryConfig("backoff", BackoffStrategy(5, 20, 2, max_elapsed_time=2000), True)

_MODEL = {"id": "m", "object": "model", "created": 1, "owned_by": "o"}
_EMBED = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.25]}],
    "model": "e",
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
}

#: operation -> (resource, method, arguments, method and path sent, a good answer, a check)
CASES: dict[str, tuple[str, str, dict[str, Any], str, dict[str, Any], Callable[[Any], Any]]] = {
    "models.list": (
        "models",
        "list",
        {},
        "GET /v1/models",
        {"object": "list", "data": [_MODEL]},
        lambda r: r.data[0].id,
    ),
    "models.retrieve": (
        "models",
        "retrieve",
        {"model": "openai/gpt-4o"},
        "GET /v1/models/openai/gpt-4o",
        _MODEL,
        lambda r: r.owned_by,
    ),
    "embeddings.create": (
        "embeddings",
        "create",
        {"model": "e", "input": ["a", "b"]},
        "POST /v1/embeddings",
        _EMBED,
        lambda r: r.data[0].embedding,
    ),
    "engine_embeddings.create": (
        "engine_embeddings",
        "create",
        {"model": "qwen plus", "input": "a"},
        "POST /v1/engines/qwen%20plus/embeddings",
        _EMBED,
        lambda r: r.usage.total_tokens,
    ),
    "moderations.create": (
        "moderations",
        "create",
        {"input": "hello"},
        "POST /v1/moderations",
        {"id": "modr", "model": "gpt-4o-mini", "results": [{"flagged": False}]},
        lambda r: r.results[0].flagged,
    ),
    "edits.create": (
        "edits",
        "create",
        {"model": "m", "instruction": "fix", "input": "teh"},
        "POST /v1/edits",
        {"object": "edit", "created": 1, "choices": [{"text": "the", "index": 0}]},
        lambda r: r.choices[0].text,
    ),
    "search.create": (
        "search",
        "create",
        {"extra": models.Extra(query="q", num=1)},
        "POST /v1/search",
        {"engine": "exa", "result": {"results": []}},
        lambda r: r.engine,
    ),
    "proxy.request": (
        "proxy",
        "request",
        {"channelid": "7", "target": "chat/completions", "request_body": {"a": 1}},
        "POST /v1/nextrouter/proxy/7/chat/completions",
        {"ok": True},
        lambda r: r["ok"],
    ),
}


def _json(doc: dict[str, Any], status: int = 200, **headers: str) -> bytes:
    body = json.dumps(doc).encode()
    hdrs = [("Content-Type", "application/json"), *headers.items()]
    return response(body, status=status, reason="X", headers=hdrs)


def _error(status: int, message: str) -> bytes:
    doc = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
    return _json(doc, status)


def run(runtime: str, url: str, retry: RetryConfig | None, op: str, **options: Any) -> Any:
    """Call ``op`` twice on one client (``options`` for the first call only): returns the first
    call's error (or ``None``), its duration, and the second call's result checked."""
    resource, method, args, _, _, check = CASES[op]
    if runtime == "sync":
        with R9S(api_key=KEY, server_url=url, retry_config=retry) as client:
            call = getattr(getattr(client, resource), method)
            started = time.monotonic()
            try:
                first: Any = call(**args, **options)
            except errors.R9SError as exc:
                first = exc
            took = time.monotonic() - started
            return first, took, check(call(**args))

    async def main() -> Any:
        async with R9S(api_key=KEY, server_url=url, retry_config=retry) as client:
            call = getattr(getattr(client, resource), method + "_async")
            started = time.monotonic()
            try:
                first: Any = await call(**args, **options)
            except errors.R9SError as exc:
                first = exc
            took = time.monotonic() - started
            return first, took, check(await call(**args))

    return asyncio.run(main()) if runtime == "asyncio" else trio.run(main)


class Script:
    """Answer the first requests with the given faults, then with the operation's answer."""

    def __init__(self, good: dict[str, Any], *faults: Callable[[Conn, ReceivedRequest], bool]):
        self.good = good
        self.faults = list(faults)
        self.seen: list[ReceivedRequest] = []

    def __call__(self, conn: Conn, req: ReceivedRequest) -> bool:
        self.seen.append(req)
        if self.faults:
            return self.faults.pop(0)(conn, req)
        conn.sendall(_json(self.good))
        return True


def send(data: bytes, *, keep: bool = True) -> Callable[[Conn, ReceivedRequest], bool]:
    def handler(conn: Conn, req: ReceivedRequest) -> bool:
        conn.sendall(data)
        return keep

    return handler


def cut(conn: Conn, req: ReceivedRequest) -> bool:
    conn.sendall(
        response(b'{"object": "li', headers=[("Content-Type", "application/json")], length=400)
    )
    conn.close()
    return False


def stall(conn: Conn, req: ReceivedRequest) -> bool:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"
    )
    conn.hold(10.0)
    return False


HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
FAULTS: dict[
    str, tuple[Callable[[Conn, ReceivedRequest], bool], type[errors.R9SError], int | None]
] = {
    "html_502": (
        send(
            response(
                HTML, status=502, reason="Bad Gateway", headers=[("Content-Type", "text/html")]
            )
        ),
        errors.R9SDefaultError,
        502,
    ),
    "html_200": (
        send(response(HTML, headers=[("Content-Type", "text/html")])),
        errors.ResponseValidationError,
        200,
    ),
    "json_404": (send(_error(404, "no such thing")), errors.NotFoundError, 404),
    "cut_body": (cut, errors.IncompleteResponseError, None),
    "stall": (stall, errors.RequestTimeoutError, None),
}


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("op", list(CASES))
def test_fault(op: str, fault: str, runtime: str) -> None:
    handler, expected, status = FAULTS[fault]
    good = CASES[op][4]
    script = Script(good, handler)
    with ScriptedServer(serve_requests(script)) as server:
        err, took, after = run(runtime, server.url("/v1"), None, op, timeout_ms=300)
    assert isinstance(err, expected), err
    assert took < BOUND
    assert err.status_code == status
    assert KEY not in str(err) and KEY not in repr(err)
    assert after is not None  # the same client then completes a normal call
    first = script.seen[0]
    assert f"{first.method} {first.target}" == CASES[op][3]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("op", list(CASES))
def test_429_with_retry_after_then_success(op: str, runtime: str) -> None:
    """A 429 is retried for every operation, GET and POST alike, after ``retry-after-ms``."""
    good = CASES[op][4]
    limited = _json(
        {"error": {"message": "slow down", "type": "rate_limit_error"}},
        429,
        **{"retry-after-ms": "30"},
    )
    script = Script(good, send(limited), send(limited))
    with ScriptedServer(serve_requests(script)) as server:
        result, took, _ = run(runtime, server.url("/v1"), FAST_RETRY, op)
    assert 0.06 <= took < BOUND  # two waits of at least 30 ms
    assert len(script.seen) == 4
    first, second = script.seen[:2]
    assert CASES[op][5](result) is not None
    assert (first.method, first.target, first.body) == (second.method, second.target, second.body)
    if first.method == "GET":
        assert first.body == b"" and first.header("content-type") is None
    else:
        assert first.header("content-type") == "application/json"
