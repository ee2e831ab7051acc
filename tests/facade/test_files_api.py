"""Files in and out, end to end: speech as a binary body, uploads as streamed multipart.

Scripted servers on 127.0.0.1, sync and async (asyncio and trio):

- ``audio.speech`` answers a ``BinaryResponse`` read as it arrives: whole, in sized pieces,
  to a file; a body cut short raises ``IncompleteResponseError``, a stall
  ``RequestTimeoutError``; an error status (or a 2XX JSON error) raises its class; a
  ``break`` or a cancelled task releases the connection; 100 MB pass in bounded memory;
- ``audio.transcribe`` / ``images.edit`` send ``multipart/form-data`` the stdlib ``email``
  parser reads back field by field; a retried rewindable body is sent again byte for byte; a
  body that cannot be rewound is not retried (the error says so); 100 MB go up from a path in
  bounded memory;
- ``images.create(stream=True)``: partial-image events, ending at EOF (no ``[DONE]``).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import hashlib
import json
import os
import socket
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
import trio
from _support.scripted_server import (
    Conn,
    ReceivedRequest,
    ScriptedServer,
    chunk,
    response,
    serve_requests,
)

from r9s import R9S, errors
from r9s.binary import BinaryResponse
from r9s.testing import FakeServer
from r9s.utils import BackoffStrategy, RetryConfig

KEY = "sk-files-0123456789"
BOUND = 10.0  # guards against hangs; times nothing
RUNTIMES = ["sync", "asyncio", "trio"]
FAST_RETRY = RetryConfig("backoff", BackoffStrategy(5, 20, 2, max_elapsed_time=3000), True)
BLOCK = bytes(range(256)) * 256  # 64 KiB of audio-like bytes
SPEECH = {"model": "tts-1", "input": "Hello there", "voice": "alloy"}


def audio_answer(
    size: int, *, cut_at: int | None = None
) -> Callable[[Conn, ReceivedRequest], bool]:
    """``size`` bytes of ``BLOCK`` repeated, with a Content-Length (cut short at ``cut_at``)."""

    def handler(conn: Conn, req: ReceivedRequest) -> bool:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: {size}\r\nx-request-id: req_a\r\n\r\n"
        conn.sendall(head.encode())
        left = size if cut_at is None else cut_at
        view = memoryview(BLOCK)
        while left > 0:
            n = min(left, len(BLOCK))
            if not conn.send(view[:n]):
                return False
            left -= n
        if cut_at is not None:
            conn.close()
            return False
        return True

    return handler


def stalled(conn: Conn, req: ReceivedRequest) -> bool:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: 100000\r\n\r\n"
        + BLOCK[:1000]
    )
    conn.hold(10.0)
    return False


def json_answer(doc: Any, status: int = 200) -> Callable[[Conn, ReceivedRequest], bool]:
    def handler(conn: Conn, req: ReceivedRequest) -> bool:
        conn.sendall(
            response(
                json.dumps(doc).encode(),
                status=status,
                reason="X",
                headers=[("Content-Type", "application/json")],
            )
        )
        return True

    return handler


class Script:
    def __init__(self, *handlers: Callable[[Conn, ReceivedRequest], bool]) -> None:
        self.handlers = list(handlers)
        self.seen: list[ReceivedRequest] = []

    def __call__(self, conn: Conn, req: ReceivedRequest) -> bool:
        self.seen.append(req)
        handler = self.handlers.pop(0) if len(self.handlers) > 1 else self.handlers[0]
        return handler(conn, req)


def speech(
    runtime: str, url: str, consume: Callable[[Any], Any], **options: Any
) -> tuple[Any, BaseException | None]:
    """Call ``audio.speech`` and hand the response to ``consume`` (awaited when async);
    returns (what consume returned, the error raised or None)."""
    if runtime == "sync":
        with R9S(api_key=KEY, server_url=url, retry_config=None) as client:
            try:
                with client.audio.speech(**SPEECH, **options) as res:
                    return consume(res), None
            except errors.R9SError as exc:
                return None, exc

    async def main() -> tuple[Any, BaseException | None]:
        async with R9S(api_key=KEY, server_url=url, retry_config=None) as client:
            try:
                async with await client.audio.speech_async(**SPEECH, **options) as res:
                    return await consume(res), None
            except errors.R9SError as exc:
                return None, exc

    return asyncio.run(main()) if runtime == "asyncio" else trio.run(main)


def read_all(res: Any) -> Any:
    if isinstance(res, BinaryResponse):
        return res.read(), res.status_code, res.headers.get("content-type"), res.request_id

    async def go() -> Any:
        return await res.aread(), res.status_code, res.headers.get("content-type"), res.request_id

    return go()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_speech_is_read_whole(runtime: str) -> None:
    size = 3 * len(BLOCK) + 123
    script = Script(audio_answer(size))
    with ScriptedServer(serve_requests(script)) as server:
        (body, status, ctype, rid), err = speech(runtime, server.url("/v1"), read_all)
    assert err is None and (status, ctype, rid) == (200, "audio/mpeg", "req_a")
    assert len(body) == size and body[: len(BLOCK)] == BLOCK
    (req,) = script.seen
    assert (req.method, req.target) == ("POST", "/v1/audio/speech")
    assert req.json == SPEECH  # the published SDK's defaults equal to the API's are left out
    assert req.header("accept").startswith("audio/aac;q=1, audio/flac;q=0.8")


def sized_pieces(res: Any) -> Any:
    if isinstance(res, BinaryResponse):
        return [len(p) for p in res.iter_bytes(chunk_size=10_000)]

    async def go() -> Any:
        return [len(p) async for p in res.aiter_bytes(chunk_size=10_000)]

    return go()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_iter_bytes_in_sized_pieces(runtime: str) -> None:
    size = 2 * len(BLOCK) + 5
    with ScriptedServer(serve_requests(Script(audio_answer(size)))) as server:
        sizes, err = speech(runtime, server.url("/v1"), sized_pieces)
    assert err is None
    assert sizes[:-1] == [10_000] * (len(sizes) - 1) and sum(sizes) == size


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_stream_to_file(runtime: str, tmp_path: Path) -> None:
    size = 5 * len(BLOCK)
    target = tmp_path / "out.mp3"

    def to_file(res: Any) -> Any:
        return (
            res.stream_to_file(target)
            if isinstance(res, BinaryResponse)
            else res.astream_to_file(target)
        )

    with ScriptedServer(serve_requests(Script(audio_answer(size)))) as server:
        written, err = speech(runtime, server.url("/v1"), to_file)
    assert err is None and written == size == target.stat().st_size
    assert target.read_bytes()[: len(BLOCK)] == BLOCK


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_cut_body_raises_incomplete(runtime: str) -> None:
    with ScriptedServer(serve_requests(Script(audio_answer(500_000, cut_at=200_000)))) as server:
        _, err = speech(runtime, server.url("/v1"), read_all)
    assert isinstance(err, errors.IncompleteResponseError), err
    assert KEY not in str(err)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_stall_raises_a_timeout(runtime: str) -> None:
    started = time.monotonic()
    with ScriptedServer(serve_requests(Script(stalled))) as server:
        _, err = speech(runtime, server.url("/v1"), read_all, timeout_ms=300)
    assert isinstance(err, errors.RequestTimeoutError), err
    assert time.monotonic() - started < BOUND


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            json_answer({"error": {"message": "bad voice", "type": "invalid_request_error"}}, 400),
            errors.BadRequestError,
        ),
        (
            json_answer({"error": {"message": "quota", "type": "insufficient_quota", "code": 429}}),
            errors.RateLimitError,
        ),
        (json_answer({"object": "not audio"}), errors.ResponseValidationError),
    ],
    ids=["400", "200-json-error", "200-json-not-audio"],
)
def test_an_error_is_raised_never_returned_as_audio(
    runtime: str, answer: Any, expected: type
) -> None:
    with ScriptedServer(serve_requests(Script(answer))) as server:
        result, err = speech(runtime, server.url("/v1"), read_all)
    assert result is None and isinstance(err, expected), err


def test_break_releases_the_connection_and_the_next_call_works() -> None:
    script = Script(audio_answer(50 * len(BLOCK)), audio_answer(1000))
    with ScriptedServer(serve_requests(script)) as server:
        with R9S(api_key=KEY, server_url=server.url("/v1")) as client:
            res = client.audio.speech(**SPEECH)
            for _ in res.iter_bytes():
                break
            assert res.is_closed  # the generator's close released the connection
            assert len(client.audio.speech(**SPEECH).read()) == 1000
    assert len(script.seen) == 2


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_cancelled_mid_download_releases_the_connection(backend: str) -> None:
    script = Script(stalled, audio_answer(1000))

    async def main(url: str) -> int:
        async with R9S(api_key=KEY, server_url=url) as client:
            with anyio.move_on_after(0.3) as scope:
                res = await client.audio.speech_async(**SPEECH)
                await res.aread()
            assert scope.cancelled_caught and res.is_closed
            again = await client.audio.speech_async(**SPEECH)
            return len(await again.aread())

    with ScriptedServer(serve_requests(script)) as server:
        url = server.url("/v1")
        got = asyncio.run(main(url)) if backend == "asyncio" else trio.run(main, url)
    assert got == 1000


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_100_mb_of_speech_in_bounded_memory(runtime: str) -> None:
    size = 100 * 1024 * 1024

    def count(res: Any) -> Any:
        if isinstance(res, BinaryResponse):
            return sum(len(p) for p in res.iter_bytes())

        async def go() -> int:
            return sum([len(p) async for p in res.aiter_bytes()])

        return go()

    with ScriptedServer(serve_requests(Script(audio_answer(size)))) as server:
        tracemalloc.start()
        try:
            total, err = speech(runtime, server.url("/v1"), count)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert err is None and total == size
    assert peak < 8 * 1024 * 1024, f"traced peak {peak / 1e6:.1f} MB for a 100 MB body"


# -- uploads ----------------------------------------------------------------------------------


def call(runtime: str, url: str, method: str, **params: Any) -> Any:
    """``client.audio.<method>(**params)`` on a client made and closed in the runtime's loop."""
    if runtime == "sync":
        with R9S(api_key=KEY, server_url=url) as client:
            return getattr(client.audio, method)(**params)

    async def main() -> Any:
        async with R9S(api_key=KEY, server_url=url) as client:
            return await getattr(client.audio, method + "_async")(**params)

    return asyncio.run(main()) if runtime == "asyncio" else trio.run(main)


