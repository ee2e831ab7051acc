"""The built-in server's images and audio endpoints, over loopback with ``http.client`` and raw
sockets: shapes, real PNG and audio files, the multipart echo byte for byte, partial-image
streams, a 100 MB speech body and a 100 MB upload in bounded memory, and the faults.

Nothing here is timed; every socket read has a timeout.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import socket
import struct
import tracemalloc
import wave
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from _fake_wire import (
    TIMEOUT,
    Form,
    dechunk,
    raw_request,
    read_to_eof,
    read_until,
    request,
    split_response,
    typed,
)

from r9s.testing import FakeServer

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"
SPEECH = "/v1/audio/speech"
TRANSCRIPTIONS = "/v1/audio/transcriptions"
TRANSLATIONS = "/v1/audio/translations"
FORMATS = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def ok_json(status: int, headers: dict[str, str], body: bytes) -> Any:
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    return json.loads(body)


def error_of(status: int, body: bytes, expected: int) -> dict[str, Any]:
    assert status == expected, body
    error: dict[str, Any] = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error" or expected >= 500
    return error


def png_info(data: bytes) -> tuple[int, int]:
    """Check a PNG's structure (signature, chunk CRCs, pixel data size); its dimensions."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at = 8
    kinds: list[bytes] = []
    idat = b""
    width = height = 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        payload = data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        kinds.append(kind)
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", payload[:10])
            assert (depth, colour) == (8, 2)
        elif kind == b"IDAT":
            idat += payload
        at += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)
    return width, height


# ----------------------------------------------------------------------------- generations


def test_generation_urls(server: FakeServer) -> None:
    body = {"prompt": "a red fox", "model": "dall-e-3", "n": 3, "size": "1024x1024"}
    doc = ok_json(*request(server, GENERATIONS, body))
    assert doc["created"] == 1700000000
    urls = [item["url"] for item in doc["data"]]
    assert len(set(urls)) == 3
    assert all(re.fullmatch(r"https://example\.com/images/[0-9a-f]{32}\.png", u) for u in urls)
    assert all(item["revised_prompt"] == "a red fox" for item in doc["data"])
    usage = doc["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    again = ok_json(*request(server, GENERATIONS, body))
    assert [item["url"] for item in again["data"]] == urls


@pytest.mark.parametrize(
    ("size", "pixels"),
    [
        ("1024x1024", (64, 64)),
        ("1536x1024", (64, 43)),
        ("32x16", (32, 16)),
        ("auto", (64, 64)),
        ("16:9", (16, 9)),  # an aspect ratio, as the gateway's Gemini and Minimax models take
    ],
)
def test_generation_b64_is_a_small_real_png(
    server: FakeServer, size: str, pixels: tuple[int, int]
) -> None:
    body = {"prompt": "a lighthouse", "size": size, "response_format": "b64_json"}
    doc = ok_json(*request(server, GENERATIONS, body))
    (item,) = doc["data"]
    png = base64.b64decode(item["b64_json"])
    assert png_info(png) == pixels
    assert len(png) < 2000
    other = ok_json(*request(server, GENERATIONS, {**body, "prompt": "a boat"}))
    assert other["data"][0]["b64_json"] != item["b64_json"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x", "n": 0}, "n"),
        ({"prompt": "x", "n": 11}, "n"),
        ({"prompt": "x", "size": "big"}, "size"),
        ({"prompt": "x", "response_format": "png"}, "response_format"),
        ({"prompt": "x", "partial_images": 4}, "partial_images"),
        ({"prompt": "x", "stream": "yes"}, "stream"),
    ],
)
def test_generation_validation(server: FakeServer, body: dict[str, Any], param: str) -> None:
    status, _, data = request(server, GENERATIONS, body)
    assert error_of(status, data, 400)["param"] == param


def test_generation_unknown_model() -> None:
    with FakeServer(models=["gpt-image-1"]) as server:
        status, _, data = request(server, GENERATIONS, {"prompt": "x", "model": "dall-e-9"})
        assert error_of(status, data, 404)["code"] == "model_not_found"
        assert request(server, GENERATIONS, {"prompt": "x", "model": "gpt-image-1"})[0] == 200


