"""R9S end to end over real transports against the built-in server on 127.0.0.1.

Every behaviour here runs through the sync transport (stdlib) and the async transport (h11 on
anyio, under asyncio and trio): one table of cases, three runtimes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from r9s import R9S, errors
from r9s.testing import FakeServer, Fault
from r9s.utils import BackoffStrategy, RetryConfig

MSGS = [{"role": "user", "content": "Hello, how are you?"}]
FAST = RetryConfig("backoff", BackoffStrategy(1, 10, 2, 5000), retry_connection_errors=True)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def make(server: FakeServer, **kw: Any) -> R9S:
    kw.setdefault("retry_config", None)
    return R9S(api_key="sk-test", server_url=server.url, **kw)


# -- sync --------------------------------------------------------------------------------


def test_three_operations_streamed_and_not(server: FakeServer) -> None:
    with make(server) as c:
        res = c.chat.create(model="m", messages=MSGS)
        assert res.choices[0].message.content == "Hello! You said: Hello, how are you?"
        assert res._request_id and res._request_id.startswith("req_")
        text = "".join(
            ch.choices[0].delta.content or ""
            for ch in c.chat.create(model="m", messages=MSGS, stream=True)
            if ch.choices
        )
        assert text == res.choices[0].message.content
        comp = c.completions.create(model="m", prompt="Once upon a time", max_tokens=5)
        assert comp.choices[0].finish_reason == "length"
        parts = [
            p.choices[0].text
            for p in c.completions.create(model="m", prompt="Once", max_tokens=5, stream=True)
            if p.choices and p.choices[0].text
        ]
        assert "".join(parts) == comp.choices[0].text
        resp = c.responses.create(model="m", input="Tell me a joke")
        assert resp.output_text == "Hello! You said: Tell me a joke"
        deltas = [
            e.delta
            for e in c.responses.create(model="m", input="Tell me a joke", stream=True)
            if e.type == "response.output_text.delta"
        ]
        assert "".join(deltas) == resp.output_text


def test_sequential_requests_reuse_one_connection(server: FakeServer) -> None:
    with make(server) as c:
        for i in range(100):
            if i % 2:
                assert c.chat.create(model="m", messages=MSGS).choices
            else:
                assert len(list(c.chat.create(model="m", messages=MSGS, stream=True))) > 2
    assert server.connections_opened == 1


def test_only_set_parameters_reach_the_server(server: FakeServer) -> None:
    with make(server) as c:
        c.chat.create(
            model="m", messages=MSGS, temperature=0.5, top_p=None, http_headers={"X-Trace": "t1"}
        )
    rec = server.requests[-1]
    assert rec.json == {"model": "m", "messages": MSGS, "temperature": 0.5}
    assert rec.headers["authorization"] == "Bearer sk-test"
    assert rec.headers["x-trace"] == "t1" and rec.headers["user-agent"].startswith("r9s-python/")


def test_gzip_bodies_and_streams(server: FakeServer) -> None:
    with make(server) as c:
        fault = {"X-R9S-Fault": "gzip"}
        assert (
            c.chat.create(model="m", messages=MSGS, http_headers=fault).choices[0].message.content
        )
        chunks = list(c.chat.create(model="m", messages=MSGS, stream=True, http_headers=fault))
        assert len(chunks) > 3


def test_retry_after_then_success(server: FakeServer) -> None:
    server.add_fault(Fault(status=429, retry_after="0"), times=1)
    server.add_fault(Fault(status=503, body="html"), times=1)
    with make(server, retry_config=FAST) as c:
        assert c.chat.create(model="m", messages=MSGS).choices
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("fault", "exc", "match"),
    [
        ("status=503,body=html", errors.ServiceUnavailableError, "text/html"),
        ("status=404", errors.NotFoundError, None),
        ("status=401", errors.AuthenticationError, None),
        ("status=418,body=text", errors.R9SDefaultError, "418"),
        ("invalid_json", errors.ResponseValidationError, "not valid JSON"),
        ("short_body", errors.IncompleteResponseError, None),
        ("reset", errors.NoResponseError, None),
    ],
)
def test_non_stream_faults(server: FakeServer, fault: str, exc: type, match: str | None) -> None:
    with make(server) as c:
        with pytest.raises(exc, match=match):
            c.chat.create(model="m", messages=MSGS, http_headers={"X-R9S-Fault": fault})
        assert c.chat.create(model="m", messages=MSGS).choices  # the client still works


@pytest.mark.parametrize(
    ("fault", "exc", "delivered"),
    [
        ("stream_error_after=3", errors.ServiceUnavailableError, 4),  # role chunk + 3
        ("cut_after=3", errors.IncompleteResponseError, 4),
        ("invalid_json", errors.ResponseValidationError, None),
        ("big_event=50000", errors.EventTooLargeError, None),
    ],
)
def test_stream_faults(server: FakeServer, fault: str, exc: type, delivered: int | None) -> None:
    with make(server, max_event_size=20000) as c:
        got = 0
        with pytest.raises(exc):
            for _ in c.chat.create(
                model="m",
                messages=MSGS,
                stream=True,
                max_tokens=8,
                http_headers={"X-R9S-Fault": fault},
            ):
                got += 1
        if delivered is not None:
            assert got == delivered
        assert c.chat.create(model="m", messages=MSGS).choices


def test_stream_without_done_just_ends(server: FakeServer) -> None:
    with make(server) as c:
        chunks = list(
            c.chat.create(
                model="m", messages=MSGS, stream=True, http_headers={"X-R9S-Fault": "no_done"}
            )
        )
        assert chunks and chunks[-1].choices[0].finish_reason == "stop"


def test_iteration_ends_at_done_even_if_the_server_holds_the_connection(server: FakeServer) -> None:
    with make(server) as c:
        t0 = time.monotonic()
        chunks = list(
            c.chat.create(
                model="m",
                messages=MSGS,
                stream=True,
                http_headers={"X-R9S-Fault": "hold_after_done=5"},
            )
        )
        assert chunks and time.monotonic() - t0 < 2.0


def test_stalled_server_times_out_promptly(server: FakeServer) -> None:
    with make(server, timeout_ms=300) as c:
        t0 = time.monotonic()
        with pytest.raises(errors.RequestTimeoutError):
            c.chat.create(
                model="m",
                messages=MSGS,
                http_headers={"X-R9S-Fault": "stall_after=0,stall_seconds=5"},
            )
        with pytest.raises(errors.RequestTimeoutError):
            for _ in c.chat.create(
                model="m",
                messages=MSGS,
                stream=True,
                http_headers={"X-R9S-Fault": "stall_after=2,stall_seconds=5"},
            ):
                pass
        assert time.monotonic() - t0 < 3.0


def test_connection_refused_is_prompt() -> None:
    with FakeServer() as s:
        url = s.url
    c = R9S(api_key="k", server_url=url, retry_config=None)
    t0 = time.monotonic()
    with pytest.raises(errors.NoResponseError):
        c.chat.create(model="m", messages=MSGS)
    assert time.monotonic() - t0 < 2.0


def test_break_out_of_a_stream_drops_its_connection(server: FakeServer) -> None:
    with make(server) as c:
        for _ in c.chat.create(model="m", messages=MSGS, stream=True, max_tokens=1000):
            break
        assert c.chat.create(model="m", messages=MSGS).choices
    assert server.connections_opened == 2  # the abandoned one was not reused


# -- async: asyncio and trio -------------------------------------------------------------


@pytest.mark.anyio
async def test_async_three_operations_and_reuse(server: FakeServer) -> None:
    async with make(server) as c:
        res = await c.chat.create_async(model="m", messages=MSGS)
        assert res.choices[0].message.content == "Hello! You said: Hello, how are you?"
        stream = await c.chat.create_async(model="m", messages=MSGS, stream=True)
        text = "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])
        assert text == res.choices[0].message.content
        comp = await c.completions.create_async(model="m", prompt="Once", max_tokens=5)
        assert comp.choices[0].text
        async with await c.responses.create_async(model="m", input="x", stream=True) as events:
            types = [e.type async for e in events]
        assert types[0] == "response.created" and types[-1] == "response.completed"
        for _ in range(20):
            await c.chat.create_async(model="m", messages=MSGS)
    assert server.connections_opened == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "exc"),
    [
        ("status=503,body=html", errors.ServiceUnavailableError),
        ("invalid_json", errors.ResponseValidationError),
        ("short_body", errors.IncompleteResponseError),
        ("reset", errors.NoResponseError),
    ],
)
async def test_async_non_stream_faults(server: FakeServer, fault: str, exc: type) -> None:
    async with make(server) as c:
        with pytest.raises(exc):
            await c.chat.create_async(model="m", messages=MSGS, http_headers={"X-R9S-Fault": fault})
        assert (await c.chat.create_async(model="m", messages=MSGS)).choices


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "exc"),
    [
        ("stream_error_after=3", errors.ServiceUnavailableError),
        ("cut_after=3", errors.IncompleteResponseError),
        ("stall_after=2,stall_seconds=5", errors.RequestTimeoutError),
    ],
)
async def test_async_stream_faults(server: FakeServer, fault: str, exc: type) -> None:
    async with make(server, timeout_ms=300) as c:
        with pytest.raises(exc):
            async for _ in await c.chat.create_async(
                model="m",
                messages=MSGS,
                stream=True,
                max_tokens=8,
                http_headers={"X-R9S-Fault": fault},
            ):
                pass
        assert (await c.chat.create_async(model="m", messages=MSGS)).choices


@pytest.mark.anyio
async def test_async_cancel_mid_stream_closes_the_connection(server: FakeServer) -> None:
    import anyio

    async with make(server) as c:
        got = 0
        with anyio.move_on_after(0.3):
            async for _ in await c.chat.create_async(
                model="m",
                messages=MSGS,
                stream=True,
                max_tokens=100,
                http_headers={"X-R9S-Fault": "delay_ms=20"},
            ):
                got += 1
        assert 0 < got < 100
        assert (await c.chat.create_async(model="m", messages=MSGS)).choices
    assert server.connections_opened == 2


@pytest.mark.anyio
async def test_async_break_without_async_with_releases_the_connection(server: FakeServer) -> None:
    import gc

    from r9s.transports.h11_anyio import H11Transport

    transport = H11Transport()
    async with make(server, async_client=transport) as c:
        gc.disable()  # the stream's own refcount, not the collector, must release it
        try:
            async for _ in await c.chat.create_async(
                model="m", messages=MSGS, stream=True, max_tokens=500
            ):
                break
            assert transport.stats.in_use == 0
        finally:
            gc.enable()
        assert (await c.chat.create_async(model="m", messages=MSGS)).choices
        await transport.aclose()
    assert server.connections_opened == 2
