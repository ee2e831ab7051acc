"""Every ```python block of ``docs/*.md`` and ``README.md`` runs, as written, against the
built-in server; and every page documents what the client offers.

How a file's blocks run: in order, in one namespace (a later block may use a name an earlier
one defined, as the README's do with ``client``), in a subprocess of their own: this file run
as a script (``--child``), which starts an ``r9s.testing.FakeServer`` on 127.0.0.1 and points
the snippets at it without touching their text:

- ``R9S(api_key="sk-...")`` with no URL: ``r9s.client.SERVERS`` (the published server list,
  where the default base URL comes from) is set to ``(server.url,)``;
- ``R9S.from_env()``: ``R9S_API_KEY`` and ``R9S_BASE_URL`` are set; every other ``R9S_*`` and
  proxy variable is removed, so the caller's environment cannot change a result;
- any name lookup of a host other than loopback fails at once, so a snippet that would reach
  the network fails clearly instead of leaving the machine.

Why a subprocess per file, rather than ``exec`` in the test process: a snippet runs as in a
user's fresh interpreter (``asyncio.run``, ``trio.run``, module globals such as the
once-per-process ``R9S_LOG`` setup, the patched server list, environment variables: nothing
leaks into other tests, or from them); and a snippet that hangs is bounded wherever it blocks
(in C, in a thread, in an event loop): ``faulthandler`` prints every thread's stack and ends the
child after ``BLOCK_TIMEOUT`` seconds of one block, and the parent kills it if even that fails.
The cost is one interpreter start per file (about a tenth of a second).

Each block is one test, ``docs/chat.md:42`` (the line of its opening fence); tracebacks show
the Markdown file's own line numbers.  A block is not run only when its first line is an
explicit marker, ``# not run: <why>``; such markers must stay rare (``MAX_OPT_OUTS``).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import typing
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
#: The first line of a block that is deliberately not run.
OPT_OUT = "# not run:"
MAX_OPT_OUTS = 3
#: Longest one block may run (every call goes to a local server; most take milliseconds).
BLOCK_TIMEOUT = 30.0
#: Fence info strings that look like Python but are not ``python``: refused, so that no
#: Python block escapes the runner by its spelling.
_PYTHONISH = re.compile(r"^(py|py3|python\d*|pycon|ipython|python-.*)$", re.IGNORECASE)
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")


class Block(NamedTuple):
    """One fenced code block of a Markdown file."""

    path: Path
    #: The line of the opening fence (1-based); the code starts on the next line.
    line: int
    info: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def is_python(self) -> bool:
        return self.info.split(" ")[0] == "python" if self.info else False

    @property
    def opt_out(self) -> str | None:
        """The reason given by a ``# not run:`` first line, or ``None``."""
        first = self.code.lstrip("\n").split("\n", 1)[0].strip()
        if first.lower().startswith(OPT_OUT):
            return first[len(OPT_OUT) :].strip()
        return None


