"""Async client at scale: N concurrent streamed chats, and sequential connection reuse.

    python benchmarks/async_scale.py [--streams 1000] [--chunks 50] [--sequential 1000]

Runs under asyncio and under trio, against the built-in server in its own process, and
prints wall time, events delivered, peak RSS of this process and connections opened (the
transport's own count).  Every loop is bounded; the run stops after ``--budget`` seconds.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anyio
from _server import server_process

from r9s import R9S
from r9s.transports.h11_anyio import H11Transport

MSGS = [{"role": "user", "content": "benchmark"}]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def concurrent_streams(
    url: str, streams: int, chunks: int, budget: float
) -> dict[str, float]:
    transport = H11Transport(max_connections=streams, max_keepalive=streams)
    counts: list[int] = []
    async with R9S(api_key="k", server_url=url, async_client=transport, timeout_ms=60_000) as c:

        async def one() -> None:
            n = 0
            stream = await c.chat.create_async(
                model="m", messages=MSGS, stream=True, max_tokens=chunks
            )
            async with stream:
                async for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        n += 1
            counts.append(n)

        t0 = time.perf_counter()
        with anyio.fail_after(budget):
            async with anyio.create_task_group() as tg:
                for _ in range(streams):
                    tg.start_soon(one)
        wall = time.perf_counter() - t0
        stats = transport.stats
    return {
        "wall_s": wall,
        "streams_ok": sum(1 for n in counts if n == chunks),
        "events": sum(counts),
        "connections": stats.connections_opened,
    }


async def sequential(url: str, n: int, budget: float) -> dict[str, float]:
    transport = H11Transport()
    async with R9S(api_key="k", server_url=url, async_client=transport) as c:
        t0 = time.perf_counter()
        with anyio.fail_after(budget):
            for _ in range(n):
                await c.chat.create_async(model="m", messages=MSGS)
        wall = time.perf_counter() - t0
        stats = transport.stats
    return {"wall_s": wall, "requests_per_s": n / wall, "connections": stats.connections_opened}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--streams", type=int, default=1000)
    p.add_argument("--chunks", type=int, default=50)
    p.add_argument("--sequential", type=int, default=1000)
    p.add_argument("--budget", type=float, default=120.0)
    p.add_argument("--backend", choices=["asyncio", "trio", "both"], default="both")
    a = p.parse_args()
    backends = ["asyncio", "trio"] if a.backend == "both" else [a.backend]
    with server_process() as url:
        for backend in backends:
            r = anyio.run(concurrent_streams, url, a.streams, a.chunks, a.budget, backend=backend)
            print(
                f"{backend:8} {a.streams} concurrent streams x {a.chunks} chunks: "
                f"{r['wall_s']:.2f} s, {r['streams_ok']}/{a.streams} complete, "
                f"{r['events']} events, {r['connections']} connections opened, "
                f"peak RSS so far {peak_rss_mb():.0f} MB",
                flush=True,
            )
            s = anyio.run(sequential, url, a.sequential, a.budget, backend=backend)
            print(
                f"{backend:8} {a.sequential} sequential non-stream: {s['wall_s']:.2f} s "
                f"({s['requests_per_s']:.0f} req/s), {s['connections']} connection(s) opened",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