def form_of(req: ReceivedRequest) -> list[tuple[str, str | None, str | None, bytes]]:
    """The parts of a multipart request as the stdlib parser reads them:
    (name, filename, content type, payload)."""
    ctype = req.header("content-type")
    assert ctype is not None and ctype.startswith("multipart/form-data; boundary=")
    assert int(req.header("content-length") or -1) == len(req.body)
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + req.body
    )
    assert msg.is_multipart() and not msg.defects
    parts = []
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        ctype_part = part.get_content_type() if part.get("content-type") else None
        parts.append((name, filename, ctype_part, part.get_payload(decode=True)))
    return parts


TRANSCRIPT = {"text": "hello world", "language": "en"}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_transcribe_sends_the_published_sdks_form(runtime: str, tmp_path: Path) -> None:
    audio = tmp_path / "speech.mp3"
    audio.write_bytes(BLOCK * 3)
    script = Script(json_answer(TRANSCRIPT))
    params = {
        "file": audio,
        "model": "whisper-1",
        "language": "en",
        "timestamp_granularities": ["word", "segment"],
        "temperature": 0.2,
    }
    with ScriptedServer(serve_requests(script)) as server:
        res = call(runtime, server.url("/v1"), "transcribe", **params)
    assert res.text == "hello world" and res.language == "en"
    (req,) = script.seen
    assert (req.method, req.target) == ("POST", "/v1/audio/transcriptions")
    assert (
        req.header("accept")
        == "application/json;q=1, text/plain;q=0.8, application/x-subrip;q=0.5, text/vtt;q=0"
    )
    assert form_of(req) == [
        ("model", None, None, b"whisper-1"),
        ("language", None, None, b"en"),
        ("temperature", None, None, b"0.2"),
        ("timestamp_granularities", None, None, b"word"),
        ("timestamp_granularities", None, None, b"segment"),
        ("file", "speech.mp3", "audio/mpeg", BLOCK * 3),
    ]


