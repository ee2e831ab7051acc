"""The ``r9s`` command line, run as a subprocess against a ``FakeServer`` in this process.

Why subprocesses: exit codes, what reaches stdout and stderr, signals, a closed pipe and a
terminal on stdin are the CLI's behaviour, and only a real process shows them.  Every wait is
bounded by ``TIMEOUT``, a safety limit that no assertion depends on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from r9s.testing import FakeServer, Fault, RecordedRequest
from r9s.testing._endpoints import DEFAULT_MODELS, embedding_vector

ROOT = Path(__file__).resolve().parents[2]
#: Safety limit for any one subprocess or wait.
TIMEOUT = 60.0
KEY = "sk-cli-test-secret"
MODEL = "gpt-cli-test"
CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
RESPONSES = "/v1/responses"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def cli_env(server: FakeServer | None, **overrides: str | None) -> dict[str, str]:
    """The environment of a CLI run: R9S_* set for ``server``, no proxies; None removes."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.lower().endswith("_proxy") and not name.startswith("R9S_")
    }
    env["PYTHONPATH"] = str(ROOT)
    env["R9S_API_KEY"] = KEY
    env["R9S_MODEL"] = MODEL
    if server is not None:
        env["R9S_BASE_URL"] = server.url
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_cli(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "r9s", *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        cwd=ROOT,
    )


