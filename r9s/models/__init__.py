"""Typed response objects (lazy, over parsed JSON) and request ``TypedDict``s.

Anchor-compatible aliases are provided for the names the published SDK uses
(``ChatCompletionResponse``, ``ChatCompletionStreamEvent``, ``CompletionResponse``, ...).
"""

from r9s.models._base import Model
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
from r9s.models.requests import (
    Audio,
    AudioTypedDict,
    ContentPart,
    FunctionDefinition,
    Message,
    MessageTypedDict,
    Modalities,
    ReasoningEffort,
    ResponseFormat,
    ResponseFormatTypedDict,
    ResponseInputMessage,
    ServiceTier,
    Stop,
    StreamOptions,
    StreamOptionsTypedDict,
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

# Names of the published (Speakeasy-generated) SDK.
ChatCompletionResponse = ChatCompletion
CreateChatCompletionResponse = ChatCompletion
ChatCompletionStreamEvent = ChatCompletionChunk
CompletionResponse = Completion
CreateCompletionResponse = Completion
CompletionStreamEvent = Completion
ResponseObject = Response
CreateResponseResponse = Response

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
]
