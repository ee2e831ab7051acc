"""Contender: r9s from this repository (run with ``PYTHONPATH`` = the repo root).

Variants: ``sync`` (stdlib urllib transport), ``asyncio`` and ``trio`` (h11 on anyio), and for
parse-only ``typed`` (``protocol.stream_decoder``: ``ChatCompletionChunk`` objects) and
``untyped`` (``protocol.SSEDecoder`` + ``json.loads``).  Default clients, as a user gets them.

Binary workloads: the speech download is read with ``iter_bytes()`` / ``aiter_bytes()``
(``sync``, ``asyncio``, ``trio``) or written with ``stream_to_file`` / ``astream_to_file``
(``*-file``); the upload is ``audio.transcribe(file=Path(...))`` (``sync``, ...) or from an
open binary file (``*-open``).
"""

from __future__ import annotations

import json
import os
import sys
from time import perf_counter
from typing import Any

import _common
import _payloads
from _common import API_KEY, MESSAGES, MODEL, PROMPT, Result, result


def _check_origin() -> None:
    import r9s

    if "site-packages" in (r9s.__file__ or ""):
        raise SystemExit(f"expected the repo's r9s, got {r9s.__file__}")


def _client(url: str) -> Any:
    from r9s import R9S

    return R9S(api_key=API_KEY, server_url=url + "/v1")


# ------------------------------------------------------------------ (a) chat stream


def chat_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        for _ in c.chat.create(model=MODEL, messages=MESSAGES, stream=True, max_tokens=2):
            pass  # warm-up: connection open, lazy imports done
        t0 = perf_counter()
        count = chars = 0
        for chunk in c.chat.create(
            model=MODEL, messages=MESSAGES, stream=True, max_tokens=int(size)
        ):
            content = chunk.choices[0].delta.content
            count += 1
            if content:
                chars += len(content)
        return result(perf_counter() - t0, count, chars)


def _chat_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                s = await c.chat.create_async(
                    model=MODEL, messages=MESSAGES, stream=True, max_tokens=2
                )
                async for _ in s:
                    pass
                t0 = perf_counter()
                count = chars = 0
                s = await c.chat.create_async(
                    model=MODEL, messages=MESSAGES, stream=True, max_tokens=int(size)
                )
                async for chunk in s:
                    content = chunk.choices[0].delta.content
                    count += 1
                    if content:
                        chars += len(content)
                return result(perf_counter() - t0, count, chars)

        return _common.run_async(go, backend)

    return run


# ------------------------------------------------------------------ (b) Responses stream

_DELTA = "response.output_text.delta"


def responses_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        for _ in c.responses.create(model=MODEL, input=PROMPT, stream=True, max_output_tokens=1):
            pass
        t0 = perf_counter()
        count = chars = 0
        for ev in c.responses.create(
            model=MODEL, input=PROMPT, stream=True, max_output_tokens=int(size)
        ):
            if ev.type == _DELTA:
                count += 1
                chars += len(ev.delta)
        return result(perf_counter() - t0, count, chars)


def _responses_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                s = await c.responses.create_async(
                    model=MODEL, input=PROMPT, stream=True, max_output_tokens=1
                )
                async for _ in s:
                    pass
                t0 = perf_counter()
                count = chars = 0
                s = await c.responses.create_async(
                    model=MODEL, input=PROMPT, stream=True, max_output_tokens=int(size)
                )
                async for ev in s:
                    if ev.type == _DELTA:
                        count += 1
                        chars += len(ev.delta)
                return result(perf_counter() - t0, count, chars)

        return _common.run_async(go, backend)

    return run


# ------------------------------------------------------------------ (g) messages stream

_CLAUDE = _payloads.CLAUDE_MODEL
_BLOCK_DELTA = "content_block_delta"


def messages_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        for _ in c.messages.create(model=_CLAUDE, messages=MESSAGES, max_tokens=2, stream=True):
            pass
        t0 = perf_counter()
        count = chars = 0
        for ev in c.messages.create(
            model=_CLAUDE, messages=MESSAGES, max_tokens=int(size), stream=True
        ):
            if ev.type == _BLOCK_DELTA:
                count += 1
                chars += len(ev.delta.text)
        return result(perf_counter() - t0, count, chars)


def _messages_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                s = await c.messages.create_async(
                    model=_CLAUDE, messages=MESSAGES, max_tokens=2, stream=True
                )
                async for _ in s:
                    pass
                t0 = perf_counter()
                count = chars = 0
                s = await c.messages.create_async(
                    model=_CLAUDE, messages=MESSAGES, max_tokens=int(size), stream=True
                )
                async for ev in s:
                    if ev.type == _BLOCK_DELTA:
                        count += 1
                        chars += len(ev.delta.text)
                return result(perf_counter() - t0, count, chars)

        return _common.run_async(go, backend)

    return run


