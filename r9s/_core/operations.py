"""Each API operation described once: path, parameters (with their accepted types), result.

``prepare(op, params, config, options)`` turns a caller's arguments into a ``Call``: the
``Request`` to send plus everything a driver needs to finish the job (timeout, retry config,
how to decode the answer).  All argument checks happen here, before any I/O, with a clear
``TypeError`` or ``ValueError``.

Only parameters the caller set go on the wire: a parameter left at ``None`` is omitted, as in
the published SDK (send an explicit JSON ``null`` with ``extra_body={"name": None}``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from r9s._core.headers import Headers, HeadersLike
from r9s._core.lifecycle import Limits
from r9s._core.request import ACCEPT_ENCODING, DEFAULT_MAX_EVENT_SIZE, Request, Timeout
from r9s._version import USER_AGENT
from r9s.models._base import Model
from r9s.models.chat import ChatCompletion, ChatCompletionChunk
from r9s.models.completions import Completion
from r9s.models.responses import Response, ResponseStreamEvent
from r9s.utils.retries import DEFAULT_RETRY_CONFIG, RetryConfig

__all__ = [
    "CHAT",
    "COMPLETIONS",
    "DEFAULT_SERVER_URL",
    "NOT_GIVEN",
    "OPERATIONS",
    "RESPONSES",
    "ClientConfig",
    "NotGiven",
    "Operation",
    "prepare",
]

DEFAULT_SERVER_URL = "https://api.r9s.ai/v1"


class NotGiven:
    """The "argument not given" marker, for parameters where ``None`` means something.

    ``retries=None`` turns retries off for a call; ``retries`` not given uses the client's.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()

_NUM = (int, float)
_INT = (int,)
_BOOL = (bool,)
_STR = (str,)
_DICT = (Mapping,)
_LIST = (list, tuple)
_STR_OR_LIST = (str, list, tuple)
_DICT_OR_STR = (Mapping, str)


class Operation(NamedTuple):
    """One endpoint: ``POST {server_url}{path}``.

    Attributes:
        name: the public method, for messages (``"chat.create"``).
        params: every body parameter and the types it accepts (checked before sending).
        required: the parameters that must be given.
        result: wraps a non-streamed JSON answer.
        event: wraps one event of a streamed answer.
    """

    name: str
    path: str
    params: Mapping[str, tuple[type, ...]]
    required: tuple[str, ...]
    result: type[Model]
    event: type[Model]
    checks: Mapping[str, Callable[[str, Any], None]] = {}


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


CHAT = Operation(
    name="chat.create",
    path="/chat/completions",
    params={
        "model": _STR,
        "messages": _LIST,
        "frequency_penalty": _NUM,
        "logit_bias": _DICT,
        "logprobs": _BOOL,
        "top_logprobs": _INT,
        "max_tokens": _INT,
        "max_completion_tokens": _INT,
        "n": _INT,
        "modalities": _LIST,
        "audio": _DICT,
        "presence_penalty": _NUM,
        "response_format": _DICT,
        "seed": _INT,
        "service_tier": _STR,
        "stop": _STR_OR_LIST,
        "stream": _BOOL,
        "stream_options": _DICT,
        "temperature": _NUM,
        "top_p": _NUM,
        "top_k": _INT,
        "tools": _LIST,
        "tool_choice": _DICT_OR_STR,
        "parallel_tool_calls": _BOOL,
        "user": _STR,
        "reasoning_effort": _STR,
        "store": _BOOL,
        "metadata": _DICT,
    },
    required=("model", "messages"),
    result=ChatCompletion,
    event=ChatCompletionChunk,
    checks={"model": _check_model, "messages": _check_messages},
)

COMPLETIONS = Operation(
    name="completions.create",
    path="/completions",
    params={
        "model": _STR,
        "prompt": _STR_OR_LIST,
        "best_of": _INT,
        "echo": _BOOL,
        "frequency_penalty": _NUM,
        "logit_bias": _DICT,
        "logprobs": _INT,
        "max_tokens": _INT,
        "n": _INT,
        "presence_penalty": _NUM,
        "seed": _INT,
        "stop": _STR_OR_LIST,
        "stream": _BOOL,
        "stream_options": _DICT,
        "suffix": _STR,
        "temperature": _NUM,
        "top_p": _NUM,
        "user": _STR,
    },
    required=("model", "prompt"),
    result=Completion,
    event=Completion,
    checks={"model": _check_model, "prompt": _check_prompt},
)

RESPONSES = Operation(
    name="responses.create",
    path="/responses",
    params={
        "model": _STR,
        "input": _STR_OR_LIST,
        "instructions": _STR,
        "temperature": _NUM,
        "top_p": _NUM,
        "max_output_tokens": _INT,
        "stream": _BOOL,
        "modalities": _LIST,
        "tools": _LIST,
        "tool_choice": _DICT_OR_STR,
        "metadata": _DICT,
    },
    required=("model", "input"),
    result=Response,
    event=ResponseStreamEvent,
    checks={"model": _check_model, "input": _check_input},
)

OPERATIONS = {op.name: op for op in (CHAT, COMPLETIONS, RESPONSES)}


def _type_names(types: tuple[type, ...]) -> str:
    names = {int: "int", float: "float", bool: "bool", str: "str", list: "list", tuple: "list"}
    out = [names.get(t, "dict" if t is Mapping else t.__name__) for t in types]
    return " or ".join(dict.fromkeys(out))