def blocks_of(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file (CommonMark fences: ``` or ~~~, at most
    three spaces of indentation, closed by a fence of the same character at least as long)."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence = opening["fence"]
        start, body = i + 1, []
        i += 1
        while i < len(lines):
            closing = _FENCE.match(lines[i])
            if (
                closing is not None
                and not closing["info"]
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
            ):
                break
            body.append(lines[i])
            i += 1
        blocks.append(Block(path, start, opening["info"], "\n".join(body) + "\n"))
        i += 1
    return blocks


def sources() -> list[Path]:
    return [*sorted(DOCS.glob("*.md")), README]


# -- the child: one Markdown file's blocks, run in order (imports no pytest) -------------------


def _child(md: Path, results: Path) -> int:
    import contextlib
    import faulthandler
    import gc
    import io
    import socket
    import traceback
    import warnings

    unraisable: list[str] = []

    def keep_unraisable(args: Any) -> None:
        what = "".join(traceback.format_exception_only(args.exc_type, args.exc_value)).strip()
        unraisable.append(f"{what} (in {args.object!r})")

    sys.unraisablehook = keep_unraisable
    warnings.filterwarnings("error", category=ResourceWarning)

    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("127.0.0.1", "localhost", "::1"):
            raise OSError(f"the docs snippets run offline: no lookup of {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = loopback_only

    from r9s.testing import FakeServer

    server = FakeServer().start()
    os.environ["R9S_API_KEY"] = "sk-docs-snippets"
    os.environ["R9S_BASE_URL"] = server.url
    import r9s.client

    r9s.client.SERVERS = (server.url,)

    namespace: dict[str, Any] = {"__name__": "__main__"}
    with results.open("w", encoding="utf-8") as out:

        def report(**fields: Any) -> None:
            out.write(json.dumps(fields) + "\n")
            out.flush()

        for block in blocks_of(md):
            if not block.is_python:
                continue
            if block.opt_out is not None:
                report(line=block.line, status="skipped", reason=block.opt_out)
                continue
            before = len(server.requests)
            output = io.StringIO()
            error = ""
            code = compile("\n" * block.line + block.code, str(md), "exec")
            faulthandler.dump_traceback_later(BLOCK_TIMEOUT, exit=True)
            try:
                with contextlib.redirect_stdout(output):
                    exec(code, namespace)
            except BaseException as exc:  # SystemExit and KeyboardInterrupt fail it too
                tb = exc.__traceback__.tb_next if exc.__traceback__ else None
                error = "".join(traceback.format_exception(type(exc), exc, tb))
            finally:
                faulthandler.cancel_dump_traceback_later()
            gc.collect()
            if unraisable and not error:
                error = "left behind (closed by the garbage collector):\n" + "\n".join(unraisable)
            unraisable.clear()
            report(
                line=block.line,
                status="failed" if error else "ok",
                error=error,
                output=output.getvalue()[-4000:],
                requests=len(server.requests) - before,
            )

        # What the snippets left open is closed here, as a script's exit would; anything the
        # garbage collector still has to close (an unclosed socket ...) is reported.
        from r9s.streaming import EventStream

        for value in list(namespace.values()):
            if isinstance(value, r9s.client.R9S | EventStream):
                value.close()
        namespace.clear()
        server.close()
        gc.collect()
        report(line=0, status="failed" if unraisable else "ok", error="\n".join(unraisable))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "--child":
        sys.exit(f"usage: {sys.argv[0]} --child FILE.md RESULTS.jsonl")
    sys.exit(_child(Path(sys.argv[2]), Path(sys.argv[3])))


# -- the tests ----------------------------------------------------------------------------------

# Imported only here, after the child's entry point: the child runs the snippets in an
# interpreter without pytest (and without r9s's operation table until a snippet loads it).
import pytest  # noqa: E402

from r9s._core.api import OPERATIONS  # noqa: E402
from r9s._core.operations import OPTION_NAMES  # noqa: E402
from r9s.client import R9S, _Resource  # noqa: E402

#: README blocks that cannot run as written, until the README is fixed: ``(a line of the
#: block, why)``.  Each is an expected failure (strict: one that starts passing fails, so the
#: entry is removed); an entry that matches no block fails
#: ``test_pending_readme_entries_match_a_readme_block``.
PENDING_README: tuple[tuple[str, str], ...] = ()


class FileRun(NamedTuple):
    results: dict[int, dict[str, Any]]
    returncode: int | None
    stderr: str
    stdout: str


def _child_env() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("R9S_") and not name.lower().endswith("_proxy")
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@functools.cache
def run_file(path: Path) -> FileRun:
    """Run one file's blocks in a child process (once per test session)."""
    runnable = sum(1 for b in blocks_of(path) if b.is_python and b.opt_out is None)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.jsonl"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path), str(out)]
        returncode: int | None
        try:
            proc = subprocess.run(
                cmd,
                cwd=tmp,  # a snippet that writes a file writes it here
                env=_child_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=BLOCK_TIMEOUT * (runnable + 1) + 30,
            )
            returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:  # the child was killed
            returncode = None
            stdout = _text(exc.stdout)
            stderr = _text(exc.stderr) + "\n[killed: the file's time was up]"
        lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    results = {r["line"]: r for r in map(json.loads, lines)}
    return FileRun(results, returncode, stderr, stdout)


def _text(data: bytes | str | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


def _python_blocks() -> list[Block]:
    return [b for path in sources() for b in blocks_of(path) if b.is_python]


def _pending_reason(block: Block) -> str | None:
    if block.path != README:
        return None
    for needle, why in PENDING_README:
        if needle in block.code:
            return why
    return None


def _params() -> list[Any]:
    params = []
    for block in _python_blocks():
        why = _pending_reason(block)
        marks = [pytest.mark.xfail(reason=f"README, to fix: {why}", strict=True)] if why else []
        params.append(pytest.param(block, id=block.name, marks=marks))
    return params


@pytest.mark.parametrize("block", _params())
def test_snippet_runs(block: Block) -> None:
    if block.opt_out is not None:
        pytest.skip(f"marked {OPT_OUT} {block.opt_out}")
    run = run_file(block.path)
    result = run.results.get(block.line)
    if result is None:
        ran = sorted(line for line in run.results if line)
        pytest.fail(
            f"{block.name} did not finish (exit status {run.returncode}; blocks that ran: "
            f"{ran}): it hung past {BLOCK_TIMEOUT} s, or the child failed, or the file changed "
            f"during the test.\n--- stderr of the child ---\n{run.stderr[-6000:]}",
            pytrace=False,
        )
    if result["status"] != "ok":
        earlier = [
            f"{block.path.name}:{line}"
            for line, r in sorted(run.results.items())
            if 0 < line < block.line and r["status"] == "failed"
        ]
        note = f"\n(note: earlier blocks of this file failed too: {earlier})" if earlier else ""
        pytest.fail(
            f"{block.name} raised:\n{result['error']}--- its output ---\n{result['output']}{note}",
            pytrace=False,
        )


@pytest.mark.parametrize("path", sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_file_leaves_nothing_open(path: Path) -> None:
    """After the last block, closing the clients the snippets kept and collecting garbage
    finds no socket or stream left open."""
    if not any(b.is_python and b.opt_out is None for b in blocks_of(path)):
        pytest.skip("no runnable block")
    run = run_file(path)
    final = run.results.get(0)
    assert final is not None, f"the child did not finish:\n{run.stderr[-6000:]}"
    assert final["status"] == "ok", final["error"]


# -- the pages and what they document -----------------------------------------------------------


def _pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def test_the_docs_folder_has_the_pages_the_index_links() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([a-z_]+\.md)(?:#[\w-]+)?\)", index))
    existing = {p.name for p in _pages()}
    assert linked - existing == set(), "index.md links pages that do not exist"
    assert existing - linked - {"index.md"} == set(), "pages the index does not link"


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_each_page_has_a_runnable_block_that_reaches_the_server(page: Path) -> None:
    runnable = [b for b in blocks_of(page) if b.is_python and b.opt_out is None]
    assert runnable, f"{page.name} has no runnable ```python block"
    run = run_file(page)
    served = sum(run.results.get(b.line, {}).get("requests", 0) for b in runnable)
    assert served > 0, f"no block of {page.name} sent a request to the built-in server"


def test_opt_out_markers_are_rare_and_say_why() -> None:
    marked = [b for b in _python_blocks() if b.opt_out is not None]
    assert len(marked) <= MAX_OPT_OUTS, [b.name for b in marked]
    for block in marked:
        assert block.opt_out, f"{block.name}: say why after {OPT_OUT!r}"


def test_no_python_block_escapes_the_runner_by_its_spelling() -> None:
    odd = [
        b.name
        for path in sources()
        for b in blocks_of(path)
        if b.info and _PYTHONISH.match(b.info.split(" ")[0]) and not b.is_python
    ]
    assert odd == [], "write these fences as ```python so that they are run"


def test_pending_readme_entries_match_a_readme_block() -> None:
    readme = [b for b in blocks_of(README) if b.is_python]
    for needle, _ in PENDING_README:
        assert any(needle in b.code for b in readme), (
            f"no README block holds {needle!r} any more: remove its PENDING_README entry"
        )


def _resource_attributes() -> list[str]:
    return sorted(name for name, value in vars(R9S).items() if isinstance(value, _Resource))


#: The page of each resource attribute (those not listed: ``<attribute>.md``).
_PAGE_OF = {"engine_embeddings": "embeddings.md"}

#: Resources whose page is still to be written (added to the client while these pages were):
#: their checks are expected failures, strict, so writing the page makes them pass and the
#: entry must then go.  An entry for an attribute the client does not have is ignored.
PAGES_TO_WRITE: dict[str, str] = {}


def _by_resource(names: list[str]) -> list[Any]:
    """``names`` (attributes or operation names) as params, the unwritten pages' xfailed."""
    params = []
    for name in names:
        why = PAGES_TO_WRITE.get(name.split(".")[0])
        marks = [pytest.mark.xfail(reason=why, strict=True)] if why else []
        params.append(pytest.param(name, id=name, marks=marks))
    return params


def _page_of(attribute: str) -> Path:
    return DOCS / _PAGE_OF.get(attribute, f"{attribute}.md")


@pytest.mark.parametrize("attribute", _by_resource(_resource_attributes()))
def test_every_resource_has_a_page_and_a_row_in_the_index(attribute: str) -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    page = _page_of(attribute)
    assert page.exists(), f"client.{attribute} has no page ({page.name})"
    rows = [line for line in index.splitlines() if line.startswith(f"| `client.{attribute}` |")]
    assert rows, f"index.md's resources table has no row for client.{attribute}"
    assert all(f"]({page.name}" in row for row in rows), f"rows must link {page.name}"


def _exposed_operations() -> list[str]:
    """The operations of the table that the client offers (``client.<attribute>...``)."""
    exposed = set(_resource_attributes())
    return sorted(name for name in OPERATIONS if name.split(".")[0] in exposed)


@pytest.mark.parametrize("name", _by_resource(_exposed_operations()))
def test_every_operation_is_documented_with_its_parameters(name: str) -> None:
    """The page names the operation's method and path, shows a call of it and of its async
    twin, has a table row for each parameter of its ``TypedDict``, and shows each default r9s
    sends when the caller did not."""
    op = OPERATIONS[name]
    attribute, method = name.split(".")[0], name.rsplit(".", 1)[1]
    page = _page_of(attribute)
    text = page.read_text(encoding="utf-8")
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    route = f"`{op.method} {op.path}`"
    assert route in text, f"{page.name} does not name {route}"
    assert route in index, f"index.md does not name {route}"
    assert f"client.{name}(" in text, f"{page.name} shows no call of {name}"
    assert f"{method}_async(" in text, f"{page.name} shows no call of {name}'s async twin"
    hints = typing.get_type_hints(op.params)
    params = [p for p in hints if p not in OPTION_NAMES]
    if op.event is not None:
        params.append("stream")
    missing = [p for p in params if f"| `{p}` |" not in text]
    assert missing == [], f"{page.name}'s parameter table lacks {missing}"
    for param, value in op.defaults.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{param}` |"))
        assert json.dumps(value) in row, f"{page.name}: the row of {param} must show {value!r}"


def test_the_index_lists_every_constructor_argument_and_call_option() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    rows = [line for line in index.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])}
    arguments = [p for p in inspect.signature(R9S.__init__).parameters if p != "self"]
    assert [a for a in arguments if a not in documented] == []
    assert [o for o in OPTION_NAMES if o not in documented] == []
    assert "R9S.from_env(" in index


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_page_snippets_pass_ruff_as_the_code_does(page: Path, tmp_path: Path) -> None:
    """Each block of a docs page is linted and format-checked alone, with the project's ruff
    settings: so it reads like the project's code, and needs no name from another block
    (each one can be copied as it stands)."""
    pytest.importorskip("ruff")
    for block in blocks_of(page):
        if block.is_python:
            (tmp_path / f"{page.stem}_line_{block.line}.py").write_text(block.code, "utf-8")
    config = str(ROOT / "pyproject.toml")
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--config", config, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"ruff {command[0]}:\n{proc.stdout}{proc.stderr}"
