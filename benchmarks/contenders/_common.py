"""The harness every contender process shares (standard library only, anyio when async).

A contender is run as ``python <contender>.py WORKLOAD VARIANT URL SIZE`` and prints one JSON
line: ``{"seconds": ..., "count": ..., "chars": ..., "bytes": ..., "peak_rss_kb": ...}`` (what
it measured; the runner checks ``count`` and ``chars`` against what the server sent), or
``{"na": "reason"}`` when the library cannot do that workload.  Binary workloads add
``cpu_s`` (this process's CPU time over the timed part), ``rss_before_kb`` and
``growth_kb`` (see ``IOProbe``).
"""

from __future__ import annotations

import json
import os
import resource
import sys
from collections.abc import Awaitable, Callable
from time import perf_counter, process_time
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
    res.setdefault("peak_rss_kb", peak_rss_kb())
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


def _status_kb(field: bytes) -> int:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak_rss() -> bool:
    """Set ``VmHWM`` back to the current RSS (Linux >= 4.0: ``5`` to ``clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class IOProbe:
    """Time, CPU time and memory of one transfer, from construction to ``done()``.

    Created right before the call (after the warm-up): it notes the peak RSS so far, resets
    the kernel's high-water mark to the current RSS and notes that RSS.  ``done()`` reads the
    new high-water mark, so ``growth_kb`` is how much the process grew during the transfer
    and ``peak_rss_kb`` the process's peak over its whole life (imports included).  Where the
    mark cannot be reset, ``growth_kb`` is the whole-life peak minus the RSS before the call
    (an upper bound).
    """

    __slots__ = ("cpu0", "peak0", "rss0", "t0")

    def __init__(self) -> None:
        self.peak0 = peak_rss_kb()
        if not _reset_peak_rss():
            self.peak0 = 0
        self.rss0 = _status_kb(b"VmRSS:")
        self.cpu0 = process_time()
        self.t0 = perf_counter()

    def done(self, count: int, nbytes: int) -> Result:
        seconds = perf_counter() - self.t0
        cpu = process_time() - self.cpu0
        peak = peak_rss_kb()
        res = result(seconds, count, 0, nbytes)
        res["cpu_s"] = cpu
        res["rss_before_kb"] = self.rss0
        res["growth_kb"] = max(0, peak - self.rss0)
        res["peak_rss_kb"] = max(peak, self.peak0)
        return res


def file_result(res: Result, path: str) -> Result:
    """``res`` with ``count`` set to the size of the file written (then removed)."""
    res["count"] = os.path.getsize(path)
    os.unlink(path)
    return res


class warm_file:  # used as a function: ``with warm_file() as path``
    """A small file to upload once before the measured upload (imports, connection).

    Not ``contextlib`` / ``pathlib`` at import time: the harness must not load modules the
    libraries under test would otherwise pay for (the peak-RSS workload reads them).
    """

    def __init__(self, nbytes: int = 1000) -> None:
        from pathlib import Path

        self.path = Path(f"warm-{os.getpid()}.mp3")
        self.nbytes = nbytes

    def __enter__(self) -> Any:
        self.path.write_bytes(b"\xff\xfb" * (self.nbytes // 2))
        return self.path

    def __exit__(self, *exc: object) -> None:
        self.path.unlink()


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