# ------------------------------------------------------------------ (h) speech download


def _speech_args(nbytes: int) -> dict[str, Any]:
    return {"model": "tts-1", "input": _payloads.speech_input(nbytes), "voice": "alloy"}


def _speech_sync(to_file: bool) -> Any:
    def run(url: str, size: float) -> Result:
        nbytes = _payloads.megabytes_to_bytes(size)
        target = f"speech-{os.getpid()}.mp3"
        with _client(url) as c:
            with c.audio.speech(**_speech_args(1000)) as warm:
                warm.read()
            probe = _common.IOProbe()
            with c.audio.speech(**_speech_args(nbytes)) as res:
                if to_file:
                    got = res.stream_to_file(target)
                else:
                    got = 0
                    for piece in res.iter_bytes():
                        got += len(piece)
            out = probe.done(got, nbytes)
        return _common.file_result(out, target) if to_file else out

    return run


def _speech_async(backend: str, to_file: bool) -> Any:
    def run(url: str, size: float) -> Result:
        nbytes = _payloads.megabytes_to_bytes(size)
        target = f"speech-{os.getpid()}.mp3"

        async def go() -> Result:
            async with _client(url) as c:
                async with await c.audio.speech_async(**_speech_args(1000)) as warm:
                    await warm.aread()
                probe = _common.IOProbe()
                async with await c.audio.speech_async(**_speech_args(nbytes)) as res:
                    if to_file:
                        got = await res.astream_to_file(target)
                    else:
                        got = 0
                        async for piece in res.aiter_bytes():
                            got += len(piece)
                return probe.done(got, nbytes)

        out = _common.run_async(go, backend)
        return _common.file_result(out, target) if to_file else out

    return run


# ------------------------------------------------------------------ (i) transcription upload


def _upload_sync(from_open_file: bool) -> Any:
    def run(url: str, size: float) -> Result:
        from pathlib import Path

        nbytes = _payloads.megabytes_to_bytes(size)
        path = Path(_payloads.upload_path_name(nbytes))
        with _common.warm_file() as warm, _client(url) as c:
            c.audio.transcribe(file=warm, model=_payloads.UPLOAD_MODEL)
            probe = _common.IOProbe()
            if from_open_file:
                with open(path, "rb") as f:
                    res = c.audio.transcribe(file=f, model=_payloads.UPLOAD_MODEL)
            else:
                res = c.audio.transcribe(file=path, model=_payloads.UPLOAD_MODEL)
            return probe.done(_payloads.parse_transcription(res.text), nbytes)

    return run


def _upload_async(backend: str, from_open_file: bool) -> Any:
    def run(url: str, size: float) -> Result:
        from pathlib import Path

        nbytes = _payloads.megabytes_to_bytes(size)
        path = Path(_payloads.upload_path_name(nbytes))

        async def go() -> Result:
            async with _client(url) as c:
                with _common.warm_file() as warm:
                    await c.audio.transcribe_async(file=warm, model=_payloads.UPLOAD_MODEL)
                probe = _common.IOProbe()
                if from_open_file:
                    with open(path, "rb") as f:
                        res = await c.audio.transcribe_async(file=f, model=_payloads.UPLOAD_MODEL)
                else:
                    res = await c.audio.transcribe_async(file=path, model=_payloads.UPLOAD_MODEL)
                return probe.done(_payloads.parse_transcription(res.text), nbytes)

        return _common.run_async(go, backend)

    return run


# ------------------------------------------------------------------ (c) parse-only


def parse_typed(url: str, size: float) -> Result:
    from r9s import protocol

    pieces = _payloads.parse_corpus(size)
    headers = {"content-type": "text/event-stream; charset=utf-8"}
    t0 = perf_counter()
    dec = protocol.stream_decoder("chat.create", 200, headers)
    count = chars = 0
    for piece in pieces:
        for chunk in dec.feed(piece):
            content = chunk.choices[0].delta.content
            count += 1
            if content:
                chars += len(content)
        if dec.done:
            break
    dec.end()
    dt = perf_counter() - t0
    if dec.error is not None:
        raise dec.error
    return result(dt, count, chars, sum(map(len, pieces)))


