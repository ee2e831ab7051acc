"""Every operation's parameters, written once, as ``TypedDict``s.

These classes are the single description of what each operation takes:

- type checkers and editors read them through the resource methods' ``**params:
  Unpack[...]``, so every name and type completes and is checked;
- the core reads the same annotations at run time (``r9s._core.operations``, once per
  operation, on its first call) to check each argument's type before anything is sent.

A ``Required[...]`` key is a required argument.  ``stream`` is not listed: the operations that
stream take it as their own argument (for the ``Literal`` overloads).  Names and types follow
the published SDK's signatures (r9s 0.9.0); shapes are plain dicts at run time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from typing import IO, Any, Literal, Required, TypedDict

from r9s._core.operations import NotGiven
from r9s.models._base import Model
from r9s.models.requests import (
    AnthropicMessage,
    Audio,
    File,
    Message,
    Modalities,
    Reasoning,
    ReasoningEffort,
    ResponseFormat,
    ResponseInputMessage,
    ServiceTier,
    StreamOptions,
    Text,
    Thinking,
    Tool,
)
from r9s.utils.retries import RetryConfig

__all__ = [
    "CallOptions",
    "ChatParams",
    "CompletionParams",
    "EditParams",
    "EmbeddingParams",
    "ImageEditParams",
    "ImageParams",
    "MessageParams",
    "ModelParams",
    "ModerationParams",
    "ProxyParams",
    "ResponseParams",
    "SearchParams",
    "SpeechParams",
    "TranscriptionParams",
    "TranslationParams",
]

#: Messages, as dicts (``{"role": ..., "content": ...}``) or objects returned earlier.
Messages = Sequence[Message | Mapping[str, Any] | Model]
#: A prompt: text, texts, token ids, or lists of token ids.
Prompt = str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]]
#: Embedding input: text, texts, token ids, or lists of token ids.
EmbeddingInput = str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]]
#: A file to upload: the published SDK's ``{"file_name", "content", "content_type"}``, bytes,
#: a path (``pathlib.Path``), or an open binary file (read from where it stands).
FileInput = File | Mapping[str, Any] | bytes | PathLike[str] | IO[bytes]
#: Responses input: text, or a list of input items.
Input = str | Sequence[ResponseInputMessage | Mapping[str, Any] | Model]


class CallOptions(TypedDict, total=False):
    #: This call's retry configuration; ``None`` turns retries off for it.
    retries: RetryConfig | NotGiven | None
    #: Send this call to another base URL.
    server_url: str | None
    #: This call's timeout, in milliseconds (connect, and each wait for bytes).
    timeout_ms: int | float | None
    #: Headers to add or replace.
    http_headers: Mapping[str, str] | None
    #: Extra JSON body fields a gateway accepts (sent as given, ``None`` as ``null``).
    extra_body: Mapping[str, Any] | None
    #: Seconds the whole call may take, retries and streamed body included.
    deadline: float | None
    #: Seconds from sending a streamed request to its first event.
    first_event_timeout: float | None
    #: Seconds the next event of a stream may take once events flow.
    idle_timeout: float | None


class ChatParams(CallOptions, total=False):
    model: Required[str]
    messages: Required[Messages]
    frequency_penalty: float | None
    logit_bias: Mapping[str, float] | None
    logprobs: bool | None
    top_logprobs: int | None
    max_tokens: int | None
    max_completion_tokens: int | None
    n: int | None
    modalities: Sequence[Modalities] | None
    audio: Audio | Mapping[str, Any] | None
    presence_penalty: float | None
    response_format: ResponseFormat | Mapping[str, Any] | None
    seed: int | None
    service_tier: ServiceTier | str | None
    stop: str | Sequence[str] | None
    stream_options: StreamOptions | Mapping[str, Any] | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    tools: Sequence[Tool | Mapping[str, Any]] | None
    tool_choice: str | Mapping[str, Any] | None
    parallel_tool_calls: bool | None
    user: str | None
    reasoning_effort: ReasoningEffort | str | None
    store: bool | None
    metadata: Mapping[str, Any] | None


class CompletionParams(CallOptions, total=False):
    model: Required[str]
    prompt: Required[Prompt]
    best_of: int | None
    echo: bool | None
    frequency_penalty: float | None
    logit_bias: Mapping[str, float] | None
    logprobs: int | None
    max_tokens: int | None
    n: int | None
    presence_penalty: float | None
    seed: int | None
    stop: str | Sequence[str] | None
    stream_options: StreamOptions | Mapping[str, Any] | None
    suffix: str | None
    temperature: float | None
    top_p: float | None
    user: str | None


class ResponseParams(CallOptions, total=False):
    model: Required[str]
    input: Required[Input]
    instructions: str | None
    temperature: float | None
    top_p: float | None
    max_output_tokens: int | None
    modalities: Sequence[Modalities] | None
    tools: Sequence[Mapping[str, Any]] | None
    tool_choice: str | Mapping[str, Any] | None
    parallel_tool_calls: bool | None
    text: Text | Mapping[str, Any] | None
    previous_response_id: str | None
    store: bool | None
    background: bool | None
    reasoning: Reasoning | Mapping[str, Any] | None
    truncation: Literal["auto", "disabled"] | None
    stop: str | Sequence[str] | None
    metadata: Mapping[str, Any] | None


class ModelParams(CallOptions, total=False):
    #: A model id, e.g. ``"gpt-4o-mini"`` or ``"openai/gpt-4o-mini"``.
    model: Required[str]


class EmbeddingParams(CallOptions, total=False):
    #: The model id; for ``engine_embeddings`` it goes in the path, not the body.
    model: Required[str]
    input: Required[EmbeddingInput]
    #: ``"float"`` (lists of floats, the API's default) or ``"base64"`` (strings).
    encoding_format: Literal["float", "base64"] | None
    dimensions: int | None
    user: str | None


class ModerationParams(CallOptions, total=False):
    input: Required[str | Sequence[str] | Sequence[Mapping[str, Any]]]
    #: Sent as ``"gpt-4o-mini"`` when not given, as the published SDK does.
    model: str | None


class EditParams(CallOptions, total=False):
    model: Required[str]
    instruction: Required[str]
    input: str | None
    n: int | None
    temperature: float | None
    top_p: float | None


class SearchParams(CallOptions, total=False):
    #: The engine's parameters: ``query`` and engine-specific ones (``num``, ``contents`` ...).
    extra: Required[Mapping[str, Any] | Model]
    #: ``"exa"`` (sent when not given, as the published SDK does), ``"tavily"``, ``"google"``.
    engine: Literal["exa", "tavily", "google"] | str | None


class ProxyParams(CallOptions, total=False):
    #: The gateway channel to send through.
    channelid: Required[str]
    #: The upstream path, e.g. ``"chat/completions"``; may carry a ``?query``.
    target: Required[str]
    #: The JSON body forwarded upstream.
    request_body: Mapping[str, Any] | None


class MessageParams(CallOptions, total=False):
    model: Required[str]
    messages: Required[Sequence[AnthropicMessage | Mapping[str, Any] | Model]]
    #: The system prompt: text, or a list of text blocks.
    system: str | Sequence[Mapping[str, Any]] | None
    max_tokens: int | None
    stop_sequences: Sequence[str] | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    #: Tools, each with its whole ``input_schema`` (sent as given).
    tools: Sequence[Mapping[str, Any]] | None
    tool_choice: Mapping[str, Any] | None
    metadata: Mapping[str, Any] | None
    thinking: Thinking | Mapping[str, Any] | None
    service_tier: Literal["auto", "standard_only"] | str | None


class ImageParams(CallOptions, total=False):
    prompt: Required[str]
    model: str | None
    n: int | None
    quality: str | None
    response_format: Literal["url", "b64_json"] | str | None
    #: Sent as ``"1024x1024"`` when not given, as the published SDK does.
    size: str | None
    style: str | None
    user: str | None
    background: str | None
    moderation: str | None
    output_compression: int | None
    output_format: str | None
    partial_images: int | None
    negative_prompt: str | None
    seed: int | None
    prompt_extend: bool | None
    watermark: bool | None


class ImageEditParams(CallOptions, total=False):
    # In the published SDK's order, which is the order of the form's parts (files last).
    #: The image to edit, or several (each sent as an ``image[]`` part).
    image: Required[FileInput | Sequence[FileInput]]
    prompt: Required[str]
    model: str | None
    mask: FileInput | None
    n: int | None
    #: Sent as ``"1024x1024"`` when not given, as the published SDK does.
    size: str | None
    response_format: Literal["url", "b64_json"] | str | None
    user: str | None
    background: str | None
    input_fidelity: Literal["high", "low"] | str | None
    moderation: str | None
    output_compression: int | None
    output_format: str | None
    partial_images: int | None
    quality: str | None


class SpeechParams(CallOptions, total=False):
    model: Required[str]
    input: Required[str]
    voice: Required[str]
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] | str | None
    speed: float | None
    #: The ``Accept`` header to send instead of the default list of audio types.
    accept_header_override: str | None


class TranscriptionParams(CallOptions, total=False):
    # In the published SDK's order, which is the order of the form's parts (files last).
    file: Required[FileInput]
    model: Required[str]
    language: str | None
    prompt: str | None
    #: ``json`` (default), ``verbose_json``: an object; ``text``, ``srt``, ``vtt``: a ``str``.
    response_format: Literal["json", "text", "srt", "verbose_json", "vtt"] | str | None
    temperature: float | None
    #: Each value is its own ``timestamp_granularities`` part.
    timestamp_granularities: Sequence[Literal["word", "segment"] | str] | None
    #: The ``Accept`` header to send instead of the default list.
    accept_header_override: str | None


class TranslationParams(CallOptions, total=False):
    file: Required[FileInput]
    model: Required[str]
    prompt: str | None
    #: ``json`` (default), ``verbose_json``: an object; ``text``, ``srt``, ``vtt``: a ``str``.
    response_format: Literal["json", "text", "srt", "verbose_json", "vtt"] | str | None
    temperature: float | None
    #: The ``Accept`` header to send instead of the default list.
    accept_header_override: str | None
