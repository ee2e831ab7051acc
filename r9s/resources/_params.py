"""The optional parameters of each operation, written once as ``TypedDict``s.

The resource methods take them as ``**params: Unpack[...]``, so type checkers and editors
know every name and type, and the sync and async twins and their ``stream`` overloads share a
single list.  The run-time checks live in ``r9s._core.operations``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from r9s._core.operations import NotGiven
from r9s.models.requests import (
    Audio,
    Modalities,
    ReasoningEffort,
    ResponseFormat,
    ServiceTier,
    StreamOptions,
    Tool,
)
from r9s.utils.retries import RetryConfig

__all__ = ["CallOptions", "ChatParams", "CompletionParams", "ResponseParams"]


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
    frequency_penalty: float | None
    logit_bias: dict[str, float] | None
    logprobs: bool | None
    top_logprobs: int | None
    max_tokens: int | None
    max_completion_tokens: int | None
    n: int | None
    modalities: list[Modalities] | None
    audio: Audio | dict[str, Any] | None
    presence_penalty: float | None
    response_format: ResponseFormat | dict[str, Any] | None
    seed: int | None
    service_tier: ServiceTier | str | None
    stop: str | list[str] | None
    stream_options: StreamOptions | dict[str, Any] | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    tools: list[Tool] | list[dict[str, Any]] | None
    tool_choice: str | dict[str, Any] | None
    parallel_tool_calls: bool | None
    user: str | None
    reasoning_effort: ReasoningEffort | str | None
    store: bool | None
    metadata: dict[str, Any] | None


class CompletionParams(CallOptions, total=False):
    best_of: int | None
    echo: bool | None
    frequency_penalty: float | None
    logit_bias: dict[str, float] | None
    logprobs: int | None
    max_tokens: int | None
    n: int | None
    presence_penalty: float | None
    seed: int | None
    stop: str | list[str] | None
    stream_options: StreamOptions | dict[str, Any] | None
    suffix: str | None
    temperature: float | None
    top_p: float | None
    user: str | None


class ResponseParams(CallOptions, total=False):
    instructions: str | None
    temperature: float | None
    top_p: float | None
    max_output_tokens: int | None
    modalities: list[Modalities] | None
    tools: list[dict[str, Any]] | None
    tool_choice: str | dict[str, Any] | None
    metadata: dict[str, Any] | None
