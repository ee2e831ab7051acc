"""``client.chat``: chat completions (``POST /chat/completions``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Unpack, overload

from r9s._core.operations import CHAT
from r9s.models._base import Model
from r9s.models.chat import ChatCompletion, ChatCompletionChunk
from r9s.models.requests import Message
from r9s.resources._params import ChatParams
from r9s.streaming import EventStream, EventStreamAsync

if TYPE_CHECKING:
    from r9s.client import R9S

__all__ = ["Chat"]

Messages = Sequence[Message | Mapping[str, Any] | Model]


class Chat:
    """Chat completions; ``create`` and its async twin ``create_async``."""

    def __init__(self, client: R9S) -> None:
        self._client = client

    @overload
    def create(
        self, *, model: str, messages: Messages, stream: Literal[True], **params: Unpack[ChatParams]
    ) -> EventStream[ChatCompletionChunk]: ...
    @overload
    def create(
        self,
        *,
        model: str,
        messages: Messages,
        stream: Literal[False] | None = None,
        **params: Unpack[ChatParams],
    ) -> ChatCompletion: ...
    @overload
    def create(
        self, *, model: str, messages: Messages, stream: bool, **params: Unpack[ChatParams]
    ) -> ChatCompletion | EventStream[ChatCompletionChunk]: ...

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
        self, *, model: str, messages: Messages, stream: Literal[True], **params: Unpack[ChatParams]
    ) -> EventStreamAsync[ChatCompletionChunk]: ...
    @overload
    async def create_async(
        self,
        *,
        model: str,
        messages: Messages,
        stream: Literal[False] | None = None,
        **params: Unpack[ChatParams],
    ) -> ChatCompletion: ...
    @overload
    async def create_async(
        self, *, model: str, messages: Messages, stream: bool, **params: Unpack[ChatParams]
    ) -> ChatCompletion | EventStreamAsync[ChatCompletionChunk]: ...

    async def create_async(self, **params: Any) -> Any:
        """``create``, awaited (asyncio or trio); streams are ``EventStreamAsync``."""
        return await self._client._run_async(CHAT, params)