def start_cli(
    *args: str, env: dict[str, str], stdin: Any = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "r9s", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    """Wait for the process (bounded); its exit code and the rest of its stderr."""
    try:
        proc.wait(TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    if proc.stdout is not None and not proc.stdout.closed:
        proc.stdout.close()
    return proc.returncode, err


class Reader:
    """What a pipe delivered so far; ``until`` waits (bounded) for more."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = b""

    def until(self, needle: bytes, count: int = 1) -> bytes:
        deadline = time.monotonic() + TIMEOUT
        while self.data.count(needle) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {needle!r} (x{count}) within {TIMEOUT} s: {self.data!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise AssertionError(f"EOF before {needle!r} (x{count}): {self.data!r}")
                self.data += chunk
        return self.data


def requests_to(server: FakeServer, path: str) -> list[RecordedRequest]:
    return [r for r in server.requests if r.path == path]


def assert_one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("r9s: error: ")
    return lines[0]


def wait_for_requests(server: FakeServer, count: int) -> None:
    """Wait (bounded) until the server has received ``count`` requests."""
    deadline = time.monotonic() + TIMEOUT
    while len(server.requests) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} requests within {TIMEOUT} s")
        time.sleep(0.01)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ----------------------------------------------------------------------------- one shot


def test_chat_streams_the_answer(server: FakeServer) -> None:
    proc = run_cli("chat", "Hello there", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello! You said: Hello there\n"
    assert proc.stderr == ""
    (req,) = requests_to(server, CHAT)
    assert req.json["stream"] is True
    assert req.json["model"] == MODEL
    assert req.json["messages"] == [{"role": "user", "content": "Hello there"}]
    assert req.headers["authorization"] == f"Bearer {KEY}"


def test_chat_no_stream(server: FakeServer) -> None:
    proc = run_cli("chat", "--no-stream", "Hello there", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello! You said: Hello there\n"
    (req,) = requests_to(server, CHAT)
    assert "stream" not in req.json


def test_model_option_overrides_the_environment(server: FakeServer) -> None:
    proc = run_cli("chat", "-m", "other-model", "hi", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert requests_to(server, CHAT)[0].json["model"] == "other-model"


def test_complete_streamed_and_not(server: FakeServer) -> None:
    proc = run_cli("complete", "Once upon a time", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == " and they lived happily ever after. The time was happy too.\n"
    proc = run_cli("complete", "--no-stream", "--max-tokens", "3", "Once", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == " and they lived\n"
    first, second = requests_to(server, COMPLETIONS)
    assert first.json == {"model": MODEL, "prompt": "Once upon a time", "stream": True}
    assert second.json == {"model": MODEL, "prompt": "Once", "max_tokens": 3}


def test_respond_streams_output_text(server: FakeServer) -> None:
    proc = run_cli("respond", "Tell me a joke", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello! You said: Tell me a joke\n"
    proc = run_cli("respond", "--no-stream", "Tell me a joke", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello! You said: Tell me a joke\n"
    first, second = requests_to(server, RESPONSES)
    assert first.json == {"model": MODEL, "input": "Tell me a joke", "stream": True}
    assert second.json == {"model": MODEL, "input": "Tell me a joke"}


def test_options_reach_the_server(server: FakeServer) -> None:
    env = cli_env(server)
    chat = run_cli("chat", "--temperature", "0.5", "--max-tokens", "2", "hi", env=env)
    respond = run_cli("respond", "--temperature", "0.25", "--max-tokens", "2", "hi", env=env)
    assert (chat.returncode, respond.returncode) == (0, 0), chat.stderr + respond.stderr
    assert chat.stdout == "Hello! You\n"
    assert respond.stdout == "Hello! You\n"
    (c,) = requests_to(server, CHAT)
    assert (c.json["temperature"], c.json["max_tokens"]) == (0.5, 2)
    (r,) = requests_to(server, RESPONSES)
    assert (r.json["temperature"], r.json["max_output_tokens"]) == (0.25, 2)
    assert "max_tokens" not in r.json


def test_system_reaches_the_server(server: FakeServer) -> None:
    env = cli_env(server)
    assert run_cli("chat", "--system", "Be brief.", "hi", env=env).returncode == 0
    assert run_cli("respond", "--system", "Be brief.", "hi", env=env).returncode == 0
    (chat,) = requests_to(server, CHAT)
    assert chat.json["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]
    (respond,) = requests_to(server, RESPONSES)
    assert respond.json["instructions"] == "Be brief."


def test_complete_refuses_system(server: FakeServer) -> None:
    proc = run_cli("complete", "--system", "Be brief.", "hi", env=cli_env(server))
    assert proc.returncode == 2
    line = assert_one_error_line(proc.stderr)
    assert "--system" in line
    assert server.requests == []


def test_prompt_from_piped_stdin(server: FakeServer) -> None:
    proc = run_cli("chat", env=cli_env(server), stdin="from a pipe\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello! You said: from a pipe\n"
    proc = run_cli("respond", "--no-stream", env=cli_env(server), stdin="piped input")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello! You said: piped input\n"


@pytest.mark.parametrize("stdin", ["", "  \n\n"])
def test_empty_stdin_is_no_prompt(server: FakeServer, stdin: str) -> None:
    proc = run_cli("chat", env=cli_env(server), stdin=stdin)
    assert proc.returncode == 2
    assert "no prompt" in assert_one_error_line(proc.stderr)
    assert server.requests == []


def test_empty_argument_is_no_prompt(server: FakeServer) -> None:
    proc = run_cli("respond", " ", env=cli_env(server))
    assert proc.returncode == 2
    assert "no prompt" in assert_one_error_line(proc.stderr)
    assert server.requests == []


def test_closed_stdin_is_no_prompt(server: FakeServer) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "r9s", "complete"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=cli_env(server),
        cwd=ROOT,
        # Run it with fd 0 closed, as ``r9s complete <&-`` does.
        preexec_fn=lambda: os.close(0),
    )
    assert proc.returncode == 2
    assert "no prompt" in assert_one_error_line(proc.stderr)


@pytest.mark.parametrize("command", ["chat", "complete", "respond"])
def test_json_lines_streamed(server: FakeServer, command: str) -> None:
    proc = run_cli(command, "--json", "hi", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("\n")
    lines = proc.stdout.splitlines()
    assert len(lines) > 2
    events = [json.loads(line) for line in lines]
    assert all(isinstance(event, dict) for event in events)
    if command == "chat":
        assert {e["object"] for e in events} == {"chat.completion.chunk"}
        text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
        assert text == "Hello! You said: hi"
    elif command == "complete":
        assert {e["object"] for e in events} == {"text_completion"}
    else:
        assert events[-1]["type"] == "response.completed"
        deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
        assert "".join(deltas) == "Hello! You said: hi"


def test_json_lines_are_compact(server: FakeServer) -> None:
    proc = run_cli("chat", "--json", "--no-stream", "hi", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    result = json.loads(line)
    assert result["object"] == "chat.completion"
    assert result["choices"][0]["message"]["content"] == "Hello! You said: hi"
    assert line == json.dumps(result, ensure_ascii=False, separators=(",", ":"))


# ----------------------------------------------------------------------------- errors


def test_missing_key_is_a_usage_error(server: FakeServer) -> None:
    proc = run_cli("chat", "hi", env=cli_env(server, R9S_API_KEY=None))
    assert proc.returncode == 2
    assert "R9S_API_KEY" in assert_one_error_line(proc.stderr)
    assert proc.stdout == ""
    assert server.requests == []


def test_missing_model_is_a_usage_error(server: FakeServer) -> None:
    proc = run_cli("respond", "hi", env=cli_env(server, R9S_MODEL=None))
    assert proc.returncode == 2
    line = assert_one_error_line(proc.stderr)
    assert "--model" in line and "R9S_MODEL" in line
    assert server.requests == []


def test_bad_arguments_exit_2(server: FakeServer) -> None:
    proc = run_cli("chat", "--max-tokens", "zero", "hi", env=cli_env(server))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    proc = run_cli("chat", "--base-url", "ftp://example.com", "hi", env=cli_env(server))
    assert proc.returncode == 2
    assert "base URL" in assert_one_error_line(proc.stderr)


@pytest.mark.parametrize("stream", [True, False])
def test_api_error_is_one_line_with_status(server: FakeServer, stream: bool) -> None:
    server.add_fault(Fault(status=404))
    args = ["chat", "--model", "no-such-model", "hi"] + ([] if stream else ["--no-stream"])
    proc = run_cli(*args, env=cli_env(server))
    assert proc.returncode == 1
    line = assert_one_error_line(proc.stderr)
    assert line.startswith("r9s: error: 404 The requested resource does not exist.")
    assert proc.stdout == ""


@pytest.mark.parametrize("stream", [True, False])
def test_unknown_model_from_the_server(stream: bool) -> None:
    with FakeServer(models=["m"]) as server:
        args = ["chat", "--model", "no-such-model", "hi"] + ([] if stream else ["--no-stream"])
        proc = run_cli(*args, env=cli_env(server))
    assert proc.returncode == 1
    line = assert_one_error_line(proc.stderr)
    assert line == (
        "r9s: error: 404 The model `no-such-model` does not exist or you do not have access "
        "to it. (request id req_1)"
    )
    assert proc.stdout == ""


def test_authentication_error_never_shows_the_key() -> None:
    with FakeServer(api_key="the-right-key") as server:
        proc = run_cli("respond", "hi", env=cli_env(server))
    assert proc.returncode == 1
    line = assert_one_error_line(proc.stderr)
    assert line.startswith("r9s: error: 401 ")
    assert KEY not in proc.stderr and KEY not in proc.stdout


def test_error_inside_the_stream_ends_the_line_first(server: FakeServer) -> None:
    server.add_fault(Fault(stream_error_after=2))
    proc = run_cli("chat", "hi", env=cli_env(server))
    assert proc.returncode == 1
    assert proc.stdout == "Hello! You\n"
    assert_one_error_line(proc.stderr)


def test_connection_refused_is_one_line() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    proc = run_cli("chat", "hi", env=cli_env(None, R9S_BASE_URL=url))
    assert proc.returncode == 1
    assert "refused" in assert_one_error_line(proc.stderr)
    assert proc.stdout == ""


def test_timeout_option(server: FakeServer) -> None:
    # Every attempt (the first and the default retries) stalls before the status line.
    server.add_fault(Fault(stall_after=0, stall_seconds=30), times=10)
    proc = run_cli("complete", "--timeout", "0.2", "hi", env=cli_env(server))
    assert proc.returncode == 1
    assert "within 0.2 s" in assert_one_error_line(proc.stderr)


# ----------------------------------------------------------------------------- pipes, signals


def test_closed_output_pipe_exits_quietly(server: FakeServer) -> None:
    proc = start_cli("chat", "--max-tokens", "500000", "hi", env=cli_env(server))
    try:
        assert proc.stdout is not None
        Reader(proc.stdout.fileno()).until(b"Hello")
        proc.stdout.close()
    finally:
        code, err = finish(proc)
    assert err == b""
    assert code == 0


def test_ctrl_c_exits_130(server: FakeServer) -> None:
    server.add_fault(Fault(stall_after=2, stall_seconds=30))
    proc = start_cli("chat", "hi", env=cli_env(server))
    try:
        assert proc.stdout is not None
        Reader(proc.stdout.fileno()).until(b"Hello! You")
        proc.send_signal(signal.SIGINT)
    finally:
        code, err = finish(proc)
    assert code == 130
    assert b"Traceback" not in err


# ----------------------------------------------------------------------------- interactive


class Session:
    """``r9s chat`` with a pseudo-terminal on stdin and pipes on stdout and stderr."""

    def __init__(self, server: FakeServer, *args: str) -> None:
        master, slave = pty.openpty()
        self.master = master
        try:
            self.proc = start_cli("chat", *args, env=cli_env(server), stdin=slave)
        finally:
            os.close(slave)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.out = Reader(self.proc.stdout.fileno())
        self.err = Reader(self.proc.stderr.fileno())
        self.prompts = 0

    def wait_prompt(self) -> None:
        self.prompts += 1
        self.err.until(b"> ", self.prompts)

    def type(self, text: bytes) -> None:
        os.write(self.master, text)

    def finish(self) -> tuple[int, bytes]:
        try:
            code, rest = finish(self.proc)
        finally:
            self.close()
        return code, self.err.data + rest

    def close(self) -> None:
        """Kill the process if it is still running; close every descriptor (idempotent)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


@pytest.fixture
def session(server: FakeServer) -> Iterator[Callable[..., Session]]:
    """Start ``Session``s that are cleaned up even when a test fails."""
    started: list[Session] = []

    def start(*args: str) -> Session:
        started.append(Session(server, *args))
        return started[-1]

    yield start
    for one in started:
        one.close()


def test_interactive_two_turns_with_history(
    server: FakeServer, session: Callable[..., Session]
) -> None:
    chat = session("--system", "Be kind.")
    chat.wait_prompt()
    chat.type(b"first question\n")
    chat.out.until(b"Hello! You said: first question\n")
    chat.wait_prompt()
    chat.type(b"second one\n")
    chat.out.until(b"Hello! You said: second one\n")
    chat.wait_prompt()
    chat.type(b"\x04")  # Ctrl-D
    code, err = chat.finish()
    assert code == 0, err
    assert b"Traceback" not in err
    assert chat.out.data == b"Hello! You said: first question\nHello! You said: second one\n"
    first, second = (r.json["messages"] for r in requests_to(server, CHAT))
    assert first == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "first question"},
    ]
    assert second == [
        *first,
        {"role": "assistant", "content": "Hello! You said: first question"},
        {"role": "user", "content": "second one"},
    ]


