"""The published ``r9s==0.9.0`` (the anchor) in a venv of its own, for the wire-parity tests.

``anchor_python`` is the interpreter of a venv holding the anchor, found or made once per
session:

1. reused: ``tests/wire/.anchor-venv`` (this folder's cache, gitignored) or the benchmarks'
   ``benchmarks/.venvs/anchor``, whichever holds ``r9s`` 0.9.0 importable on its own;
2. else made: ``python -m venv tests/wire/.anchor-venv`` and ``pip install r9s==0.9.0``
   (PyPI), at most ``INSTALL_TIMEOUT`` seconds in all, under a lock so that two test
   sessions never build it at once.

Only when that install fails are the parity tests skipped, with pip's own error in the
reason.  The anchor is always run with ``python -I`` from a directory outside the
repository: neither ``PYTHONPATH`` nor the working directory can put this repository's
``r9s`` in its place (the probe checks where ``r9s`` was imported from).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ANCHOR_VERSION = "0.9.0"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CACHE = HERE / ".anchor-venv"
CANDIDATES = (CACHE, ROOT / "benchmarks" / ".venvs" / "anchor")
#: Seconds for making the venv and installing the anchor, in all.
INSTALL_TIMEOUT = 300.0
#: Written into the cache venv once the install succeeded; a venv without it is remade.
MARKER = ".r9s-anchor-ok"

_PROBE = (
    "import importlib.metadata as m, json, sys, r9s; "
    "print(json.dumps({'version': m.version('r9s'), 'file': r9s.__file__, "
    "'prefix': sys.prefix}))"
)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def clean_env(*, loopback: bool) -> dict[str, str]:
    """The environment for the anchor's processes: no Python overrides.

    With ``loopback``, no proxy either (the anchor only talks to servers on 127.0.0.1);
    pip keeps the proxies it may need to reach PyPI.
    """
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if loopback:
        env = {k: v for k, v in env.items() if not k.lower().endswith("_proxy")}
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def probe(python: Path) -> str | None:
    """Why ``python`` cannot serve as the anchor, or None when it holds ``r9s`` 0.9.0."""
    if not python.exists():
        return f"{python} does not exist"
    try:
        out = subprocess.run(
            [str(python), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tempfile.gettempdir(),
            env=clean_env(loopback=True),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python}: {exc}"
    if out.returncode != 0:
        return f"{python}: cannot import r9s: {out.stderr.strip()[-500:]}"
    found = json.loads(out.stdout.strip().splitlines()[-1])
    if found["version"] != ANCHOR_VERSION:
        return f"{python} holds r9s {found['version']}, not {ANCHOR_VERSION}"
    if not Path(found["file"]).resolve().is_relative_to(Path(found["prefix"]).resolve()):
        return f"{python} imports r9s from {found['file']}, outside its venv"
    return None


@contextmanager
def _install_lock(path: Path, deadline: float) -> Iterator[None]:
    """An exclusive lock on ``path`` (POSIX ``flock``), waited for until ``deadline``."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, sessions are rarely parallel
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{path} stayed locked by another session") from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def install_anchor(venv: Path, timeout: float = INSTALL_TIMEOUT) -> str | None:
    """Make ``venv`` with ``r9s==0.9.0`` (unless a finished one is there); the error or None."""
    deadline = time.monotonic() + timeout
    python = venv_python(venv)
    try:
        with _install_lock(venv.with_name(venv.name + ".lock"), deadline):
            if (venv / MARKER).exists() and probe(python) is None:
                return None  # another session made it while this one waited
            steps = [
                [sys.executable, "-m", "venv", "--clear", str(venv)],
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    f"r9s=={ANCHOR_VERSION}",
                ],
            ]
            for argv in steps:
                left = deadline - time.monotonic()
                if left <= 0:
                    return f"out of time ({timeout:.0f} s) before {' '.join(argv[-3:])}"
                done = subprocess.run(
                    argv,
                    capture_output=True,
                    text=True,
                    timeout=left,
                    cwd=tempfile.gettempdir(),
                    env=clean_env(loopback=False),
                )
                if done.returncode != 0:
                    return (
                        f"{' '.join(argv[2:])} exited with {done.returncode}:\n"
                        f"{(done.stdout + done.stderr).strip()[-3000:]}"
                    )
            why = probe(python)
            if why is not None:
                return why
            (venv / MARKER).write_text(ANCHOR_VERSION)
            return None
    except subprocess.TimeoutExpired as exc:
        return f"{' '.join(map(str, exc.cmd[2:]))} took more than {exc.timeout:.0f} s"
    except (OSError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def anchor_python() -> Path:
    """The interpreter of a venv holding the published ``r9s==0.9.0``; skips if none can be made."""
    for venv in CANDIDATES:
        if probe(venv_python(venv)) is None:
            return venv_python(venv)
    error = install_anchor(CACHE)
    if error is not None:
        sys.stderr.write(f"\ntests/wire: installing r9s=={ANCHOR_VERSION} failed:\n{error}\n")
        pytest.skip(f"the published r9s=={ANCHOR_VERSION} could not be installed: {error}")
    return venv_python(CACHE)


#: Seconds one run of the driver in the anchor's venv may take (about 250 calls: seconds).
ANCHOR_RUN_TIMEOUT = 300


@pytest.fixture(scope="session")
def run_anchor(anchor_python: Path) -> Callable[[Path, dict[str, Any]], dict[str, Any]]:
    """``run_anchor(script, payload)``: ``script`` in the anchor's venv; its last JSON line.

    The payload goes in as JSON on stdin.  The script runs isolated (``python -I``), from the
    temporary directory, with no proxy: it sees the installed anchor and nothing of this
    repository.
    """

    def run(script: Path, payload: dict[str, Any]) -> dict[str, Any]:
        done = subprocess.run(
            [str(anchor_python), "-I", str(script)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=ANCHOR_RUN_TIMEOUT,
            cwd=tempfile.gettempdir(),
            env=clean_env(loopback=True),
        )
        assert done.returncode == 0, (
            f"{script.name} failed in the anchor's venv:\n{done.stderr[-4000:]}"
        )
        report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return report

    return run
