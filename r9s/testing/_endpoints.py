"""The test server's routes and its JSON-only endpoints: models, embeddings, moderations,
edits, search and the gateway's channel proxy.

Why a module of its own: ``_openai`` holds the three generating endpoints and their streams,
``_anthropic`` the Messages API, ``_media`` images and audio; this module decides which
endpoint a request path names (``resolve``), which models exist (``Catalog``), dispatches
(``answer_route``), and answers the endpoints whose answer is one JSON document.  Like
``_openai`` it does no I/O, and every answer is derived from the request alone, so tests can
assert it exactly.

Paths are matched on the raw request path; path parameters (a model id, a channel id, a proxy
target) are percent-decoded, so ``/v1/models/openai%2Fgpt-4o-mini`` and
``/v1/models/openai/gpt-4o-mini`` both name the model ``openai/gpt-4o-mini``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, NamedTuple
from urllib.parse import unquote

from r9s.testing._anthropic import answer_messages
from r9s.testing._media import (
    BinaryBody,
    TextBody,
    edit_image,
    generate_image,
    speech,
    transcribe,
)
from r9s.testing._multipart import Form
from r9s.testing._openai import (
    CREATED,
    MAX_CHOICES,
    ApiError,
    SseStream,
    answer,
    count_tokens,
    dumps_utf8,
)

__all__ = [
    "DEFAULT_MODELS",
    "FORM_ROUTES",
    "MISSING_PREFIX",
    "Answer",
    "Catalog",
    "Route",
    "answer_route",
    "embedding_vector",
    "resolve",
]

#: What ``GET /v1/models`` lists on a server given no ``models=``.
DEFAULT_MODELS: Final = (
    "gpt-4o-mini",
    "gpt-4o",
    "openai/gpt-4o-mini",
    "text-embedding-3-small",
    "qwen-plus",
)
#: On a server given no ``models=``, the model ids beginning with this do not exist.
MISSING_PREFIX: Final = "does-not-exist"
#: Default and largest embedding length.
DEFAULT_DIMENSIONS: Final = 8
MAX_DIMENSIONS: Final = 3072
#: Most numbers in one embeddings answer (inputs x dimensions): keeps one request's work bounded.
MAX_EMBEDDING_VALUES: Final = 1_000_000
#: Most inputs in one embeddings or moderations request (OpenAI's limit).
MAX_INPUTS: Final = 2048
#: Default and largest number of search results.
DEFAULT_RESULTS: Final = 3
MAX_RESULTS: Final = 10
#: The default moderation model (OpenAI's).
MODERATION_MODEL: Final = "omni-moderation-latest"
SEARCH_ENGINES: Final = ("exa", "tavily", "google")

_POST: Final = ("POST",)
_GET: Final = ("GET", "HEAD")
_ANY: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_V1: Final = "/v1"
_FIXED: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "/v1/chat/completions": ("chat", _POST),
    "/v1/completions": ("completions", _POST),
    "/v1/responses": ("responses", _POST),
    "/v1/models": ("models.list", _GET),
    "/v1/embeddings": ("embeddings", _POST),
    "/v1/moderations": ("moderations", _POST),
    "/v1/edits": ("edits", _POST),
    "/v1/search": ("search", _POST),
    "/v1/images/generations": ("images.generations", _POST),
    "/v1/images/edits": ("images.edits", _POST),
    "/v1/audio/speech": ("audio.speech", _POST),
    "/v1/audio/transcriptions": ("audio.transcriptions", _POST),
    "/v1/audio/translations": ("audio.translations", _POST),
    "/v1/messages": ("messages", _POST),
}
#: The endpoints whose request body is ``multipart/form-data`` (streamed, not kept).
FORM_ROUTES: Final = frozenset({"images.edits", "audio.transcriptions", "audio.translations"})
#: What an endpoint answers: JSON bytes, a stream, a text body or a binary body.
Answer = bytes | SseStream | TextBody | BinaryBody
#: The endpoints answered by ``_openai.answer`` (their request body carries the model).
_GENERATING: Final = {
    "chat": "/v1/chat/completions",
    "completions": "/v1/completions",
    "responses": "/v1/responses",
}


class Route(NamedTuple):
    """The endpoint a request path names."""

    #: e.g. ``"chat"``, ``"models.retrieve"``, ``"proxy"``.
    name: str
    #: The methods it answers (the ``Allow`` header of a 405).
    methods: tuple[str, ...]
    #: Percent-decoded path parameters: ``model``; ``channelid`` and ``target``.
    params: dict[str, str]

    @property
    def wants_json_object(self) -> bool:
        """Whether the request body must be a JSON object (every POST endpoint but the proxy
        and the multipart ones)."""
        return self.methods == _POST and self.name not in FORM_ROUTES

    @property
    def wants_form(self) -> bool:
        """Whether the request body must be ``multipart/form-data``."""
        return self.name in FORM_ROUTES

    @property
    def anthropic(self) -> bool:
        """Whether the endpoint speaks Anthropic's format (its errors included)."""
        return self.name == "messages"