def check_params(op: Operation, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that go on the wire, checked; raises ``TypeError``/``ValueError``."""
    for name in op.required:
        if params.get(name) is None:
            raise TypeError(f"{op.name}() missing required argument: {name!r}")
    body: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        types = op.params.get(name)
        if types is None:
            raise TypeError(
                f"{op.name}() got an unexpected argument {name!r} "
                "(pass parameters the gateway adds with extra_body=)"
            )
        # bool is an int in Python, but never a valid number of tokens or a temperature.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise TypeError(
                f"{op.name}() argument {name!r} must be {_type_names(types)}, "
                f"not {type(value).__name__}"
            )
        check = op.checks.get(name)
        if check is not None:
            check(name, value)
        body[name] = value
    return body


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Model):
        return obj.__dict__
    if isinstance(obj, Mapping):
        return dict(obj)
    dump = getattr(obj, "model_dump", None)  # pydantic models built for the published SDK
    if callable(dump):
        return dump(by_alias=True, exclude_none=True)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    raise TypeError(f"a request parameter holds a {type(obj).__name__}, which is not JSON")


_encode: Callable[[Any], str] | None = None  # made on first use: json is not needed to import


def encode_body(body: Mapping[str, Any]) -> bytes:
    global _encode
    encode = _encode
    if encode is None:
        import json

        encode = _encode = json.JSONEncoder(
            separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
        ).encode
    try:
        return encode(body).encode("utf-8")
    except ValueError as exc:  # NaN / infinity
        raise ValueError(f"a request parameter is not valid JSON: {exc}") from None


def _check_header(name: str, value: str) -> None:
    for ch in ("\r", "\n", "\x00"):
        if ch in name or ch in value:
            raise ValueError(f"header {name!r} contains a CR, LF or NUL character")


class ClientConfig(NamedTuple):
    """What a client fixes for all its calls (the ``R9S`` constructor's arguments)."""

    api_key: str | Callable[[], str]
    server_url: str = DEFAULT_SERVER_URL
    retry_config: RetryConfig | None = DEFAULT_RETRY_CONFIG
    timeout_ms: int | float | None = None
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE
    default_headers: Headers = Headers()
    #: Other strings never to quote in an error (proxy credentials from the environment).
    extra_secrets: tuple[str, ...] = ()
    #: Default time limits of every call (deadline, first_event_timeout, idle_timeout).
    limits: Limits | None = None

    def key(self) -> str:
        key = self.api_key() if callable(self.api_key) else self.api_key
        if not isinstance(key, str):
            raise TypeError("api_key must be a string (or a callable returning one)")
        return key

    def __repr__(self) -> str:  # never the key
        return f"ClientConfig(server_url={self.server_url!r}, timeout_ms={self.timeout_ms!r})"


class Call(NamedTuple):
    """One prepared call: the request plus what the driver needs to finish it."""

    op: Operation
    request: Request
    timeout: Timeout
    retry: RetryConfig | None
    max_event_size: int
    secrets: tuple[str, ...] = ()
    limits: Limits | None = None

    @property
    def stream(self) -> bool:
        return self.request.stream

    def __repr__(self) -> str:  # never the secrets
        return f"Call({self.op.name}, {self.request!r})"


def prepare(
    op: Operation,
    params: Mapping[str, Any],
    config: ClientConfig,
    *,
    retries: RetryConfig | NotGiven | None = NOT_GIVEN,
    server_url: str | None = None,
    timeout_ms: int | float | None = None,
    http_headers: HeadersLike | None = None,
    extra_body: Mapping[str, Any] | None = None,
    deadline: float | None = None,
    first_event_timeout: float | None = None,
    idle_timeout: float | None = None,
) -> Call:
    """Check the arguments and build the ``Call``; no I/O.

    Raises:
        TypeError, ValueError: a missing or ill-typed argument, a bad URL or header.
    """
    body = check_params(op, params)
    if extra_body:
        if not isinstance(extra_body, Mapping):
            raise TypeError("extra_body must be a dict")
        body.update(extra_body)
    stream = body.get("stream") is True
    base = server_url if server_url is not None else config.server_url
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise ValueError(f"server_url must be an absolute http(s) URL, got {base!r}")
    key = config.key()
    headers: list[tuple[str, str]] = [
        ("Accept", "text/event-stream" if stream else "application/json"),
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
        ("Accept-Encoding", ACCEPT_ENCODING),
    ]
    if key:
        headers.insert(0, ("Authorization", f"Bearer {key}"))
    hdrs = Headers(headers).merged(config.default_headers or None).merged(http_headers)
    for name, value in hdrs.raw():
        _check_header(name, value)
    request = Request("POST", base.rstrip("/") + op.path, hdrs, encode_body(body), stream)
    timeout = Timeout.from_ms(timeout_ms if timeout_ms is not None else config.timeout_ms)
    retry = config.retry_config if isinstance(retries, NotGiven) else retries
    if retry is not None and not isinstance(retry, RetryConfig):
        raise TypeError(f"retries must be a RetryConfig or None, not {type(retry).__name__}")
    secrets = ((key,) if key else ()) + config.extra_secrets
    limits = config.limits
    if deadline is not None or first_event_timeout is not None or idle_timeout is not None:
        base_limits = limits or Limits()
        limits = Limits.checked(
            deadline if deadline is not None else base_limits.deadline,
            first_event_timeout
            if first_event_timeout is not None
            else base_limits.first_event_timeout,
            idle_timeout if idle_timeout is not None else base_limits.idle_timeout,
        )
    return Call(op, request, timeout, retry, config.max_event_size, secrets, limits)
