"""Request parameter shapes, as ``TypedDict``s: plain dicts at run time, checked by mypy.

Names follow the published SDK (``MessageTypedDict``, ``ToolTypedDict`` ...) so type
annotations written against it keep working.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, Union

__all__ = [
    "AnthropicMessage",
    "AnthropicMessageTypedDict",
    "File",
    "FileTypedDict",
    "ImageFile",
    "ImageFileTypedDict",
    "Thinking",
    "ThinkingTypedDict",
    "Audio",
    "AudioTypedDict",
    "ContentPart",
    "FunctionDefinition",
    "Message",
    "MessageTypedDict",
    "Modalities",
    "Reasoning",
    "ReasoningEffort",
    "ReasoningTypedDict",
    "ResponseFormat",
    "ResponseFormatTypedDict",
    "ResponseInputMessage",
    "ServiceTier",
    "Stop",
    "StreamOptions",
    "StreamOptionsTypedDict",
    "Text",
    "TextTypedDict",
    "Tool",
    "ToolTypedDict",
]

Modalities = Literal["text", "audio"]
ServiceTier = Literal["auto", "default", "flex", "priority"]
ReasoningEffort = Literal["minimal", "low", "medium", "high"]
Stop = Union[str, list[str]]


class ContentPart(TypedDict, total=False):
    type: str
    text: str
    image_url: dict[str, Any]


class Message(TypedDict):
    role: str
    content: NotRequired[Union[str, list[ContentPart], None]]
    name: NotRequired[str]
    tool_calls: NotRequired[list[dict[str, Any]]]
    tool_call_id: NotRequired[str]


class FunctionDefinition(TypedDict):
    name: str
    description: NotRequired[str]
    parameters: NotRequired[dict[str, Any]]
    strict: NotRequired[bool]


class Tool(TypedDict):
    type: str
    function: NotRequired[FunctionDefinition]


class ResponseFormat(TypedDict):
    type: str
    json_schema: NotRequired[dict[str, Any]]


class StreamOptions(TypedDict, total=False):
    include_usage: bool


class Audio(TypedDict):
    voice: str
    format: str


class ResponseInputMessage(TypedDict):
    role: str
    content: Union[str, list[dict[str, Any]]]
    name: NotRequired[str]


MessageTypedDict = Message
ToolTypedDict = Tool
ResponseFormatTypedDict = ResponseFormat
StreamOptionsTypedDict = StreamOptions
AudioTypedDict = Audio


class Text(TypedDict, total=False):
    """Responses ``text``: the output format (``{"format": {"type": "json_schema", ...}}``)."""

    format: dict[str, Any]
    verbosity: str


class Reasoning(TypedDict, total=False):
    """Responses ``reasoning``: ``{"effort": "low" | "medium" | "high", "summary": ...}``."""

    effort: str
    summary: str


TextTypedDict = Text
ReasoningTypedDict = Reasoning


class File(TypedDict):
    """A file to upload, in the published SDK's shape: ``{"file_name": "a.mp3", "content":
    b"..." or an open binary file, "content_type": "audio/mpeg"}`` (type guessed from the
    name when left out)."""

    file_name: str
    content: Any
    content_type: NotRequired[str]


class AnthropicMessage(TypedDict):
    role: str
    content: Union[str, list[dict[str, Any]]]


class Thinking(TypedDict, total=False):
    """Messages ``thinking``: ``{"type": "enabled", "budget_tokens": 1024}``."""

    type: str
    budget_tokens: int


FileTypedDict = File
ImageFile = File
ImageFileTypedDict = File
AnthropicMessageTypedDict = AnthropicMessage
ThinkingTypedDict = Thinking