@pytest.mark.parametrize(
    "given",
    ["bytes", "dict", "open-file", "path"],
)
def test_every_file_shape_is_sent(given: str, tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    path.write_bytes(b"RIFF....WAVE")
    handle = open(path, "rb")
    value: Any = {
        "bytes": b"RIFF....WAVE",
        "dict": {"file_name": "clip.wav", "content": b"RIFF....WAVE", "content_type": "audio/wav"},
        "open-file": handle,
        "path": path,
    }[given]
    script = Script(json_answer({"text": "ok"}))
    try:
        with (
            ScriptedServer(serve_requests(script)) as server,
            R9S(api_key=KEY, server_url=server.url("/v1")) as client,
        ):
            assert client.audio.translate(file=value, model="whisper-1").text == "ok"
    finally:
        handle.close()
    (req,) = script.seen
    *_, (name, filename, ctype, payload) = form_of(req)
    assert (name, payload) == ("file", b"RIFF....WAVE")
    assert filename == ("upload" if given == "bytes" else "clip.wav")
    assert ctype in ("audio/wav", "audio/x-wav", "application/octet-stream")


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_a_text_format_gives_the_text(fmt: str) -> None:
    ctype = {"text": "text/plain; charset=utf-8", "srt": "application/x-subrip", "vtt": "text/vtt"}[
        fmt
    ]
    text = "1\n00:00:00,000 --> 00:00:01,000\nhello ü\n"

    def answer(conn: Conn, req: ReceivedRequest) -> bool:
        conn.sendall(response(text.encode(), headers=[("Content-Type", ctype)]))
        return True

    with (
        ScriptedServer(serve_requests(Script(answer))) as server,
        R9S(api_key=KEY, server_url=server.url("/v1")) as client,
    ):
        res = client.audio.transcribe(file=b"abc", model="whisper-1", response_format=fmt)
    assert res == text


def test_images_edit_sends_every_image_and_the_mask() -> None:
    script = Script(json_answer({"created": 1, "data": [{"b64_json": "aGk="}]}))
    images = [
        {"file_name": "a.png", "content": b"\x89PNG-a"},
        {"file_name": "b.png", "content": b"\x89PNG-b"},
    ]
    with (
        ScriptedServer(serve_requests(script)) as server,
        R9S(api_key=KEY, server_url=server.url("/v1")) as client,
    ):
        res = client.images.edit(
            image=images,
            mask={"file_name": "m.png", "content": b"\x89PNG-m"},
            prompt="add a hat",
            n=1,
        )
    assert res.data[0].b64_json == "aGk="
    (req,) = script.seen
    assert req.target == "/v1/images/edits"
    assert form_of(req) == [
        ("prompt", None, None, b"add a hat"),
        ("n", None, None, b"1"),
        ("size", None, None, b"1024x1024"),  # the published SDK's default, sent
        ("image[]", "a.png", "image/png", b"\x89PNG-a"),
        ("image[]", "b.png", "image/png", b"\x89PNG-b"),
        ("mask", "m.png", "image/png", b"\x89PNG-m"),
    ]


@pytest.mark.parametrize("bad", ['a"b.png', "a\r\nX-Evil: 1.png", "a\x00.png"])
def test_a_hostile_filename_never_forges_a_part(bad: str) -> None:
    script = Script(json_answer({"text": "ok"}))
    with (
        ScriptedServer(serve_requests(script)) as server,
        R9S(api_key=KEY, server_url=server.url("/v1")) as client,
    ):
        try:
            client.audio.transcribe(file={"file_name": bad, "content": b"abc"}, model="whisper-1")
        except ValueError as exc:
            assert "CR, LF" in str(exc) or "NUL" in str(exc)
            assert script.seen == []  # refused before anything was sent
            return
    (req,) = script.seen
    parts = form_of(req)
    assert [p[0] for p in parts] == ["model", "file"]  # no extra part, no extra header
    assert parts[-1][1] == bad.replace('"', "%22")


def test_a_retried_rewindable_body_is_sent_again_byte_for_byte(tmp_path: Path) -> None:
    audio = tmp_path / "a.mp3"
    audio.write_bytes(BLOCK * 4)
    limited = json_answer({"error": {"message": "slow down", "type": "rate_limit_error"}}, 429)
    script = Script(limited, json_answer({"text": "ok"}))
    with (
        ScriptedServer(serve_requests(script)) as server,
        R9S(api_key=KEY, server_url=server.url("/v1"), retry_config=FAST_RETRY) as client,
    ):
        assert client.audio.transcribe(file=audio, model="whisper-1").text == "ok"
    first, second = script.seen
    assert first.body == second.body and len(first.body) > len(BLOCK) * 4
    assert first.header("content-type") == second.header("content-type")


def test_a_body_that_cannot_be_rewound_is_not_retried() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"pipe audio bytes")
    os.close(write_end)
    bodies: list[bytes] = []

    def chunked_then_429(conn: Conn) -> None:  # a pipe's length is unknown: chunked
        data = b""
        while not (b"\r\n\r\n" in data and data.endswith(b"\r\n0\r\n\r\n")):
            more = conn.sock.recv(65536)
            if not more:
                return
            data += more
        head, body = data.split(b"\r\n\r\n", 1)
        assert b"transfer-encoding: chunked" in head.lower()
        bodies.append(body)
        doc = b'{"error": {"message": "slow down", "type": "rate_limit_error"}}'
        conn.sendall(
            response(doc, status=429, reason="X", headers=[("Content-Type", "application/json")])
        )

    with open(read_end, "rb") as pipe:
        with (
            ScriptedServer(chunked_then_429) as server,
            R9S(api_key=KEY, server_url=server.url("/v1"), retry_config=FAST_RETRY) as client,
        ):
            with pytest.raises(errors.RateLimitError) as info:
                client.audio.transcribe(
                    file={"file_name": "p.mp3", "content": pipe}, model="whisper-1"
                )
    assert len(bodies) == 1
    assert any("cannot be rewound" in note for note in info.value.__notes__)
    assert b"pipe audio bytes" in bodies[0]


