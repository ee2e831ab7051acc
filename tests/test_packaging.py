"""Packaging promises: light import, sync path on the standard library alone, CI = README."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def test_import_r9s_loads_neither_anyio_nor_h11() -> None:
    proc = run_python(
        """
        import sys, r9s
        from r9s import R9S, errors, models
        R9S(api_key="k")
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("anyio", "h11", "sniffio", "trio", "ssl", "http", "urllib3"))
        print(bad)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


BLOCKER = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("anyio", "h11", "sniffio"):
            raise ImportError(f"{name} is blocked for this test")
        return None
sys.meta_path.insert(0, _Block())
"""


def test_sync_client_runs_the_seed_examples_without_h11_or_anyio() -> None:
    proc = run_python(
        BLOCKER
        + """
import os
from r9s import R9S
from r9s.testing import FakeServer

with FakeServer() as server:
    with R9S(api_key="<YOUR_BEARER_TOKEN_HERE>", server_url=server.url) as r9_s:
        res = r9_s.chat.create(model="gpt-4o-mini", messages=[
            {"role": "user", "content": "Hello, how are you?"},
        ], stream=False)
        with res as event_stream:
            for event in event_stream:
                print(event, flush=True)
        res = r9_s.chat.create(model="gpt-4o-mini", messages=[
            {"role": "user", "content": "Hello, how are you?"},
        ], stream=True)
        with res as event_stream:
            for event in event_stream:
                print(event, flush=True)
        res = r9_s.completions.create(model="gpt-4o-mini", prompt="Once upon a time", echo=False, frequency_penalty=0, max_tokens=50, n=1, presence_penalty=0, stream=False, temperature=1, top_p=1)
        with res as event_stream:
            for event in event_stream:
                print(event, flush=True)
        res = r9_s.completions.create(model="gpt-4o-mini", prompt="Once upon a time", echo=False, frequency_penalty=0, max_tokens=50, n=1, presence_penalty=0, stream=True, temperature=1, top_p=1)
        with res as event_stream:
            for event in event_stream:
                print(event, flush=True)
    with R9S(api_key=os.getenv("R9S_API_KEY", "x"), server_url=server.url) as r9_s:
        res = r9_s.responses.create(model="gpt-4o-mini", input="Tell me a joke about programming", instructions="You are a funny assistant", temperature=0.7, max_output_tokens=500, stream=False)
        for event in res:
            print(event, flush=True)
        res = r9_s.responses.create(model="gpt-4o-mini", input="Tell me a joke about programming", instructions="You are a funny assistant", temperature=0.7, max_output_tokens=500, stream=True)
        for event in res:
            print(event, flush=True)
import sys
print("LOADED", sorted(m for m in sys.modules if m.split(".")[0] in ("anyio", "h11")))
"""
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "LOADED []" in out
    assert "Hello! You said: Hello, how are you?" in out  # non-stream chat content
    assert "chat.completion.chunk" in out and "response.completed" in out


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert len(blocks) >= 2
    test_command = blocks[1].strip()
    assert "pytest" in test_command and "mypy" in test_command and "ruff" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text()
