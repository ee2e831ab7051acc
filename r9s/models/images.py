"""Image objects (``POST /images/generations``, ``POST /images/edits``) and their stream events."""

from __future__ import annotations

from typing import Any

from r9s.models._base import Model

__all__ = [
    "ImageGenerationResponse",
    "ImageGenerationStreamData",
    "ImageObject",
    "ImageStreamData",
    "ImageStreamEvent",
    "ImageUsage",
]


class ImageUsage(Model):
    """OpenAI's fields (``input_tokens``, ``output_tokens``, ``total_tokens``, details) and
    those the published SDK names (``prompt_tokens``, ``image_count`` ...)."""

    input_tokens: int | None
    output_tokens: int | None
    input_tokens_details: dict[str, Any] | None
    prompt_tokens: int | None
    image_tokens: int | None
    input_text_tokens: int | None
    output_image_tokens: int | None
    total_tokens: int | None
    width: int | None
    height: int | None
    image_count: int | None


class ImageObject(Model):
    """One image: ``url`` or ``b64_json`` (as ``response_format`` asked), ``revised_prompt``."""

    url: str | None
    b64_json: str | None
    revised_prompt: str | None


class ImageGenerationResponse(Model):
    """``res.data[0].url`` or ``res.data[0].b64_json``."""

    created: int
    data: list[ImageObject]
    usage: ImageUsage | None


class ImageGenerationStreamData(Model):
    index: int
    b64_json: str | None
    url: str | None
    progress: float | None
    is_final: bool | None
    revised_prompt: str | None


class _ImageStreamFields(Model):
    """Every field an image stream event's payload may carry, but its ``data`` list."""

    type: str | None
    id: str | None
    created: int | None
    created_at: int | None
    model: str | None
    object: str | None
    index: int | None
    partial_image_index: int | None
    b64_json: str | None
    url: str | None
    progress: float | None
    is_final: bool | None
    revised_prompt: str | None
    size: str | None
    quality: str | None
    background: str | None
    output_format: str | None
    usage: ImageUsage | None


class ImageStreamData(_ImageStreamFields):
    """The payload of one image stream event: OpenAI's form (``type``, ``b64_json``,
    ``partial_image_index``, ``usage`` ...) or the published SDK's generation form
    (``id``, ``created``, ``model``, ``object``, a ``data`` list); every field of either is
    an attribute."""

    data: list[ImageGenerationStreamData] | None


class ImageStreamEvent(_ImageStreamFields):
    """One event of ``images.create(stream=True)`` / ``images.edit(stream=True)``.

    Read it as OpenAI's SDK does (``event.type``, ``event.b64_json``) or as the published r9s
    SDK does, which handed over the server-sent event itself: ``event.event`` is the event's
    name (``image_edit.partial_image`` ...) and ``event.data`` its payload
    (``event.data.b64_json``, ``event.data.data[0].b64_json`` in the generation form).
    """

    @property
    def event(self) -> str | None:
        """The event's name (its ``type``), as the published SDK's stream events carried it."""
        kind = self.__dict__.get("type")
        return kind if isinstance(kind, str) else None

    @property
    def data(self) -> ImageStreamData:
        """The event's payload, as the published SDK's stream events carried it."""
        return ImageStreamData._wrap(self.__dict__)
