"""Every operation of the published surface against the built-in server, sync, asyncio, trio.

One call per operation (its answer's shape read back), on one client per runtime, so every
operation is exercised end to end through both transports and under both async runtimes;
the wire itself is compared with the published package's in ``tests/wire``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trio

from r9s import R9S, models
from r9s.testing import FakeServer

SPEECH = {"model": "tts-1", "input": "The quick brown fox.", "voice": "alloy"}

#: (resource, method, arguments, what to read back from the result)
CALLS: list[tuple[str, str, dict[str, Any], Callable[[Any], Any]]] = [
    ("models", "list", {}, lambda r: r.data[0].id),
    ("models", "retrieve", {"model": "openai/gpt-4o-mini"}, lambda r: r.id == "openai/gpt-4o-mini"),
    (
        "embeddings",
        "create",
        {"model": "text-embedding-3-small", "input": ["a", "b"]},
        lambda r: len(r.data) == 2,
    ),
    (
        "embeddings",
        "create",
        {"model": "text-embedding-3-small", "input": "a", "encoding_format": "base64"},
        lambda r: len(r.data[0].floats()) == 8,
    ),
    (
        "engine_embeddings",
        "create",
        {"model": "qwen-plus", "input": "a", "dimensions": 4},
        lambda r: len(r.data[0].embedding) == 4,
    ),
    ("moderations", "create", {"input": "I want to hurt someone"}, lambda r: r.results[0].flagged),
    (
        "edits",
        "create",
        {"model": "gpt-4o-mini", "instruction": "Fix", "input": "teh day"},
        lambda r: r.choices[0].text,
    ),
    (
        "search",
        "create",
        {"extra": models.Extra(query="What is AI?", num=2)},
        lambda r: len(r.result["results"]) == 2,
    ),
    (
        "proxy",
        "request",
        {"channelid": "7", "target": "v1/echo?x=1", "request_body": {"a": 1}},
        lambda r: r["query"] == "x=1",
    ),
    (
        "chat",
        "create",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
        lambda r: r.choices[0].message.content,
    ),
    (
        "completions",
        "create",
        {"model": "gpt-4o-mini", "prompt": "Once", "max_tokens": 5},
        lambda r: r.choices[0].text,
    ),
    ("responses", "create", {"model": "gpt-4o-mini", "input": "Hi"}, lambda r: r.output_text),
    (
        "messages",
        "create",
        {"model": "claude", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]},
        lambda r: r.content[0].text,
    ),
    (
        "images",
        "create",
        {"prompt": "a cat", "response_format": "b64_json"},
        lambda r: r.data[0].b64_json.startswith("iVBOR"),
    ),
    (
        "images",
        "edit",
        {"image": [b"\x89PNG-a", b"\x89PNG-b"], "prompt": "hats"},
        lambda r: len(r.received["files"]) == 2,
    ),
    (
        "audio",
        "transcribe",
        {
            "file": {"file_name": "a.mp3", "content": b"abc"},
            "model": "whisper-1",
            "response_format": "text",
        },
        lambda r: isinstance(r, str),
    ),
    ("audio", "translate", {"file": b"abc", "model": "whisper-1"}, lambda r: r.text),
]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def _ok(value: Any) -> bool:
    return bool(value) and value is not None


@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_every_operation_answers(server: FakeServer, runtime: str) -> None:
    if runtime == "sync":
        with R9S(api_key="k", server_url=server.url) as client:
            for resource, method, args, check in CALLS:
                assert _ok(check(getattr(getattr(client, resource), method)(**args))), (
                    resource,
                    method,
                )
            with client.audio.speech(**SPEECH) as speech:
                audio = speech.read()
            text = client.audio.transcribe(
                file={"file_name": "s.mp3", "content": audio}, model="whisper-1"
            )
        assert text.text == SPEECH["input"]
        return

    async def main() -> str:
        async with R9S(api_key="k", server_url=server.url) as client:
            for resource, method, args, check in CALLS:
                result = await getattr(getattr(client, resource), method + "_async")(**args)
                assert _ok(check(result)), (resource, method)
            async with await client.audio.speech_async(**SPEECH) as speech:
                audio = await speech.aread()
            res = await client.audio.transcribe_async(
                file={"file_name": "s.mp3", "content": audio}, model="whisper-1"
            )
            return str(res.text)

    text = asyncio.run(main()) if runtime == "asyncio" else trio.run(main)
    assert text == SPEECH["input"]
