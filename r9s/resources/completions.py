"""``client.completions``: text completions (``POST /completions``)."""

from __future__ import annotations

from typing import Any, Literal, Unpack, overload

from r9s._core.api import COMPLETIONS
from r9s._core.params import CompletionParams
from r9s.models.completions import Completion
from r9s.resources._base import Resource
from r9s.streaming import EventStream, EventStreamAsync

__all__ = ["Completions"]

Result = Completion
Event = Completion


class Completions(Resource):
    """Text completions; ``create`` and its async twin ``create_async``."""

    __slots__ = ()

    @overload
    def create(
        self, *, stream: Literal[True], **params: Unpack[CompletionParams]
    ) -> EventStream[Event]: ...
    @overload
    def create(
        self, *, stream: Literal[False] | None = None, **params: Unpack[CompletionParams]
    ) -> Result: ...
    @overload
    def create(
        self, *, stream: bool, **params: Unpack[CompletionParams]
    ) -> Result | EventStream[Event]: ...
    def create(self, **params: Any) -> Any:
        """Create a text completion; with ``stream=True``, an ``EventStream`` of chunks.

        Args:
            model: the model name.
            prompt: the text to continue (or a list of prompts, or token ids).
            stream: stream the answer as ``Completion`` chunks.
            **params: any parameter of ``CompletionParams`` (``max_tokens`` ...) and
                the call options ``retries``, ``server_url``, ``timeout_ms``,
                ``http_headers``, ``extra_body``, ``deadline``, ``first_event_timeout``,
                ``idle_timeout``.

        Raises:
            TypeError, ValueError: an invalid argument, before anything is sent.
            r9s.errors.R9SError: any failure of the call (see ``r9s.errors``).
        """
        return self._client._run(COMPLETIONS, params)

    @overload
    async def create_async(
        self, *, stream: Literal[True], **params: Unpack[CompletionParams]
    ) -> EventStreamAsync[Event]: ...
    @overload
    async def create_async(
        self, *, stream: Literal[False] | None = None, **params: Unpack[CompletionParams]
    ) -> Result: ...
    @overload
    async def create_async(
        self, *, stream: bool, **params: Unpack[CompletionParams]
    ) -> Result | EventStreamAsync[Event]: ...
    async def create_async(self, **params: Any) -> Any:
        """``create``, awaited (asyncio or trio); streams are ``EventStreamAsync``."""
        return await self._client._run_async(COMPLETIONS, params)
