"""The bytes the benchmarks exchange, built the same way by the server and by every contender.

Standard library only: this module is imported by the bench server, by r9s's contender, by the
openai and anchor contenders (in their own venvs) and by the raw-socket limit.

Shapes follow OpenAI's real wire format:

- a streamed chat completion of ``n`` chunks: one ``role`` chunk (content ``""``), ``n - 2``
  content chunks of one or two words each, one final chunk with ``finish_reason: "stop"``
  and an empty delta, then ``data: [DONE]``;
- a streamed Responses answer: ``response.created``, ``response.in_progress``,
  ``response.output_item.added``, ``response.content_part.added``, ``n`` x
  ``response.output_text.delta``, then the ``.done`` events and ``response.completed``, each
  as ``event:`` + ``data:`` lines (no ``[DONE]``, as OpenAI does);
- a small non-streamed chat completion;
- a streamed Anthropic Messages answer of ``n`` text deltas: ``message_start``,
  ``content_block_start``, ``n`` x ``content_block_delta`` (``text_delta``),
  ``content_block_stop``, ``message_delta``, ``message_stop``, each as ``event:`` + ``data:``
  lines, compact JSON, as Anthropic's API sends them;
- binary bodies: the speech answer (a repeated 1 MiB block of audio-like bytes) and the file a
  transcription uploads (the same block repeated), with the multipart framing around it.
"""

from __future__ import annotations

import json

CREATED = 1741570283
MODEL = "gpt-4o-mini-2024-07-18"
CHAT_ID = "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"
RESP_ID = "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"
MSG_ID = "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b"
FINGERPRINT = "fp_06737a9306"

_WORDS = (
    "the quick brown fox jumps over a lazy dog while streaming tokens arrive one by one "
    "from the gateway and every client must decode them fast enough to keep up with a "
    "busy model serving naïve users and careful engineers alike in production today"
).split()

#: Size of one parse-only input piece, as a transport would hand it over.
PIECE = 64 * 1024


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def content_piece(i: int) -> str:
    """The text of the ``i``-th delta: one word, every third delta two words."""
    w = _WORDS[i % len(_WORDS)]
    if i % 3 == 2:
        w += " " + _WORDS[(i * 7 + 1) % len(_WORDS)]
    return " " + w


def _chat_chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": CHAT_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def chat_frames(n: int) -> list[bytes]:
    """The SSE frames of a streamed chat completion of ``n >= 2`` chunks, ``[DONE]`` last."""
    n = max(n, 2)
    frames = [
        b"data: " + _dumps(_chat_chunk({"role": "assistant", "content": "", "refusal": None}))
    ]
    cache: dict[str, bytes] = {}
    head = b"data: " + _dumps(_chat_chunk({"content": "@@"})).split(b'"@@"')[0]
    tail = _dumps(_chat_chunk({"content": "@@"})).split(b'"@@"')[1]
    for i in range(n - 2):
        text = content_piece(i)
        enc = cache.get(text)
        if enc is None:
            enc = cache[text] = _dumps(text)
        frames.append(head + enc + tail)
    frames.append(b"data: " + _dumps(_chat_chunk({}, "stop")))
    frames.append(b"data: [DONE]")
    return [f + b"\n\n" for f in frames]


def chat_expected(n: int) -> tuple[int, int]:
    """``(chunks, characters of content)`` a caller of a ``chat_frames(n)`` stream reads."""
    n = max(n, 2)
    return n, sum(len(content_piece(i)) for i in range(n - 2))


