"""Image objects (``POST /images/generations``, ``POST /images/edits``) and their stream events."""

from __future__ import annotations

from typing import Any

from r9s.models._base import Model

__all__ = [
    "ImageGenerationResponse",
    "ImageGenerationStreamData",
    "ImageObject",
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


class ImageStreamEvent(Model):
    """One event of ``images.create(stream=True)`` / ``images.edit(stream=True)``.

    OpenAI's form: ``type`` (``image_generation.partial_image``, ``image_edit.completed`` ...)
    with ``b64_json``, ``partial_image_index``, ``usage``; the published SDK's generation form
    (``object``, ``data`` list) decodes too: every field of either is an attribute.
    """

    type: str | None
    id: str | None
    created: int | None
    model: str | None
    object: str | None
    index: int | None
    partial_image_index: int | None
    b64_json: str | None
    url: str | None
    progress: float | None
    is_final: bool | None
    revised_prompt: str | None
    output_format: str | None
    data: list[ImageGenerationStreamData] | None
    usage: ImageUsage | None