def parse_untyped(url: str, size: float) -> Result:
    from r9s import protocol

    pieces = _payloads.parse_corpus(size)
    loads = json.loads
    t0 = perf_counter()
    dec = protocol.SSEDecoder()
    count = chars = 0
    done = False
    for piece in pieces:
        for ev in dec.feed(piece):
            if ev.data == "[DONE]":
                done = True
                break
            content = loads(ev.data)["choices"][0]["delta"].get("content")
            count += 1
            if content:
                chars += len(content)
        if done:
            break
    dt = perf_counter() - t0
    return result(dt, count, chars, sum(map(len, pieces)))


# ------------------------------------------------------------------ (d) sequential requests


def _check(res: Any) -> bool:
    return bool(res.choices[0].message.content == _payloads.COMPLETION_CONTENT)


def seq_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        c.chat.create(model=MODEL, messages=MESSAGES)
        t0 = perf_counter()
        ok = 0
        for _ in range(int(size)):
            ok += _check(c.chat.create(model=MODEL, messages=MESSAGES))
        return result(perf_counter() - t0, ok)


def _seq_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                await c.chat.create_async(model=MODEL, messages=MESSAGES)
                t0 = perf_counter()
                ok = 0
                for _ in range(int(size)):
                    ok += _check(await c.chat.create_async(model=MODEL, messages=MESSAGES))
                return result(perf_counter() - t0, ok)

        return _common.run_async(go, backend)

    return run


# ------------------------------------------------------------------ (e) concurrent requests


def _conc_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _client(url) as c:
                await c.chat.create_async(model=MODEL, messages=MESSAGES)

                async def one() -> bool:
                    return _check(await c.chat.create_async(model=MODEL, messages=MESSAGES))

                t0 = perf_counter()
                ok = await _common.concurrently(one, int(size), _common.CONCURRENCY)
                return result(perf_counter() - t0, ok)

        return _common.run_async(go, backend)

    return run


# ------------------------------------------------------------------ peak RSS after one stream


def rss_sync(url: str, size: float) -> Result:
    """Import r9s, finish one streamed chat (no warm-up), report (peak RSS is added by main)."""
    from r9s import R9S

    t0 = perf_counter()
    count = chars = 0
    with R9S(api_key=API_KEY, server_url=url + "/v1") as c:
        for chunk in c.chat.create(
            model=MODEL, messages=MESSAGES, stream=True, max_tokens=int(size)
        ):
            content = chunk.choices[0].delta.content
            count += 1
            chars += len(content or "")
    return result(perf_counter() - t0, count, chars)


def rss_asyncio(url: str, size: float) -> Result:
    """The same with the async client under asyncio (h11 and anyio loaded)."""
    from r9s import R9S

    async def go() -> Result:
        t0 = perf_counter()
        count = chars = 0
        async with R9S(api_key=API_KEY, server_url=url + "/v1") as c:
            s = await c.chat.create_async(
                model=MODEL, messages=MESSAGES, stream=True, max_tokens=int(size)
            )
            async for chunk in s:
                content = chunk.choices[0].delta.content
                count += 1
                chars += len(content or "")
        return result(perf_counter() - t0, count, chars)

    return _common.run_async(go, "asyncio")


TABLE = {
    "chat.sync": chat_sync,
    "chat.asyncio": _chat_async("asyncio"),
    "chat.trio": _chat_async("trio"),
    "responses.sync": responses_sync,
    "responses.asyncio": _responses_async("asyncio"),
    "responses.trio": _responses_async("trio"),
    "parse.typed": parse_typed,
    "parse.untyped": parse_untyped,
    "seq.sync": seq_sync,
    "seq.asyncio": _seq_async("asyncio"),
    "seq.trio": _seq_async("trio"),
    "conc.asyncio": _conc_async("asyncio"),
    "conc.trio": _conc_async("trio"),
    "rss.sync": rss_sync,
    "rss.asyncio": rss_asyncio,
    "messages.sync": messages_sync,
    "messages.asyncio": _messages_async("asyncio"),
    "messages.trio": _messages_async("trio"),
    "speech.sync": _speech_sync(False),
    "speech.sync-file": _speech_sync(True),
    "speech.asyncio": _speech_async("asyncio", False),
    "speech.asyncio-file": _speech_async("asyncio", True),
    "speech.trio": _speech_async("trio", False),
    "speech.trio-file": _speech_async("trio", True),
    "upload.sync": _upload_sync(False),
    "upload.sync-open": _upload_sync(True),
    "upload.asyncio": _upload_async("asyncio", False),
    "upload.asyncio-open": _upload_async("asyncio", True),
    "upload.trio": _upload_async("trio", False),
    "upload.trio-open": _upload_async("trio", True),
}

if __name__ == "__main__":
    _check_origin()
    sys.exit(_common.main(TABLE))