@pytest.mark.parametrize("stall_after", [0, 2])
def test_interactive_ctrl_c_stops_the_answer_then_exits_130(
    server: FakeServer, session: Callable[..., Session], stall_after: int
) -> None:
    server.add_fault(Fault(stall_after=stall_after, stall_seconds=30))
    chat = session()
    chat.wait_prompt()
    chat.type(b"stall please\n")
    if stall_after:
        chat.out.until(b"Hello! You")
    else:
        wait_for_requests(server, 1)  # stalled before the status line
    chat.proc.send_signal(signal.SIGINT)  # during the stalled answer
    chat.wait_prompt()
    answer = b"Hello! You said: next\n"
    if stall_after:
        answer = b"Hello! You\n" + answer  # the stopped answer's line was ended
    chat.type(b"next\n")
    assert chat.out.until(answer) == answer
    chat.wait_prompt()
    chat.proc.send_signal(signal.SIGINT)  # at the prompt
    code, err = chat.finish()
    assert code == 130
    assert b"Traceback" not in err
    stopped, after = (r.json["messages"] for r in requests_to(server, CHAT))
    assert stopped == [{"role": "user", "content": "stall please"}]
    assert after == [{"role": "user", "content": "next"}]  # the stopped turn is not history


def test_interactive_ctrl_c_then_ctrl_d(
    server: FakeServer, session: Callable[..., Session]
) -> None:
    server.add_fault(Fault(stall_after=1, stall_seconds=30))
    chat = session("--json")
    chat.wait_prompt()
    chat.type(b"hi\n")
    chat.out.until(b'"Hello!"')
    chat.proc.send_signal(signal.SIGINT)
    chat.wait_prompt()
    chat.type(b"\x04")
    code, err = chat.finish()
    assert code == 0
    assert b"Traceback" not in err
    for line in chat.out.data.splitlines():
        json.loads(line)