def test_generation_stream(server: FakeServer) -> None:
    body = {"prompt": "a fox", "stream": True, "partial_images": 2, "size": "1024x1536"}
    status, headers, data = request(server, GENERATIONS, body)
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert b"[DONE]" not in data
    events = typed(data)
    assert [name for name, _ in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert all(name == doc["type"] for name, doc in events)
    assert [doc.get("partial_image_index") for _, doc in events] == [0, 1, None]
    for _, doc in events:
        assert png_info(base64.b64decode(doc["b64_json"])) == (43, 64)
        assert doc["size"] == "1024x1536" and doc["output_format"] == "png"
        assert doc["created_at"] == 1700000000
    assert "usage" in events[-1][1]
    # The partial images differ from each other and from the final one.
    assert len({doc["b64_json"] for _, doc in events}) == 3
    final = ok_json(
        *request(server, GENERATIONS, {**body, "stream": False, "response_format": "b64_json"})
    )
    assert final["data"][0]["b64_json"] == events[-1][1]["b64_json"]


def test_generation_stream_faults(server: FakeServer) -> None:
    body = json.dumps({"prompt": "a fox", "stream": True, "partial_images": 3}).encode()
    headers = {"Content-Type": "application/json", "X-R9S-Fault": "cut_after=1"}
    with raw_request(server, GENERATIONS, body, headers) as sock:
        payload, terminated = dechunk(split_response(read_to_eof(sock))[2])
    assert not terminated
    assert [name for name, _ in typed(payload)] == ["image_generation.partial_image"]
    headers["X-R9S-Fault"] = "stream_error_after=2"
    status, _, data = request(server, GENERATIONS, body, headers)
    events = typed(data)
    assert [name for name, _ in events][-1] == "error"
    assert len(events) == 3 and events[-1][1]["error"]["type"] == "server_error"
    headers["X-R9S-Fault"] = "status=429,retry_after=2"
    status, got, data = request(server, GENERATIONS, body, headers)
    assert (status, got["retry-after"]) == (429, "2")


# ----------------------------------------------------------------------------- edits


def edit_form(image: bytes = b"\x89PNG first image", mask: bytes | None = b"mask bytes") -> Form:
    form = Form()
    form.field("prompt", "Add a hat — «tall»")
    form.field("model", "gpt-image-1")
    form.field("n", "2")
    form.field("size", "512x512")
    form.field("response_format", "b64_json")
    form.file("image[]", "first.png", image, "image/png")
    form.file("image[]", "second image.png", b"\x89PNG second", "image/png")
    if mask is not None:
        form.file("mask", "mask.png", mask, None)
    return form


def test_edit_echoes_the_multipart_byte_for_byte(server: FakeServer) -> None:
    form = edit_form()
    doc = ok_json(*form.send(server, EDITS))
    assert doc["received"] == form.received()
    assert len(doc["data"]) == 2
    for item in doc["data"]:
        assert png_info(base64.b64decode(item["b64_json"])) == (64, 64)
    (recorded,) = server.requests
    assert recorded.body == form.body()
    assert recorded.body_size == len(form.body())
    assert recorded.form == form.received()
    assert recorded.json is None
    # The result depends on the uploaded images.
    other = ok_json(*edit_form(b"\x89PNG another first image").send(server, EDITS))
    assert other["data"][0]["b64_json"] != doc["data"][0]["b64_json"]


def test_edit_single_image_url_and_stream(server: FakeServer) -> None:
    form = Form().field("prompt", "p").file("image", "a.png", b"img", "image/png")
    doc = ok_json(*form.send(server, EDITS))
    assert doc["data"][0]["url"].startswith("https://example.com/images/")
    assert doc["received"]["order"] == ["prompt", "image"]
    form = form.field("stream", "true").field("partial_images", "1")
    status, headers, data = form.send(server, EDITS)
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert [name for name, _ in typed(data)] == ["image_edit.partial_image", "image_edit.completed"]


def test_edit_chunked_upload(server: FakeServer) -> None:
    form = edit_form()
    data = form.body()
    framed = b"".join(
        b"%x\r\n%b\r\n" % (len(data[i : i + 50]), data[i : i + 50]) for i in range(0, len(data), 50)
    )
    head = (
        f"POST {EDITS} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
        f"Content-Type: {form.content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(head + framed + b"0\r\n\r\n")
        raw = read_until(sock, b'"order"')
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert server.requests[0].form == form.received()


@pytest.mark.parametrize(
    ("body", "content_type", "needle"),
    [
        (
            b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\nv",
            "multipart/form-data; boundary=b",
            "ends before its closing boundary",
        ),
        (b"whatever", "multipart/form-data; boundary=b", "never occurs"),
        (
            b"--b\r\nX-Other: 1\r\n\r\nv\r\n--b--",
            "multipart/form-data; boundary=b",
            "no Content-Disposition",
        ),
        (b"{}", "application/json", "expected multipart/form-data"),
        (b"--b--", "multipart/form-data", "expected multipart/form-data"),
    ],
)
def test_malformed_multipart_is_a_400_and_the_connection_lives_on(
    server: FakeServer, body: bytes, content_type: str, needle: str
) -> None:
    with raw_request(server, EDITS, body, {"Content-Type": content_type}) as sock:
        raw = read_until(sock, b"}}")
        status_line, headers, data = split_response(raw)
        assert status_line.startswith("HTTP/1.1 400 ")
        assert "connection" not in headers
        error = json.loads(data)["error"]
        assert error["type"] == "invalid_request_error"
        assert needle in error["message"]
        # The body was consumed: the same connection takes the next request.
        good = Form().field("prompt", "p").file("image", "a.png", b"i")
        head = (
            f"POST {EDITS} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
            f"Content-Type: {good.content_type}\r\nContent-Length: {len(good.body())}\r\n\r\n"
        )
        sock.sendall(head.encode() + good.body())
        assert read_until(sock, b'"order"').split(b"\r\n")[0] == b"HTTP/1.1 200 OK"


def test_edit_validation(server: FakeServer) -> None:
    status, _, data = Form().field("prompt", "p").send(server, EDITS)
    assert error_of(status, data, 400)["param"] == "image"
    status, _, data = Form().file("image", "a.png", b"i").send(server, EDITS)
    assert error_of(status, data, 400)["param"] == "prompt"
    status, _, data = (
        Form().field("prompt", "p").field("n", "many").file("image", "a", b"i").send(server, EDITS)
    )
    assert error_of(status, data, 400)["param"] == "n"


def test_big_upload_is_recorded_as_its_first_mebibyte(server: FakeServer) -> None:
    content = os.urandom(3 * 1024 * 1024)
    form = Form().field("prompt", "p").file("image", "big.png", content, "image/png")
    doc = ok_json(*form.send(server, EDITS))
    assert doc["received"]["files"][0]["sha256"] == hashlib.sha256(content).hexdigest()
    (recorded,) = server.requests
    assert recorded.body_size == len(form.body())
    assert recorded.body == form.body()[: 1024 * 1024]


def test_upload_over_the_limit_is_refused_early(server: FakeServer) -> None:
    head = (
        f"POST {TRANSCRIPTIONS} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {1024**3 + 1}\r\n\r\n"
    )
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(head.encode())
        raw = read_to_eof(sock)
    assert raw.startswith(b"HTTP/1.1 413 ")


# ----------------------------------------------------------------------------- speech


def speech(
    server: FakeServer, headers: dict[str, str] | None = None, **body: Any
) -> tuple[int, dict[str, str], bytes]:
    payload = {"model": "tts-1", "input": "Hello there, world!", "voice": "alloy", **body}
    return request(server, SPEECH, payload, headers)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_speech_formats(server: FakeServer, fmt: str) -> None:
    status, headers, data = speech(server, response_format=fmt)
    assert status == 200
    assert headers["content-type"] == FORMATS[fmt]
    assert int(headers["content-length"]) == len(data)
    assert len(data) == 4096 + 48 * len(b"Hello there, world!")
    assert b"R9S_INPUT=19:Hello there, world!" in data[:4096]
    assert speech(server, response_format=fmt)[2] == data
    assert speech(server, response_format=fmt, input="Other words")[2] != data
    magic = {
        "mp3": b"ID3\x04",
        "aac": b"ID3\x04",
        "flac": b"fLaC",
        "wav": b"RIFF",
        "opus": b"OggS",
        "pcm": b"R9S_INPUT=",
    }
    assert data.startswith(magic[fmt])


def test_speech_default_format_is_mp3_and_size_grows_with_the_input(server: FakeServer) -> None:
    _, headers, short = speech(server)
    _, _, long = speech(server, input="word " * 100)
    assert headers["content-type"] == "audio/mpeg"
    assert len(short) == 4096 + 48 * 19
    assert len(long) == 4096 + 48 * 500
    assert short[:3] == b"ID3"
    assert b"\xff\xfb\x90\x64" in short  # MPEG audio frame headers after the tag


def test_speech_wav_is_a_valid_riff(server: FakeServer) -> None:
    for size in (100_000, 100_001):
        _, _, data = speech(server, {"X-R9S-Audio-Bytes": str(size)}, response_format="wav")
        assert len(data) == size
        assert struct.unpack("<I", data[4:8])[0] == size - 8
        with wave.open(io.BytesIO(data)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 24000)
            frames = wav.getnframes()
        assert size - 2 * frames in range(60, 120)


def ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = (
                ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF
                if crc & 0x80000000
                else (crc << 1) & 0xFFFFFFFF
            )
    return crc


def test_speech_opus_and_flac_headers(server: FakeServer) -> None:
    _, _, data = speech(server, response_format="opus")
    at = 0
    for expected in (b"OpusHead", b"OpusTags"):
        assert data[at : at + 4] == b"OggS"
        count = data[at + 26]
        lacing = data[at + 27 : at + 27 + count]
        end = at + 27 + count + sum(lacing)
        page = data[at:end]
        assert struct.unpack("<I", page[22:26])[0] == ogg_crc(page[:22] + b"\0\0\0\0" + page[26:])
        assert page[27 + count :].startswith(expected)
        at = end
    _, _, data = speech(server, response_format="flac")
    assert data[4] == 0 and int.from_bytes(data[5:8], "big") == 34  # STREAMINFO
    assert data[42] == 0x84  # the last metadata block: a Vorbis comment


@pytest.mark.parametrize("size", [0, 1, 10, 65536, 65537, 3 * 262144 + 5])
def test_speech_exact_size(server: FakeServer, size: int) -> None:
    status, headers, data = speech(server, {"X-R9S-Audio-Bytes": str(size)})
    assert status == 200
    assert int(headers["content-length"]) == len(data) == size
    full = speech(server, {"X-R9S-Audio-Bytes": str(size + 1000)})[2]
    assert full[:size] == data


@pytest.mark.parametrize(
    ("body", "headers", "param"),
    [
        ({"input": None}, {}, "input"),
        ({"input": ""}, {}, "input"),
        ({"input": "x" * 4097}, {}, "input"),
        ({"voice": None}, {}, "voice"),
        ({"model": None}, {}, "model"),
        ({"response_format": "ogg"}, {}, "response_format"),
        ({"speed": 5}, {}, "speed"),
        ({}, {"X-R9S-Audio-Bytes": "lots"}, "x-r9s-audio-bytes"),
        ({}, {"X-R9S-Audio-Bytes": str(1024**3 + 1)}, "x-r9s-audio-bytes"),
    ],
)
def test_speech_validation(
    server: FakeServer, body: dict[str, Any], headers: dict[str, str], param: str
) -> None:
    payload = {"model": "tts-1", "input": "hi", "voice": "alloy", **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    status, _, data = request(server, SPEECH, payload, headers)
    assert error_of(status, data, 400)["param"] == param


def test_speech_unknown_model() -> None:
    with FakeServer(models=["tts-1"]) as server:
        status, _, data = speech(server, model="tts-9")
        assert error_of(status, data, 404)["code"] == "model_not_found"


def test_speech_100_mb_streams_in_bounded_memory(server: FakeServer) -> None:
    size = 100 * 1024 * 1024
    body = json.dumps({"model": "tts-1", "input": "big", "voice": "alloy"}).encode()
    headers = {"Content-Type": "application/json", "X-R9S-Audio-Bytes": str(size)}
    buf = bytearray(1024 * 1024)
    view = memoryview(buf)
    tracemalloc.start()
    try:
        with raw_request(server, SPEECH, body, headers) as sock:
            head = read_until(sock, b"\r\n\r\n")
            head, _, first = head.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ")
            assert f"content-length: {size}".encode() in head
            received = len(first)
            digest = hashlib.sha256(first)
            # Bounded: each pass reads at least one byte of the declared size.
            while received < size:
                n = sock.recv_into(buf)
                assert n, "body cut short"
                received += n
                digest.update(view[:n])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    # The server made 100 MB from a repeated 64 KiB block: a few hundred KiB at a time.
    assert peak < 4 * 1024 * 1024, peak


def test_speech_faults(server: FakeServer) -> None:
    body = json.dumps({"model": "tts-1", "input": "hi", "voice": "alloy"}).encode()
    plain = {"Content-Type": "application/json"}
    size = 1024 * 1024
    sized = {**plain, "X-R9S-Audio-Bytes": str(size)}
    for fault, expected in (
        ("cut_after=0", 0),
        ("cut_after=2", 2 * 65536),
        ("cut_after=100", size // 2),
    ):
        with raw_request(server, SPEECH, body, {**sized, "X-R9S-Fault": fault}) as sock:
            _, headers, data = split_response(read_to_eof(sock))
        assert int(headers["content-length"]) == size
        assert headers["connection"] == "close"
        assert len(data) == expected, fault
    # A default-sized body is cut too (at its half).
    with raw_request(server, SPEECH, body, {**plain, "X-R9S-Fault": "cut_after=1"}) as sock:
        _, headers, data = split_response(read_to_eof(sock))
    assert len(data) == int(headers["content-length"]) // 2
    # A stall sends the first blocks, then nothing until it ends with a close.
    with raw_request(
        server, SPEECH, body, {**sized, "X-R9S-Fault": "stall_after=1,stall_seconds=0.2"}
    ) as sock:
        _, _, data = split_response(read_to_eof(sock))
    assert len(data) == 65536
    with raw_request(server, SPEECH, body, {**sized, "X-R9S-Fault": "short_body"}) as sock:
        _, headers, data = split_response(read_to_eof(sock))
    assert (int(headers["content-length"]), len(data)) == (size + 20, size)
    status, headers, data = request(server, SPEECH, body, {**plain, "X-R9S-Fault": "status=503"})
    assert status == 503 and headers["content-type"] == "application/json"
    with raw_request(server, SPEECH, body, {**plain, "X-R9S-Fault": "reset"}) as sock:
        with pytest.raises(ConnectionResetError):
            read_to_eof(sock)


def test_speech_gzip() -> None:
    with FakeServer(gzip=True) as server:
        status, headers, plain = speech(server, {"X-R9S-Audio-Bytes": "300000"})
        assert status == 200 and "content-encoding" not in headers
        status, headers, packed = speech(
            server, {"X-R9S-Audio-Bytes": "300000", "Accept-Encoding": "gzip"}
        )
    assert headers["content-encoding"] == "gzip"
    assert headers["transfer-encoding"] == "chunked"
    assert gzip.decompress(packed) == plain


# ----------------------------------------------------------------------------- transcription


def audio_form(content: bytes, filename: str = "speech.mp3", **fields: str | list[str]) -> Form:
    form = Form()
    form.field("model", str(fields.pop("model", "whisper-1")))
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            form.field(name, one)
    form.file("file", filename, content, "audio/mpeg")
    return form


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_speech_round_trips_through_transcription(server: FakeServer, fmt: str) -> None:
    text = "Grüße aus Zürich! How are you?"
    _, _, audio = speech(server, response_format=fmt, input=text)
    for path in (TRANSCRIPTIONS, TRANSLATIONS):
        doc = ok_json(*audio_form(audio, f"speech.{fmt}").send(server, path))
        assert doc == {"text": text}


def test_transcription_of_other_audio(server: FakeServer) -> None:
    form = audio_form(b"\x00" * 1234, "recording.m4a")
    assert ok_json(*form.send(server, TRANSCRIPTIONS)) == {
        "text": "Transcribed 1234 bytes of recording.m4a."
    }
    assert ok_json(*form.send(server, TRANSLATIONS)) == {
        "text": "Translated 1234 bytes of recording.m4a."
    }
    (first, _) = server.requests
    assert first.form == form.received()


def test_transcription_text_formats(server: FakeServer) -> None:
    _, _, audio = speech(server, input="First sentence here. And a second one!")
    status, headers, data = audio_form(audio, response_format="text").send(server, TRANSCRIPTIONS)
    assert (status, headers["content-type"]) == (200, "text/plain; charset=utf-8")
    assert data == b"First sentence here. And a second one!\n"
    status, headers, data = audio_form(audio, response_format="srt").send(server, TRANSCRIPTIONS)
    assert headers["content-type"].startswith("application/x-subrip")
    assert data.decode() == (
        "1\n00:00:00,000 --> 00:00:01,200\nFirst sentence here.\n\n"
        "2\n00:00:01,200 --> 00:00:02,800\nAnd a second one!\n\n"
    )
    status, headers, data = audio_form(audio, response_format="vtt").send(server, TRANSCRIPTIONS)
    assert headers["content-type"].startswith("text/vtt")
    assert data.decode() == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.200\nFirst sentence here.\n\n"
        "00:00:01.200 --> 00:00:02.800\nAnd a second one!\n\n"
    )


def test_transcription_verbose_json(server: FakeServer) -> None:
    _, _, audio = speech(server, input="Hello, big world. Bye!")
    form = audio_form(
        audio,
        response_format="verbose_json",
        language="fr",
        temperature="0.5",
        timestamp_granularities=["word", "segment"],
    )
    doc = ok_json(*form.send(server, TRANSCRIPTIONS))
    assert doc["task"] == "transcribe" and doc["language"] == "french"
    assert doc["text"] == "Hello, big world. Bye!"
    assert doc["duration"] == pytest.approx(1.6)
    assert [w["word"] for w in doc["words"]] == ["Hello", "big", "world", "Bye"]
    assert doc["words"][1] == {"word": "big", "start": 0.4, "end": 0.8}
    assert [(s["id"], s["text"], s["start"], s["end"]) for s in doc["segments"]] == [
        (0, " Hello, big world.", 0.0, 1.2),
        (1, " Bye!", 1.2, 1.6),
    ]
    assert doc["segments"][0]["temperature"] == 0.5
    plain = ok_json(*audio_form(audio, response_format="verbose_json").send(server, TRANSLATIONS))
    assert plain["task"] == "translate" and plain["language"] == "english"
    assert "words" not in plain


@pytest.mark.parametrize(
    ("form", "param"),
    [
        (Form().field("model", "whisper-1"), "file"),
        (Form().file("file", "a.mp3", b"x"), "model"),
        (audio_form(b"x", response_format="xml"), "response_format"),
        (audio_form(b"x", temperature="hot"), "temperature"),
        (audio_form(b"x", timestamp_granularities="letter"), "timestamp_granularities"),
    ],
)
def test_transcription_validation(server: FakeServer, form: Form, param: str) -> None:
    status, _, data = form.send(server, TRANSCRIPTIONS)
    assert error_of(status, data, 400)["param"] == param


def test_transcription_unknown_model_and_auth() -> None:
    with FakeServer(models=["whisper-1"], api_key="right") as server:
        form = audio_form(b"x", model="whisper-9")
        status, _, data = form.send(server, TRANSCRIPTIONS, {"Authorization": "Bearer right"})
        assert error_of(status, data, 404)["code"] == "model_not_found"
        status, _, data = audio_form(b"x").send(server, TRANSCRIPTIONS)
        assert status == 401


def test_100_mb_upload_is_hashed_in_bounded_memory(server: FakeServer) -> None:
    piece = os.urandom(256 * 1024)
    count = 400
    size = len(piece) * count
    boundary = "upload-boundary-42"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    total = len(head) + size + len(tail)
    request_head = (
        f"POST {TRANSCRIPTIONS} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {total}\r\n\r\n"
    ).encode()
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
            sock.sendall(request_head + head)
            for _ in range(count):
                sock.sendall(piece)
                digest.update(piece)
            sock.sendall(tail)
            raw = read_until(sock, b'bytes of big.wav."}')
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert json.loads(split_response(raw)[2]) == {"text": f"Transcribed {size} bytes of big.wav."}
    (recorded,) = server.requests
    assert recorded.body_size == total
    assert len(recorded.body) == 1024 * 1024
    assert recorded.form["files"] == [
        {
            "name": "file",
            "filename": "big.wav",
            "content_type": "audio/wav",
            "size": size,
            "sha256": digest.hexdigest(),
        }
    ]
    # The recorded first MiB, the file's first 64 KiB and a few pieces in flight.
    assert peak < 6 * 1024 * 1024, peak


def test_faults_apply_to_uploads(server: FakeServer) -> None:
    form = audio_form(b"x" * 5000)
    status, _, data = form.send(server, TRANSCRIPTIONS, {"X-R9S-Fault": "status=500"})
    assert status == 500
    with raw_request(
        server,
        TRANSCRIPTIONS,
        form.body(),
        {"Content-Type": form.content_type, "X-R9S-Fault": "cut_after=0"},
    ) as sock:
        _, headers, data = split_response(read_to_eof(sock))
    assert len(data) < int(headers["content-length"])