def discard_upload(seen: list[tuple[int, str]]) -> Callable[[Conn], None]:
    """A script reading one request's body into a fixed buffer (hashing it), then answering."""

    def script(conn: Conn) -> None:
        sock: socket.socket = conn.sock
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                return
            data += more
        head, rest = data.split(b"\r\n\r\n", 1)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        digest = hashlib.sha256(rest)
        got = len(rest)
        buf = bytearray(1 << 20)
        while got < length:
            n = sock.recv_into(buf, min(len(buf), length - got))
            if not n:
                return
            digest.update(memoryview(buf)[:n])
            got += n
        seen.append((got, digest.hexdigest()))
        conn.sendall(response(b'{"text": "ok"}', headers=[("Content-Type", "application/json")]))

    return script


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_100_mb_upload_from_a_path_in_bounded_memory(runtime: str, tmp_path: Path) -> None:
    audio = tmp_path / "big.mp3"
    with open(audio, "wb") as out:
        for _ in range(1600):  # 100 MiB
            out.write(BLOCK)
    seen: list[tuple[int, str]] = []
    with ScriptedServer(discard_upload(seen)) as server:
        tracemalloc.start()
        try:
            res = call(runtime, server.url("/v1"), "transcribe", file=audio, model="whisper-1")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert res.text == "ok"
    ((got, _digest),) = seen
    assert got > 100 * 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"traced peak {peak / 1e6:.1f} MB for a 100 MB upload"


