"""Typed response objects (lazy, over parsed JSON) and request ``TypedDict``s.

Anchor-compatible aliases are provided for the names the published SDK uses
(``ChatCompletionResponse``, ``ChatCompletionStreamEvent``, ``CompletionResponse``, ...).

Loaded lazily: ``import r9s.models`` costs nothing until a name is used.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from r9s.models._base import Model
    from r9s.models.catalog import ModelList, ModelObject
    from r9s.models.chat import (
        ChatCompletion,
        ChatCompletionChunk,
        ChatCompletionMessage,
        ChatCompletionMessageToolCall,
        Choice,
        ChoiceDelta,
        ChoiceDeltaToolCall,
        ChoiceDeltaToolCallFunction,
        ChoiceLogprobs,
        ChunkChoice,
        CompletionUsage,
        Function,
    )
    from r9s.models.common import ErrorBody, ErrorDetail
    from r9s.models.completions import Completion, CompletionChoice
    from r9s.models.edits import EditChoice, EditResponse
    from r9s.models.embeddings import EmbeddingObject, EmbeddingResponse
    from r9s.models.moderations import ModerationResponse, ModerationResult
    from r9s.models.requests import (
        Audio,
        AudioTypedDict,
        ContentPart,
        FunctionDefinition,
        Message,
        MessageTypedDict,
        Modalities,
        Reasoning,
        ReasoningEffort,
        ReasoningTypedDict,
        ResponseFormat,
        ResponseFormatTypedDict,
        ResponseInputMessage,
        ServiceTier,
        Stop,
        StreamOptions,
        StreamOptionsTypedDict,
        Text,
        TextTypedDict,
        Tool,
        ToolTypedDict,
    )
    from r9s.models.responses import (
        Response,
        ResponseContentPart,
        ResponseError,
        ResponseOutputItem,
        ResponseStreamEvent,
        ResponseUsage,
    )
    from r9s.models.search import Extra, SearchResponse

    # Names of the published (Speakeasy-generated) SDK.
    ModelListResponse = ModelList
    ChatCompletionResponse = ChatCompletion
    CreateChatCompletionResponse = ChatCompletion
    ChatCompletionStreamEvent = ChatCompletionChunk
    CompletionResponse = Completion
    CreateCompletionResponse = Completion
    CompletionStreamEvent = Completion
    ResponseObject = Response
    CreateResponseResponse = Response

_WHERE = {
    "Audio": ("r9s.models.requests", "Audio"),
    "AudioTypedDict": ("r9s.models.requests", "AudioTypedDict"),
    "ChatCompletion": ("r9s.models.chat", "ChatCompletion"),
    "ChatCompletionChunk": ("r9s.models.chat", "ChatCompletionChunk"),
    "ChatCompletionMessage": ("r9s.models.chat", "ChatCompletionMessage"),
    "ChatCompletionMessageToolCall": ("r9s.models.chat", "ChatCompletionMessageToolCall"),
    "Choice": ("r9s.models.chat", "Choice"),
    "ChoiceDelta": ("r9s.models.chat", "ChoiceDelta"),
    "ChoiceDeltaToolCall": ("r9s.models.chat", "ChoiceDeltaToolCall"),
    "ChoiceDeltaToolCallFunction": ("r9s.models.chat", "ChoiceDeltaToolCallFunction"),
    "ChoiceLogprobs": ("r9s.models.chat", "ChoiceLogprobs"),
    "ChunkChoice": ("r9s.models.chat", "ChunkChoice"),
    "Completion": ("r9s.models.completions", "Completion"),
    "CompletionChoice": ("r9s.models.completions", "CompletionChoice"),
    "CompletionUsage": ("r9s.models.chat", "CompletionUsage"),
    "ContentPart": ("r9s.models.requests", "ContentPart"),
    "ErrorBody": ("r9s.models.common", "ErrorBody"),
    "ErrorDetail": ("r9s.models.common", "ErrorDetail"),
    "Function": ("r9s.models.chat", "Function"),
    "FunctionDefinition": ("r9s.models.requests", "FunctionDefinition"),
    "Message": ("r9s.models.requests", "Message"),
    "MessageTypedDict": ("r9s.models.requests", "MessageTypedDict"),
    "Modalities": ("r9s.models.requests", "Modalities"),
    "Model": ("r9s.models._base", "Model"),
    "ReasoningEffort": ("r9s.models.requests", "ReasoningEffort"),
    "Response": ("r9s.models.responses", "Response"),
    "ResponseContentPart": ("r9s.models.responses", "ResponseContentPart"),
    "ResponseError": ("r9s.models.responses", "ResponseError"),
    "ResponseFormat": ("r9s.models.requests", "ResponseFormat"),
    "ResponseFormatTypedDict": ("r9s.models.requests", "ResponseFormatTypedDict"),
    "ResponseInputMessage": ("r9s.models.requests", "ResponseInputMessage"),
    "ResponseOutputItem": ("r9s.models.responses", "ResponseOutputItem"),
    "ResponseStreamEvent": ("r9s.models.responses", "ResponseStreamEvent"),
    "ResponseUsage": ("r9s.models.responses", "ResponseUsage"),
    "ServiceTier": ("r9s.models.requests", "ServiceTier"),
    "Stop": ("r9s.models.requests", "Stop"),
    "StreamOptions": ("r9s.models.requests", "StreamOptions"),
    "StreamOptionsTypedDict": ("r9s.models.requests", "StreamOptionsTypedDict"),
    "Tool": ("r9s.models.requests", "Tool"),
    "ToolTypedDict": ("r9s.models.requests", "ToolTypedDict"),
    "ChatCompletionResponse": ("r9s.models.chat", "ChatCompletion"),
    "ChatCompletionStreamEvent": ("r9s.models.chat", "ChatCompletionChunk"),
    "CompletionResponse": ("r9s.models.completions", "Completion"),
    "CompletionStreamEvent": ("r9s.models.completions", "Completion"),
    "CreateChatCompletionResponse": ("r9s.models.chat", "ChatCompletion"),
    "CreateCompletionResponse": ("r9s.models.completions", "Completion"),
    "CreateResponseResponse": ("r9s.models.responses", "Response"),
    "ResponseObject": ("r9s.models.responses", "Response"),
    "ModelList": ("r9s.models.catalog", "ModelList"),
    "ModelObject": ("r9s.models.catalog", "ModelObject"),
    "ModelListResponse": ("r9s.models.catalog", "ModelList"),
    "EmbeddingResponse": ("r9s.models.embeddings", "EmbeddingResponse"),
    "EmbeddingObject": ("r9s.models.embeddings", "EmbeddingObject"),
    "ModerationResponse": ("r9s.models.moderations", "ModerationResponse"),
    "ModerationResult": ("r9s.models.moderations", "ModerationResult"),
    "EditResponse": ("r9s.models.edits", "EditResponse"),
    "EditChoice": ("r9s.models.edits", "EditChoice"),
    "SearchResponse": ("r9s.models.search", "SearchResponse"),
    "Extra": ("r9s.models.search", "Extra"),
    "Text": ("r9s.models.requests", "Text"),
    "TextTypedDict": ("r9s.models.requests", "TextTypedDict"),
    "Reasoning": ("r9s.models.requests", "Reasoning"),
    "ReasoningTypedDict": ("r9s.models.requests", "ReasoningTypedDict"),
}


def __getattr__(name: str) -> object:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'r9s.models' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value
    return value


__all__ = [
    "Audio",
    "AudioTypedDict",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionResponse",
    "ChatCompletionStreamEvent",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceLogprobs",
    "ChunkChoice",
    "Completion",
    "CompletionChoice",
    "CompletionResponse",
    "CompletionStreamEvent",
    "CompletionUsage",
    "ContentPart",
    "CreateChatCompletionResponse",
    "CreateCompletionResponse",
    "CreateResponseResponse",
    "ErrorBody",
    "ErrorDetail",
    "Function",
    "FunctionDefinition",
    "Message",
    "MessageTypedDict",
    "Modalities",
    "Model",
    "ReasoningEffort",
    "Response",
    "ResponseContentPart",
    "ResponseError",
    "ResponseFormat",
    "ResponseFormatTypedDict",
    "ResponseInputMessage",
    "ResponseObject",
    "ResponseOutputItem",
    "ResponseStreamEvent",
    "ResponseUsage",
    "ServiceTier",
    "Stop",
    "StreamOptions",
    "StreamOptionsTypedDict",
    "Tool",
    "ToolTypedDict",
    "ModelList",
    "ModelObject",
    "ModelListResponse",
    "EmbeddingResponse",
    "EmbeddingObject",
    "ModerationResponse",
    "ModerationResult",
    "EditResponse",
    "EditChoice",
    "SearchResponse",
    "Extra",
    "Text",
    "TextTypedDict",
    "Reasoning",
    "ReasoningTypedDict",
]