def resolve(path: str) -> Route | None:
    """The endpoint a raw request path names.

    Args:
        path: the request path as received (no query string, not decoded).

    Returns:
        The route, or None for a path the API does not have.
    """
    fixed = _FIXED.get(path)
    if fixed is not None:
        return Route(fixed[0], fixed[1], {})
    if path.startswith("/v1/models/") and len(path) > len("/v1/models/"):
        return Route("models.retrieve", _GET, {"model": unquote(path[len("/v1/models/") :])})
    head, tail = "/v1/engines/", "/embeddings"
    if path.startswith(head) and path.endswith(tail) and len(path) > len(head) + len(tail):
        model = unquote(path[len(head) : -len(tail)])
        return Route("engine_embeddings", _POST, {"model": model})
    head = "/v1/nextrouter/proxy/"
    if path.startswith(head):
        channel, sep, target = path[len(head) :].partition("/")
        if channel and sep and target:
            params = {"channelid": unquote(channel), "target": unquote(target)}
            return Route("proxy", _ANY, params)
    return None


# ----------------------------------------------------------------------------- models


_OWNERS: Final = (
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("text-embedding-", "openai"),
    ("omni-moderation", "openai"),
    ("text-moderation", "openai"),
    ("dall-e", "openai"),
    ("whisper", "openai"),
    ("tts-", "openai"),
    ("claude", "anthropic"),
    ("gemini", "google"),
    ("qwen", "alibaba"),
    ("deepseek", "deepseek"),
)
#: Creation dates spread over three years before ``CREATED``.
_SPREAD: Final = 3 * 365 * 86400


def model_object(model: str) -> dict[str, Any]:
    """The model object of an id: its owner from the id, its creation time from a hash.

    Args:
        model: the model id.

    Returns:
        ``{"id", "object": "model", "created", "owned_by"}``; the owner is the part before a
        ``/`` (``openai/gpt-4o-mini`` -> ``openai``), else guessed from the name, else ``r9s``.
    """
    vendor, slash, _ = model.partition("/")
    if slash and vendor:
        owner = vendor
    else:
        lowered = model.lower()
        owner = next((who for prefix, who in _OWNERS if lowered.startswith(prefix)), "r9s")
    created = CREATED - zlib.crc32(model.encode("utf-8", "surrogatepass")) % _SPREAD
    return {"id": model, "object": "model", "created": created, "owned_by": owner}


class Catalog:
    """The models a server knows.

    With ``models`` given, exactly those exist, listed in the order given.  Without, any
    model id exists except those beginning with ``MISSING_PREFIX`` (``"does-not-exist"``),
    and ``GET /v1/models`` lists ``DEFAULT_MODELS``.  A model that does not exist gets
    OpenAI's answer, word for word: 404, ``code`` ``model_not_found``.
    """

    __slots__ = ("_listed", "_only")

    def __init__(self, models: Iterable[str] | None = None) -> None:
        if isinstance(models, str):
            raise TypeError("models is a collection of names, not one string")
        if models is None:
            self._listed: tuple[str, ...] = DEFAULT_MODELS
            self._only: frozenset[str] | None = None
            return
        listed = tuple(dict.fromkeys(models))
        for name in listed:
            if not isinstance(name, str) or not name:
                raise TypeError(f"a model name must be a non-empty string, not {name!r}")
        self._listed = listed
        self._only = frozenset(listed)

    @property
    def listed(self) -> tuple[str, ...]:
        """The ids ``GET /v1/models`` lists."""
        return self._listed

    def exists(self, model: str) -> bool:
        """Whether a model id exists on this server."""
        if self._only is not None:
            return model in self._only
        return not model.startswith(MISSING_PREFIX)

    def check(self, model: str) -> None:
        """Raise OpenAI's 404 ``model_not_found`` ApiError for a model that does not exist."""
        if not self.exists(model):
            message = f"The model `{model}` does not exist or you do not have access to it."
            raise ApiError(404, message, code="model_not_found")