# -- image streams -----------------------------------------------------------------------------


def test_an_image_stream_ends_at_eof_without_done() -> None:
    events = [
        {
            "type": "image_generation.partial_image",
            "b64_json": "cGFydDA=",
            "partial_image_index": 0,
        },
        {
            "type": "image_generation.partial_image",
            "b64_json": "cGFydDE=",
            "partial_image_index": 1,
        },
        {
            "type": "image_generation.completed",
            "b64_json": "ZmluYWw=",
            "usage": {"total_tokens": 9},
        },
    ]
    body = b"".join(
        chunk(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode()) for e in events
    )

    def answer(conn: Conn, req: ReceivedRequest) -> bool:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + body
            + b"0\r\n\r\n"
        )
        return True

    script = Script(answer)
    with (
        ScriptedServer(serve_requests(script)) as server,
        R9S(api_key=KEY, server_url=server.url("/v1")) as client,
    ):
        with client.images.create(prompt="a cat", stream=True, partial_images=2) as stream:
            got = [(e.type, e.b64_json) for e in stream]
    assert got == [(e["type"], e["b64_json"]) for e in events]
    (req,) = script.seen
    assert req.json == {"prompt": "a cat", "stream": True, "partial_images": 2, "size": "1024x1024"}
    assert req.header("accept") == "text/event-stream"


