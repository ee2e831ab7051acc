"""Contender: the ``openai`` package (latest from PyPI), in its own venv.

Variants: ``sync`` (``OpenAI``), ``asyncio`` and ``trio`` (``AsyncOpenAI``), default clients
(``max_retries`` and connection limits as shipped).  Parse-only uses the library's own
pieces, exactly as ``openai.Stream.__stream__`` strings them together:

- ``untyped``: ``openai._streaming.SSEDecoder().iter_bytes(pieces)`` then ``sse.json()``;
- ``typed``: the same, then ``openai._models.construct_type(type_=ChatCompletionChunk,
  value=data)``, which is what ``OpenAI._process_response_data`` does for a stream chunk
  (the client's default ``_strict_response_validation=False``).

Binary workloads: the speech download through
``audio.speech.with_streaming_response.create(...)``, read with ``iter_bytes()`` (``sync``,
``asyncio``, ``trio``) or written with ``stream_to_file`` (``*-file``); the upload is
``audio.transcriptions.create(file=Path(...))`` (the library reads the file into memory
before sending it: that is its figure).
"""

from __future__ import annotations

import sys
from time import perf_counter
from typing import Any

import _common
import _payloads
from _common import API_KEY, MESSAGES, MODEL, PROMPT, Result, result


def _client(url: str) -> Any:
    from openai import OpenAI

    return OpenAI(api_key=API_KEY, base_url=url + "/v1")


def _aclient(url: str) -> Any:
    from openai import AsyncOpenAI

    return AsyncOpenAI(api_key=API_KEY, base_url=url + "/v1")


