"""The errors r9s raises.

Every failure of a call is an ``R9SError``; catch that to catch them all::

    R9SError                         message, status_code, body, headers, raw_response, data
    ├── BadRequestError              400
    ├── AuthenticationError          401
    ├── PermissionDeniedError        403
    ├── NotFoundError                404
    ├── UnprocessableEntityError     422
    ├── RateLimitError               429
    ├── InternalServerError          500
    ├── ServiceUnavailableError      503, and 529 (overloaded: Anthropic's status)
    ├── R9SDefaultError              any other 4XX / 5XX, and errors reported inside a stream
    │                                that name no status
    ├── ResponseValidationError      a body or event that cannot be decoded
    │   └── EventTooLargeError       one event (or unterminated line) over the size limit
    └── NoResponseError              no complete answer: refused, reset, cut short, timed out
        ├── RequestTimeoutError      connect, read, write or pool timeout; a deadline,
        │                            first_event_timeout or idle_timeout
        └── IncompleteResponseError  the body ended before its declared end

    BodyReadError                    not an R9SError: a streamed upload's own source failed
                                     (a file vanished, changed size, or a pipe was read once)

Every error has ``retryable`` (may trying again succeed?), ``request_id`` and ``rate_limits``.
Status errors are chosen by status whatever the content type (an HTML 503 page from a proxy is
a ``ServiceUnavailableError``) and on every operation.  An error reported inside a 200 stream (an
``error`` event, or a payload holding ``{"error": ...}``) raises the class its code names.

``status_code`` is ``None`` only for ``NoResponseError`` raised before any status arrived.  The
API key never appears in any message or repr: the core removes it from bodies it quotes.
Errors pickle (so they cross process pools) with everything but ``raw_response.request``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from r9s._core.headers import Headers
from r9s._core.request import BodyReadError, RawResponse

if TYPE_CHECKING:
    from r9s._core.meta import RateLimits

__all__ = [
    "RETRY_STATUSES",
    "STATUS_ERRORS",
    "AuthenticationError",
    "BadRequestError",
    "BodyReadError",
    "EventTooLargeError",
    "IncompleteResponseError",
    "InternalServerError",
    "NoResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "R9SDefaultError",
    "R9SError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseValidationError",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
]


#: Statuses worth retrying: rate limited, or a server/proxy failure that may pass (529 is
#: "overloaded" in the Anthropic Messages API, a 503 in all but number).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})


def _rebuild(cls: type[R9SError], state: dict[str, Any]) -> R9SError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class R9SError(Exception):
    """Base of every error r9s raises for a call.

    Attributes:
        message: the server's own message when it sent one (``error.message``), else ours.
        status_code: the HTTP status, or ``None`` when none arrived.
        body: the response body as text (may be empty; truncated bodies are not).
        headers: the response headers (empty when none arrived).
        raw_response: status, headers and body bytes, or ``None``.
        data: the decoded JSON body (a lazy object with attribute access, e.g.
            ``err.data.error.code``), or ``None`` when the body was not JSON.
    """

    #: The status this class stands for; ``None`` for classes not tied to one status.
    status: ClassVar[int | None] = None

    message: str
    status_code: int | None
    body: str
    headers: Headers
    raw_response: RawResponse | None
    data: Any
    #: For an error reported inside a stream: how many events were delivered before it.
    events_received: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: str = "",
        headers: Headers | None = None,
        raw_response: RawResponse | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code if status_code is not None else self.status
        self.body = body
        self.headers = headers if headers is not None else Headers()
        self.raw_response = raw_response
        self.data = data

    @property
    def request_id(self) -> str | None:
        """The gateway's ``x-request-id`` for this call, to quote in a support ticket."""
        return self.headers.get("x-request-id")

    @property
    def retryable(self) -> bool:
        """Whether trying the call again may succeed: a 429 / 500 / 502 / 503 / 504 / 529 status
        (also one named by an error reported inside a stream: ``overloaded``,
        ``server_error``, ``"code": 503``...), or no complete answer (refused, reset, timed
        out).  Mid-stream, the caller decides: ``events_received`` events were delivered."""
        return isinstance(self, NoResponseError) or self.status_code in RETRY_STATUSES

    @property
    def rate_limits(self) -> RateLimits:
        """The response's parsed ``x-ratelimit-*`` headers (empty when none arrived)."""
        from r9s._core.meta import rate_limits_of

        return rate_limits_of(self.headers)

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None and not self.message.startswith(f"{self.status_code} "):
            parts.insert(0, f"{self.status_code}")
        rid = self.request_id
        if rid:
            parts.append(f"(request id {rid})")
        return " ".join(parts) if len(parts) > 1 else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        state = dict(self.__dict__)
        raw = state.get("raw_response")
        if raw is not None:
            state["raw_response"] = RawResponse(raw.status_code, raw.headers, raw.body)
        return (_rebuild, (type(self), state))


class BadRequestError(R9SError):
    """400: the request was malformed or a parameter was invalid."""

    status = 400


class AuthenticationError(R9SError):
    """401: the API key is missing, invalid or revoked."""

    status = 401


class PermissionDeniedError(R9SError):
    """403: the key may not use this model or operation."""

    status = 403


class NotFoundError(R9SError):
    """404: no such model, route or object."""

    status = 404


class UnprocessableEntityError(R9SError):
    """422: the request was well-formed but semantically invalid."""

    status = 422


class RateLimitError(R9SError):
    """429: too many requests or tokens; retried by default, honouring ``Retry-After``."""

    status = 429


class InternalServerError(R9SError):
    """500: the gateway or the model failed; retried by default."""

    status = 500


class ServiceUnavailableError(R9SError):
    """503: overloaded or down (often an HTML page from a proxy); retried by default.

    Also 529 and the ``overloaded_error`` of the Messages API (``status_code`` says which)."""

    status = 503


class R9SDefaultError(R9SError):
    """Any other 4XX/5XX status, or an in-stream error that names no status."""


class ResponseValidationError(R9SError):
    """A 2XX body, or an event in a stream, that could not be decoded (bad JSON, bad UTF-8)."""


class EventTooLargeError(ResponseValidationError):
    """One event, or one unterminated line, grew past the configured size limit."""


class NoResponseError(R9SError):
    """No complete answer arrived: connection refused or reset, body cut short, or a timeout."""

    def __init__(self, message: str = "No response received", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class RequestTimeoutError(NoResponseError):
    """A connect, read, write or pool timeout (``timeout_ms``) expired, or one of the call's
    limits: ``deadline``, ``first_event_timeout``, ``idle_timeout``."""


class IncompleteResponseError(NoResponseError):
    """The body ended before its declared end (short Content-Length, chunked with no last chunk).

    Losing data is never silent: a stream cut this way raises rather than ending quietly.
    """


#: status -> class; statuses not listed map to ``R9SDefaultError``.
STATUS_ERRORS: dict[int, type[R9SError]] = {
    cls.status: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        UnprocessableEntityError,
        RateLimitError,
        InternalServerError,
        ServiceUnavailableError,
    )
    if cls.status is not None
}
STATUS_ERRORS[529] = ServiceUnavailableError