def test_accept_header_override_takes_the_published_enums_and_strings() -> None:
    from r9s.audio_sdk import SpeechAcceptEnum

    script = Script(audio_answer(10), audio_answer(10))
    with (
        ScriptedServer(serve_requests(script)) as server,
        R9S(api_key=KEY, server_url=server.url("/v1")) as client,
    ):
        client.audio.speech(**SPEECH, accept_header_override=SpeechAcceptEnum.AUDIO_WAV).read()
        client.audio.speech(**SPEECH, accept_header_override="audio/flac").read()
        with pytest.raises(TypeError, match="accept_header_override"):
            client.audio.speech(**SPEECH, accept_header_override=5)  # type: ignore[typeddict-item]
    assert [r.header("accept") for r in script.seen] == ["audio/wav", "audio/flac"]


def test_get_final_of_an_image_stream_is_the_completed_image() -> None:
    events = [
        {
            "type": "image_generation.partial_image",
            "b64_json": "cGFydA==",
            "partial_image_index": 0,
        },
        {
            "type": "image_generation.completed",
            "b64_json": "ZmluYWw=",
            "usage": {"total_tokens": 9},
            "size": "1024x1024",
        },
    ]
    body = b"".join(
        chunk(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode()) for e in events
    )

    def answer(conn: Conn, req: ReceivedRequest) -> bool:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + body
            + b"0\r\n\r\n"
        )
        return True

    with (
        ScriptedServer(serve_requests(Script(answer))) as server,
        R9S(api_key=KEY, server_url=server.url("/v1")) as client,
    ):
        final = client.images.create(prompt="a cat", stream=True, partial_images=1).get_final()
    assert [d.b64_json for d in final.data] == ["ZmluYWw="]
    assert final.usage.total_tokens == 9


def test_a_stream_cut_mid_way_says_how_many_events_came_first() -> None:
    events = b"".join(
        chunk(b'data: {"id": "c", "choices": [{"index": 0, "delta": {"content": "x"}}]}\n\n')
        for _ in range(3)
    )

    def answer(conn: Conn, req: ReceivedRequest) -> bool:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + events
        )
        conn.close()
        return False

    with (
        ScriptedServer(serve_requests(Script(answer))) as server,
        R9S(api_key=KEY, server_url=server.url("/v1"), retry_config=None) as client,
    ):
        seen = 0
        with pytest.raises(errors.IncompleteResponseError) as info:
            for _ in client.chat.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            ):
                seen += 1
    assert seen == 3 and info.value.events_received == 3


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_binary_body_is_read_in_large_pieces(runtime: str) -> None:
    """The shipped transports read 64 KiB at a time (event streams); a binary body asks for
    ``BINARY_READ_SIZE`` per read (benchmarks (h): a quarter of the reads)."""
    from r9s.binary import BINARY_READ_SIZE

    def sizes(res: Any) -> Any:
        if isinstance(res, BinaryResponse):
            return res._raw.read_size, [len(p) for p in res.iter_bytes()]

        async def go() -> Any:
            return res._raw.read_size, [len(p) async for p in res.aiter_bytes()]

        return go()

    with ScriptedServer(serve_requests(Script(audio_answer(40 * len(BLOCK))))) as server:
        (read_size, pieces), err = speech(runtime, server.url("/v1"), sizes)
    assert err is None and read_size == BINARY_READ_SIZE == 256 * 1024
    assert sum(pieces) == 40 * len(BLOCK) and max(pieces) <= BINARY_READ_SIZE


def test_image_stream_events_read_as_the_published_sdk_handed_them_over() -> None:
    """The published SDK yielded each server-sent event ({event, data}); code written for it
    reads ``ev.event`` and ``ev.data...``; OpenAI-style reading (``ev.type``) works too."""
    with FakeServer() as server, R9S(api_key=KEY, server_url=server.url) as client:
        with client.images.create(
            prompt="a cat", model="gpt-image-1", stream=True, partial_images=1
        ) as stream:
            events = list(stream)
        with client.images.edit(
            image=b"\x89PNG", prompt="a hat", stream=True, partial_images=1
        ) as stream:
            edits = list(stream)
    assert [e.event for e in events] == [
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert events[-1].data.model == "gpt-image-1" and events[-1].data.data[0].is_final is True
    assert events[-1].type == events[-1].event and events[-1].b64_json == events[-1].data.b64_json
    assert [e.event for e in edits] == ["image_edit.partial_image", "image_edit.completed"]
    assert edits[0].data.partial_image_index == 0 and edits[-1].data.b64_json
