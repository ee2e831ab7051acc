"""The table: every operation of the API, one entry each.

An entry says everything the core needs: method, path template, the parameters (a
``TypedDict`` of ``r9s._core.params``, which also types the resource methods), the result and
event classes, the published SDK's defaults that go on the wire, and argument checks.  The
resource modules add only typed signatures; the drivers run any entry.

Wire facts (paths, body fields, defaults) are those of the published ``r9s`` 0.9.0 package
(``src/r9s/*.py`` at tag v0.9.0 of r9s-ai/r9s-python).  Its defaults equal to the API's own
(``stream: false``, ``n: 1``, ``store: true``, ``encoding_format: "float"``, images edit
``input_fidelity: "low"`` and ``partial_images: 0``, messages ``service_tier: "auto"``,
speech ``response_format: "mp3"`` and ``speed: 1``, transcription ``response_format: "json"``
and ``temperature: 0`` ...) are left out; those the gateway relies on are sent when not given
(``defaults=``; listed in the README).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from r9s._core import params as P
from r9s._core.operations import PATH_SEGMENTS, PATH_TARGET, Operation
from r9s.binary import BinaryResponse
from r9s.models._base import Model
from r9s.models.audio import AudioTranscriptionResponse, AudioTranslationResponse
from r9s.models.catalog import ModelList, ModelObject
from r9s.models.chat import ChatCompletion, ChatCompletionChunk
from r9s.models.completions import Completion
from r9s.models.edits import EditResponse
from r9s.models.embeddings import EmbeddingResponse
from r9s.models.images import ImageGenerationResponse, ImageStreamEvent
from r9s.models.messages import Message, MessageStreamEvent
from r9s.models.moderations import ModerationResponse
from r9s.models.responses import Response, ResponseStreamEvent
from r9s.models.search import SearchResponse

__all__ = [
    "AUDIO_SPEECH",
    "AUDIO_TRANSCRIBE",
    "AUDIO_TRANSLATE",
    "CHAT",
    "COMPLETIONS",
    "EDITS",
    "EMBEDDINGS",
    "ENGINE_EMBEDDINGS",
    "IMAGES_CREATE",
    "IMAGES_EDIT",
    "MESSAGES",
    "MODELS_LIST",
    "MODELS_RETRIEVE",
    "MODERATIONS",
    "OPERATIONS",
    "PROXY",
    "RESOURCES",
    "RESPONSES",
    "SEARCH",
]


def _check_messages(name: str, value: Any) -> None:
    if not value:
        raise ValueError(f"{name} must be a non-empty list of messages")
    for i, msg in enumerate(value):
        if isinstance(msg, Model):
            msg = msg.__dict__
        if not isinstance(msg, Mapping) or "role" not in msg:
            raise TypeError(
                f"{name}[{i}] must be a dict with a 'role' (and usually 'content'), "
                f"not {type(msg).__name__}"
            )


def _check_input(name: str, value: Any) -> None:
    if isinstance(value, str):
        return
    if not value:
        raise ValueError(f"{name} must be a string or a non-empty list of messages")
    for i, item in enumerate(value):
        if not isinstance(item, (Mapping, Model)):
            raise TypeError(f"{name}[{i}] must be a dict, not {type(item).__name__}")


def _check_prompt(name: str, value: Any) -> None:
    if isinstance(value, str):
        return
    if not value:
        raise ValueError(f"{name} must be a string or a non-empty list")
    for i, item in enumerate(value):
        if not isinstance(item, (str, int, list)):
            raise TypeError(f"{name}[{i}] must be a string (or token ids), not {type(item)}")


def _check_model(name: str, value: Any) -> None:
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty model name")


def _check_nonempty(name: str, value: Any) -> None:
    if not isinstance(value, str) and not value:
        raise ValueError(f"{name} must be a string or a non-empty list")


def _check_search_extra(name: str, value: Any) -> None:
    data = value.__dict__ if isinstance(value, Model) else value
    if not isinstance(data.get("query"), str) or not data["query"].strip():
        raise ValueError(f"{name} must hold a non-empty 'query' string")


_MODEL = {"model": _check_model}

CHAT = Operation(
    "chat.create",
    "POST",
    "/chat/completions",
    P.ChatParams,
    ChatCompletion,
    ChatCompletionChunk,
    checks={"model": _check_model, "messages": _check_messages},
    doc="""Create a chat completion: ``res.choices[0].message.content``; with ``stream=True``, an
    event stream of ``ChatCompletionChunk`` (``text_deltas()``, ``get_final()``).""",
)
COMPLETIONS = Operation(
    "completions.create",
    "POST",
    "/completions",
    P.CompletionParams,
    Completion,
    Completion,
    checks={"model": _check_model, "prompt": _check_prompt},
    doc="""Create a text completion: ``res.choices[0].text``; with ``stream=True``, an event
    stream of ``Completion`` chunks.""",
)
RESPONSES = Operation(
    "responses.create",
    "POST",
    "/responses",
    P.ResponseParams,
    Response,
    ResponseStreamEvent,
    checks={"model": _check_model, "input": _check_input},
    doc="""Create a response: ``res.output_text``; with ``stream=True``, typed events
    (``response.output_text.delta`` ...).""",
)
MESSAGES = Operation(  # the Anthropic Messages API: its own stream dialect (event types)
    "messages.create",
    "POST",
    "/messages",
    P.MessageParams,
    Message,
    MessageStreamEvent,
    checks={"model": _check_model, "messages": _check_messages},
    doc="""Create a message (Anthropic Messages API): ``res.content[0].text``; with
    ``stream=True``, ``MessageStreamEvent`` events (``event.delta.text``) to ``message_stop``.""",
)
MODELS_LIST = Operation(
    "models.list",
    "GET",
    "/models",
    P.CallOptions,
    ModelList,
    doc="""Every model the gateway serves: ``res.data[i].id``, ``.owned_by``, ``.created``.""",
)
MODELS_RETRIEVE = Operation(
    "models.retrieve",
    "GET",
    "/models/{model}",
    P.ModelParams,
    ModelObject,
    path_kinds={"model": PATH_SEGMENTS},
    doc="""One model by id (``"openai/gpt-4o"`` goes out as ``/models/openai/gpt-4o``).""",
)
EMBEDDINGS = Operation(
    "embeddings.create",
    "POST",
    "/embeddings",
    P.EmbeddingParams,
    EmbeddingResponse,
    checks={"model": _check_model, "input": _check_prompt},
    doc="""Embed ``input`` (a text, texts or token ids): ``res.data[i].embedding``.""",
)
ENGINE_EMBEDDINGS = Operation(
    "engine_embeddings.create",
    "POST",
    "/engines/{model}/embeddings",
    P.EmbeddingParams,
    EmbeddingResponse,
    checks={"model": _check_model, "input": _check_prompt},
    path_kinds={"model": PATH_SEGMENTS},
    doc="""Embed ``input`` with ``model``, which goes in the path, not the body.""",
)
MODERATIONS = Operation(
    "moderations.create",
    "POST",
    "/moderations",
    P.ModerationParams,
    ModerationResponse,
    checks={"input": _check_nonempty},
    defaults={"model": "gpt-4o-mini"},
    doc="""Classify ``input``: ``res.results[i].flagged``, ``.categories``, ``.category_scores``
    (one result per input).""",
)
EDITS = Operation(
    "edits.create",
    "POST",
    "/edits",
    P.EditParams,
    EditResponse,
    checks=_MODEL,
    doc="""Edit ``input`` as ``instruction`` says: ``res.choices[0].text``.""",
)
SEARCH = Operation(
    "search.create",
    "POST",
    "/search",
    P.SearchParams,
    SearchResponse,
    checks={"extra": _check_search_extra},
    defaults={"engine": "exa"},
    doc="""Search the web with ``engine`` (``"exa"`` when not given): ``res.result``.""",
)
PROXY = Operation(
    "proxy.request",
    "POST",
    "/nextrouter/proxy/{channelid}/{target}",
    P.ProxyParams,
    dict,
    body_param="request_body",
    path_kinds={"target": PATH_TARGET},
    doc="""Send ``request_body`` to ``target`` through gateway channel ``channelid``; the JSON
    answer as a dict.""",
)

IMAGES_CREATE = Operation(
    "images.create",
    "POST",
    "/images/generations",
    P.ImageParams,
    ImageGenerationResponse,
    ImageStreamEvent,
    defaults={"size": "1024x1024"},
    doc="""Generate images from ``prompt``: ``res.data[0].url`` / ``.b64_json``; with
    ``stream=True``, partial images, then the completed one.""",
)
IMAGES_EDIT = Operation(
    "images.edit",
    "POST",
    "/images/edits",
    P.ImageEditParams,
    ImageGenerationResponse,
    ImageStreamEvent,
    defaults={"size": "1024x1024"},
    files=("image", "mask"),
    doc="""Edit ``image`` (one file or several; all are sent) as ``prompt`` says, with an optional
    ``mask``; files go up as streamed multipart (bytes, a path, an open binary file, or
    ``{"file_name", "content", "content_type"}``).""",
)
# Typed Any: the sync driver answers a BinaryResponse, the async one a BinaryResponseAsync.
AUDIO_SPEECH: Operation[Any] = Operation(
    "audio.speech",
    "POST",
    "/audio/speech",
    P.SpeechParams,
    BinaryResponse,
    answer="binary",
    accept=(
        "audio/aac;q=1, audio/flac;q=0.8, audio/mpeg;q=0.7, audio/opus;q=0.5, audio/pcm;q=0.3, "
        "audio/wav;q=0"
    ),
    doc="""Speak ``input`` with ``voice``: the audio as a binary response read as it arrives
    (``read()``, ``iter_bytes()``, ``stream_to_file(path)``; close it or use ``with``).""",
)
AUDIO_TRANSCRIBE = Operation(
    "audio.transcribe",
    "POST",
    "/audio/transcriptions",
    P.TranscriptionParams,
    AudioTranscriptionResponse,
    answer="text",
    accept="application/json;q=1, text/plain;q=0.8, application/x-subrip;q=0.5, text/vtt;q=0",
    files=("file",),
    doc="""The text of ``file`` (streamed up as multipart): an object (``res.text``), or for
    ``response_format`` ``text`` / ``srt`` / ``vtt`` the text itself.""",
)
AUDIO_TRANSLATE = Operation(
    "audio.translate",
    "POST",
    "/audio/translations",
    P.TranslationParams,
    AudioTranslationResponse,
    answer="text",
    accept="application/json;q=1, text/plain;q=0",
    files=("file",),
    doc="""``file`` translated into English text (as ``transcribe``).""",
)

#: The resources (``client.<attribute>``): their class names and what they hold.
RESOURCES: Mapping[str, tuple[str, str]] = {
    "chat": ("Chat", "Chat completions."),
    "completions": ("Completions", "Text completions."),
    "responses": ("Responses", "The Responses API."),
    "messages": ("Messages", "The Anthropic Messages API (Claude models through the gateway)."),
    "models": ("Models", "The models the gateway serves."),
    "embeddings": ("Embeddings", "Embedding vectors."),
    "engine_embeddings": ("EngineEmbeddings", "Embedding vectors, the model in the path."),
    "moderations": ("Moderations", "Content moderation."),
    "edits": ("Edits", "Text edits."),
    "images": ("Images", "Image generation and edits."),
    "audio": ("Audio", "Speech (bytes out), transcription and translation (files in)."),
    "search": ("Search", "Web search."),
    "proxy": ("Proxy", "Requests relayed through a gateway channel."),
}

#: Every operation by its public name (``"chat.create"``).
OPERATIONS: Mapping[str, Operation[Any]] = {
    op.name: op
    for op in (
        CHAT,
        COMPLETIONS,
        RESPONSES,
        MESSAGES,
        MODELS_LIST,
        MODELS_RETRIEVE,
        EMBEDDINGS,
        ENGINE_EMBEDDINGS,
        MODERATIONS,
        EDITS,
        SEARCH,
        PROXY,
        IMAGES_CREATE,
        IMAGES_EDIT,
        AUDIO_SPEECH,
        AUDIO_TRANSCRIBE,
        AUDIO_TRANSLATE,
    )
}
