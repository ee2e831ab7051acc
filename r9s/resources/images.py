"""``client.images``: generation and edits (``POST /images/generations``, ``/images/edits``)."""

from __future__ import annotations

from typing import Any, Literal, Unpack, overload

from r9s._core.api import IMAGES_CREATE, IMAGES_EDIT
from r9s._core.params import ImageEditParams, ImageParams
from r9s.models.images import ImageGenerationResponse, ImageStreamEvent
from r9s.resources._base import Resource
from r9s.streaming import EventStream, EventStreamAsync

__all__ = ["Images"]

Result = ImageGenerationResponse
Event = ImageStreamEvent


class Images(Resource):
    """Images: ``create`` (from a prompt) and ``edit`` (from images and a prompt), each with
    its ``_async`` twin; ``stream=True`` streams partial images, then the completed one."""

    __slots__ = ()

    @overload
    def create(
        self, *, stream: Literal[True], **params: Unpack[ImageParams]
    ) -> EventStream[Event]: ...
    @overload
    def create(
        self, *, stream: Literal[False] | None = None, **params: Unpack[ImageParams]
    ) -> Result: ...
    @overload
    def create(
        self, *, stream: bool, **params: Unpack[ImageParams]
    ) -> Result | EventStream[Event]: ...
    def create(self, **params: Any) -> Any:
        """Generate images from ``prompt``: ``res.data[0].url`` / ``.b64_json``.

        Args:
            prompt: what to draw.
            stream: stream ``ImageStreamEvent`` events (partial images, then the last one).
            **params: any parameter of ``ImageParams`` (``model``, ``size``, ``n``, ...) and
                the call options ``retries``, ``server_url``, ``timeout_ms``,
                ``http_headers``, ``extra_body``, ``deadline``, ``first_event_timeout``,
                ``idle_timeout``.

        Raises:
            TypeError, ValueError: an invalid argument, before anything is sent.
            r9s.errors.R9SError: any failure of the call (see ``r9s.errors``).
        """
        return self._client._run(IMAGES_CREATE, params)

    @overload
    async def create_async(
        self, *, stream: Literal[True], **params: Unpack[ImageParams]
    ) -> EventStreamAsync[Event]: ...
    @overload
    async def create_async(
        self, *, stream: Literal[False] | None = None, **params: Unpack[ImageParams]
    ) -> Result: ...
    @overload
    async def create_async(
        self, *, stream: bool, **params: Unpack[ImageParams]
    ) -> Result | EventStreamAsync[Event]: ...
    async def create_async(self, **params: Any) -> Any:
        """``create``, awaited (asyncio or trio); streams are ``EventStreamAsync``."""
        return await self._client._run_async(IMAGES_CREATE, params)

    @overload
    def edit(
        self, *, stream: Literal[True], **params: Unpack[ImageEditParams]
    ) -> EventStream[Event]: ...
    @overload
    def edit(
        self, *, stream: Literal[False] | None = None, **params: Unpack[ImageEditParams]
    ) -> Result: ...
    @overload
    def edit(
        self, *, stream: bool, **params: Unpack[ImageEditParams]
    ) -> Result | EventStream[Event]: ...
    def edit(self, **params: Any) -> Any:
        """Edit ``image`` (one file, or several: all are sent) as ``prompt`` says.

        Files are sent as ``multipart/form-data``, streamed from bytes, a path, an open binary
        file or ``{"file_name": ..., "content": ..., "content_type": ...}``.

        Args:
            image: the image(s) to edit; ``mask`` optionally marks where.
            prompt: the edit.
            stream: stream ``ImageStreamEvent`` events (partial images, then the last one).
            **params: any parameter of ``ImageEditParams`` (``mask``, ``size``, ...) and
                the call options ``retries``, ``server_url``, ``timeout_ms``,
                ``http_headers``, ``extra_body``, ``deadline``, ``first_event_timeout``,
                ``idle_timeout``.

        Raises:
            TypeError, ValueError: an invalid argument, before anything is sent.
            r9s.errors.R9SError: any failure of the call (see ``r9s.errors``).
        """
        return self._client._run(IMAGES_EDIT, params)

    @overload
    async def edit_async(
        self, *, stream: Literal[True], **params: Unpack[ImageEditParams]
    ) -> EventStreamAsync[Event]: ...
    @overload
    async def edit_async(
        self, *, stream: Literal[False] | None = None, **params: Unpack[ImageEditParams]
    ) -> Result: ...
    @overload
    async def edit_async(
        self, *, stream: bool, **params: Unpack[ImageEditParams]
    ) -> Result | EventStreamAsync[Event]: ...
    async def edit_async(self, **params: Any) -> Any:
        """``edit``, awaited (asyncio or trio); streams are ``EventStreamAsync``."""
        return await self._client._run_async(IMAGES_EDIT, params)
