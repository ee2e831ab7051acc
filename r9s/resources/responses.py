"""``client.responses``: the Responses API (``POST /responses``)."""

from __future__ import annotations

from typing import Any, Literal, Unpack, overload

from r9s._core.api import RESPONSES
from r9s._core.params import ResponseParams
from r9s.models.responses import Response, ResponseStreamEvent
from r9s.resources._base import Resource
from r9s.streaming import EventStream, EventStreamAsync

__all__ = ["Responses"]

Result = Response
Event = ResponseStreamEvent


class Responses(Resource):
    """The Responses API; ``create`` and its async twin ``create_async``."""

    __slots__ = ()

    @overload
    def create(
        self, *, stream: Literal[True], **params: Unpack[ResponseParams]
    ) -> EventStream[Event]: ...
    @overload
    def create(
        self, *, stream: Literal[False] | None = None, **params: Unpack[ResponseParams]
    ) -> Result: ...
    @overload
    def create(
        self, *, stream: bool, **params: Unpack[ResponseParams]
    ) -> Result | EventStream[Event]: ...
    def create(self, **params: Any) -> Any:
        """Create a response; with ``stream=True``, an ``EventStream`` of ``ResponseStreamEvent``.

        Args:
            model: the model name.
            input: a string, or a list of input items (messages with ``role``, ``content``).
            stream: stream typed events (``response.output_text.delta`` ...).
            **params: any parameter of ``ResponseParams`` (``instructions``, ``tools``, ...) and
                the call options ``retries``, ``server_url``, ``timeout_ms``,
                ``http_headers``, ``extra_body``, ``deadline``, ``first_event_timeout``,
                ``idle_timeout``.

        Raises:
            TypeError, ValueError: an invalid argument, before anything is sent.
            r9s.errors.R9SError: any failure of the call (see ``r9s.errors``).
        """
        return self._client._run(RESPONSES, params)

    @overload
    async def create_async(
        self, *, stream: Literal[True], **params: Unpack[ResponseParams]
    ) -> EventStreamAsync[Event]: ...
    @overload
    async def create_async(
        self, *, stream: Literal[False] | None = None, **params: Unpack[ResponseParams]
    ) -> Result: ...
    @overload
    async def create_async(
        self, *, stream: bool, **params: Unpack[ResponseParams]
    ) -> Result | EventStreamAsync[Event]: ...
    async def create_async(self, **params: Any) -> Any:
        """``create``, awaited (asyncio or trio); streams are ``EventStreamAsync``."""
        return await self._client._run_async(RESPONSES, params)
