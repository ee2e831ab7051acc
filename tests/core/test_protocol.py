"""The public sans-IO core: build the exact request, decode answers, no sockets."""

from __future__ import annotations

import json

import pytest

from r9s import errors, protocol
from r9s.models import ChatCompletion, ChatCompletionChunk, Response


def test_build_request_is_exact() -> None:
    req = protocol.build_request(
        "chat.create",
        api_key="sk-1",
        server_url="http://127.0.0.1:8000/v1",
        model="m",
        messages=[{"role": "user", "content": "Hi"}],
        stream=True,
        http_headers={"X-A": "b"},
    )
    assert (req.method, req.url, req.stream) == (
        "POST",
        "http://127.0.0.1:8000/v1/chat/completions",
        True,
    )
    assert req.headers["authorization"] == "Bearer sk-1" and req.headers["x-a"] == "b"
    assert json.loads(req.body) == {
        "model": "m",
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
    }
    assert "sk-1" not in repr(req)


def test_unknown_operation_and_bad_params() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        protocol.build_request("videos.create", api_key="k")
    with pytest.raises(TypeError, match="prompt"):
        protocol.build_request("completions.create", api_key="k", model="m")


def test_parse_response_and_errors() -> None:
    body = b'{"id": "r", "output": [{"type": "message", "content": [{"type": "output_text", "text": "ok"}]}]}'
    res = protocol.parse_response("responses.create", 200, {"x-request-id": "q"}, body)
    assert isinstance(res, Response) and res.output_text == "ok" and res._request_id == "q"
    assert isinstance(
        protocol.parse_response("chat.create", 201, {}, b'{"id": "c"}'), ChatCompletion
    )
    with pytest.raises(errors.RateLimitError):
        protocol.parse_response("chat.create", 429, {}, b'{"error": {"message": "slow"}}')


def test_stream_decoder_round_trip() -> None:
    dec = protocol.stream_decoder("chat.create", 200, {"content-type": "text/event-stream"})
    out = dec.feed(b'data: {"choices": [{"delta": {"content": "a"}}]}\n\ndata: [DO')
    assert isinstance(out[0], ChatCompletionChunk) and out[0].choices[0].delta.content == "a"
    assert dec.feed(b"NE]\n\n") == [] and dec.done


def test_retry_delay_is_exposed() -> None:
    err = errors.RateLimitError("x", headers=protocol.Headers({"retry-after": "2"}))
    assert (
        protocol.retry_delay(
            protocol.DEFAULT_RETRY_CONFIG, err, attempt=1, elapsed=0, now=0, rand=0.5
        )
        == 2.0
    )


def test_uploads_and_text_answers_through_the_protocol() -> None:
    req = protocol.build_request(
        "audio.transcribe", api_key="k", file=b"RIFF", model="whisper-1", response_format="srt"
    )
    assert isinstance(req.body, protocol.MultipartBody)
    whole = protocol.body_bytes(req.body)
    assert len(whole) == req.body.length and b'name="file"; filename="upload"' in whole
    assert b"".join(protocol.checked_pieces(req.body)) == whole
    text = protocol.parse_response(
        "audio.transcribe", 200, {"content-type": "application/x-subrip"}, b"1\nhi\n"
    )
    assert text == "1\nhi\n"
    res = protocol.parse_response(
        "audio.transcribe", 200, {"content-type": "application/json"}, b'{"text": "hi"}'
    )
    assert res.text == "hi"