def _response(status: str, text: str | None, n: int) -> dict[str, object]:
    output: list[object] = []
    usage: object = None
    if text is not None:
        output = [
            {
                "type": "message",
                "id": MSG_ID,
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ]
        usage = {
            "input_tokens": 12,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": n,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 12 + n,
        }
    return {
        "id": RESP_ID,
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": n,
        "model": MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def responses_frames(n: int) -> list[bytes]:
    """The SSE frames of a streamed Responses answer with ``n`` text deltas."""
    seq = 0
    frames: list[bytes] = []

    def event(kind: str, **fields: object) -> None:
        nonlocal seq
        body = {"type": kind, "sequence_number": seq, **fields}
        frames.append(b"event: " + kind.encode() + b"\ndata: " + _dumps(body) + b"\n\n")
        seq += 1

    event("response.created", response=_response("in_progress", None, n))
    event("response.in_progress", response=_response("in_progress", None, n))
    item = {"type": "message", "id": MSG_ID, "status": "in_progress", "role": "assistant"}
    event("response.output_item.added", output_index=0, item={**item, "content": []})
    where = {"item_id": MSG_ID, "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": []}
    event("response.content_part.added", **where, part=part)
    kind = "response.output_text.delta"
    pieces = [content_piece(i) for i in range(n)]
    for text in pieces:
        body = {"type": kind, "sequence_number": seq, **where, "delta": text, "logprobs": []}
        frames.append(b"event: " + kind.encode() + b"\ndata: " + _dumps(body) + b"\n\n")
        seq += 1
    text = "".join(pieces)
    event("response.output_text.done", **where, text=text, logprobs=[])
    event("response.content_part.done", **where, part={**part, "text": text})
    final = _response("completed", text, n)
    event("response.output_item.done", output_index=0, item=final["output"][0])  # type: ignore[index]
    event("response.completed", response=final)
    return frames


def responses_expected(n: int) -> tuple[int, int]:
    """``(text deltas, characters of delta text)`` of a ``responses_frames(n)`` stream."""
    return n, sum(len(content_piece(i)) for i in range(n))


def chat_completion() -> bytes:
    """The JSON body of a small non-streamed chat completion."""
    return _dumps(
        {
            "id": CHAT_ID,
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "Hello! How can I help you today?",
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 9,
                "completion_tokens": 9,
                "total_tokens": 18,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        }
    )


COMPLETION_CONTENT = "Hello! How can I help you today?"


def http_chunked(frames: list[bytes]) -> bytes:
    """``frames`` as an HTTP/1.1 chunked body: one chunk per SSE event, as servers flush them."""
    out = [b"%x\r\n%s\r\n" % (len(f), f) for f in frames]
    out.append(b"0\r\n\r\n")
    return b"".join(out)


def _corpus_shape(megabytes: float) -> tuple[list[bytes], int]:
    block = chat_frames(1002)
    first, body, last = block[0], b"".join(block[1:-2]), b"".join(block[-2:])
    target = int(megabytes * 1_000_000)
    reps = max(1, (target - len(first) - len(last)) // len(body))
    return [first, body, last], reps


def parse_expected(megabytes: float) -> tuple[int, int, int]:
    """``(chunks, content characters, bytes)`` of ``parse_corpus(megabytes)``."""
    (first, body, last), reps = _corpus_shape(megabytes)
    chars = sum(len(content_piece(i)) for i in range(1000)) * reps
    return 2 + 1000 * reps, chars, len(first) + len(body) * reps + len(last)


def parse_corpus(megabytes: float) -> list[bytes]:
    """The 64 KiB pieces of an SSE chat stream of about ``megabytes`` MB (10**6 bytes).

    The stream is ``chat_frames`` content repeated: a role chunk, 1,000 distinct content
    chunks over and over, a finish chunk and ``[DONE]``; see ``parse_expected``.
    """
    (first, body, last), reps = _corpus_shape(megabytes)
    data = first + body * reps + last
    return [data[i : i + PIECE] for i in range(0, len(data), PIECE)]


# ----------------------------------------------------------------------------- messages

CLAUDE_MODEL = "claude-haiku-4-5-20251001"
CLAUDE_MSG_ID = "msg_01XFDUDYJgAACzvnptvVoYEL"


def messages_frames(n: int) -> list[bytes]:
    """The SSE frames of a streamed Anthropic message with ``n`` ``text_delta`` events."""

    def event(body: dict[str, object]) -> bytes:
        return b"event: " + str(body["type"]).encode() + b"\ndata: " + _dumps(body) + b"\n\n"

    usage = {
        "input_tokens": 12,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 1,
        "service_tier": "standard",
    }
    message: dict[str, object] = {
        "id": CLAUDE_MSG_ID,
        "type": "message",
        "role": "assistant",
        "model": CLAUDE_MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    frames = [
        event({"type": "message_start", "message": message}),
        event(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
        ),
    ]
    probe = event(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "@@"}}
    )
    head, tail = probe.split(b'"@@"')
    cache: dict[str, bytes] = {}
    for i in range(n):
        text = content_piece(i)
        enc = cache.get(text)
        if enc is None:
            enc = cache[text] = _dumps(text)
        frames.append(head + enc + tail)
    frames.append(event({"type": "content_block_stop", "index": 0}))
    frames.append(
        event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
                "usage": {"output_tokens": n},
            }
        )
    )
    frames.append(event({"type": "message_stop"}))
    return frames