@pytest.mark.parametrize(
    ("command", "missing"),
    [("complete", "no prompt"), ("message", "no prompt"), ("embed", "no text")],
)
def test_no_input_on_a_terminal_is_a_usage_error(
    server: FakeServer, command: str, missing: str
) -> None:
    """Commands that are not interactive refuse a terminal on stdin with nothing given."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "r9s", command],
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=cli_env(server),
            cwd=ROOT,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 2
    assert missing in assert_one_error_line(proc.stderr)


def test_demo_still_runs() -> None:
    proc = run_cli("demo", env=cli_env(None))
    assert proc.returncode == 0, proc.stderr
    assert "chat.create, streamed: Hello! You said: Hello, how are you?" in proc.stdout
    assert "models.list: gpt-4o-mini, gpt-4o, openai/gpt-4o-mini, " in proc.stdout
    vector = embedding_vector("The food was delicious.", 8)
    values = ", ".join(f"{v:.4f}" for v in vector[:4])
    assert f"embeddings.create: 8 dimensions [{values}, ...]" in proc.stdout
    assert "audio.speech: saved 6208 bytes of audio/mpeg as speech.mp3" in proc.stdout
    assert (
        "audio.transcribe: 'The quick brown fox jumps over the lazy dog.' (round trip: same text)"
        in proc.stdout
    )
    assert "messages.create, streamed: Hello! You said: Hello, Claude!\n" in proc.stdout
    assert "1 connection(s) served 10 requests." in proc.stdout


# ----------------------------------------------------------------------------- models


def test_models_lists_sorted_ids(server: FakeServer) -> None:
    proc = run_cli("models", env=cli_env(server, R9S_MODEL=None))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines() == sorted(DEFAULT_MODELS)
    (req,) = server.requests
    assert (req.method, req.target, req.body) == ("GET", "/v1/models", b"")
    assert req.headers["authorization"] == f"Bearer {KEY}"


def test_models_lists_the_servers_models() -> None:
    with FakeServer(models=["zeta", "openai/gpt-4o", "alpha"]) as server:
        proc = run_cli("models", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "alpha\nopenai/gpt-4o\nzeta\n"


def test_models_details_in_aligned_columns() -> None:
    names = ["claude-3-haiku", "gpt-4o", "openai/gpt-4o-mini", "a-very-long-model-name-here"]
    with FakeServer(models=names) as server:
        proc = run_cli("models", "--details", env=cli_env(server))
        listed = run_cli("models", "--json", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    models = json.loads(listed.stdout)["data"]
    by_owner = sorted(models, key=lambda m: (m["owned_by"], m["id"]))
    id_width = max(len(m["id"]) for m in models)
    owner_width = max(len(m["owned_by"]) for m in models)
    expected = [
        f"{m['id']:<{id_width}}  {m['owned_by']:<{owner_width}}  "
        + time.strftime("%Y-%m-%d", time.gmtime(m["created"]))
        for m in by_owner
    ]
    assert proc.stdout.splitlines() == expected
    assert expected[0].split()[:2] == ["claude-3-haiku", "anthropic"]
    # The date column starts at the same place on every line.
    assert len({line.rindex(" ") for line in proc.stdout.splitlines()}) == 1


def test_models_json_is_one_compact_line(server: FakeServer) -> None:
    proc = run_cli("models", "--json", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    doc = json.loads(line)
    assert doc["object"] == "list"
    assert [m["id"] for m in doc["data"]] == list(DEFAULT_MODELS)
    assert line == json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def test_models_none_listed() -> None:
    with FakeServer(models=[]) as server:
        proc = run_cli("models", env=cli_env(server))
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert proc.stderr.startswith("r9s: ")


def test_models_errors(server: FakeServer) -> None:
    server.add_fault(Fault(status=403))
    proc = run_cli("models", env=cli_env(server))
    assert proc.returncode == 1
    assert assert_one_error_line(proc.stderr).startswith("r9s: error: 403 ")
    assert proc.stdout == ""
    proc = run_cli("models", env=cli_env(server, R9S_API_KEY=None))
    assert proc.returncode == 2
    assert "R9S_API_KEY" in assert_one_error_line(proc.stderr)
    proc = run_cli("models", "--base-url", "example.com", env=cli_env(server))
    assert proc.returncode == 2
    assert "base URL" in assert_one_error_line(proc.stderr)
    url = f"http://127.0.0.1:{closed_port()}/v1"
    proc = run_cli("models", "--base-url", url, env=cli_env(server))
    assert proc.returncode == 1
    assert "refused" in assert_one_error_line(proc.stderr)
    assert len(server.requests) == 1


def test_models_wrong_key_never_shown() -> None:
    with FakeServer(api_key="the-right-key") as server:
        proc = run_cli("models", "--details", env=cli_env(server))
    assert proc.returncode == 1
    assert assert_one_error_line(proc.stderr).startswith("r9s: error: 401 ")
    assert KEY not in proc.stderr and KEY not in proc.stdout


def test_models_timeout_option(server: FakeServer) -> None:
    server.add_fault(Fault(stall_after=0, stall_seconds=30), times=10)
    proc = run_cli("models", "--timeout", "0.2", env=cli_env(server))
    assert proc.returncode == 1
    assert "within 0.2 s" in assert_one_error_line(proc.stderr)


def test_models_closed_output_pipe_exits_quietly() -> None:
    names = [f"model-{i:05d}-{'x' * 40}" for i in range(5000)]
    with FakeServer(models=names) as server:
        proc = start_cli("models", env=cli_env(server))
        try:
            assert proc.stdout is not None
            Reader(proc.stdout.fileno()).until(b"model-00000")
            proc.stdout.close()
        finally:
            code, err = finish(proc)
    assert err == b""
    assert code == 0


# ----------------------------------------------------------------------------- embed


def summary(index: int, vector: list[float], width: int = 1) -> str:
    shown = ", ".join(f"{v:.4f}" for v in vector[:4])
    more = ", ..." if len(vector) > 4 else ""
    return f"{index:>{width}}  {len(vector)} dims  [{shown}{more}]"


def test_embed_one_text(server: FakeServer) -> None:
    proc = run_cli("embed", "The food was delicious.", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == summary(0, embedding_vector("The food was delicious.", 8)) + "\n"
    (req,) = server.requests
    assert (req.method, req.target) == ("POST", "/v1/embeddings")
    assert req.json == {"model": "text-embedding-3-small", "input": "The food was delicious."}


def test_embed_several_texts_in_one_request(server: FakeServer) -> None:
    texts = [f"text number {i}" for i in range(12)]
    proc = run_cli("embed", "-m", "my-embedder", "--dimensions", "3", *texts, env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    expected = [summary(i, embedding_vector(t, 3), 2) for i, t in enumerate(texts)]
    assert proc.stdout.splitlines() == expected
    assert "..." not in proc.stdout
    (req,) = server.requests
    assert req.json == {"model": "my-embedder", "input": texts, "dimensions": 3}


def test_embed_json(server: FakeServer) -> None:
    proc = run_cli("embed", "--json", "a", "b", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    doc = json.loads(line)
    assert [d["embedding"] for d in doc["data"]] == [
        embedding_vector("a", 8),
        embedding_vector("b", 8),
    ]
    assert doc["usage"]["prompt_tokens"] == 2
    assert line == json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def test_embed_reads_stdin_lines(server: FakeServer) -> None:
    proc = run_cli("embed", env=cli_env(server), stdin="first line\n\n  \nsecond line\n")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 2
    proc = run_cli("embed", env=cli_env(server), stdin="only one")
    assert proc.returncode == 0, proc.stderr
    first, second = server.requests
    assert first.json["input"] == ["first line", "second line"]
    assert second.json["input"] == "only one"


@pytest.mark.parametrize("stdin", ["", "\n  \n"])
def test_embed_empty_stdin_is_no_text(server: FakeServer, stdin: str) -> None:
    proc = run_cli("embed", env=cli_env(server), stdin=stdin)
    assert proc.returncode == 2
    assert "no text" in assert_one_error_line(proc.stderr)
    assert server.requests == []


def test_embed_usage_errors(server: FakeServer) -> None:
    proc = run_cli("embed", "ok", " ", env=cli_env(server))
    assert proc.returncode == 2
    assert "no text" in assert_one_error_line(proc.stderr)
    proc = run_cli("embed", "--dimensions", "0", "x", env=cli_env(server))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    proc = run_cli("embed", "x", env=cli_env(server, R9S_API_KEY=None))
    assert proc.returncode == 2
    assert "R9S_API_KEY" in assert_one_error_line(proc.stderr)
    assert server.requests == []


def test_embed_api_errors_are_one_line() -> None:
    with FakeServer(models=["e"]) as server:
        proc = run_cli("embed", "x", env=cli_env(server))
        assert proc.returncode == 1
        line = assert_one_error_line(proc.stderr)
        assert line == (
            "r9s: error: 404 The model `text-embedding-3-small` does not exist or you do not "
            "have access to it. (request id req_1)"
        )
        server.add_fault(Fault(status=400))
        proc = run_cli("embed", "-m", "e", "x", env=cli_env(server))
        assert proc.returncode == 1
        assert assert_one_error_line(proc.stderr).startswith("r9s: error: 400 ")
    assert proc.stdout == ""


# ----------------------------------------------------------------------------- message

MESSAGES = "/v1/messages"


def test_message_streams_the_text(server: FakeServer) -> None:
    proc = run_cli("message", "Hi Claude", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert (proc.stdout, proc.stderr) == ("Hello! You said: Hi Claude\n", "")
    (req,) = requests_to(server, MESSAGES)
    assert req.json == {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Hi Claude"}],
        "max_tokens": 1024,
        "stream": True,
    }
    assert req.headers["authorization"] == f"Bearer {KEY}"


def test_message_options(server: FakeServer) -> None:
    env = cli_env(server)
    args = ["--no-stream", "--system", "Be brief.", "--max-tokens", "2", "--temperature", "0.5"]
    proc = run_cli("message", *args, "-m", "claude-x", "one two", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello! You\n"
    (req,) = requests_to(server, MESSAGES)
    assert req.json == {
        "model": "claude-x",
        "messages": [{"role": "user", "content": "one two"}],
        "max_tokens": 2,
        "system": "Be brief.",
        "temperature": 0.5,
    }


def test_message_prompt_from_stdin(server: FakeServer) -> None:
    proc = run_cli("message", env=cli_env(server), stdin="piped words\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello! You said: piped words\n"


def test_message_json_lines(server: FakeServer) -> None:
    proc = run_cli("message", "--json", "hi", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[0]["type"] == "message_start"
    assert events[-1] == {"type": "message_stop"}
    assert "ping" not in {e["type"] for e in events}
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == "Hello! You said: hi"
    proc = run_cli("message", "--json", "--no-stream", "hi", env=cli_env(server))
    (line,) = proc.stdout.splitlines()
    doc = json.loads(line)
    assert doc["type"] == "message" and doc["content"][0]["text"] == "Hello! You said: hi"
    assert line == json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def test_message_errors(server: FakeServer) -> None:
    server.add_fault(Fault(stream_error_after=2))
    proc = run_cli("message", "one two three", env=cli_env(server))
    assert proc.returncode == 1
    assert proc.stdout == "Hello! You\n"
    assert "529 Overloaded" in assert_one_error_line(proc.stderr)
    proc = run_cli("message", "hi", env=cli_env(server, R9S_MODEL=None))
    assert proc.returncode == 2
    assert "R9S_MODEL" in assert_one_error_line(proc.stderr)
    proc = run_cli("message", "--max-tokens", "0", "hi", env=cli_env(server))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("stream", [True, False])
def test_message_unknown_model(stream: bool) -> None:
    with FakeServer(models=["claude-x"]) as server:
        args = ["message", "hi"] + ([] if stream else ["--no-stream"])
        proc = run_cli(*args, env=cli_env(server))
    assert proc.returncode == 1
    assert (
        assert_one_error_line(proc.stderr)
        == "r9s: error: 404 model: gpt-cli-test (request id req_1)"
    )


def test_message_closed_output_pipe_exits_quietly(server: FakeServer) -> None:
    words = " ".join(f"word{i}" for i in range(100_000))
    proc = start_cli("message", env=cli_env(server), stdin=subprocess.PIPE)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(words.encode())
        proc.stdin.close()
        Reader(proc.stdout.fileno()).until(b"word1")
        proc.stdout.close()
    finally:
        code, err = finish(proc)
    assert (code, err) == (0, b"")


def test_message_ctrl_c_exits_130(server: FakeServer) -> None:
    server.add_fault(Fault(stall_after=2, stall_seconds=30))
    proc = start_cli("message", "one two three", env=cli_env(server))
    try:
        assert proc.stdout is not None
        Reader(proc.stdout.fileno()).until(b"Hello! You")
        proc.send_signal(signal.SIGINT)
    finally:
        code, err = finish(proc)
    assert code == 130
    assert b"Traceback" not in err


# ----------------------------------------------------------------------------- speak

SPEECH = "/v1/audio/speech"


def speech_size(text: str) -> int:
    """The size of the built-in server's default speech body for ``text``."""
    return 4096 + 48 * len(text.encode())


