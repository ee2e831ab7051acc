"""The harness every contender process shares (standard library only, anyio when async).

A contender is run as ``python <contender>.py WORKLOAD VARIANT URL SIZE`` and prints one JSON
line: ``{"seconds": ..., "count": ..., "chars": ..., "bytes": ..., "peak_rss_kb": ...}`` (what
it measured; the runner checks ``count`` and ``chars`` against what the server sent), or
``{"na": "reason"}`` when the library cannot do that workload.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Awaitable, Callable
from typing import Any

MODEL = "gpt-4o-mini"
PROMPT = "Write a long story about a fox."
MESSAGES = [{"role": "user", "content": PROMPT}]
API_KEY = "sk-bench-0000"
#: Wall-clock bound of any async part of a contender (the runner also kills it after this).
BUDGET_S = 120.0
#: In-flight requests of the concurrent workload (e).
CONCURRENCY = 50

Result = dict[str, Any]
Workload = Callable[[str, float], Result]


def result(seconds: float, count: int, chars: int = 0, nbytes: int = 0) -> Result:
    return {"seconds": seconds, "count": count, "chars": chars, "bytes": nbytes}


def main(table: dict[str, Workload], unsupported: dict[str, str] | None = None) -> int:
    """Run ``table["WORKLOAD.VARIANT"]`` with the command line's URL and size; print JSON."""
    workload, variant, url, size = sys.argv[1:5]
    key = f"{workload}.{variant}"
    fn = table.get(key)
    if fn is None:
        reason = (unsupported or {}).get(key) or (unsupported or {}).get(workload, "not run")
        print(json.dumps({"na": reason}))
        return 0
    res = fn(url, float(size))
    res["peak_rss_kb"] = peak_rss_kb()
    print(json.dumps(res))
    return 0


def peak_rss_kb() -> int:
    """This process's peak resident set size in KiB.

    ``VmHWM`` from ``/proc/self/status``: the high-water mark of this program's own memory.
    Not ``getrusage().ru_maxrss``: on Linux that also counts the parent's memory at fork
    time (it survives ``exec``), so a child of a big runner would report the runner's size.
    """
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_async(fn: Callable[[], Awaitable[Result]], backend: str) -> Result:
    """Run ``fn`` under asyncio or trio (through anyio, the same way for every library)."""
    import anyio

    async def bounded() -> Result:
        with anyio.fail_after(BUDGET_S):
            return await fn()

    return anyio.run(bounded, backend=backend)


async def concurrently(one: Callable[[], Awaitable[bool]], total: int, width: int) -> int:
    """Run ``one()`` ``total`` times, at most ``width`` at once; the number that returned True."""
    import anyio

    started = 0
    ok = 0

    async def worker() -> None:
        nonlocal started, ok
        while started < total:
            started += 1
            if await one():
                ok += 1

    async with anyio.create_task_group() as tg:
        for _ in range(width):
            tg.start_soon(worker)
    return ok
