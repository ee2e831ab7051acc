"""``client.chat``: chat completions (``POST /chat/completions``)."""

from __future__ import annotations

from typing import Any, Literal, Unpack, overload

from r9s._core.api import CHAT
from r9s._core.params import ChatParams
from r9s.models.chat import ChatCompletion, ChatCompletionChunk
from r9s.resources._base import Resource
from r9s.streaming import EventStream, EventStreamAsync

__all__ = ["Chat"]

Result = ChatCompletion
Event = ChatCompletionChunk


class Chat(Resource):
    """Chat completions; ``create`` and its async twin ``create_async``."""

    __slots__ = ()

    @overload
    def create(
        self, *, stream: Literal[True], **params: Unpack[ChatParams]
    ) -> EventStream[Event]: ...
    @overload
    def create(
        self, *, stream: Literal[False] | None = None, **params: Unpack[ChatParams]
    ) -> Result: ...
    @overload
    def create(
        self, *, stream: bool, **params: Unpack[ChatParams]
    ) -> Result | EventStream[Event]: ...
    def create(self, **params: Any) -> Any:
        """Create a chat completion; with ``stream=True``, an ``EventStream`` of chunks.

        Args:
            model: the model name.
            messages: the conversation, as dicts with ``role`` and ``content``.
            stream: stream the answer as ``ChatCompletionChunk`` events.
            **params: any parameter of ``ChatParams`` (``temperature``, ``tools``, ...) and
                the call options ``retries``, ``server_url``, ``timeout_ms``,
                ``http_headers``, ``extra_body``, ``deadline``, ``first_event_timeout``,
                ``idle_timeout``.

        Raises:
            TypeError, ValueError: an invalid argument, before anything is sent.
            r9s.errors.R9SError: any failure of the call (see ``r9s.errors``).
        """
        return self._client._run(CHAT, params)

    @overload
    async def create_async(
        self, *, stream: Literal[True], **params: Unpack[ChatParams]
    ) -> EventStreamAsync[Event]: ...
    @overload
    async def create_async(
        self, *, stream: Literal[False] | None = None, **params: Unpack[ChatParams]
    ) -> Result: ...
    @overload
    async def create_async(
        self, *, stream: bool, **params: Unpack[ChatParams]
    ) -> Result | EventStreamAsync[Event]: ...
    async def create_async(self, **params: Any) -> Any:
        """``create``, awaited (asyncio or trio); streams are ``EventStreamAsync``."""
        return await self._client._run_async(CHAT, params)