def test_speak_writes_the_file(server: FakeServer, tmp_path: Path) -> None:
    out = tmp_path / "out.mp3"
    proc = run_cli("speak", "Hello there", "-o", str(out), env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    data = out.read_bytes()
    assert len(data) == speech_size("Hello there")
    assert data.startswith(b"ID3") and b"R9S_INPUT=11:Hello there" in data
    assert proc.stderr == f"r9s: wrote {len(data)} bytes (mp3) to {out}\n"
    (req,) = requests_to(server, SPEECH)
    assert req.json == {"model": "tts-1", "input": "Hello there", "voice": "alloy"}


def test_speak_options_and_format_from_the_extension(server: FakeServer, tmp_path: Path) -> None:
    env = cli_env(server)
    wav = tmp_path / "voice.wav"
    assert run_cli("speak", "hi", "-o", str(wav), env=env).returncode == 0
    assert wav.read_bytes()[:4] == b"RIFF"
    args = ["--format", "flac", "--voice", "nova", "-m", "tts-1-hd", "--speed", "1.5"]
    flac = tmp_path / "voice.audio"
    proc = run_cli("speak", "hi", *args, "-o", str(flac), env=env)
    assert proc.returncode == 0, proc.stderr
    assert flac.read_bytes()[:4] == b"fLaC"
    assert "(flac)" in proc.stderr
    first, second = requests_to(server, SPEECH)
    assert first.json == {
        "model": "tts-1",
        "input": "hi",
        "voice": "alloy",
        "response_format": "wav",
    }
    assert second.json == {
        "model": "tts-1-hd",
        "input": "hi",
        "voice": "nova",
        "response_format": "flac",
        "speed": 1.5,
    }


def test_speak_to_stdout(server: FakeServer) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "r9s", "speak", "to stdout", "-o", "-"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT,
        env=cli_env(server),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) == speech_size("to stdout")
    assert proc.stdout.startswith(b"ID3")
    assert proc.stderr == f"r9s: wrote {len(proc.stdout)} bytes (mp3) to stdout\n".encode()