def messages_expected(n: int) -> tuple[int, int]:
    """``(text deltas, characters of delta text)`` of a ``messages_frames(n)`` stream."""
    return n, sum(len(content_piece(i)) for i in range(n))


# ----------------------------------------------------------------------------- binary bodies

#: The repeated unit of every binary body: 1 MiB of bytes that look like an MP3 stream
#: (a frame sync word every 417 bytes, as a 128 kbit/s 44.1 kHz MPEG-1 Layer III stream has).
BLOCK_SIZE = 1024 * 1024


def binary_block() -> bytes:
    frame = b"\xff\xfb\x90\x64" + bytes((i * 37 + 11) % 256 for i in range(413))
    return (frame * (BLOCK_SIZE // len(frame) + 1))[:BLOCK_SIZE]


def megabytes_to_bytes(megabytes: float) -> int:
    """Sizes of binary workloads are in MB of 10**6 bytes."""
    return round(megabytes * 1_000_000)


#: The speech input that asks the bench server for ``n`` bytes of audio.
def speech_input(nbytes: int) -> str:
    return f"bench {nbytes} bytes"


UPLOAD_MODEL = "whisper-1"
UPLOAD_BOUNDARY = "r9s-bench-5b1c0e8f7a3d4e2b9c6f"
UPLOAD_FILENAME = "speech.mp3"


def upload_path_name(nbytes: int) -> str:
    """The file (in the contenders' working directory) a transcription of ``nbytes`` uploads."""
    return f"upload-{nbytes}.mp3"


def write_upload_file(path: str, nbytes: int) -> None:
    block = binary_block()
    with open(path, "wb") as f:
        left = nbytes
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)


def multipart_framing(boundary: str = UPLOAD_BOUNDARY) -> tuple[bytes, bytes]:
    """``(head, tail)`` around the file's bytes: the ``model`` field, then the file part."""
    b = boundary.encode()
    head = (
        b"--"
        + b
        + b'\r\nContent-Disposition: form-data; name="model"\r\n\r\n'
        + UPLOAD_MODEL.encode()
        + b"\r\n--"
        + b
        + b'\r\nContent-Disposition: form-data; name="file"; filename="'
        + UPLOAD_FILENAME.encode()
        + b'"\r\nContent-Type: audio/mpeg\r\n\r\n'
    )
    return head, b"\r\n--" + b + b"--\r\n"


def transcription_text(received: int, ok: bool) -> str:
    """What the bench server answers for an upload: how many body bytes it read."""
    return f"received {received} bytes" + ("" if ok else " (no closing boundary)")


def parse_transcription(text: str) -> int:
    """The body bytes a ``transcription_text`` reports, or -1 if the body was malformed."""
    parts = text.split()
    if len(parts) != 3 or parts[0] != "received" or parts[2] != "bytes":
        return -1
    return int(parts[1])
