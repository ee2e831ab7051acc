"""Responses API objects (``POST /responses``)."""

from __future__ import annotations

from typing import Any

from r9s.models._base import Model

__all__ = [
    "Response",
    "ResponseContentPart",
    "ResponseError",
    "ResponseOutputItem",
    "ResponseStreamEvent",
    "ResponseUsage",
]


class ResponseContentPart(Model):
    type: str
    text: str | None
    refusal: str | None
    annotations: list[Any] | None


class ResponseOutputItem(Model):
    type: str
    id: str | None
    status: str | None
    role: str | None
    content: list[ResponseContentPart] | None
    # function_call items
    name: str | None
    arguments: str | None
    call_id: str | None


class ResponseUsage(Model):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_tokens_details: dict[str, Any] | None
    output_tokens_details: dict[str, Any] | None


class ResponseError(Model):
    code: str | None
    message: str | None


class Response(Model):
    """A Responses API answer: ``resp.output_text``, ``resp.output[0].content[0].text``."""

    id: str
    object: str
    created_at: int
    status: str | None
    model: str
    output: list[ResponseOutputItem]
    usage: ResponseUsage | None
    error: ResponseError | None
    incomplete_details: dict[str, Any] | None
    instructions: str | None
    metadata: dict[str, Any] | None
    temperature: float | None
    top_p: float | None
    max_output_tokens: int | None

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message item, concatenated."""
        parts: list[str] = []
        for item in self.output or ():
            if not isinstance(item, ResponseOutputItem) or item.type != "message":
                continue
            for part in item.content or ():
                if isinstance(part, ResponseContentPart) and part.type == "output_text":
                    if isinstance(part.text, str):
                        parts.append(part.text)
        return "".join(parts)


class ResponseStreamEvent(Model):
    """One event of a streamed ``responses.create``; see ``type``.

    ``response.output_text.delta`` events carry the text in ``delta``; ``response.completed``
    (and ``.failed`` / ``.incomplete``) carry the final ``response``.
    """

    type: str
    sequence_number: int | None
    response: Response | None
    item: ResponseOutputItem | None
    item_id: str | None
    output_index: int | None
    content_index: int | None
    delta: Any
    text: str | None
    part: ResponseContentPart | None
    code: str | None
    message: str | None
    param: str | None
