"""``client.completions``: text completions (``POST /completions``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Unpack, overload

from r9s._core.operations import COMPLETIONS
from r9s.models.completions import Completion
from r9s.resources._params import CompletionParams
from r9s.streaming import EventStream, EventStreamAsync

if TYPE_CHECKING:
    from r9s.client import R9S

__all__ = ["Completions"]

Prompt = str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]]


class Completions:
    """Text completions; ``create`` and its async twin ``create_async``."""

    def __init__(self, client: R9S) -> None:
        self._client = client

    @overload
    def create(
        self,
        *,
        model: str,
        prompt: Prompt,
        stream: Literal[True],
        **params: Unpack[CompletionParams],
    ) -> EventStream[Completion]: ...
    @overload
    def create(
        self,
        *,
        model: str,
        prompt: Prompt,
        stream: Literal[False] | None = None,
        **params: Unpack[CompletionParams],
    ) -> Completion: ...
    @overload
    def create(
        self, *, model: str, prompt: Prompt, stream: bool, **params: Unpack[CompletionParams]
    ) -> Completion | EventStream[Completion]: ...

    def create(self, **params: Any) -> Any:
        """Create a text completion; with ``stream=True``, an ``EventStream`` of chunks.

        Args:
            model: the model name.
            prompt: the text to continue (or a list of prompts).
            stream: stream the answer as ``Completion`` chunks.
            **params: any parameter of ``CompletionParams`` (``temperature``, ``tools``, ...) and
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
        self,
        *,
        model: str,
        prompt: Prompt,
        stream: Literal[True],
        **params: Unpack[CompletionParams],
    ) -> EventStreamAsync[Completion]: ...
    @overload
    async def create_async(
        self,
        *,
        model: str,
        prompt: Prompt,
        stream: Literal[False] | None = None,
        **params: Unpack[CompletionParams],
    ) -> Completion: ...
    @overload
    async def create_async(
        self, *, model: str, prompt: Prompt, stream: bool, **params: Unpack[CompletionParams]
    ) -> Completion | EventStreamAsync[Completion]: ...

    async def create_async(self, **params: Any) -> Any:
        """``create``, awaited (asyncio or trio); streams are ``EventStreamAsync``."""
        return await self._client._run_async(COMPLETIONS, params)
