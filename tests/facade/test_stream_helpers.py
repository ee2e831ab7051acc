"""text_deltas() and get_final() end to end, sync and async (asyncio and trio)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from r9s import R9S
from r9s.testing import FakeServer

MSGS = [{"role": "user", "content": "hi"}]
TOOLS = [{"type": "function", "function": {"name": "lookup"}}]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def test_sync_helpers(server: FakeServer) -> None:
    with R9S(api_key="k", server_url=server.url) as c:
        stream = c.chat.create(model="m", messages=MSGS, stream=True, n=2)
        assert "".join(stream.text_deltas()) == "Hello! You said: hi"
        res = c.chat.create(
            model="m", messages=MSGS, stream=True, n=2, stream_options={"include_usage": True}
        ).get_final()
        assert [ch.message.content for ch in res.choices] == ["Hello! You said: hi"] * 2
        assert res.usage is not None and res.usage.total_tokens > 0
        call = (
            c.chat.create(model="m", messages=MSGS, stream=True, tools=TOOLS)
            .get_final()
            .choices[0]
            .message.tool_calls[0]
        )
        assert (call.function.name, call.function.arguments) == ("lookup", '{"text": "hi"}')
        stream = c.completions.create(model="m", prompt="p", stream=True, max_tokens=4)
        text = "".join(stream.text_deltas())
        assert stream.get_final().choices[0].text == text  # text first, then the final object
        assert (
            c.responses.create(model="m", input="yo", stream=True).get_final().output_text
            == "Hello! You said: yo"
        )


def test_helpers_refuse_after_plain_iteration(server: FakeServer) -> None:
    with R9S(api_key="k", server_url=server.url) as c:
        with c.chat.create(model="m", messages=MSGS, stream=True) as stream:
            next(stream)
            with pytest.raises(RuntimeError, match="already read"):
                stream.get_final()


@pytest.mark.anyio
async def test_async_helpers(server: FakeServer) -> None:
    async with R9S(api_key="k", server_url=server.url) as c:
        stream = await c.chat.create_async(model="m", messages=MSGS, stream=True)
        assert "".join([t async for t in stream.text_deltas()]) == "Hello! You said: hi"
        res = await (
            await c.chat.create_async(model="m", messages=MSGS, stream=True, tools=TOOLS)
        ).get_final()
        assert res.choices[0].finish_reason == "tool_calls"
        resp = await (
            await c.responses.create_async(model="m", input="yo", stream=True)
        ).get_final()
        assert resp.output_text == "Hello! You said: yo"
