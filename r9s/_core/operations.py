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
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from r9s._core.headers import Headers, HeadersLike
from r9s._core.lifecycle import Limits
from r9s._core.request import ACCEPT_ENCODING, DEFAULT_MAX_EVENT_SIZE, Body, Request, Timeout
from r9s._core.urls import redact_url, split_credentials
from r9s._version import USER_AGENT
from r9s.models._base import Model
from r9s.utils.retries import DEFAULT_RETRY_CONFIG, RetryConfig

if TYPE_CHECKING:
    from r9s._core.multipart import MultipartBody

__all__ = [
    "DEFAULT_SERVER_URL",
    "NOT_GIVEN",
    "OPTION_NAMES",
    "PATH_SEGMENT",
    "PATH_SEGMENTS",
    "PATH_TARGET",
    "ClientConfig",
    "NotGiven",
    "Operation",
    "encode_path_value",
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

R = TypeVar("R")


class Operation(NamedTuple, Generic[R]):
    """One endpoint, described once: ``{method} {server_url}{path}``.

    Attributes:
        name: the public method, for messages (``"chat.create"``).
        method: ``"GET"`` (no body) or ``"POST"``.
        path: the path template; ``{name}`` is filled with that parameter, encoded so that no
            value can change the route (see ``encode_path_value``).
        params: the ``TypedDict`` of ``r9s._core.params`` listing every parameter and its
            type; read at run time (once) to check arguments before anything is sent.
        result: wraps a non-streamed JSON answer; ``dict`` hands the parsed object over as is.
        event: wraps one event of a streamed answer; ``None`` for operations that never stream.
        checks: extra checks of single arguments (``ValueError`` / ``TypeError``).
        defaults: body fields sent when the caller did not give them: the published SDK's
            defaults that differ from the API's own (``moderations`` model ``gpt-4o-mini``).
        body_param: the body is this parameter's value alone (``proxy.request``'s
            ``request_body``), not an object of the parameters.
        path_kinds: how each path parameter may be written (``PATH_SEGMENT`` by default).
        answer: ``"json"``; ``"text"``: JSON, or the body as a ``str`` when the server sends
            text (a transcription as ``srt``); ``"binary"``: the body as it arrives (speech).
        accept: the ``Accept`` header, when not the JSON / event-stream default; the caller's
            ``accept_header_override`` replaces it.
        files: the parameters that are files: when set, the body is ``multipart/form-data``
            (streamed, files never held in memory) instead of JSON; text parts first, in the
            order of ``params``, then the files in this order; several files given for one
            parameter go out as ``name[]`` parts.
        doc: what the method does, for its docstring (``help()``, editors).
    """

    name: str
    method: str
    path: str
    params: type
    result: type[R]
    event: type[Model] | None = None
    checks: Mapping[str, Callable[[str, Any], None]] = {}
    defaults: Mapping[str, Any] = {}
    body_param: str | None = None
    path_kinds: Mapping[str, str] = {}
    answer: str = "json"
    accept: str | None = None
    files: tuple[str, ...] = ()
    doc: str = ""


#: A path parameter that is one segment: a ``/`` in it is refused.
PATH_SEGMENT = "segment"
#: A path parameter that may span segments (a model id such as ``openai/gpt-4o``).
PATH_SEGMENTS = "segments"
#: A proxy target: segments, plus a ``?query`` the caller wrote, sent as the query.
PATH_TARGET = "target"

# RFC 3986 ``pchar`` less ``%`` (a valid ``%XX`` escape is kept as written; a bare ``%`` is
# escaped): what may stand unescaped in a path segment; a query may also hold ``/`` and ``?``.
_PCHAR = "!$&'()*+,;=:@-._~"
_QCHAR = _PCHAR + "/?"


def _escape(text: str, safe: str) -> str:
    import re
    from urllib.parse import quote

    try:
        return quote(re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", text), safe=safe + "%")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for it, so no URL either
        raise ValueError(f"a path parameter holds text with no UTF-8 form: {text!r}") from None


def encode_path_value(op: str, name: str, value: Any, kind: str) -> tuple[str, str | None]:
    """A path parameter's value as it goes in the URL, and the query it carries (targets).

    Every character outside RFC 3986's ``pchar`` is percent-encoded (``?``, ``#``, spaces,
    non-ASCII), so a value never adds a query or a fragment; a ``%XX`` escape the caller wrote
    is kept.  Refused, with ``ValueError``: an empty value; a ``.`` or ``..`` segment, or an
    escape that a server would decode into one or into a ``/`` (``%2e%2e``, ``%2F``), which
    could send the request elsewhere; a ``/`` in a one-segment parameter (a channel id); an
    empty segment in a model id; a ``#fragment`` in a target (fragments are never sent).
    A target's ``?query`` is the query of the request, as the caller wrote it.
    """
    if not isinstance(value, str):
        raise TypeError(f"{op}() argument {name!r} must be str, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{op}() argument {name!r} must not be empty")
    query: str | None = None
    if kind == PATH_TARGET:
        if "#" in value:
            raise ValueError(
                f"{op}() argument {name!r} holds a '#fragment', which is never sent: {value!r}"
            )
        if "?" in value:
            value, query = value.split("?", 1)
            query = _escape(query, _QCHAR)
            if not value.strip():
                raise ValueError(f"{op}() argument {name!r} has a query but no path: {value!r}")
    from urllib.parse import unquote

    segments = [value] if kind == PATH_SEGMENT else value.split("/")
    for seg in segments:
        seen = unquote(seg)
        if seen in (".", "..") or "/" in seen:
            what = "a '/'" if "/" in seen else f"a {seen!r} segment"
            raise ValueError(
                f"{op}() argument {name!r} must not hold {what} (written {seg!r}): it would "
                f"change the request's route"
            )
        if not seg and kind == PATH_SEGMENTS:
            raise ValueError(f"{op}() argument {name!r} has an empty path part: {value!r}")
    return "/".join(_escape(seg, _PCHAR) for seg in segments), query


class _Spec(NamedTuple):
    types: dict[str, tuple[type, ...]]
    required: tuple[str, ...]


_SPECS: dict[type, _Spec] = {}
#: The call options: not body parameters (the client takes them apart).
OPTION_NAMES = (
    "retries",
    "server_url",
    "timeout_ms",
    "http_headers",
    "extra_body",
    "deadline",
    "first_event_timeout",
    "idle_timeout",
)


def _accepts(hint: Any) -> tuple[type, ...]:
    """The run-time types an annotation of ``r9s._core.params`` accepts (for ``isinstance``).

    Sequences accept lists and tuples (never a string); mappings and ``TypedDict`` shapes
    accept any ``Mapping`` and r9s objects; ``float`` accepts ``int``; a ``Literal`` accepts
    its values' types (the server judges the value: gateways add values).
    """
    import types
    import typing
    from collections.abc import Sequence

    origin = typing.get_origin(hint)
    if origin is typing.Required or origin is typing.NotRequired:
        return _accepts(typing.get_args(hint)[0])
    if origin is typing.Union or origin is types.UnionType:
        found: dict[type, None] = {}
        for arg in typing.get_args(hint):
            if arg is not type(None):
                found.update(dict.fromkeys(_accepts(arg)))
        return tuple(found)
    if origin is typing.Literal:
        return tuple(dict.fromkeys(type(v) for v in typing.get_args(hint)))
    if hint is typing.Any or origin is typing.IO:  # files: the multipart encoder checks them
        return (object,)
    if origin in (list, tuple, Sequence):
        return (list, tuple)
    if origin in (dict, Mapping) or typing.is_typeddict(hint) or hint in (dict, Mapping):
        return (Mapping, Model)
    if hint is float:
        return (int, float)
    if isinstance(hint, type):
        return (hint,)
    if isinstance(origin, type):  # os.PathLike[str] and other generic classes
        return (origin,)
    raise TypeError(f"no run-time check for the annotation {hint!r}")  # pragma: no cover


def spec_of(op: Operation[Any]) -> _Spec:
    """Each body parameter's accepted types and the required ones, read from ``op.params``."""
    spec = _SPECS.get(op.params)
    if spec is None:
        import typing

        hints = typing.get_type_hints(op.params, include_extras=True)
        types = {n: _accepts(h) for n, h in hints.items() if n not in OPTION_NAMES}
        if op.event is not None:
            types["stream"] = (bool,)
        required = tuple(n for n, h in hints.items() if typing.get_origin(h) is typing.Required)
        spec = _SPECS[op.params] = _Spec(types, required)
    return spec


def _type_names(types: tuple[type, ...]) -> str:
    names = {int: "int", float: "float", bool: "bool", str: "str", list: "list", tuple: "list"}
    out = [names.get(t, "dict" if t in (Mapping, Model) else t.__name__) for t in types]
    return " or ".join(dict.fromkeys(out))


def check_params(op: Operation[Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that go on the wire, checked; raises ``TypeError``/``ValueError``."""
    spec = spec_of(op)
    for name in spec.required:
        if params.get(name) is None and "{" + name + "}" not in op.path:  # path: checked there
            raise TypeError(f"{op.name}() missing required argument: {name!r}")
    body: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        types = spec.types.get(name)
        if types is None:
            hint = " (pass parameters the gateway adds with extra_body=)"
            raise TypeError(
                f"{op.name}() got an unexpected argument {name!r}"
                + (hint if op.method != "GET" else "")
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


def _accept(op: Operation[Any], override: Any) -> str | None:
    """The ``Accept`` header: the caller's ``accept_header_override`` (a ``str``, or one of the
    ``r9s.audio_sdk`` enums), else the operation's own."""
    if override is None:
        return op.accept
    value = getattr(override, "value", override)  # a (str) Enum member: its value
    if not isinstance(value, str) or not value.strip():
        raise TypeError(
            f"{op.name}() argument 'accept_header_override' must be a media type string, "
            f"not {override!r}"
        )
    return value


def form_body(op: Operation[Any], body: Mapping[str, Any]) -> MultipartBody:
    """The ``multipart/form-data`` body of a call: text fields in ``op.params`` order, then
    the files (``FilePart``, paths, open files, the published SDK's file dicts).

    Raises:
        TypeError, ValueError: a value that cannot be a part, a hostile name or filename.
        OSError: a file path that cannot be read.
    """
    from r9s._core.multipart import FilePart, MultipartBody

    fields: list[tuple[str, Any]] = []
    types = spec_of(op).types
    for name in types:
        value = body.get(name)
        if name in op.files or value is None:
            continue
        if types[name] == (int, float) and type(value) is int:
            value = float(value)  # a float parameter reads "0.0" in a form, as the SDK sends it
        fields.append((name, value))
    for name in body:  # extra_body fields, after the known ones
        if name not in op.files and name not in spec_of(op).types:
            fields.append((name, body[name]))
    for name in op.files:
        value = body.get(name)
        if value is None:
            continue
        many = isinstance(value, (list, tuple))
        items = list(value) if many else [value]
        if many and not items:
            raise ValueError(f"{op.name}() argument {name!r} must hold at least one file")
        if len(items) > 1:  # OpenAI's form for several files: image[]
            name += "[]"
        for item in items:
            if isinstance(item, (bytes, bytearray, memoryview)):
                item = FilePart(bytes(item))  # bare bytes: a file, not a text field
            elif isinstance(item, str):
                raise TypeError(
                    f"{op.name}() argument {name!r}: a str is not a file; pass a "
                    "pathlib.Path, an open binary file, bytes or "
                    '{"file_name": ..., "content": ...}'
                )
            fields.append((name, item))
    return MultipartBody(fields)


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
        url = redact_url(self.server_url)
        return f"ClientConfig(server_url={url!r}, timeout_ms={self.timeout_ms!r})"


class Call(NamedTuple):
    """One prepared call: the request plus what the driver needs to finish it."""

    op: Operation[Any]
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
    op: Operation[Any],
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
    params = dict(params)
    path, query = op.path, None
    while "{" in path:
        start = path.index("{")
        end = path.index("}", start)
        name = path[start + 1 : end]
        kind = op.path_kinds.get(name, PATH_SEGMENT)
        value = params.pop(name, None)
        if value is None:
            raise TypeError(f"{op.name}() missing required argument: {name!r}")
        encoded, q = encode_path_value(op.name, name, value, kind)  # checks it is a str
        if op.checks.get(name) is not None:
            op.checks[name](name, value)
        path, query = path[:start] + encoded + path[end + 1 :], q if q is not None else query
    accept = op.accept
    if "accept_header_override" in spec_of(op).types:  # a header, not a body field
        accept = _accept(op, params.pop("accept_header_override", None))
    body: Any = check_params(op, params)
    for name, value in op.defaults.items():
        if params.get(name) is None:  # None is "not given", here as everywhere
            body[name] = value
    stream = body.get("stream") is True
    if op.body_param is not None:
        body = body.get(op.body_param)
    if extra_body:
        if not isinstance(extra_body, Mapping):
            raise TypeError("extra_body must be a dict")
        if op.method == "GET":
            raise TypeError(f"{op.name}() sends no body: extra_body cannot be used")
        body = {**body, **extra_body} if body is not None else dict(extra_body)
    base = server_url if server_url is not None else config.server_url
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise ValueError(f"server_url must be an absolute http(s) URL, got {redact_url(base)!r}")
    base, basic = split_credentials(base)
    key = config.key()
    headers: list[tuple[str, str]] = [
        ("Accept", "text/event-stream" if stream else accept or "application/json"),
        ("User-Agent", USER_AGENT),
        ("Accept-Encoding", ACCEPT_ENCODING),
    ]
    content: Body = b""
    if op.files:
        form = form_body(op, body)
        content = form
        headers.insert(1, ("Content-Type", form.content_type))
    elif body is not None and op.method != "GET":
        content = encode_body(body)
        headers.insert(1, ("Content-Type", "application/json"))
    secrets = ((key,) if key else ()) + config.extra_secrets
    if basic is not None:  # credentials in the URL win, as with httpx (the published SDK)
        headers.insert(0, ("Authorization", f"Basic {basic[0]}"))
        secrets += basic
    elif key:
        headers.insert(0, ("Authorization", f"Bearer {key}"))
    hdrs = Headers(headers).merged(config.default_headers or None).merged(http_headers)
    for name, value in hdrs.raw():
        _check_header(name, value)
    url = base.rstrip("/") + path + ("?" + query if query else "")
    request = Request(op.method, url, hdrs, content, stream)
    timeout = Timeout.from_ms(timeout_ms if timeout_ms is not None else config.timeout_ms)
    retry = config.retry_config if isinstance(retries, NotGiven) else retries
    if retry is not None and not isinstance(retry, RetryConfig):
        raise TypeError(f"retries must be a RetryConfig or None, not {type(retry).__name__}")
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