def test_speak_text_from_stdin(server: FakeServer, tmp_path: Path) -> None:
    out = tmp_path / "s.opus"
    proc = run_cli("speak", "-o", str(out), env=cli_env(server), stdin="from a pipe\n")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:4] == b"OggS"
    assert requests_to(server, SPEECH)[0].json["input"] == "from a pipe"


def test_speak_closed_output_pipe_exits_quietly(server: FakeServer) -> None:
    proc = start_cli("speak", "word " * 800, "-o", "-", env=cli_env(server))
    try:
        assert proc.stdout is not None
        Reader(proc.stdout.fileno()).until(b"ID3")
        proc.stdout.close()
    finally:
        code, err = finish(proc)
    assert (code, err) == (0, b"")


def test_speak_failures_leave_no_file(server: FakeServer, tmp_path: Path) -> None:
    out = tmp_path / "cut.mp3"
    server.add_fault(Fault(cut_after=1))
    proc = run_cli("speak", "cut me", "-o", str(out), env=cli_env(server))
    assert proc.returncode == 1
    assert "ended after" in assert_one_error_line(proc.stderr)
    assert not out.exists()
    server.add_fault(Fault(status=400))
    proc = run_cli("speak", "refused", "-o", str(out), env=cli_env(server))
    assert proc.returncode == 1
    assert assert_one_error_line(proc.stderr).startswith("r9s: error: 400 ")
    assert not out.exists()
    proc = run_cli("speak", "x", "-o", str(tmp_path / "no" / "dir.mp3"), env=cli_env(server))
    assert proc.returncode == 1
    assert "cannot write" in assert_one_error_line(proc.stderr)