def chat_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        for _ in c.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, max_tokens=2
        ):
            pass
        t0 = perf_counter()
        count = chars = 0
        for chunk in c.chat.completions.create(
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
            async with _aclient(url) as c:
                s = await c.chat.completions.create(
                    model=MODEL, messages=MESSAGES, stream=True, max_tokens=2
                )
                async for _ in s:
                    pass
                t0 = perf_counter()
                count = chars = 0
                s = await c.chat.completions.create(
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
            async with _aclient(url) as c:
                s = await c.responses.create(
                    model=MODEL, input=PROMPT, stream=True, max_output_tokens=1
                )
                async for _ in s:
                    pass
                t0 = perf_counter()
                count = chars = 0
                s = await c.responses.create(
                    model=MODEL, input=PROMPT, stream=True, max_output_tokens=int(size)
                )
                async for ev in s:
                    if ev.type == _DELTA:
                        count += 1
                        chars += len(ev.delta)
                return result(perf_counter() - t0, count, chars)

        return _common.run_async(go, backend)

    return run


def _parse(typed: bool) -> Any:
    def run(url: str, size: float) -> Result:
        from openai._models import construct_type
        from openai._streaming import SSEDecoder
        from openai.types.chat import ChatCompletionChunk

        pieces = _payloads.parse_corpus(size)
        t0 = perf_counter()
        count = chars = 0
        for sse in SSEDecoder().iter_bytes(iter(pieces)):
            if sse.data.startswith("[DONE]"):
                break
            data = sse.json()
            if typed:
                chunk = construct_type(type_=ChatCompletionChunk, value=data)
                content = chunk.choices[0].delta.content  # type: ignore[attr-defined]
            else:
                content = data["choices"][0]["delta"].get("content")
            count += 1
            if content:
                chars += len(content)
        return result(perf_counter() - t0, count, chars, sum(map(len, pieces)))

    return run


def _check(res: Any) -> bool:
    return bool(res.choices[0].message.content == _payloads.COMPLETION_CONTENT)


def seq_sync(url: str, size: float) -> Result:
    with _client(url) as c:
        c.chat.completions.create(model=MODEL, messages=MESSAGES)
        t0 = perf_counter()
        ok = 0
        for _ in range(int(size)):
            ok += _check(c.chat.completions.create(model=MODEL, messages=MESSAGES))
        return result(perf_counter() - t0, ok)


def _seq_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _aclient(url) as c:
                await c.chat.completions.create(model=MODEL, messages=MESSAGES)
                t0 = perf_counter()
                ok = 0
                for _ in range(int(size)):
                    res = await c.chat.completions.create(model=MODEL, messages=MESSAGES)
                    ok += _check(res)
                return result(perf_counter() - t0, ok)

        return _common.run_async(go, backend)

    return run


def _conc_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        async def go() -> Result:
            async with _aclient(url) as c:
                await c.chat.completions.create(model=MODEL, messages=MESSAGES)

                async def one() -> bool:
                    return _check(await c.chat.completions.create(model=MODEL, messages=MESSAGES))

                t0 = perf_counter()
                ok = await _common.concurrently(one, int(size), _common.CONCURRENCY)
                return result(perf_counter() - t0, ok)

        return _common.run_async(go, backend)

    return run


def _speech_args(nbytes: int) -> dict[str, Any]:
    return {"model": "tts-1", "input": _payloads.speech_input(nbytes), "voice": "alloy"}


def _speech_sync(to_file: bool) -> Any:
    def run(url: str, size: float) -> Result:
        import os

        nbytes = _payloads.megabytes_to_bytes(size)
        target = f"speech-{os.getpid()}.mp3"
        with _client(url) as c:
            speech = c.audio.speech.with_streaming_response
            with speech.create(**_speech_args(1000)) as warm:
                warm.read()
            probe = _common.IOProbe()
            with speech.create(**_speech_args(nbytes)) as res:
                got = 0
                if to_file:
                    res.stream_to_file(target)
                else:
                    for piece in res.iter_bytes():
                        got += len(piece)
            out = probe.done(got, nbytes)
        return _common.file_result(out, target) if to_file else out

    return run


def _speech_async(backend: str, to_file: bool) -> Any:
    def run(url: str, size: float) -> Result:
        import os

        nbytes = _payloads.megabytes_to_bytes(size)
        target = f"speech-{os.getpid()}.mp3"

        async def go() -> Result:
            async with _aclient(url) as c:
                speech = c.audio.speech.with_streaming_response
                async with speech.create(**_speech_args(1000)) as warm:
                    await warm.read()
                probe = _common.IOProbe()
                async with speech.create(**_speech_args(nbytes)) as res:
                    got = 0
                    if to_file:
                        await res.stream_to_file(target)
                    else:
                        async for piece in res.iter_bytes():
                            got += len(piece)
                return probe.done(got, nbytes)

        out = _common.run_async(go, backend)
        return _common.file_result(out, target) if to_file else out

    return run


def _upload_sync(url: str, size: float) -> Result:
    from pathlib import Path

    nbytes = _payloads.megabytes_to_bytes(size)
    path = Path(_payloads.upload_path_name(nbytes))
    with _common.warm_file() as warm, _client(url) as c:
        c.audio.transcriptions.create(file=warm, model=_payloads.UPLOAD_MODEL)
        probe = _common.IOProbe()
        res = c.audio.transcriptions.create(file=path, model=_payloads.UPLOAD_MODEL)
        return probe.done(_payloads.parse_transcription(res.text), nbytes)


def _upload_async(backend: str) -> Any:
    def run(url: str, size: float) -> Result:
        from pathlib import Path

        nbytes = _payloads.megabytes_to_bytes(size)
        path = Path(_payloads.upload_path_name(nbytes))

        async def go() -> Result:
            async with _aclient(url) as c:
                with _common.warm_file() as warm:
                    await c.audio.transcriptions.create(file=warm, model=_payloads.UPLOAD_MODEL)
                probe = _common.IOProbe()
                res = await c.audio.transcriptions.create(file=path, model=_payloads.UPLOAD_MODEL)
                return probe.done(_payloads.parse_transcription(res.text), nbytes)

        return _common.run_async(go, backend)

    return run


def rss_sync(url: str, size: float) -> Result:
    from openai import OpenAI

    t0 = perf_counter()
    count = chars = 0
    with OpenAI(api_key=API_KEY, base_url=url + "/v1") as c:
        for chunk in c.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, max_tokens=int(size)
        ):
            content = chunk.choices[0].delta.content
            count += 1
            chars += len(content or "")
    return result(perf_counter() - t0, count, chars)


TABLE = {
    "chat.sync": chat_sync,
    "chat.asyncio": _chat_async("asyncio"),
    "chat.trio": _chat_async("trio"),
    "responses.sync": responses_sync,
    "responses.asyncio": _responses_async("asyncio"),
    "responses.trio": _responses_async("trio"),
    "parse.typed": _parse(True),
    "parse.untyped": _parse(False),
    "seq.sync": seq_sync,
    "seq.asyncio": _seq_async("asyncio"),
    "seq.trio": _seq_async("trio"),
    "conc.asyncio": _conc_async("asyncio"),
    "conc.trio": _conc_async("trio"),
    "rss.sync": rss_sync,
    "speech.sync": _speech_sync(False),
    "speech.sync-file": _speech_sync(True),
    "speech.asyncio": _speech_async("asyncio", False),
    "speech.asyncio-file": _speech_async("asyncio", True),
    "speech.trio": _speech_async("trio", False),
    "speech.trio-file": _speech_async("trio", True),
    "upload.sync": _upload_sync,
    "upload.asyncio": _upload_async("asyncio"),
    "upload.trio": _upload_async("trio"),
}

if __name__ == "__main__":
    sys.exit(_common.main(TABLE))
