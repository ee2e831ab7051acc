"""Hooks, response metadata, limits and stream-aware retries, end to end.

Every case runs through the sync transport and the async one under asyncio and trio, against
the built-in server on 127.0.0.1 (its faults make the failures).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from r9s import R9S, Hooks, RequestContext, ResponseInfo, errors
from r9s.testing import FakeServer
from r9s.utils import BackoffStrategy, RetryConfig

MSGS = [{"role": "user", "content": "Hello, how are you?"}]
ANSWER = "Hello! You said: Hello, how are you?"
FAST = RetryConfig("backoff", BackoffStrategy(1, 10, 2, 5000), retry_connection_errors=True)

MODES = ["sync", "asyncio", "trio"]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


@dataclass
class Outcome:
    result: Any = None  # the result object, or the stream
    events: list[Any] = field(default_factory=list)
    error: errors.R9SError | None = None


def run(
    mode: str,
    server: FakeServer,
    *,
    client: dict[str, Any] | None = None,
    between: float = 0.0,
    **params: Any,
) -> Outcome:
    """``chat.create(**params)`` in ``mode``: the result, the events read, the error raised."""
    kw: dict[str, Any] = {"retry_config": None, **(client or {})}
    params = {"model": "m", "messages": MSGS, **params}
    out = Outcome()
    if mode == "sync":
        with R9S(api_key="sk-test-lifecycle", server_url=server.url, **kw) as c:
            try:
                out.result = c.chat.create(**params)
                if params.get("stream"):
                    for event in out.result:
                        out.events.append(event)
                        if between:
                            time.sleep(between)
            except errors.R9SError as err:
                out.error = err
        return out

    async def main() -> None:
        async with R9S(api_key="sk-test-lifecycle", server_url=server.url, **kw) as c:
            try:
                out.result = await c.chat.create_async(**params)
                if params.get("stream"):
                    async with out.result as stream:
                        async for event in stream:
                            out.events.append(event)
                            if between:
                                await anyio.sleep(between)
            except errors.R9SError as err:
                out.error = err

    anyio.run(main, backend=mode)
    return out


def text_of(events: list[Any]) -> str:
    return "".join(e.choices[0].delta.content or "" for e in events if e.choices)


class Recorder:
    """Hooks that write down what they saw; ``before`` tags each attempt with a header."""

    def __init__(self) -> None:
        self.before: list[tuple[str, int]] = []
        self.responses: list[ResponseInfo] = []
        self.errors: list[tuple[int, str, float | None, int | None]] = []

    def hooks(self) -> Hooks:
        def before(ctx: RequestContext) -> None:
            self.before.append((ctx.operation, ctx.attempt))
            ctx.set_header("X-Trace", f"attempt-{ctx.attempt}")

        def after(ctx: RequestContext, info: ResponseInfo) -> None:
            self.responses.append(info)

        def failed(ctx: RequestContext, err: errors.R9SError, retry_in: float | None) -> None:
            self.errors.append((ctx.attempt, type(err).__name__, retry_in, err.events_received))

        return Hooks(before_request=[before], after_response=[after], after_error=[failed])


# -- hooks and metadata ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_hooks_see_every_attempt_and_results_carry_metadata(mode: str, server: FakeServer) -> None:
    server.add_fault("status=503")
    rec = Recorder()
    out = run(mode, server, client={"retry_config": FAST, "hooks": rec.hooks()})
    assert out.error is None
    res = out.result
    assert res.choices[0].message.content == ANSWER
    assert rec.before == [("chat.create", 1), ("chat.create", 2)]
    assert [r.status_code for r in rec.responses] == [503, 200]
    assert [(a, name) for a, name, _, _ in rec.errors] == [(1, "ServiceUnavailableError")]
    assert rec.errors[0][2] is not None  # retried: the wait is given
    # The header the hook set reached the server, one value per attempt.
    assert [r.headers.get("x-trace") for r in server.requests] == ["attempt-1", "attempt-2"]
    info = res._response
    assert isinstance(info, ResponseInfo)
    assert info.status_code == 200 and info.attempt == 2
    assert info.request_id == res._request_id == rec.responses[1].request_id
    assert info.headers["content-type"].startswith("application/json")
    assert info.rate_limits.limit_requests == 10000
    assert info.rate_limits.remaining_requests == 10000 - 2
    assert info.rate_limits.reset_tokens == pytest.approx(62.5)


@pytest.mark.parametrize("mode", MODES)
def test_streams_and_errors_carry_metadata(mode: str, server: FakeServer) -> None:
    out = run(mode, server, stream=True)
    stream = out.result
    assert text_of(out.events) == ANSWER
    assert stream.response.status_code == 200 and stream.status_code == 200
    assert stream.request_id and stream.request_id == stream.headers["x-request-id"]
    assert stream.rate_limits.limit_tokens == 2_000_000
    assert stream.rate_limits.reset_requests == pytest.approx(0.006)

    server.add_fault("status=429,retry_after=1")
    failed = run(mode, server)
    err = failed.error
    assert isinstance(err, errors.RateLimitError)
    assert err.retryable and err.request_id and err.status_code == 429
    assert err.rate_limits.remaining_requests == 10000 - 2


@pytest.mark.parametrize("mode", MODES)
def test_a_hook_that_raises_stops_the_call(mode: str, server: FakeServer) -> None:
    def refuse(ctx: RequestContext) -> None:
        raise PermissionError(f"{ctx.operation} is not allowed here")

    with pytest.raises(PermissionError, match=r"chat\.create is not allowed"):
        run(mode, server, client={"hooks": Hooks(before_request=[refuse])})
    assert server.requests == []


# -- stream-aware retries ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_stream_failing_before_its_first_event_is_retried(mode: str, server: FakeServer) -> None:
    server.add_fault("stream_error_after=0")  # an "overloaded" error event, before any chunk
    server.add_fault("cut_after=0")  # then a connection cut before any chunk
    rec = Recorder()
    out = run(mode, server, stream=True, client={"retry_config": FAST, "hooks": rec.hooks()})
    assert out.error is None
    assert text_of(out.events) == ANSWER
    assert len(server.requests) == 3
    assert [(a, n) for a, n, _, _ in rec.errors] == [
        (1, "ServiceUnavailableError"),
        (2, "IncompleteResponseError"),
    ]
    assert out.result.response.attempt == 3


@pytest.mark.parametrize("mode", MODES)
def test_stream_error_before_the_first_event_without_retries(mode: str, server: FakeServer) -> None:
    server.add_fault("stream_error_after=0")
    out = run(mode, server, stream=True)
    err = out.error
    assert isinstance(err, errors.ServiceUnavailableError)
    assert err.retryable and err.events_received == 0
    assert out.result is None  # raised by create(): no stream was handed out


@pytest.mark.parametrize("mode", MODES)
def test_mid_stream_error_is_not_retried_and_says_so(mode: str, server: FakeServer) -> None:
    server.add_fault("stream_error_after=2")
    rec = Recorder()
    out = run(mode, server, stream=True, client={"retry_config": FAST, "hooks": rec.hooks()})
    err = out.error
    assert isinstance(err, errors.ServiceUnavailableError)
    assert err.retryable and err.events_received is not None
    assert text_of(out.events) and len(out.events) == err.events_received
    assert len(server.requests) == 1  # events were delivered: never retried
    assert rec.errors == [(1, "ServiceUnavailableError", None, err.events_received)]


# -- limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_idle_timeout_between_events(mode: str, server: FakeServer) -> None:
    server.add_fault("stall_after=3")
    rec = Recorder()
    out = run(mode, server, stream=True, idle_timeout=0.3, client={"hooks": rec.hooks()})
    err = out.error
    assert isinstance(err, errors.RequestTimeoutError)
    assert "idle_timeout" in str(err)
    assert err.events_received == len(out.events) >= 3
    assert rec.errors == [(1, "RequestTimeoutError", None, err.events_received)]


@pytest.mark.parametrize("mode", MODES)
def test_first_event_timeout(mode: str, server: FakeServer) -> None:
    server.add_fault("stall_after=0")
    out = run(mode, server, stream=True, first_event_timeout=0.3)
    err = out.error
    assert isinstance(err, errors.RequestTimeoutError)
    assert "first_event_timeout 0.3 s" in str(err)
    assert err.events_received == 0 and out.result is None


@pytest.mark.parametrize("mode", MODES)
def test_first_event_timeout_is_retried_like_any_request(mode: str, server: FakeServer) -> None:
    server.add_fault("stall_after=0")
    out = run(mode, server, stream=True, first_event_timeout=0.3, client={"retry_config": FAST})
    assert out.error is None and text_of(out.events) == ANSWER
    assert len(server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
def test_deadline_covers_the_streamed_body(mode: str, server: FakeServer) -> None:
    server.add_fault("stall_after=2")
    out = run(mode, server, stream=True, deadline=0.5)
    err = out.error
    assert isinstance(err, errors.RequestTimeoutError)
    assert "deadline of 0.5 s passed" in str(err)
    assert err.events_received == len(out.events) >= 2


@pytest.mark.parametrize("mode", MODES)
def test_deadline_bounds_retries_of_a_plain_call(mode: str, server: FakeServer) -> None:
    server.add_fault("stall_after=0", times=20)
    rec = Recorder()
    out = run(mode, server, deadline=0.4, client={"retry_config": FAST, "hooks": rec.hooks()})
    err = out.error
    assert isinstance(err, errors.RequestTimeoutError)
    assert "deadline of 0.4 s passed" in str(err)
    assert rec.errors and rec.errors[-1][2] is None  # the last failure was not retried


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_past_the_deadline_is_not_waited_for(mode: str, server: FakeServer) -> None:
    server.add_fault("status=503,retry_after=30", times=2)
    rec = Recorder()
    out = run(mode, server, deadline=5, client={"retry_config": FAST, "hooks": rec.hooks()})
    assert isinstance(out.error, errors.ServiceUnavailableError)
    assert len(server.requests) == 1
    assert rec.errors == [(1, "ServiceUnavailableError", None, None)]


@pytest.mark.parametrize("mode", MODES)
def test_a_slow_consumer_does_not_trip_idle_timeout(mode: str, server: FakeServer) -> None:
    out = run(mode, server, stream=True, idle_timeout=0.2, between=0.05, max_tokens=6)
    assert out.error is None
    assert out.events


def test_limits_are_checked_before_any_request(server: FakeServer) -> None:
    with R9S(api_key="k", server_url=server.url) as c:
        with pytest.raises(ValueError, match="deadline must be a positive number"):
            c.chat.create(model="m", messages=MSGS, deadline=0)
        with pytest.raises(TypeError, match="idle_timeout must be a number"):
            c.chat.create(model="m", messages=MSGS, idle_timeout="1")  # type: ignore[typeddict-item]
    with pytest.raises(ValueError, match="first_event_timeout"):
        R9S(api_key="k", first_event_timeout=-1)
    assert server.requests == []


def test_client_default_limits_and_per_call_override(server: FakeServer) -> None:
    server.add_fault("stall_after=1")
    with R9S(api_key="k", server_url=server.url, retry_config=None, idle_timeout=60) as c:
        with pytest.raises(errors.RequestTimeoutError, match="idle_timeout"):
            for _ in c.chat.create(model="m", messages=MSGS, stream=True, idle_timeout=0.2):
                pass


# -- logging from the environment ---------------------------------------------------------


def test_r9s_log_debug_prints_requests_to_stderr_without_the_key() -> None:
    script = textwrap.dedent(
        """
        from r9s import R9S
        from r9s.testing import FakeServer
        with FakeServer() as server:
            server.add_fault("status=503")
            with R9S(api_key="sk-live-do-not-print", server_url=server.url) as c:
                c.chat.create(model="m", messages=[{"role": "user", "content": "hi"}])
        print("ok")
        """
    )
    env = {**os.environ, "R9S_LOG": "debug"}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    lines = proc.stderr.splitlines()
    assert any(
        "r9s DEBUG" in ln and "/chat/completions -> 503" in ln and "attempt 1" in ln for ln in lines
    ), lines
    assert any("r9s INFO" in ln and "retrying in" in ln for ln in lines), lines
    assert any("-> 200" in ln and "attempt 2" in ln and "request id req_" in ln for ln in lines)
    assert "sk-live-do-not-print" not in proc.stderr
    quiet = subprocess.run(
        [sys.executable, "-c", script],
        env={k: v for k, v in os.environ.items() if k != "R9S_LOG"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert quiet.returncode == 0 and quiet.stderr == ""