def test_speak_usage_errors(server: FakeServer, tmp_path: Path) -> None:
    proc = run_cli("speak", "no output", env=cli_env(server))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = run_cli("speak", " ", "-o", str(tmp_path / "x.mp3"), env=cli_env(server))
    assert proc.returncode == 2
    assert "no text" in assert_one_error_line(proc.stderr)
    proc = run_cli("speak", "", "-o", str(tmp_path / "x.mp3"), env=cli_env(server), stdin="")
    assert proc.returncode == 2
    proc = run_cli(
        "speak", "x", "-o", str(tmp_path / "x.mp3"), env=cli_env(server, R9S_API_KEY=None)
    )
    assert proc.returncode == 2
    assert "R9S_API_KEY" in assert_one_error_line(proc.stderr)
    assert server.requests == []


def test_speak_progress_only_on_a_terminal(server: FakeServer, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    out = tmp_path / "p.mp3"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "r9s", "speak", "progress please", "-o", str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=TIMEOUT,
            env=cli_env(server),
            cwd=ROOT,
        )
        os.close(slave)
        slave = -1
        shown = b""
        # The child has exited: read what it left on the terminal (bounded).
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    size = speech_size("progress please")
    # Bytes so far, overwritten in place (how many depends on how the body arrived).
    assert re.search(rb"\r\d+ bytes \.\.\.", shown), shown
    assert shown.endswith(f"r9s: wrote {size} bytes (mp3) to {out}\r\n".encode())


# ----------------------------------------------------------------------------- transcribe

TRANSCRIPTIONS = "/v1/audio/transcriptions"


