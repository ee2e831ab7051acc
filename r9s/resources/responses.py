"""``client.responses``: the Responses API (``POST /responses``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Unpack, overload

from r9s._core.operations import RESPONSES
from r9s.models._base import Model
from r9s.models.requests import ResponseInputMessage
from r9s.models.responses import Response, ResponseStreamEvent
from r9s.resources._params import ResponseParams
from r9s.streaming import EventStream, EventStreamAsync

if TYPE_CHECKING:
    from r9s.client import R9S

__all__ = ["Responses"]

Input = str | Sequence[ResponseInputMessage | Mapping[str, Any] | Model]


class Responses:
    """Responses API; ``create`` and its async twin ``create_async``."""

    def __init__(self, client: R9S) -> None:
        self._client = client

    @overload
    def create(
        self, *, model: str, input: Input, stream: Literal[True], **params: Unpack[ResponseParams]
    ) -> EventStream[ResponseStreamEvent]: ...
    @overload
    def create(
        self,
        *,
        model: str,
        input: Input,
        stream: Literal[False] | None = None,
        **params: Unpack[ResponseParams],
    ) -> Response: ...
    @overload
    def create(
        self, *, model: str, input: Input, stream: bool, **params: Unpack[ResponseParams]
    ) -> Response | EventStream[ResponseStreamEvent]: ...

    def create(self, **params: Any) -> Any:
        """Create a response; with ``stream=True``, an ``EventStream`` of ``ResponseStreamEvent``.

        Args:
            model: the model name.
            input: a string, or a list of messages (``role``, ``content``).
            stream: stream typed events (``response.output_text.delta`` ...).
            **params: any parameter of ``ResponseParams`` (``temperature``, ``tools``, ...) and
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
        self, *, model: str, input: Input, stream: Literal[True], **params: Unpack[ResponseParams]
    ) -> EventStreamAsync[ResponseStreamEvent]: ...
    @overload
    async def create_async(
        self,
        *,
        model: str,
        input: Input,
        stream: Literal[False] | None = None,
        **params: Unpack[ResponseParams],
    ) -> Response: ...
    @overload
    async def create_async(
        self, *, model: str, input: Input, stream: bool, **params: Unpack[ResponseParams]
    ) -> Response | EventStreamAsync[ResponseStreamEvent]: ...

    async def create_async(self, **params: Any) -> Any:
        """``create``, awaited (asyncio or trio); streams are ``EventStreamAsync``."""
        return await self._client._run_async(RESPONSES, params)
