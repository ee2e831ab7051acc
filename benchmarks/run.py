"""The r9s benchmark suite: every contender side by side, in one run.

    .venv/bin/python benchmarks/run.py            # the whole suite (< 10 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick    # smoke run: small sizes, 3 repetitions
    .venv/bin/python benchmarks/run.py --only a,c # some workloads (a-i)

Contenders: the raw-socket limit, r9s from this repository (sync, asyncio, trio), the
``openai`` package, the ``anthropic`` package (Messages stream only) and the published
``r9s==0.9.0`` (each in its own venv under ``benchmarks/.venvs/``, created on first use).  Every measurement is a fresh process;
repetitions are interleaved (repetition 1 of every contender, then repetition 2, ...) and
each figure is the median.  Prints one table per workload and the issue's targets, and
writes the same to ``benchmarks/results.md``.  See the README's "Benchmarks" section.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONTENDERS = HERE / "contenders"
VENVS = HERE / ".venvs"
RESULTS = HERE / "results.md"

sys.path.insert(0, str(CONTENDERS))

import _payloads  # noqa: E402

#: Each contender's venv.  trio is added so the async clients can be measured under trio too
#: (httpx runs on it).  ``repo`` holds only r9s's runtime dependencies: this repository's r9s
#: (and the raw-socket limit) run there with r9s on ``PYTHONPATH``, not from the dev venv,
#: whose editable install puts a ``.pth`` import hook into every start (it imports
#: ``pathlib``, ``re`` and more before ``-c`` runs: +10 ms to ``python -c pass``, and
#: modules r9s would have paid for already loaded).
VENV_SPECS: dict[str, list[str]] = {
    "repo": ["h11>=0.14", "anyio>=4.0", "trio"],
    "anchor": ["r9s==0.9.0", "trio"],
    "openai": ["openai", "trio"],
    "anthropic": ["anthropic", "trio"],
}
#: The distribution whose version each venv reports.
VENV_DIST: dict[str, str] = {
    "repo": "h11",
    "anchor": "r9s",
    "openai": "openai",
    "anthropic": "anthropic",
}

# ----------------------------------------------------------------------------- sizes

FULL: dict[str, Any] = {
    "reps": 5,
    "reps_short": 7,  # (d), (e), (h), (i): runs of a fraction of a second, more exposed to noise
    "import_reps": 20,
    "import_rss_reps": 3,
    "chat": 20_000,  # (a), (b): chunks / text deltas per stream
    "chat_anchor": 4_000,  # the anchor decodes ~5k events/s: a smaller stream, same rate
    "parse": 50.0,  # (c): MB of SSE
    "parse_openai_typed": 10.0,  # openai builds ~4.5 MB/s of chunk objects
    "parse_anchor_untyped": 5.0,  # the anchor splits frames with a per-byte Python loop
    "parse_anchor_typed": 2.0,
    "seq": 1_000,  # (d): requests
    "seq_anchor": 300,
    "conc": 200,  # (e): requests, 50 in flight
    "rss": 1_000,  # chunks of the one streamed request before peak RSS is read
    "messages": 20_000,  # (g): content_block_delta events per stream
    "messages_anchor": 4_000,
    "speech": 100.0,  # (h): MB (10**6 bytes) of audio downloaded
    "upload": 100.0,  # (i): MB of file uploaded
    "timeout": 120.0,
}
QUICK: dict[str, Any] = {
    **FULL,
    "reps": 3,
    "reps_short": 3,
    "import_reps": 5,
    "chat": 2_000,
    "chat_anchor": 500,
    "parse": 5.0,
    "parse_openai_typed": 1.0,
    "parse_anchor_untyped": 0.5,
    "parse_anchor_typed": 0.3,
    "seq": 200,
    "seq_anchor": 50,
    "messages": 2_000,
    "messages_anchor": 500,
    "speech": 10.0,
    "upload": 10.0,
    "timeout": 60.0,
}

# ----------------------------------------------------------------------------- environments


def _base_env() -> dict[str, str]:
    drop = {
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "VIRTUAL_ENV",
        "PYTHONWARNINGS",
        "PYTHONDONTWRITEBYTECODE",
    }
    env = {
        k: v for k, v in os.environ.items() if k not in drop and not k.lower().endswith("_proxy")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # Every contender runs from cached bytecode, as an installed package does, without
    # writing __pycache__ into the repository: one cache tree for all, outside the sources.
    env["PYTHONPYCACHEPREFIX"] = str(VENVS / "pycache")
    return env


def _venv_python(name: str) -> Path:
    return VENVS / name / "bin" / "python"


def ensure_venvs(refresh: bool) -> dict[str, str]:
    """Create (or reuse) the contenders' venvs; returns the installed versions."""
    versions: dict[str, str] = {}
    for name, packages in VENV_SPECS.items():
        py = _venv_python(name)
        marker = VENVS / name / ".bench-spec"
        spec = " ".join(packages)
        if refresh or not py.exists() or not marker.exists() or marker.read_text() != spec:
            _log(f"setting up benchmarks/.venvs/{name}: pip install {spec}")
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(VENVS / name)],
                check=True,
                timeout=300,
            )
            pip = subprocess.run(
                [str(py), "-m", "pip", "install", "-q", "--upgrade", *packages],
                capture_output=True,
                text=True,
                timeout=600,
                env=_base_env(),
            )
            if pip.returncode != 0:
                sys.stderr.write(pip.stdout + pip.stderr)
                raise SystemExit(f"pip install {spec} failed in benchmarks/.venvs/{name}")
            marker.write_text(spec)
        dist = VENV_DIST[name]
        out = subprocess.run(
            [str(py), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tempfile.gettempdir(),
            env=_base_env(),
            check=True,
        )
        versions[name] = out.stdout.strip()
    return versions


@dataclass(frozen=True)
class Lib:
    label: str
    script: str
    python: Path
    env: dict[str, str]


def libraries() -> dict[str, Lib]:
    base = _base_env()
    ours = {**base, "PYTHONPATH": str(ROOT)}
    return {
        "limit": Lib("limit (raw socket)", "limit.py", _venv_python("repo"), base),
        "r9s": Lib("r9s (this repo)", "r9s_client.py", _venv_python("repo"), ours),
        "openai": Lib("openai", "openai_client.py", _venv_python("openai"), base),
        "anthropic": Lib("anthropic", "anthropic_client.py", _venv_python("anthropic"), base),
        "anchor": Lib("r9s==0.9.0", "anchor_client.py", _venv_python("anchor"), base),
    }


# ----------------------------------------------------------------------------- server


@contextmanager
def bench_server(warm: list[int]) -> Iterator[str]:
    """``bench_server.py`` in its own process; yields its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "bench_server.py"),
            "--port",
            "0",
            "--warm",
            ",".join(map(str, sorted(set(warm)))),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=_base_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"the bench server did not start: {line!r}")
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ----------------------------------------------------------------------------- measuring


@dataclass
class Row:
    lib: str
    variant: str
    size: float
    samples: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    cpu_us_per_mb: list[float] = field(default_factory=list)  # binary workloads
    growth_kb: list[int] = field(default_factory=list)  # binary workloads
    error: str | None = None
    na: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def cpu(self) -> float | None:
        return statistics.median(self.cpu_us_per_mb) if self.cpu_us_per_mb else None

    @property
    def peak_mib(self) -> float | None:
        return statistics.median(self.rss_kb) / 1024 if self.rss_kb else None

    @property
    def growth_mib(self) -> float | None:
        return statistics.median(self.growth_kb) / 1024 if self.growth_kb else None


@dataclass
class Workload:
    key: str
    name: str
    title: str
    unit: str
    work: Callable[[float], str]
    rows: list[Row]
    note: str = ""
    short: bool = False  # repeated ``reps_short`` times
    binary: bool = False  # MB/s, with CPU per MB and memory columns (h), (i)


#: What each workload takes of the time budget, relative to the others: about its share of
#: a full run on 2 cores, so a slow machine loses repetitions evenly.
WEIGHTS: dict[str, float] = {
    "a": 1.5,
    "b": 1.4,
    "c": 1.0,
    "d": 1.5,
    "e": 0.6,
    "f": 0.2,
    "g": 1.1,
    "h": 0.9,
    "i": 0.5,
}


#: Binary workloads: the figure is MB (10**6 bytes) of file or audio per second.
BINARY = ("speech", "upload")
#: An upload's multipart framing around the file: the body is the file plus at most this.
_MAX_FRAMING = 4096


def _value(name: str, res: dict[str, Any]) -> float:
    if name == "parse" or name in BINARY:
        return float(res["bytes"]) / float(res["seconds"]) / 1e6
    return float(res["count"]) / float(res["seconds"])


def _expected(name: str, size: float) -> tuple[int, int | None]:
    if name in ("chat", "rss"):
        return _payloads.chat_expected(int(size))
    if name == "responses":
        return _payloads.responses_expected(int(size))
    if name == "messages":
        return _payloads.messages_expected(int(size))
    if name == "parse":
        chunks, chars, _ = _payloads.parse_expected(size)
        return chunks, chars
    if name in BINARY:
        return _payloads.megabytes_to_bytes(size), None
    return int(size), None


def _wrong_answer(name: str, size: float, res: dict[str, Any]) -> str | None:
    """Why ``res`` is not what the server sent, or None if it is."""
    count, chars = _expected(name, size)
    if name == "upload":  # count: the body length the server read; the file plus framing
        if res["bytes"] != count or not count <= res["count"] <= count + _MAX_FRAMING:
            return (
                f"wrong answer: the server read a {res['count']}-byte body, expected "
                f"{count} file bytes plus the multipart framing"
            )
        return None
    if name == "speech":
        if res["count"] != count or res["bytes"] != count:
            return f"wrong answer: {res['count']} bytes read, expected {count}"
        return None
    if res["count"] != count or (chars is not None and res["chars"] != chars):
        return (
            f"wrong answer: {res['count']} items / {res['chars']} chars, expected {count} / {chars}"
        )
    return None


def _fmt_size(size: float) -> str:
    return str(int(size)) if float(size).is_integer() else str(size)


def run_child(
    lib: Lib, workload: str, variant: str, url: str, size: float, timeout: float
) -> dict[str, Any]:
    """One contender process; its JSON result, or ``{"error": ...}``."""
    cmd = [str(lib.python), str(CONTENDERS / lib.script), workload, variant, url, _fmt_size(size)]
    try:
        p = subprocess.run(
            cmd,
            cwd=WORKDIR,
            env=lib.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines:
        err = (p.stderr.strip().splitlines() or [f"exit status {p.returncode}"])[-1]
        return {"error": err[:160]}
    try:
        res: dict[str, Any] = json.loads(lines[-1])
    except ValueError:
        return {"error": f"bad output: {lines[-1][:120]!r}"}
    return res


def measure(wl: Workload, libs: dict[str, Lib], url: str, cfg: dict[str, Any], end: float) -> None:
    """Interleaved repetitions: rep 1 of every row, then rep 2, ...; rotating the order."""
    reps = cfg["reps_short"] if wl.short else cfg["reps"]
    if wl.name == "rss":  # untimed first runs: peak RSS must not include compiling bytecode
        for row in wl.rows:
            run_child(libs[row.lib], wl.name, row.variant, url, row.size, cfg["timeout"])
    for rep in range(reps):
        if time.monotonic() > end:
            _log(f"  ({wl.key}) time budget spent: stopping after {rep} repetitions")
            break
        live = [r for r in wl.rows if r.error is None and r.na is None]
        if not live:
            break
        shift = rep % len(live)
        _log(f"  ({wl.key}) repetition {rep + 1}/{reps}")
        for row in live[shift:] + live[:shift]:
            res = run_child(libs[row.lib], wl.name, row.variant, url, row.size, cfg["timeout"])
            if "na" in res:
                row.na = str(res["na"])
                continue
            if "error" in res:
                row.error = str(res["error"])
                _log(f"    {row.lib} {row.variant}: {row.error}")
                continue
            wrong = _wrong_answer(wl.name, row.size, res)
            if wrong is not None:
                row.error = wrong
                _log(f"    {row.lib} {row.variant}: {row.error}")
                continue
            row.samples.append(_value(wl.name, res))
            row.rss_kb.append(int(res.get("peak_rss_kb", 0)))
            if "cpu_s" in res:
                row.cpu_us_per_mb.append(res["cpu_s"] * 1e6 / (res["bytes"] / 1e6))
                row.growth_kb.append(int(res["growth_kb"]))


def _timed_spawn(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[float, int]:
    """Run ``cmd`` to its end: ``(wall seconds, exit status)``.

    A blocking ``wait4`` (``Popen.wait(timeout)`` polls with sleeps, which would blur the
    figure); a timer kills the child if it overstays ``timeout``.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=WORKDIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, _ = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, proc.returncode


#: Appended to an import command, in separate runs, to read its peak RSS (see
#: ``_common.peak_rss_kb`` for why not ``ru_maxrss``).
_HWM = (
    "\nfor _l in open('/proc/self/status'):\n    if _l.startswith('VmHWM:'): print(_l.split()[1])"
)


def _peak_rss(cmd: list[str], env: dict[str, str], timeout: float) -> int | None:
    try:
        p = subprocess.run(
            cmd, cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None
    out = p.stdout.split()
    return int(out[-1]) if p.returncode == 0 and out else None


@dataclass
class ImportRow:
    label: str
    lib: str
    code: str
    baseline: str | None  # the venv whose ``pass`` row is subtracted; None: a ``pass`` row
    walls: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    error: str | None = None


def import_rows() -> list[ImportRow]:
    return [
        ImportRow("python -c pass (repo venv, PYTHONPATH=repo)", "r9s", "pass", None),
        ImportRow("import r9s (this repo)", "r9s", "import r9s", "r9s"),
        ImportRow("from r9s import R9S (this repo)", "r9s", "from r9s import R9S", "r9s"),
        ImportRow("python -c pass (openai venv)", "openai", "pass", None),
        ImportRow("import openai", "openai", "import openai", "openai"),
        ImportRow("python -c pass (r9s==0.9.0 venv)", "anchor", "pass", None),
        ImportRow("import r9s (0.9.0)", "anchor", "import r9s", "anchor"),
    ]


def measure_imports(rows: list[ImportRow], libs: dict[str, Lib], cfg: dict[str, Any]) -> None:
    for row in rows:  # untimed: fills the bytecode cache
        lib = libs[row.lib]
        _timed_spawn([str(lib.python), "-c", row.code], lib.env, 60)
    for rep in range(cfg["import_reps"]):
        shift = rep % len(rows)
        for row in rows[shift:] + rows[:shift]:
            if row.error:
                continue
            lib = libs[row.lib]
            wall, rc = _timed_spawn([str(lib.python), "-c", row.code], lib.env, 60)
            if rc != 0:
                row.error = f"exit status {rc}"
                continue
            row.walls.append(wall)
    for _ in range(cfg["import_rss_reps"]):
        for row in rows:
            lib = libs[row.lib]
            if not row.error:
                rss = _peak_rss([str(lib.python), "-c", row.code + _HWM], lib.env, 60)
                if rss is not None:
                    row.rss_kb.append(rss)


# ----------------------------------------------------------------------------- the plan


SMALLER = (
    "A slow contender gets a smaller `work` to keep the run short; the figure is a rate "
    "(the one-off cost of opening a stream is well under 1% of it), so it compares."
)


SPEECH_NOTE = (
    "`sync`, `asyncio`, `trio`: the body read with `iter_bytes()` / `aiter_bytes()` and "
    "counted; `*-file`: written with `stream_to_file` (r9s: `astream_to_file` when async), "
    "so `÷ limit` compares them with the limit's `sync-file` (recv_into + write). The limit's "
    "`discard` row reads with `MSG_TRUNC` (the kernel drops the bytes, nothing is copied): "
    "the rate the server and loopback can push, above every reader's."
)
UPLOAD_NOTE = (
    "`sync`, `asyncio`, `trio`: `file=Path(...)`; `*-open`: `file=` an open binary file. "
    "openai reads the whole file into memory before sending it: that is its figure. The "
    "server reads the body into one reused 1 MiB buffer and drops it."
)
BINARY_NOTE = (
    "`CPU µs/MB`: the contender process's CPU time (user + system) over the transfer, per MB. "
    "`peak RSS`: the process's high-water mark over its whole life (imports included); "
    "`RSS growth`: the high-water mark during the transfer (reset just before the call, after "
    "a warm-up request) minus the RSS just before it. MB = 10**6 bytes; RSS in MiB."
)


def workloads(cfg: dict[str, Any]) -> list[Workload]:
    n, na = cfg["chat"], cfg["chat_anchor"]
    stream_rows = [
        Row("limit", "sync", n),
        Row("r9s", "sync", n),
        Row("r9s", "asyncio", n),
        Row("r9s", "trio", n),
        Row("openai", "sync", n),
        Row("openai", "asyncio", n),
        Row("openai", "trio", n),
        Row("anchor", "sync", na),
        Row("anchor", "asyncio", na),
        Row("anchor", "trio", na),
    ]

    def chunks(s: float) -> str:
        return f"{int(s):,} chunks"

    def deltas(s: float) -> str:
        return f"{int(s):,} deltas"

    def mb(s: float) -> str:
        return f"{s:g} MB"

    def reqs(s: float) -> str:
        return f"{int(s):,} req"

    p = cfg["parse"]
    return [
        Workload(
            "a",
            "chat",
            "(a) one streamed chat completion; the caller reads choices[0].delta.content",
            "events/s",
            chunks,
            [Row(r.lib, r.variant, r.size) for r in stream_rows],
            note=SMALLER,
        ),
        Workload(
            "b",
            "responses",
            "(b) one streamed Responses answer; the caller reads each output_text delta",
            "deltas/s",
            deltas,
            [Row(r.lib, r.variant, r.size) for r in stream_rows],
            note=SMALLER,
        ),
        Workload(
            "c",
            "parse",
            "(c) parse-only: SSE chat chunks in memory, fed in 64 KiB pieces",
            "MB/s",
            mb,
            [
                Row("limit", "untyped", p),
                Row("r9s", "untyped", p),
                Row("r9s", "typed", p),
                Row("openai", "untyped", p),
                Row("openai", "typed", cfg["parse_openai_typed"]),
                Row("anchor", "untyped", cfg["parse_anchor_untyped"]),
                Row("anchor", "typed", cfg["parse_anchor_typed"]),
            ],
            note="untyped: the library's SSE framing + json.loads, dicts out; typed: the "
            "library's chunk objects, as its stream hands them over. " + SMALLER,
        ),
        Workload(
            "d",
            "seq",
            "(d) sequential small non-stream chat completions on one client",
            "req/s",
            reqs,
            [
                Row("limit", "sync", cfg["seq"]),
                Row("r9s", "sync", cfg["seq"]),
                Row("r9s", "asyncio", cfg["seq"]),
                Row("r9s", "trio", cfg["seq"]),
                Row("openai", "sync", cfg["seq"]),
                Row("openai", "asyncio", cfg["seq"]),
                Row("openai", "trio", cfg["seq"]),
                Row("anchor", "sync", cfg["seq_anchor"]),
                Row("anchor", "asyncio", cfg["seq_anchor"]),
                Row("anchor", "trio", cfg["seq_anchor"]),
            ],
            note=SMALLER,
            short=True,
        ),
        Workload(
            "e",
            "conc",
            "(e) concurrent non-stream requests, 50 in flight, on one async client",
            "req/s",
            lambda s: f"{int(s):,} req @50",
            [
                Row("limit", "select", cfg["conc"]),
                Row("r9s", "asyncio", cfg["conc"]),
                Row("r9s", "trio", cfg["conc"]),
                Row("openai", "asyncio", cfg["conc"]),
                Row("openai", "trio", cfg["conc"]),
                Row("anchor", "asyncio", cfg["conc"]),
                Row("anchor", "trio", cfg["conc"]),
            ],
            short=True,
        ),
        Workload(
            "g",
            "messages",
            "(g) one streamed Anthropic message; the caller reads each content_block_delta's "
            "delta.text",
            "events/s",
            deltas,
            [
                Row("limit", "sync", cfg["messages"]),
                Row("r9s", "sync", cfg["messages"]),
                Row("r9s", "asyncio", cfg["messages"]),
                Row("r9s", "trio", cfg["messages"]),
                Row("anthropic", "sync", cfg["messages"]),
                Row("anthropic", "asyncio", cfg["messages"]),
                Row("anthropic", "trio", cfg["messages"]),
                Row("anchor", "sync", cfg["messages_anchor"]),
                Row("anchor", "asyncio", cfg["messages_anchor"]),
                Row("anchor", "trio", cfg["messages_anchor"]),
            ],
            note=SMALLER,
        ),
        Workload(
            "h",
            "speech",
            "(h) download one speech body (audio.speech), read as it arrives",
            "MB/s",
            mb,
            [
                Row("limit", "sync", cfg["speech"]),
                Row("limit", "sync-file", cfg["speech"]),
                Row("limit", "discard", cfg["speech"]),
                *(
                    Row(lib, f"{mode}{kind}", cfg["speech"])
                    for lib in ("r9s", "openai")
                    for mode in ("sync", "asyncio", "trio")
                    for kind in ("", "-file")
                ),
            ],
            note=SPEECH_NOTE + " " + BINARY_NOTE,
            short=True,
            binary=True,
        ),
        Workload(
            "i",
            "upload",
            "(i) upload one file for transcription (audio.transcribe, multipart/form-data)",
            "MB/s",
            mb,
            [
                Row("limit", "sync", cfg["upload"]),
                *(
                    Row("r9s", f"{mode}{kind}", cfg["upload"])
                    for mode in ("sync", "asyncio", "trio")
                    for kind in ("", "-open")
                ),
                Row("openai", "sync", cfg["upload"]),
                Row("openai", "asyncio", cfg["upload"]),
                Row("openai", "trio", cfg["upload"]),
            ],
            note=UPLOAD_NOTE + " " + BINARY_NOTE,
            short=True,
            binary=True,
        ),
    ]


def rss_workload(cfg: dict[str, Any]) -> Workload:
    n = cfg["rss"]
    return Workload(
        "f",
        "rss",
        f"(f) peak RSS of a process that imported the library and read one {n:,}-chunk stream",
        "MiB",
        lambda s: f"{int(s):,} chunks",
        [
            Row("r9s", "sync", n),
            Row("r9s", "asyncio", n),
            Row("openai", "sync", n),
            Row("anchor", "sync", n),
        ],
    )


# ----------------------------------------------------------------------------- reporting


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        out = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(out) + " |"

    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def _num(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if unit in ("MB/s", "MiB", "ms"):
        return f"{v:,.1f}"
    return f"{v:,.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x"


def _r9s_peer(wl: Workload, row: Row) -> Row | None:
    peers = {r.variant: r for r in wl.rows if r.lib == "r9s"}
    if row.lib == "limit":
        if row.variant in peers:
            return peers[row.variant]
        if row.variant == "discard":  # the server's headroom, not a reader
            return None
        return peers.get("sync") or peers.get("untyped") or peers.get("asyncio")
    return peers.get(row.variant)


def _limit_for(wl: Workload, row: Row) -> Row | None:
    """The limit row ``row`` is divided by: the one of the same kind (``*-file`` by the
    limit's ``sync-file``), else the first."""
    limits = [r for r in wl.rows if r.lib == "limit"]
    kind = row.variant.partition("-")[2]
    same = [r for r in limits if r.variant.partition("-")[2] == kind]
    pick = same or limits
    return pick[0] if pick else None


def render_workload(wl: Workload, libs: dict[str, Lib]) -> str:
    body = []
    extra = 3 if wl.binary else 0
    for row in wl.rows:
        med = row.median
        peer = _r9s_peer(wl, row)
        limit = _limit_for(wl, row)
        lim = limit.median if limit is not None else None
        if row.na or row.error or med is None:
            why = f"n/a: {row.na}" if row.na else f"error: {row.error}" if row.error else "no data"
            body.append(
                [libs[row.lib].label, row.variant, wl.work(row.size), why, *[""] * (4 + extra)]
            )
            continue
        spread = f"{_num(min(row.samples), wl.unit)}..{_num(max(row.samples), wl.unit)}"
        r9s_vs = _ratio(peer.median, med) if peer is not None else "—"
        cells = [
            libs[row.lib].label,
            row.variant,
            wl.work(row.size),
            _num(med, wl.unit),
            spread,
            str(len(row.samples)),
            _ratio(med, lim) if limit is not row else "1.00x",
            r9s_vs if row.lib != "r9s" else "1.00x",
        ]
        if wl.binary:
            cpu, peak, growth = row.cpu, row.peak_mib, row.growth_mib
            cells += [
                "—" if cpu is None else f"{cpu:,.0f}",
                "—" if peak is None else f"{peak:.1f}",
                "—" if growth is None else f"{growth:.2f}",
            ]
        body.append(cells)
    headers = [
        "contender",
        "variant",
        "work",
        f"median {wl.unit}",
        "min..max",
        "reps",
        "÷ limit",
        "r9s ÷ this",
    ]
    if wl.binary:
        headers += ["CPU µs/MB", "peak RSS MiB", "RSS growth MiB"]
    right = {3, 4, 5, 6, 7, *range(8, 8 + extra)}
    out = f"### {wl.title}\n\n{_table(headers, body, right)}"
    if wl.note:
        out += f"\n\n{wl.note}"
    return out


def render_rss(wl: Workload, libs: dict[str, Lib]) -> str:
    body = []
    for row in wl.rows:
        if row.na or row.error or not row.rss_kb:
            body.append(
                [libs[row.lib].label, row.variant, row.error or row.na or "no data", "", ""]
            )
            continue
        mibs = [k / 1024 for k in row.rss_kb]
        body.append(
            [
                libs[row.lib].label,
                row.variant,
                f"{statistics.median(mibs):.1f}",
                f"{min(mibs):.1f}..{max(mibs):.1f}",
                str(len(mibs)),
            ]
        )
    table = _table(
        ["contender", "variant", "peak RSS MiB (median)", "min..max", "reps"], body, {2, 3, 4}
    )
    return f"### {wl.title}\n\n{table}"


def _import_baseline(rows: list[ImportRow], lib: str) -> ImportRow | None:
    return next((r for r in rows if r.lib == lib and r.baseline is None), None)


def import_added_ms(rows: list[ImportRow], row: ImportRow) -> float | None:
    base = _import_baseline(rows, row.lib)
    if base is None or not base.walls or not row.walls or row.baseline is None:
        return None
    return (statistics.median(row.walls) - statistics.median(base.walls)) * 1000


def render_imports(rows: list[ImportRow], reps: int) -> str:
    body = []
    for row in rows:
        if row.error or not row.walls:
            body.append([row.label, f"error: {row.error or 'no data'}", "", "", "", ""])
            continue
        med = statistics.median(row.walls) * 1000
        added = import_added_ms(rows, row)
        body.append(
            [
                row.label,
                f"{med:.1f}",
                f"{min(row.walls) * 1000:.1f}..{max(row.walls) * 1000:.1f}",
                "—" if added is None else f"{added:+.1f}",
                f"{statistics.median(row.rss_kb) / 1024:.1f}" if row.rss_kb else "—",
                str(len(row.walls)),
            ]
        )
    headers = [
        "command (python -c ...)",
        "wall ms (median)",
        "min..max",
        "added ms",
        "peak RSS MiB",
        "reps",
    ]
    title = f"### (f) import time and memory: whole fresh processes, {reps} runs each"
    return f"{title}\n\n{_table(headers, body, {1, 2, 3, 4, 5})}"


def _row(wls: dict[str, Workload], key: str, lib: str, variant: str) -> Row | None:
    wl = wls.get(key)
    if wl is None:
        return None
    return next((r for r in wl.rows if r.lib == lib and r.variant == variant), None)


def _med(wls: dict[str, Workload], key: str, lib: str, variant: str) -> float | None:
    row = _row(wls, key, lib, variant)
    return row.median if row is not None else None


def binary_targets(wls: dict[str, Workload]) -> list[list[str]]:
    """The targets of (g), (h) and (i) (issues 12 and 13)."""
    out: list[list[str]] = []

    def m(key: str, lib: str, variant: str) -> float | None:
        return _med(wls, key, lib, variant)

    def ratio(name: str, a: float | None, b: float | None, goal: float) -> None:
        if a is None or b is None or b == 0:
            out.append([name, "—", f">= {goal:g}x", "not measured"])
            return
        r = a / b
        out.append([name, f"{r:.2f}x", f">= {goal:g}x", "met" if r >= goal else "NOT met"])

    def at_most(name: str, rows: list[Row | None], attr: str, goal: float) -> None:
        """The worst (largest) median of ``attr`` over ``rows``, against ``goal`` MiB."""
        vals = [(getattr(r, attr), r.variant) for r in rows if r is not None]
        vals = [(v, var) for v, var in vals if v is not None]
        if not vals or len(vals) < len(rows):
            out.append([name, "—", f"<= {goal:g} MiB", "not measured"])
            return
        worst, var = max(vals)
        where = f" ({var})" if len(vals) > 1 else ""
        out.append(
            [
                name,
                f"{worst:.2f} MiB{where}",
                f"<= {goal:g} MiB",
                "met" if worst <= goal else "NOT met",
            ]
        )

    modes = ("sync", "asyncio", "trio")
    if "g" in wls:
        for v in modes:
            ratio(f"(g) messages {v}: r9s ÷ limit", m("g", "r9s", v), m("g", "limit", "sync"), 0.7)
        for v in modes:
            ratio(
                f"(g) messages {v}: r9s ÷ anthropic {v}",
                m("g", "r9s", v),
                m("g", "anthropic", v),
                3.5,
            )
    if "h" in wls:
        for v, goal in (("sync", 0.8), ("asyncio", 0.6), ("trio", 0.6)):
            ratio(
                f"(h) speech {v} iter_bytes: r9s ÷ limit",
                m("h", "r9s", v),
                m("h", "limit", "sync"),
                goal,
            )
        for v in modes:
            ratio(f"(h) speech {v}: r9s ÷ openai {v}", m("h", "r9s", v), m("h", "openai", v), 1.5)
        for v in modes:
            at_most(
                f"(h) speech {v} to a file: RSS growth",
                [_row(wls, "h", "r9s", f"{v}-file")],
                "growth_mib",
                2,
            )
        for v in modes:
            at_most(
                f"(h) speech {v}: peak RSS (worst of iter / file)",
                [_row(wls, "h", "r9s", v), _row(wls, "h", "r9s", f"{v}-file")],
                "peak_mib",
                30,
            )
    if "i" in wls:
        for v in modes:
            ratio(f"(i) upload {v}: r9s ÷ limit", m("i", "r9s", v), m("i", "limit", "sync"), 0.9)
        for v in modes:
            ours, theirs = _row(wls, "i", "r9s", v), _row(wls, "i", "openai", v)
            name = f"(i) upload {v}: CPU per MB, r9s vs openai"
            if ours is None or theirs is None or ours.cpu is None or theirs.cpu is None:
                out.append([name, "—", "< openai", "not measured"])
                continue
            out.append(
                [
                    name,
                    f"{ours.cpu:,.0f} vs {theirs.cpu:,.0f} µs/MB",
                    "< openai",
                    "met" if ours.cpu < theirs.cpu else "NOT met",
                ]
            )
        for v in modes:
            at_most(
                f"(i) upload {v}: RSS growth (worst of path / open file)",
                [_row(wls, "i", "r9s", v), _row(wls, "i", "r9s", f"{v}-open")],
                "growth_mib",
                2,
            )
        for v in modes:
            at_most(
                f"(i) upload {v}: peak RSS (worst of path / open file)",
                [_row(wls, "i", "r9s", v), _row(wls, "i", "r9s", f"{v}-open")],
                "peak_mib",
                30,
            )
    return out


def targets(
    wls: dict[str, Workload], imports: list[ImportRow], rss: Workload | None
) -> list[list[str]]:
    out: list[list[str]] = []

    def ratio_target(name: str, a: float | None, b: float | None, goal: float) -> None:
        if a is None or b is None or b == 0:
            out.append([name, "—", f">= {goal:g}x", "not measured"])
            return
        r = a / b
        out.append([name, f"{r:.2f}x", f">= {goal:g}x", "met" if r >= goal else "NOT met"])

    def m(key: str, lib: str, variant: str) -> float | None:
        return _med(wls, key, lib, variant)

    ratio_target(
        "(c) parse typed: r9s ÷ limit", m("c", "r9s", "typed"), m("c", "limit", "untyped"), 0.8
    )
    ratio_target(
        "(c) parse typed: r9s ÷ openai typed", m("c", "r9s", "typed"), m("c", "openai", "typed"), 5
    )
    for v in ("sync", "asyncio", "trio"):
        ratio_target(f"(a) stream {v}: r9s ÷ limit", m("a", "r9s", v), m("a", "limit", "sync"), 0.7)
    for v in ("sync", "asyncio", "trio"):
        ratio_target(f"(a) stream {v}: r9s ÷ openai {v}", m("a", "r9s", v), m("a", "openai", v), 3)
    for v in ("sync", "asyncio", "trio"):
        ratio_target(
            f"(a) stream {v}: r9s ÷ r9s==0.9.0 {v}", m("a", "r9s", v), m("a", "anchor", v), 20
        )
    ratio_target(
        "(d) sequential sync: r9s ÷ openai", m("d", "r9s", "sync"), m("d", "openai", "sync"), 4
    )
    for v in ("asyncio", "trio"):
        ratio_target(
            f"(e) concurrent {v}: r9s ÷ openai {v}", m("e", "r9s", v), m("e", "openai", v), 3
        )

    by_label = {r.label: r for r in imports}
    ours = by_label.get("import r9s (this repo)")
    theirs = by_label.get("import openai")
    added = import_added_ms(imports, ours) if ours else None
    added_openai = import_added_ms(imports, theirs) if theirs else None
    if added is None:
        out.append(["(f) import r9s adds (median)", "—", "<= 15 ms", "not measured"])
    else:
        out.append(
            [
                "(f) import r9s adds (median)",
                f"{added:.1f} ms",
                "<= 15 ms",
                "met" if added <= 15 else "NOT met",
            ]
        )
    facade = by_label.get("from r9s import R9S (this repo)")
    added_facade = import_added_ms(imports, facade) if facade else None
    if added_facade is not None:  # `import r9s` is lazy: the same bar, read strictly
        out.append(
            [
                "(f) from r9s import R9S adds (same bar, strict reading)",
                f"{added_facade:.1f} ms",
                "<= 15 ms",
                "met" if added_facade <= 15 else "NOT met",
            ]
        )
    if added is None or not added_openai:
        out.append(["(f) import r9s adds ÷ import openai adds", "—", "<= 0.10", "not measured"])
    else:
        frac = added / added_openai
        out.append(
            [
                "(f) import r9s adds ÷ import openai adds",
                f"{frac:.3f} ({added:.1f} / {added_openai:.1f} ms)",
                "<= 0.10",
                "met" if frac <= 0.1 else "NOT met",
            ]
        )
    row = (
        next((r for r in rss.rows if r.lib == "r9s" and r.variant == "sync"), None) if rss else None
    )
    if row is None or not row.rss_kb:
        out.append(["(f) peak RSS, r9s sync after one stream", "—", "<= 25 MiB", "not measured"])
    else:
        mib = statistics.median(row.rss_kb) / 1024
        out.append(
            [
                "(f) peak RSS, r9s sync after one stream",
                f"{mib:.1f} MiB",
                "<= 25 MiB",
                "met" if mib <= 25 else "NOT met",
            ]
        )
    return out + binary_targets(wls)


# ----------------------------------------------------------------------------- main


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


WORKDIR = tempfile.gettempdir()
ALL = "a,b,c,d,e,f,g,h,i"


def main(argv: list[str] | None = None) -> int:
    global WORKDIR
    ap = argparse.ArgumentParser(description="Run the r9s benchmark suite.")
    ap.add_argument("--quick", action="store_true", help="small sizes, 3 repetitions (smoke run)")
    ap.add_argument("--only", default=ALL, help="workloads to run, e.g. a,c,f (default: a-i)")
    ap.add_argument(
        "--reps", type=int, help="repetitions per contender (default 5, 7 for d, e, h, i; quick 3)"
    )
    ap.add_argument(
        "--budget",
        type=float,
        default=570.0,
        help="seconds the workloads (a)-(i) may take; past a workload's share, it stops "
        "adding repetitions (the table shows how many ran)",
    )
    ap.add_argument("--refresh-venvs", action="store_true", help="recreate the contenders' venvs")
    ap.add_argument("--no-save", action="store_true", help=f"do not write {RESULTS.name}")
    args = ap.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.reps is not None:
        if args.reps < 1:
            ap.error("--reps must be at least 1")
        cfg["reps"] = cfg["reps_short"] = args.reps
    only = {k.strip() for k in args.only.split(",") if k.strip()}
    unknown = only - set(ALL.split(","))
    if unknown:
        ap.error(f"unknown workloads: {', '.join(sorted(unknown))} (use a-i)")

    started = time.monotonic()
    end = started + args.budget
    with tempfile.TemporaryDirectory(prefix="r9s-bench-") as workdir:
        WORKDIR = workdir  # contenders run outside the repo: only PYTHONPATH points at it
        versions = ensure_venvs(args.refresh_venvs)
        libs = libraries()
        plan = [w for w in workloads(cfg) if w.key in only]
        rss = rss_workload(cfg) if "f" in only else None
        imports = import_rows() if "f" in only else []
        warm = [cfg["chat"], cfg["chat_anchor"], cfg["rss"], cfg["messages"]]
        warm += [cfg["messages_anchor"], 1, 2]
        if any(w.name == "upload" for w in plan):
            nbytes = _payloads.megabytes_to_bytes(cfg["upload"])
            _log(f"writing the {nbytes:,}-byte file (i) uploads")
            _payloads.write_upload_file(
                os.path.join(workdir, _payloads.upload_path_name(nbytes)), nbytes
            )
        with bench_server(warm) as url:
            todo = plan + ([rss] if rss is not None else [])
            for i, wl in enumerate(todo):
                # Each workload may use its share (by weight) of what is left of the budget,
                # so a slow machine loses repetitions everywhere rather than whole workloads
                # at the end.
                weight = WEIGHTS.get(wl.key, 1.0)
                left = sum(WEIGHTS.get(w.key, 1.0) for w in todo[i:])
                share = (end - time.monotonic()) * weight / left
                _log(f"{wl.title}")
                t0 = time.monotonic()
                measure(wl, libs, url, cfg, t0 + share)
                _log(f"  ({wl.key}) {time.monotonic() - t0:.0f} s")
        if imports:
            _log("(f) import time")
            measure_imports(imports, libs, cfg)
    total = time.monotonic() - started

    sections = [render_workload(w, libs) for w in plan]
    if imports:
        sections.append(render_imports(imports, cfg["import_reps"]))
    if rss is not None:
        sections.append(render_rss(rss, libs))
    tgt = _table(
        ["target (issues 4, 12, 13)", "measured", "goal", "status"],
        targets({w.key: w for w in plan}, imports, rss),
        set(),
    )
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick smoke run" if args.quick else "full run"
    header = (
        f"## r9s benchmarks — {mode}, {now}\n\n"
        f"- machine: {_machine()}\n"
        f"- contenders: r9s from this repo (h11 {versions.get('repo', '?')}), openai {versions.get('openai', '?')}, "
        f"anthropic {versions.get('anthropic', '?')}, "
        f"r9s {versions.get('anchor', '?')} (anchor); repetitions: {cfg['reps']} "
        f"((d), (e), (h), (i): {cfg['reps_short']}; imports: {cfg['import_reps']}), interleaved; "
        f"every figure is a median\n"
        f"- command: `.venv/bin/python benchmarks/run.py{' --quick' if args.quick else ''}"
        f"{' --only ' + args.only if args.only != ALL else ''}`; "
        f"total run time {total:.0f} s\n"
        f"- `÷ limit`: this contender's figure over the raw-socket limit's; `r9s ÷ this`: "
        f"r9s's figure (same variant) over this one's, i.e. how many times faster r9s is"
    )
    report = "\n\n".join([header, *sections, f"### Targets\n\n{tgt}"]) + "\n"
    print(report)
    if not args.no_save:
        RESULTS.write_text(report)
        _log(f"saved {RESULTS.relative_to(ROOT)}; total {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
