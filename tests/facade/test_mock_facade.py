"""The R9S facade and both drivers over MockTransport: retries, streams, errors.

Everything after the transport runs for real; the handler plays the server.
"""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from r9s import R9S, errors
from r9s.transports.mock import MockResponse, MockTransport
from r9s.utils import BackoffStrategy, RetryConfig

FAST = RetryConfig("backoff", BackoffStrategy(1, 5, 2, 5000), retry_connection_errors=True)
MSGS = [{"role": "user", "content": "Hi"}]
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}}],
}


def chunk(text: str) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}}],
    }


class Script:
    """Answers requests from a list of canned responses (or exceptions), in order."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.responses: list[MockResponse] = []

    def __call__(self, request: Any) -> MockResponse:
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        self.responses.append(answer)
        return answer


def client(script: Script, **kw: Any) -> tuple[R9S, MockTransport]:
    transport = MockTransport(script)
    kw.setdefault("retry_config", FAST)
    return R9S(api_key="sk-k", client=transport, async_client=transport, **kw), transport


def error(status: int, **headers: str) -> MockResponse:
    return MockResponse.json({"error": {"message": f"status {status}"}}, status, headers)


def test_retries_then_succeeds() -> None:
    c, t = client(
        Script(error(503), error(429, **{"retry-after-ms": "1"}), MockResponse.json(COMPLETION))
    )
    res = c.chat.create(model="m", messages=MSGS)
    assert res.choices[0].message.content == "Hello"
    assert len(t.requests) == 3


def test_gives_up_with_the_last_error() -> None:
    capped = RetryConfig("backoff", FAST.backoff, True, max_retries=2)
    c, t = client(Script(error(500), error(502), error(503), error(500)), retry_config=capped)
    with pytest.raises(errors.ServiceUnavailableError, match="status 503"):
        c.chat.create(model="m", messages=MSGS)
    assert len(t.requests) == 3


def test_retries_off_per_client_and_per_call() -> None:
    c, t = client(Script(error(503)), retry_config=None)
    with pytest.raises(errors.ServiceUnavailableError):
        c.chat.create(model="m", messages=MSGS)
    c2, t2 = client(Script(error(503)))
    with pytest.raises(errors.ServiceUnavailableError):
        c2.chat.create(model="m", messages=MSGS, retries=None)
    assert len(t.requests) == len(t2.requests) == 1


def test_client_errors_are_not_retried() -> None:
    c, t = client(Script(error(404)))
    with pytest.raises(errors.NotFoundError):
        c.chat.create(model="m", messages=MSGS)
    assert len(t.requests) == 1


def test_connection_errors_are_retried_and_foreign_oserrors_translated() -> None:
    c, _t = client(
        Script(
            errors.NoResponseError("refused"),
            ConnectionResetError("reset"),
            MockResponse.json(COMPLETION),
        )
    )
    assert c.chat.create(model="m", messages=MSGS).id == "chatcmpl-1"
    c2, _ = client(Script(ConnectionResetError("reset")), retry_config=None)
    with pytest.raises(errors.NoResponseError, match="reset"):
        c2.chat.create(model="m", messages=MSGS)


def test_stream_yields_chunks_and_releases_on_exhaustion() -> None:
    script = Script(MockResponse.sse([chunk("a"), chunk("b")]))
    c, _ = client(script)
    stream = c.chat.create(model="m", messages=MSGS, stream=True)
    assert [ch.choices[0].delta.content for ch in stream] == ["a", "b"]
    assert script.responses[0].closed
    assert list(stream) == []  # exhausted stays exhausted


def test_stream_break_without_with_releases_at_once() -> None:
    script = Script(MockResponse.sse([chunk("a"), chunk("b"), chunk("c")]))
    c, _ = client(script)
    gc.disable()  # prove it is not the garbage collector that closes it
    try:
        for _ch in c.chat.create(model="m", messages=MSGS, stream=True):
            break
        assert script.responses[0].closed
    finally:
        gc.enable()


def test_stream_with_block_and_close() -> None:
    script = Script(MockResponse.sse([chunk("a"), chunk("b")]), MockResponse.sse([chunk("a")]))
    c, _ = client(script)
    with c.chat.create(model="m", messages=MSGS, stream=True) as s:
        next(s)
    assert script.responses[0].closed
    s2 = c.chat.create(model="m", messages=MSGS, stream=True)
    s2.close()
    assert script.responses[1].closed
    assert list(s2) == []


def test_mid_stream_error_raises_after_earlier_chunks_and_is_not_retried() -> None:
    script = Script(
        MockResponse.sse(
            [chunk("a"), {"error": {"message": "overloaded", "code": 503}}], done=False
        )
    )
    c, t = client(script)
    got = []
    with pytest.raises(errors.ServiceUnavailableError, match="overloaded") as info:
        for ch in c.chat.create(model="m", messages=MSGS, stream=True):
            got.append(ch.choices[0].delta.content)
    assert got == ["a"] and info.value.events_received == 1
    assert len(t.requests) == 1 and script.responses[0].closed


def test_stream_request_with_error_status_raises_before_any_event_and_is_retried() -> None:
    c, t = client(Script(error(503), MockResponse.sse([chunk("ok")])))
    assert [
        x.choices[0].delta.content for x in c.chat.create(model="m", messages=MSGS, stream=True)
    ] == ["ok"]
    assert len(t.requests) == 2


def test_request_id_and_headers_on_streams() -> None:
    c, _ = client(Script(MockResponse.sse([chunk("a")], headers={"x-request-id": "req_7"})))
    with c.chat.create(model="m", messages=MSGS, stream=True) as s:
        assert s.request_id == "req_7" and s.status_code == 200
        assert "req_7" in repr(s) or "200" in repr(s)


def test_responses_and_completions_streams() -> None:
    events = [
        {"type": "response.created", "sequence_number": 0, "response": {"id": "r", "output": []}},
        {"type": "response.output_text.delta", "sequence_number": 1, "delta": "Hi"},
        {
            "type": "response.completed",
            "sequence_number": 2,
            "response": {
                "id": "r",
                "output": [{"type": "message", "content": [{"type": "output_text", "text": "Hi"}]}],
            },
        },
    ]
    c, _ = client(
        Script(
            MockResponse.sse(events, done=False),
            MockResponse.sse(
                [{"id": "x", "object": "text_completion", "choices": [{"text": "t", "index": 0}]}]
            ),
        )
    )
    evs = list(c.responses.create(model="m", input="x", stream=True))
    assert [e.type for e in evs] == [
        "response.created",
        "response.output_text.delta",
        "response.completed",
    ]
    assert evs[1].delta == "Hi" and evs[2].response.output_text == "Hi"
    assert [
        x.choices[0].text for x in c.completions.create(model="m", prompt="p", stream=True)
    ] == ["t"]


def test_api_key_never_in_reprs_or_errors() -> None:
    c, t = client(
        Script(MockResponse.json({"error": {"message": "bad key sk-k-secret"}}, 401)),
        retry_config=None,
    )
    c = R9S(api_key="sk-k-secret", client=t)
    with pytest.raises(errors.AuthenticationError) as info:
        c.chat.create(model="m", messages=MSGS)
    for text in (repr(c), str(info.value), repr(info.value), info.value.body, repr(t.requests[0])):
        assert "sk-k-secret" not in text


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("R9S_API_KEY", "k")
    monkeypatch.setenv("R9S_BASE_URL", "http://127.0.0.1:1/v1")
    assert R9S.from_env().server_url == "http://127.0.0.1:1/v1"
    monkeypatch.delenv("R9S_API_KEY")
    with pytest.raises(ValueError, match="R9S_API_KEY"):
        R9S.from_env()


# -- async twin, under asyncio and trio --------------------------------------------------


@pytest.mark.anyio
async def test_async_retries_and_result() -> None:
    c, t = client(Script(error(503), MockResponse.json(COMPLETION)))
    res = await c.chat.create_async(model="m", messages=MSGS)
    assert res.choices[0].message.content == "Hello" and len(t.requests) == 2


@pytest.mark.anyio
async def test_async_stream_lifecycle_and_mid_stream_error() -> None:
    script = Script(
        MockResponse.sse([chunk("a"), chunk("b")]),
        MockResponse.sse([chunk("a"), chunk("b")]),
        MockResponse.sse([chunk("a"), {"error": {"message": "boom", "type": "server_error"}}]),
    )
    c, _ = client(script)
    stream = await c.chat.create_async(model="m", messages=MSGS, stream=True)
    assert [x.choices[0].delta.content async for x in stream] == ["a", "b"]
    assert script.responses[0].closed
    async with await c.chat.create_async(model="m", messages=MSGS, stream=True) as s:
        async for _ in s:
            break
    assert script.responses[1].closed
    with pytest.raises(errors.InternalServerError, match="boom"):
        async for _ in await c.chat.create_async(model="m", messages=MSGS, stream=True):
            pass
    assert script.responses[2].closed


@pytest.mark.anyio
async def test_async_handler_function() -> None:
    async def handler(request: Any) -> MockResponse:
        assert json.loads(request.body)["model"] == "m"
        return MockResponse.json(COMPLETION)

    t = MockTransport(handler)
    c = R9S(api_key="k", async_client=t)
    assert (await c.responses.create_async(model="m", input="x")).id == "chatcmpl-1"


def test_stream_answered_with_json_is_never_an_empty_stream() -> None:
    c, _ = client(
        Script(
            MockResponse.json(COMPLETION),
            MockResponse.json({"error": {"message": "overloaded", "code": 503}}),
        ),
        retry_config=None,
    )
    with pytest.raises(
        errors.ResponseValidationError,
        match="asked for an event stream, got HTTP 200 with content type 'application/json'",
    ):
        c.chat.create(model="m", messages=MSGS, stream=True)
    with pytest.raises(errors.ServiceUnavailableError, match="overloaded"):
        c.chat.create(model="m", messages=MSGS, stream=True)