def test_transcribe_round_trips_a_speech_file(server: FakeServer, tmp_path: Path) -> None:
    audio = tmp_path / "speech.mp3"
    env = cli_env(server)
    assert run_cli("speak", "Round and round we go.", "-o", str(audio), env=env).returncode == 0
    proc = run_cli("transcribe", str(audio), env=env)
    assert proc.returncode == 0, proc.stderr
    assert (proc.stdout, proc.stderr) == ("Round and round we go.\n", "")
    (req,) = requests_to(server, TRANSCRIPTIONS)
    data = audio.read_bytes()
    assert req.form["fields"] == {"model": "whisper-1"}
    assert req.form["files"] == [
        {
            "name": "file",
            "filename": "speech.mp3",
            "content_type": "audio/mpeg",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    ]


def test_transcribe_formats_and_options(server: FakeServer, tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    env = cli_env(server)
    assert run_cli("speak", "One. Two!", "-o", str(audio), env=env).returncode == 0
    proc = run_cli("transcribe", str(audio), "--format", "srt", env=env)
    assert (
        proc.stdout
        == "1\n00:00:00,000 --> 00:00:00,400\nOne.\n\n2\n00:00:00,400 --> 00:00:00,800\nTwo!\n\n"
    )
    proc = run_cli("transcribe", str(audio), "--format", "text", env=env)
    assert proc.stdout == "One. Two!\n"
    proc = run_cli("transcribe", str(audio), "--format", "text", "--json", env=env)
    assert json.loads(proc.stdout) == {"text": "One. Two!\n"}
    args = [
        "--format",
        "verbose_json",
        "--json",
        "--language",
        "de",
        "--prompt",
        "numbers",
        "-m",
        "w2",
    ]
    proc = run_cli("transcribe", str(audio), *args, env=env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["text"], doc["language"], len(doc["segments"])) == ("One. Two!", "german", 2)
    last = requests_to(server, TRANSCRIPTIONS)[-1]
    assert last.form["fields"] == {
        "model": "w2",
        "language": "de",
        "prompt": "numbers",
        "response_format": "verbose_json",
    }


def test_transcribe_other_files_and_errors(server: FakeServer, tmp_path: Path) -> None:
    other = tmp_path / "notes.ogg"
    other.write_bytes(b"\x00" * 777)
    proc = run_cli("transcribe", str(other), env=cli_env(server))
    assert proc.stdout == "Transcribed 777 bytes of notes.ogg.\n"
    proc = run_cli("transcribe", str(tmp_path / "missing.mp3"), env=cli_env(server))
    assert proc.returncode == 2
    assert "no such file" in assert_one_error_line(proc.stderr)
    proc = run_cli("transcribe", str(tmp_path), env=cli_env(server))
    assert proc.returncode == 2
    assert "is a directory" in assert_one_error_line(proc.stderr)
    server.add_fault(Fault(status=400))
    proc = run_cli("transcribe", str(other), env=cli_env(server))
    assert proc.returncode == 1
    assert assert_one_error_line(proc.stderr).startswith("r9s: error: 400 ")
    with FakeServer(models=["whisper-1"]) as strict:
        proc = run_cli("transcribe", str(other), "-m", "whisper-9", env=cli_env(strict))
    assert proc.returncode == 1
    assert "whisper-9" in assert_one_error_line(proc.stderr)


# ----------------------------------------------------------------------------- image

GENERATIONS = "/v1/images/generations"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_image_writes_a_png(server: FakeServer, tmp_path: Path) -> None:
    out = tmp_path / "cat.png"
    proc = run_cli("image", "a cat", "-o", str(out), env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert png_size(data) == (64, 64)
    assert proc.stdout == ""
    assert proc.stderr == f"r9s: wrote {len(data)} bytes to {out}\n"
    (req,) = requests_to(server, GENERATIONS)
    assert req.json == {"prompt": "a cat", "response_format": "b64_json", "size": "1024x1024"}


def test_image_several(server: FakeServer, tmp_path: Path) -> None:
    args = ["-n", "3", "--size", "256x128", "-m", "dall-e-2"]
    proc = run_cli("image", "dogs", *args, "-o", str(tmp_path / "dog.png"), env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    files = [tmp_path / f"dog-{i}.png" for i in (1, 2, 3)]
    images = [f.read_bytes() for f in files]
    assert len(set(images)) == 3
    assert {png_size(image) for image in images} == {(64, 32)}
    assert not (tmp_path / "dog.png").exists()
    assert len(proc.stderr.splitlines()) == 3
    (req,) = requests_to(server, GENERATIONS)
    assert (req.json["n"], req.json["size"], req.json["model"]) == (3, "256x128", "dall-e-2")


def test_image_json(server: FakeServer, tmp_path: Path) -> None:
    proc = run_cli("image", "--json", "a boat", env=cli_env(server))
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    doc = json.loads(line)
    assert png_size(base64.b64decode(doc["data"][0]["b64_json"])) == (64, 64)
    assert list(tmp_path.iterdir()) == []
    out = tmp_path / "boat.png"
    proc = run_cli("image", "--json", "a boat", "-o", str(out), env=cli_env(server))
    assert proc.returncode == 0 and out.exists()
    assert json.loads(proc.stdout) == doc


def test_image_errors(server: FakeServer, tmp_path: Path) -> None:
    proc = run_cli("image", "no output", env=cli_env(server))
    assert proc.returncode == 2
    assert "-o" in assert_one_error_line(proc.stderr)
    proc = run_cli(
        "image", "x", "--size", "huge", "-o", str(tmp_path / "x.png"), env=cli_env(server)
    )
    assert proc.returncode == 1
    assert "'size'" in assert_one_error_line(proc.stderr)
    assert not (tmp_path / "x.png").exists()
    proc = run_cli(
        "image", "-o", str(tmp_path / "x.png"), env=cli_env(server), stdin="a piped prompt"
    )
    assert proc.returncode == 0, proc.stderr
    assert requests_to(server, GENERATIONS)[-1].json["prompt"] == "a piped prompt"
