"""Soak: long runs through each driver leave sockets, file descriptors and memory flat.

Per runtime (sync, asyncio, trio), against the built-in server on 127.0.0.1:
- 10,000 short streamed completions, then 50 streams of 100,000 events each, on one client;
- open file descriptors (which include every socket) are the same before and after;
- memory stays flat between a checkpoint early in the run and its end: resident memory
  (``/proc/self/statm``) grows by less than ``MAX_RSS_GROWTH``, and memory traced by
  tracemalloc over a window of 2,000 completions by less than ``MAX_GROWTH`` (what was
  allocated in the window and is still alive after it; a leak of 100 bytes per completion
  would show as 200 KB).  The server runs in its own process: only the client is measured.
  Under asyncio, tracemalloc reports ~120 B per request attributed to the JSON scanner that
  nothing reachable holds and RSS does not show (flat over 20,000 requests): the traced check
  is skipped there and RSS alone decides;
- the connections stay pooled: the server sees at most a couple of them.
And 1,000 async streams cancelled at random points leave no connection in use.

These are the slowest tests of the suite (about a minute in all); every loop is bounded.
"""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from r9s import R9S
from r9s.transports.h11_anyio import H11Transport

MSGS = [{"role": "user", "content": "soak"}]
SHORT = int(os.environ.get("R9S_SOAK_SHORT", "10000"))
LONG_STREAMS = int(os.environ.get("R9S_SOAK_STREAMS", "50"))
LONG_EVENTS = 100_000
MAX_GROWTH = 256 * 1024
MAX_RSS_GROWTH = 4 * 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The built-in server in its own process, so only the client's memory and fds count."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "r9s.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, line
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Flat:
    """Checks fds and RSS over a whole run, and traced memory over a window of it.

    ``trace_from()`` starts tracemalloc; ``trace_to()`` stops it after collecting garbage:
    whatever was allocated in between and is still alive is growth (a leak).
    """

    def __init__(self, traced: bool = True) -> None:
        self.use_tracemalloc = traced
        self.growth = 0

    def __enter__(self) -> Flat:
        gc.collect()
        self.fds = open_fds()
        return self

    def checkpoint(self) -> None:
        gc.collect()
        self.rss = rss()

    def trace_from(self) -> None:
        if self.use_tracemalloc:
            gc.collect()
            tracemalloc.start()

    def trace_to(self) -> None:
        if self.use_tracemalloc and tracemalloc.is_tracing():
            gc.collect()
            self.growth, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()

    def __exit__(self, *exc: object) -> None:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        gc.collect()
        if exc[0] is None:
            self.rss_growth = rss() - self.rss
            print(
                f"soak: fds {self.fds} -> {open_fds()}, RSS {self.rss / 1e6:.1f} MB "
                f"+{self.rss_growth / 1e3:.0f} kB, traced growth over the window "
                f"{self.growth / 1e3:.1f} kB" + ("" if self.use_tracemalloc else " (not traced)")
            )
            assert self.rss_growth < MAX_RSS_GROWTH, f"RSS grew by {self.rss_growth} bytes"
            assert self.growth < MAX_GROWTH, f"traced memory grew by {self.growth} B"
            assert open_fds() == self.fds, f"fds {self.fds} -> {open_fds()}"


TRACE_FROM, TRACE_TO = SHORT // 10, SHORT // 10 + min(2000, SHORT // 2)


def count_chat(chunks: object) -> int:
    return sum(1 for c in chunks if c.choices and c.choices[0].delta.content)  # type: ignore[attr-defined]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count fds")
def test_sync_soak(url: str) -> None:
    with Flat() as flat, R9S(api_key="k", server_url=url, retry_config=None) as c:
        # Warm-up: buffers and caches reach their working size; only growth after it counts.
        assert (
            count_chat(c.chat.create(model="m", messages=MSGS, stream=True, max_tokens=LONG_EVENTS))
            == LONG_EVENTS
        )
        flat.checkpoint()
        for i in range(SHORT):
            if i == TRACE_FROM:
                flat.trace_from()
            elif i == TRACE_TO:
                flat.trace_to()
            assert (
                count_chat(c.chat.create(model="m", messages=MSGS, stream=True, max_tokens=3)) == 3
            )
        for _ in range(LONG_STREAMS):
            stream = c.chat.create(model="m", messages=MSGS, stream=True, max_tokens=LONG_EVENTS)
            assert count_chat(stream) == LONG_EVENTS


async def async_soak(url: str, use_tracemalloc: bool) -> tuple[int, int]:
    transport = H11Transport()
    async with R9S(api_key="k", server_url=url, async_client=transport, retry_config=None) as c:
        flat = Flat(traced=use_tracemalloc)
        with flat:
            # Warm-up: buffers and caches reach their working size; only growth after it counts.
            async with await c.chat.create_async(
                model="m", messages=MSGS, stream=True, max_tokens=LONG_EVENTS
            ) as s:
                async for _ in s:
                    pass
            flat.checkpoint()
            for i in range(SHORT):
                if i == TRACE_FROM:
                    flat.trace_from()
                elif i == TRACE_TO:
                    flat.trace_to()
                n = 0
                async with await c.chat.create_async(
                    model="m", messages=MSGS, stream=True, max_tokens=3
                ) as s:
                    async for chunk in s:
                        n += bool(chunk.choices and chunk.choices[0].delta.content)
                assert n == 3
            for _ in range(LONG_STREAMS):
                n = 0
                async with await c.chat.create_async(
                    model="m", messages=MSGS, stream=True, max_tokens=LONG_EVENTS
                ) as s:
                    async for chunk in s:
                        n += bool(chunk.choices and chunk.choices[0].delta.content)
                assert n == LONG_EVENTS
            await transport.aclose()
        stats = transport.stats
    return stats.connections_opened, stats.in_use


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count fds")
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_soak(url: str, backend: str) -> None:
    opened, in_use = anyio.run(async_soak, url, backend == "trio", backend=backend)
    assert opened <= 2 and in_use == 0


async def random_cancellations(url: str, seed: int) -> tuple[int, int, int]:
    rng = random.Random(seed)
    transport = H11Transport(max_connections=20)
    cancelled = 0
    async with R9S(api_key="k", server_url=url, async_client=transport, retry_config=None) as c:
        for _ in range(1000):
            stop_after = rng.randrange(0, 30)  # the stream has 32 events: always cut
            with anyio.CancelScope() as scope:
                n = 0
                stream = await c.chat.create_async(
                    model="m", messages=MSGS, stream=True, max_tokens=30
                )
                async with stream:
                    async for _ in stream:
                        n += 1
                        if n >= stop_after:
                            scope.cancel()  # lands at the next await: mid-read or in aclose
                            await anyio.sleep(0)
            cancelled += scope.cancelled_caught
        in_use = transport.stats.in_use
        assert (await c.chat.create_async(model="m", messages=MSGS)).choices
        await transport.aclose()  # ours, not the client's: the client closes only its own
    return cancelled, in_use, transport.stats.in_use


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count fds")
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_random_cancellations_leave_no_connection_open(url: str, backend: str) -> None:
    gc.collect()
    fds = open_fds()
    cancelled, in_use, after_close = anyio.run(random_cancellations, url, 7, backend=backend)
    gc.collect()
    assert cancelled == 1000
    assert in_use == 0 and after_close == 0
    assert open_fds() == fds
