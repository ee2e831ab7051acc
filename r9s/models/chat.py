"""Chat completion objects (``POST /chat/completions``), shaped as OpenAI's."""

from __future__ import annotations

from typing import Any

from r9s.models._base import Model

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceLogprobs",
    "ChunkChoice",
    "CompletionUsage",
    "Function",
]


class CompletionUsage(Model):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: dict[str, Any] | None
    completion_tokens_details: dict[str, Any] | None


class Function(Model):
    name: str
    #: The arguments as the model wrote them: a JSON string, which may be invalid JSON.
    arguments: str


class ChatCompletionMessageToolCall(Model):
    id: str
    type: str
    function: Function


class ChatCompletionMessage(Model):
    role: str
    content: str | None
    refusal: str | None
    tool_calls: list[ChatCompletionMessageToolCall] | None
    audio: dict[str, Any] | None
    function_call: Function | None


class ChoiceLogprobs(Model):
    content: list[dict[str, Any]] | None
    refusal: list[dict[str, Any]] | None


class Choice(Model):
    index: int
    message: ChatCompletionMessage
    finish_reason: str | None
    logprobs: ChoiceLogprobs | None


class ChatCompletion(Model):
    """The answer of a non-streamed ``chat.create``: ``res.choices[0].message.content``."""

    id: str
    object: str
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage | None
    system_fingerprint: str | None
    service_tier: str | None


class ChoiceDeltaToolCallFunction(Model):
    name: str | None
    #: A piece of the arguments string; concatenate the pieces of one ``index``.
    arguments: str | None


class ChoiceDeltaToolCall(Model):
    index: int
    id: str | None
    type: str | None
    function: ChoiceDeltaToolCallFunction | None


class ChoiceDelta(Model):
    role: str | None
    content: str | None
    refusal: str | None
    tool_calls: list[ChoiceDeltaToolCall] | None


class ChunkChoice(Model):
    index: int
    delta: ChoiceDelta
    finish_reason: str | None
    logprobs: ChoiceLogprobs | None


class ChatCompletionChunk(Model):
    """One event of a streamed ``chat.create``: ``chunk.choices[0].delta.content``.

    The last chunk of a stream asked for with ``stream_options={"include_usage": True}`` has
    no choices and carries ``usage``.
    """

    id: str
    object: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None
    system_fingerprint: str | None
    service_tier: str | None
