"""``client.messages``: the Anthropic Messages API (``POST /messages``)."""

from __future__ import annotations

from typing import Any, Literal, Unpack, overload

from r9s._core.api import MESSAGES
from r9s._core.params import MessageParams
from r9s.models.messages import Message, MessageStreamEvent
from r9s.resources._base import Resource
from r9s.streaming import EventStream, EventStreamAsync

__all__ = ["Messages"]

Result = Message
Event = MessageStreamEvent


class Messages(Resource):
    """Messages (Anthropic-compatible: Claude models through the gateway); ``create`` and
    ``create_async``."""

    __slots__ = ()

    @overload
    def create(
        self, *, stream: Literal[True], **params: Unpack[MessageParams]
    ) -> EventStream[Event]: ...
    @overload
    def create(
        self, *, stream: Literal[False] | None = None, **params: Unpack[MessageParams]
    ) -> Result: ...
    @overload
    def create(
        self, *, stream: bool, **params: Unpack[MessageParams]
    ) -> Result | EventStream[Event]: ...
    def create(self, **params: Any) -> Any:
        """Create a message: ``res.content[0].text``; with ``stream=True``, an ``EventStream``
        of ``MessageStreamEvent`` (``event.type``: ``message_start``, ``content_block_delta``
        with ``event.delta.text`` ..., ending at ``message_stop``).

        Args:
            model: the model name.
            messages: the conversation, as dicts with ``role`` and ``content``.
            stream: stream typed events; ``text_deltas()`` / ``get_final()`` assemble them.
            **params: any parameter of ``MessageParams`` (``system``, ``max_tokens``,
                ``tools`` (sent whole), ``thinking``, ...) and
                the call options ``retries``, ``server_url``, ``timeout_ms``,
                ``http_headers``, ``extra_body``, ``deadline``, ``first_event_timeout``,
                ``idle_timeout``.

        Raises:
            TypeError, ValueError: an invalid argument, before anything is sent.
            r9s.errors.R9SError: any failure of the call (see ``r9s.errors``).
        """
        return self._client._run(MESSAGES, params)

    @overload
    async def create_async(
        self, *, stream: Literal[True], **params: Unpack[MessageParams]
    ) -> EventStreamAsync[Event]: ...
    @overload
    async def create_async(
        self, *, stream: Literal[False] | None = None, **params: Unpack[MessageParams]
    ) -> Result: ...
    @overload
    async def create_async(
        self, *, stream: bool, **params: Unpack[MessageParams]
    ) -> Result | EventStreamAsync[Event]: ...
    async def create_async(self, **params: Any) -> Any:
        """``create``, awaited (asyncio or trio); streams are ``EventStreamAsync``."""
        return await self._client._run_async(MESSAGES, params)