# ----------------------------------------------------------------------------- dispatch


def answer_route(
    route: Route,
    method: str,
    body: Any,
    *,
    ident: int,
    catalog: Catalog,
    path: str,
    query: str,
    form: Form | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """Answer one request to a resolved route.

    Args:
        route: what ``resolve`` found; the method is one it allows.
        method: the request method.
        body: the parsed JSON body (None when empty or not JSON); a JSON object for the
            routes whose ``wants_json_object`` is true.
        ident: the request's number, used in ids.
        catalog: the models that exist.
        path: the raw request path.
        query: the raw query string (without ``?``), empty if none.
        form: the parsed multipart body, for the routes whose ``wants_form`` is true.
        headers: the request headers (lower-case names).

    Returns:
        The JSON body, a stream, a text or binary body.  Raises ApiError for a request the
        API refuses.
    """
    if route.wants_form:
        assert form is not None
        if route.name == "images.edits":
            return edit_image(form, ident, catalog.check)
        return transcribe(form, catalog.check, translate=route.name == "audio.translations")
    if route.name == "messages":
        return answer_messages(body, ident, catalog.exists)
    if route.name == "images.generations":
        return generate_image(body, ident, catalog.check)
    if route.name == "audio.speech":
        size = None if headers is None else headers.get("x-r9s-audio-bytes")
        return speech(body, catalog.check, size)
    generating = _GENERATING.get(route.name)
    if generating is not None:
        model = body.get("model")
        if isinstance(model, str):
            catalog.check(model)
        return answer(generating, body, ident)
    if route.name == "models.list":
        return dumps_utf8({"object": "list", "data": [model_object(m) for m in catalog.listed]})
    if route.name == "models.retrieve":
        model = route.params["model"]
        catalog.check(model)
        return dumps_utf8(model_object(model))
    if route.name == "proxy":
        return _proxy(route, method, body, ident, catalog, path, query)
    handler = _HANDLERS[route.name]
    return handler(route, body, ident, catalog)


# ----------------------------------------------------------------------------- embeddings


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """The deterministic embedding of a text.

    Each component is a multiple of 1/1024 in [-1, 1] (exact in float32, so the ``float``
    and ``base64`` encodings carry the same numbers); the vector has about unit length, and a
    shorter one is the normalised start of a longer one (as OpenAI's ``dimensions`` works).

    Args:
        text: the input (a token array's ints joined with spaces).
        dimensions: the vector's length.

    Returns:
        The vector.
    """
    raw = hashlib.shake_256(text.encode("utf-8", "surrogatepass")).digest(2 * dimensions)
    values = [v / 32768.0 - 1.0 for v in struct.unpack(f"<{dimensions}H", raw)]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [round(v / norm * 1024) / 1024 for v in values]


def _embedding_inputs(given: object) -> tuple[list[str], int]:
    """The texts to embed and the prompt tokens they count."""
    if given is None:
        raise ApiError(400, "you must provide an input parameter", param="input")
    if isinstance(given, str):
        if not given:
            raise ApiError(400, "'input' must not be an empty string", param="input")
        return [given], count_tokens([given])
    problem = (
        "'input' must be a string, an array of strings, an array of token ids or an array "
        f"of token-id arrays (1 to {MAX_INPUTS} items, none empty)"
    )
    if not isinstance(given, list) or not 0 < len(given) <= MAX_INPUTS:
        raise ApiError(400, problem, param="input")
    if all(isinstance(item, str) and item for item in given):
        return list(given), count_tokens(given)
    if all(_is_token(item) for item in given):
        return [" ".join(map(str, given))], len(given)
    if all(isinstance(item, list) and item and all(map(_is_token, item)) for item in given):
        return [" ".join(map(str, item)) for item in given], sum(len(item) for item in given)
    raise ApiError(400, problem, param="input")


def _is_token(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _embeddings(route: Route, body: dict[str, Any], ident: int, catalog: Catalog) -> bytes:
    if route.name == "engine_embeddings":
        model = route.params["model"]
    else:
        model = _required_str(body, "model")
    catalog.check(model)
    texts, tokens = _embedding_inputs(body.get("input"))
    encoding = body.get("encoding_format", "float")
    if encoding is None:
        encoding = "float"
    if encoding not in ("float", "base64"):
        message = "'encoding_format' must be 'float' or 'base64'"
        raise ApiError(400, message, param="encoding_format")
    dimensions = _int_field(body, "dimensions", 1, MAX_DIMENSIONS) or DEFAULT_DIMENSIONS
    _optional_str(body, "user")
    if len(texts) * dimensions > MAX_EMBEDDING_VALUES:
        message = f"the test server returns at most {MAX_EMBEDDING_VALUES} numbers per request"
        raise ApiError(400, message, param="input")
    data = []
    for index, text in enumerate(texts):
        vector = embedding_vector(text, dimensions)
        embedding: list[float] | str = vector
        if encoding == "base64":
            packed = struct.pack(f"<{dimensions}f", *vector)
            embedding = base64.b64encode(packed).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return dumps_utf8({"object": "list", "data": data, "model": model, "usage": usage})


# ----------------------------------------------------------------------------- moderations

#: OpenAI's moderation categories, in the order its answers list them.
MODERATION_CATEGORIES: Final = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
#: The words that flag a text, per category (whole words, any case).
MODERATION_WORDS: Final = {"violence": ("hurt", "kill")}
_WORD_RE: Final = re.compile(r"[^\W\d_]+")


def _moderation_texts(given: object) -> list[str]:
    if given is None:
        raise ApiError(400, "you must provide an input parameter", param="input")
    if isinstance(given, str):
        return [given]
    if isinstance(given, list) and 0 < len(given) <= MAX_INPUTS:
        if all(isinstance(item, str) for item in given):
            return list(given)
        if all(
            isinstance(item, dict) and item.get("type") in ("text", "image_url") for item in given
        ):
            # Multimodal input: one result for all its parts.
            return [" ".join(str(item.get("text", "")) for item in given)]
    message = (
        "'input' must be a string, an array of strings or an array of text and image_url "
        f"parts (1 to {MAX_INPUTS} items)"
    )
    raise ApiError(400, message, param="input")


def _moderation_result(text: str) -> dict[str, Any]:
    words = {word.lower() for word in _WORD_RE.findall(text)}
    categories: dict[str, bool] = {}
    scores: dict[str, float] = {}
    for category in MODERATION_CATEGORIES:
        hit = any(word in words for word in MODERATION_WORDS.get(category, ()))
        seed = hashlib.sha256(f"{category}\x00{text}".encode("utf-8", "surrogatepass"))
        low = int.from_bytes(seed.digest()[:4], "big") / 2**32 / 1000
        categories[category] = hit
        scores[category] = round(0.9 + low * 90 if hit else low, 9)
    return {
        "flagged": any(categories.values()),
        "categories": categories,
        "category_scores": scores,
    }


def _moderations(route: Route, body: dict[str, Any], ident: int, catalog: Catalog) -> bytes:
    texts = _moderation_texts(body.get("input"))
    model = _optional_str(body, "model") or MODERATION_MODEL
    catalog.check(model)
    doc = {
        "id": f"modr-{ident}",
        "model": model,
        "results": [_moderation_result(text) for text in texts],
    }
    return dumps_utf8(doc)


# ----------------------------------------------------------------------------- edits

#: The misspellings an edit corrects (whole words, lower case).
SPELLING: Final = {
    "wek": "week",
    "teh": "the",
    "recieve": "receive",
    "definately": "definitely",
    "seperate": "separate",
    "occured": "occurred",
    "untill": "until",
}
_EDIT_WORD_RE: Final = re.compile(r"[A-Za-z]+")


def edit_text(text: str) -> str:
    """The deterministic edit of a text.

    Args:
        text: the input.

    Returns:
        The text with runs of whitespace made one space, the misspellings of ``SPELLING``
        corrected, the first letter capitalised and a final period added when it ends
        without ``.``, ``!`` or ``?``; then a newline, as OpenAI's edits end.
    """
    out = " ".join(text.split())
    out = _EDIT_WORD_RE.sub(lambda m: _respell(m.group(0)), out)
    if out:
        out = out[0].upper() + out[1:]
        if out[-1] not in ".!?":
            out += "."
    return out + "\n"


def _respell(word: str) -> str:
    fixed = SPELLING.get(word.lower())
    if fixed is None:
        return word
    return fixed.capitalize() if word[0].isupper() else fixed


def _edits(route: Route, body: dict[str, Any], ident: int, catalog: Catalog) -> bytes:
    model = _required_str(body, "model")
    catalog.check(model)
    instruction = body.get("instruction")
    if instruction is None:
        raise ApiError(400, "you must provide an instruction parameter", param="instruction")
    if not isinstance(instruction, str):
        raise ApiError(400, "'instruction' must be a string", param="instruction")
    given = _optional_str(body, "input") or ""
    n = _int_field(body, "n", 1, MAX_CHOICES) or 1
    _number(body, "temperature", 0.0, 2.0)
    _number(body, "top_p", 0.0, 1.0)
    text = edit_text(given)
    prompt = count_tokens([instruction, given])
    completion = count_tokens([text]) * n
    doc = {
        "object": "edit",
        "created": CREATED,
        "choices": [{"text": text, "index": i} for i in range(n)],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }
    return dumps_utf8(doc)


# ----------------------------------------------------------------------------- search

_SLUG_RE: Final = re.compile(r"[^a-z0-9]+")
#: ``publishedDate`` of every search result: ``CREATED`` as an ISO date-time.
_PUBLISHED: Final = "2023-11-14T22:13:20.000Z"


def _search(route: Route, body: dict[str, Any], ident: int, catalog: Catalog) -> bytes:
    engine = body.get("engine")
    if engine is None:
        engine = "exa"
    if engine not in SEARCH_ENGINES:
        message = f"'engine' must be one of {', '.join(SEARCH_ENGINES)}"
        raise ApiError(400, message, param="engine")
    extra = body.get("extra")
    if extra is None:
        raise ApiError(400, "you must provide an extra parameter with a query", param="extra")
    if not isinstance(extra, dict):
        raise ApiError(400, "'extra' must be an object", param="extra")
    query = extra.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ApiError(400, "'extra.query' must be a non-empty string", param="extra.query")
    field = "max_results" if engine == "tavily" else "num"
    count = _int_field(extra, field, 1, MAX_RESULTS, param=f"extra.{field}") or DEFAULT_RESULTS
    slug = _SLUG_RE.sub("-", query.lower()).strip("-") or "q"
    results: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        results.append(
            {
                "title": f"{query.strip()} - result {i}",
                "url": f"https://example.com/{engine}/{slug}/{i}",
                "text": f'Result {i} of {count} for the query "{query.strip()}".',
            }
        )
    result: dict[str, Any] = {"query": query, "results": results}
    if engine == "exa":
        for item in results:
            item.update(id=item["url"], publishedDate=_PUBLISHED, author=None)
        result.update(requestId=f"req_{ident}", searchTime=12.5)
    elif engine == "tavily":
        for i, item in enumerate(results):
            item.update(content=item["text"], score=round(0.9 - 0.05 * i, 2))
        answer_text = f'A short answer about "{query.strip()}".'
        result.update(
            answer=answer_text if extra.get("include_answer", True) is not False else None,
            response_time=0.5,
            request_id=f"req_{ident}",
        )
    else:
        items = [
            {"title": item["title"], "link": item["url"], "snippet": item["text"]}
            for item in results
        ]
        info = {"totalResults": str(count), "searchTime": 0.25}
        result.update(items=items, searchInformation=info)
    return dumps_utf8({"engine": engine, "result": result})


# ----------------------------------------------------------------------------- proxy


def _proxy(
    route: Route,
    method: str,
    body: Any,
    ident: int,
    catalog: Catalog,
    path: str,
    query: str,
) -> bytes | SseStream:
    """The channel proxy: a chat request to ``chat/completions`` is answered as a chat
    completion (never streamed: the proxy's answer is one JSON document); anything else is
    echoed: what arrived, decoded."""
    target = route.params["target"]
    if target == "chat/completions" and isinstance(body, dict) and "messages" in body:
        request = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        model = request.get("model")
        if isinstance(model, str):
            catalog.check(model)
        return answer(_GENERATING["chat"], request, ident)
    doc = {
        "channelid": route.params["channelid"],
        "target": target,
        "path": path,
        "query": query or None,
        "method": method,
        "body": body,
    }
    return dumps_utf8(doc)


# ----------------------------------------------------------------------------- validation


def _required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise ApiError(400, f"you must provide a {name} parameter", param=name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"'{name}' must be a non-empty string", param=name)
    return value


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"'{name}' must be a string", param=name)
    return value


def _int_field(
    body: dict[str, Any], name: str, low: int, high: int, *, param: str | None = None
) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        message = f"'{param or name}' must be an integer from {low} to {high}"
        raise ApiError(400, message, param=param or name)
    return value


def _number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ApiError(400, f"'{name}' must be a number from {low:g} to {high:g}", param=name)


_Handler = Callable[[Route, dict[str, Any], int, Catalog], bytes]
_HANDLERS: Final[dict[str, _Handler]] = {
    "embeddings": _embeddings,
    "engine_embeddings": _embeddings,
    "moderations": _moderations,
    "edits": _edits,
    "search": _search,
}
