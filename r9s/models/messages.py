"""Messages API objects (``POST /messages``, the Anthropic wire format).

A non-streamed answer is a ``Message``: ``res.content[0].text``, ``res.usage.output_tokens``,
``res.stop_reason``.  A streamed one is a sequence of ``MessageStreamEvent`` objects, ONE class
for every event type (``message_start``, ``content_block_start``, ``content_block_delta``,
``content_block_stop``, ``message_delta``, ``message_stop``, and any type a server adds later):
``event.type`` names it, and the fields that type carries are set, the others read ``None``.
A new server event therefore never breaks old code; it just arrives with a new ``type``.

Code written for the published SDK reads the discriminator as ``TYPE`` (its pydantic models
alias ``type`` so): ``chunk.TYPE``, ``block.TYPE`` and ``message.ROLE`` work here too.

The published SDK's per-type names (``AnthropicContentBlockDelta``, ``AnthropicTextContent``,
...) are kept as views: ``isinstance(event, AnthropicContentBlockDelta)`` is true exactly for an
event whose ``type`` is ``"content_block_delta"``, and calling one builds the generic object
with its ``type`` set (``AnthropicTextContent(text="hi")`` is a ``ContentBlock``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from r9s.models._base import Model

__all__ = [
    "AnthropicContent",
    "AnthropicContentBlockDelta",
    "AnthropicContentBlockDeltaDelta",
    "AnthropicContentBlockStart",
    "AnthropicContentBlockStop",
    "AnthropicDocumentContent",
    "AnthropicImageContent",
    "AnthropicMessageDelta",
    "AnthropicMessageDeltaDelta",
    "AnthropicMessageDeltaUsage",
    "AnthropicMessageResponse",
    "AnthropicMessageResponseUsage",
    "AnthropicMessageStart",
    "AnthropicMessageStartMessage",
    "AnthropicMessageStartUsage",
    "AnthropicPing",
    "AnthropicStreamEvent",
    "AnthropicStreamMessageStop",
    "AnthropicTextContent",
    "AnthropicThinkingContent",
    "AnthropicToolContent",
    "AnthropicToolResultContent",
    "AnthropicToolUseContent",
    "ContentBlock",
    "CreateMessageResponse",
    "Message",
    "MessageStreamDelta",
    "MessageStreamEvent",
    "MessageUsage",
]


class MessageUsage(Model):
    """Token counts.  In a stream, ``message_start`` carries the input side and
    ``message_delta`` the final (cumulative) output count; ``get_final()`` merges them."""

    input_tokens: int | None
    output_tokens: int | None
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None
    cache_creation: dict[str, Any] | None
    server_tool_use: dict[str, Any] | None
    service_tier: str | None


class ContentBlock(Model):
    """One block of a message's content; ``type`` says which fields it has.

    - ``text``: ``text`` (and ``citations``);
    - ``tool_use``: ``id``, ``name``, and ``input``, the tool's arguments as a dict (in a
      stream's ``content_block_start`` it is ``{}``: the arguments follow as
      ``input_json_delta`` pieces);
    - ``thinking``: ``thinking`` and ``signature``; ``redacted_thinking``: ``data``;
    - any other type (server tools, a gateway's own) as the server sent it.
    """

    type: str
    text: str | None
    citations: list[Any] | None
    id: str | None
    name: str | None
    input: Any
    thinking: str | None
    signature: str | None
    data: str | None

    @property
    def TYPE(self) -> Any:
        """``type``, under the published SDK's spelling."""
        return self.__dict__.get("type")


class Message(Model):
    """The answer of a non-streamed ``messages.create``: ``res.content[0].text``.

    ``stop_reason`` is ``end_turn``, ``max_tokens``, ``stop_sequence``, ``tool_use``,
    ``pause_turn`` or ``refusal`` (or what a newer server says).
    """

    id: str
    type: str
    role: str
    content: list[ContentBlock]
    model: str
    stop_reason: str | None
    stop_sequence: str | None
    usage: MessageUsage

    @property
    def TYPE(self) -> Any:
        """``type`` (``"message"``), under the published SDK's spelling."""
        return self.__dict__.get("type")

    @property
    def ROLE(self) -> Any:
        """``role`` (``"assistant"``), under the published SDK's spelling."""
        return self.__dict__.get("role")


class MessageStreamDelta(Model):
    """The ``delta`` of a ``content_block_delta`` or a ``message_delta`` event.

    ``content_block_delta``: ``type`` is ``text_delta`` (``text``), ``input_json_delta``
    (``partial_json``: a piece of the tool input's JSON, cut anywhere), ``thinking_delta``
    (``thinking``), ``signature_delta`` (``signature``) or ``citations_delta`` (``citation``).
    ``message_delta``: ``stop_reason`` and ``stop_sequence``.
    """

    type: str | None
    text: str | None
    partial_json: str | None
    thinking: str | None
    signature: str | None
    citation: dict[str, Any] | None
    stop_reason: str | None
    stop_sequence: str | None


class MessageStreamEvent(Model):
    """One event of a streamed ``messages.create``; ``type`` names it.

    ============================  ==========================================================
    ``message_start``             ``message``: a ``Message`` with empty ``content``, the
                                  input ``usage``
    ``content_block_start``       ``index``, ``content_block``
    ``content_block_delta``       ``index``, ``delta`` (``delta.text`` for text)
    ``content_block_stop``        ``index``
    ``message_delta``             ``delta.stop_reason``, ``delta.stop_sequence``, ``usage``
                                  (the final output token count)
    ``message_stop``              nothing; the stream ends after it
    ============================  ==========================================================

    ``ping`` keep-alives are not handed out, and an ``error`` event raises instead.
    """

    type: str
    index: int | None
    message: Message | None
    content_block: ContentBlock | None
    delta: MessageStreamDelta | None
    usage: MessageUsage | None

    @property
    def TYPE(self) -> Any:
        """``type``, under the published SDK's spelling (``chunk.TYPE``)."""
        return self.__dict__.get("type")


# -- the published SDK's names ----------------------------------------------------------------


class _Kind(type):
    """Metaclass of the published SDK's per-type names: views of one generic class.

    ``isinstance(obj, cls)`` holds when ``obj`` is an instance of the generic class and its
    ``type`` is one of the view's; calling the view builds the generic class with ``type`` set.
    """

    _types: tuple[str, ...]

    def __instancecheck__(cls, obj: object) -> bool:
        base = cls.__mro__[1]
        return isinstance(obj, base) and obj.__dict__.get("type") in cls._types

    def __call__(cls, data: Any = None, /, **fields: Any) -> Any:
        base: type[Model] = cls.__mro__[1]
        merged: dict[str, Any] = {"type": cls._types[0]}
        if data:
            merged.update(data.__dict__ if isinstance(data, Model) else data)
        merged.update(fields)
        return base(merged)


class AnthropicMessageStart(MessageStreamEvent, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("message_start",)


class AnthropicContentBlockStart(MessageStreamEvent, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("content_block_start",)


class AnthropicContentBlockDelta(MessageStreamEvent, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("content_block_delta",)


class AnthropicContentBlockStop(MessageStreamEvent, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("content_block_stop",)


class AnthropicMessageDelta(MessageStreamEvent, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("message_delta",)


class AnthropicStreamMessageStop(MessageStreamEvent, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("message_stop",)


class AnthropicPing(MessageStreamEvent, metaclass=_Kind):
    """Never handed out by r9s (keep-alives are skipped); kept so imports keep working."""

    _types: ClassVar[tuple[str, ...]] = ("ping",)


class AnthropicTextContent(ContentBlock, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("text",)


class AnthropicToolUseContent(ContentBlock, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("tool_use",)


class AnthropicToolResultContent(ContentBlock, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("tool_result",)


class AnthropicToolContent(ContentBlock, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("tool_use", "tool_result")


class AnthropicThinkingContent(ContentBlock, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("thinking",)


class AnthropicImageContent(ContentBlock, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("image",)


class AnthropicDocumentContent(ContentBlock, metaclass=_Kind):
    _types: ClassVar[tuple[str, ...]] = ("document",)


#: Unions and plain shapes of the published SDK: the one class that holds them all.
AnthropicStreamEvent = MessageStreamEvent
AnthropicContent = ContentBlock
AnthropicMessageResponse = Message
CreateMessageResponse = Message
AnthropicMessageStartMessage = Message
AnthropicMessageResponseUsage = MessageUsage
AnthropicMessageStartUsage = MessageUsage
AnthropicMessageDeltaUsage = MessageUsage
AnthropicContentBlockDeltaDelta = MessageStreamDelta
AnthropicMessageDeltaDelta = MessageStreamDelta
