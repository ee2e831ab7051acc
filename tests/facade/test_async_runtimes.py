"""The async client across runtimes: asyncio and trio, successive loops, threads, cancellation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import trio

from r9s import R9S, errors
from r9s.testing import FakeServer

MSGS = [{"role": "user", "content": "Hello, how are you?"}]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


async def seed_examples(url: str) -> list[Any]:
    """The seed pages' examples, rewritten with ``async with`` / ``create_async``."""
    out: list[Any] = []
    async with R9S(api_key="<YOUR_BEARER_TOKEN_HERE>", server_url=url) as r9_s:
        res = await r9_s.chat.create_async(
            model="gpt-4o-mini",
            messages=[
                {"role": "user", "content": "Hello, how are you?"},
            ],
            stream=False,
        )
        out.append(res.choices[0].message.content)
        res = await r9_s.chat.create_async(
            model="gpt-4o-mini",
            messages=[
                {"role": "user", "content": "Hello, how are you?"},
            ],
            stream=True,
        )
        async with res as event_stream:
            async for event in event_stream:
                out.append(event)
        res = await r9_s.completions.create_async(
            model="gpt-4o-mini",
            prompt="Once upon a time",
            echo=False,
            frequency_penalty=0,
            max_tokens=50,
            n=1,
            presence_penalty=0,
            stream=True,
            temperature=1,
            top_p=1,
        )
        async with res as event_stream:
            async for event in event_stream:
                out.append(event)
        res = await r9_s.responses.create_async(
            model="gpt-4o-mini",
            input="Tell me a joke about programming",
            instructions="You are a funny assistant",
            temperature=0.7,
            max_output_tokens=500,
            stream=True,
        )
        async for event in res:
            out.append(event)
    return out


def test_seed_examples_under_asyncio_run_and_trio_run(server: FakeServer) -> None:
    a = asyncio.run(seed_examples(server.url))
    t = trio.run(seed_examples, server.url)
    assert a[0] == "Hello! You said: Hello, how are you?"
    assert len(a) == len(t) > 60
    assert [type(x).__name__ for x in a] == [type(x).__name__ for x in t]


def test_one_client_across_loops_and_threads(server: FakeServer) -> None:
    client = R9S(api_key="k", server_url=server.url)

    async def call() -> str:
        res = await client.chat.create_async(model="m", messages=MSGS)
        stream = await client.chat.create_async(model="m", messages=MSGS, stream=True)
        async with stream:
            n = len([c async for c in stream])
        assert n > 3
        return str(res.choices[0].message.content)

    results = [asyncio.run(call()), asyncio.run(call()), trio.run(call), asyncio.run(call())]
    errors_in_threads: list[BaseException] = []

    def in_thread(runner: str) -> None:
        try:
            results.append(asyncio.run(call()) if runner == "asyncio" else trio.run(call))
        except BaseException as exc:  # reported below
            errors_in_threads.append(exc)

    threads = [
        threading.Thread(target=in_thread, args=(r,)) for r in ("asyncio", "trio", "asyncio")
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert not errors_in_threads
    assert len(results) == 7 and len(set(results)) == 1
    client.close()
    asyncio.run(client.aclose())


@pytest.mark.anyio
async def test_task_group_cancelled_by_a_sibling_failure(server: FakeServer) -> None:
    async with R9S(api_key="k", server_url=server.url, retry_config=None) as c:
        seen = 0

        async def consume() -> None:
            nonlocal seen
            async for _ in await c.chat.create_async(
                model="m",
                messages=MSGS,
                stream=True,
                max_tokens=200,
                http_headers={"X-R9S-Fault": "delay_ms=10"},
            ):
                seen += 1

        async def fail() -> None:
            await anyio.sleep(0.2)
            raise RuntimeError("sibling failed")

        with pytest.raises(BaseException) as info:
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                tg.start_soon(fail)
        assert "sibling failed" in repr(info.value) or info.group_contains(RuntimeError)
        assert 0 < seen < 200
        assert (await c.chat.create_async(model="m", messages=MSGS)).choices
    assert server.connections_opened == 2


def test_asyncio_wait_for_cancels_cleanly(server: FakeServer) -> None:
    async def main() -> None:
        async with R9S(api_key="k", server_url=server.url, retry_config=None) as c:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(
                    c.chat.create_async(
                        model="m",
                        messages=MSGS,
                        http_headers={"X-R9S-Fault": "stall_after=0,stall_seconds=5"},
                    ),
                    0.2,
                )
            assert (await c.chat.create_async(model="m", messages=MSGS)).choices

    asyncio.run(main())


def test_trio_move_on_after_while_waiting_for_headers(server: FakeServer) -> None:
    async def main() -> None:
        async with R9S(api_key="k", server_url=server.url, retry_config=None) as c:
            with trio.move_on_after(0.2) as scope:
                await c.chat.create_async(
                    model="m",
                    messages=MSGS,
                    http_headers={"X-R9S-Fault": "stall_after=0,stall_seconds=5"},
                )
            assert scope.cancelled_caught
            assert (await c.chat.create_async(model="m", messages=MSGS)).choices

    trio.run(main)


@pytest.mark.anyio
async def test_pool_timeout_is_a_clear_error(server: FakeServer) -> None:
    from r9s.transports.h11_anyio import H11Transport

    transport = H11Transport(max_connections=1)
    async with R9S(
        api_key="k",
        server_url=server.url,
        async_client=transport,
        retry_config=None,
        timeout_ms=300,
    ) as c:
        # A stream the server holds open (stalled after 2 chunks) keeps the one connection.
        held = await c.chat.create_async(
            model="m", messages=MSGS, stream=True, http_headers={"X-R9S-Fault": "stall_after=2"}
        )
        async with held:
            with pytest.raises(errors.RequestTimeoutError, match="pool"):
                await c.chat.create_async(model="m", messages=MSGS)
        await transport.aclose()
