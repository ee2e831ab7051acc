"""Status, headers and body in; a decoded result or an error instance out.

One table (``r9s.errors.STATUS_ERRORS``) maps statuses to classes, for every operation alike,
whatever the content type.  Messages carry the numbers (status, content type, sizes) and the
server's own words when it sent any; bodies are quoted truncated and with the API key removed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from r9s._core._json import loads
from r9s._core.headers import Headers
from r9s._core.request import RawResponse, Request
from r9s.errors import (
    STATUS_ERRORS,
    R9SDefaultError,
    R9SError,
    ResponseValidationError,
)
from r9s.models.common import ErrorBody

__all__ = [
    "decode_json",
    "error_for_status",
    "finish",
    "is_binary",
    "is_event_stream",
    "redact",
    "stream_error",
]

#: How much of a non-JSON body an error message quotes.
QUOTE_LIMIT = 200

#: The longest server message an error message carries whole (the body keeps all of it).
MESSAGE_LIMIT = 500


def _clip(message: str) -> str:
    if len(message) <= MESSAGE_LIMIT:
        return message
    return f"{message[:MESSAGE_LIMIT]}... ({len(message)} characters)"


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "<redacted>")
    return text


def _server_message(data: Any) -> str | None:
    """The human message in a JSON error body of any common shape."""
    if not isinstance(data, dict):
        return None
    err = data.get("error", data)
    if isinstance(err, str) and err:
        return err
    if isinstance(err, dict):
        for key in ("message", "detail", "error"):
            value = err.get(key)
            if isinstance(value, str) and value:
                return value
    for key in ("message", "detail"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _reparse(text: str) -> Any:
    try:
        return loads(text)
    except ValueError:
        return None


def _wrap(data: Any) -> Any:
    return ErrorBody(data) if isinstance(data, dict) else data


def error_for_status(
    status: int,
    headers: Headers,
    body: bytes,
    *,
    request: Request | None = None,
    secrets: Sequence[str] = (),
) -> R9SError:
    """The error for a non-2XX answer: the status's class, the server's message if any."""
    text = redact(body.decode("utf-8", "replace"), secrets)
    ctype = headers.get("content-type", "")
    data: Any = None
    if body.strip()[:1] in (b"{", b"["):
        try:
            data = loads(text)
        except ValueError:
            data = None
    message = _server_message(data)
    if message is None:
        if 300 <= status < 400:
            where = headers.get("location")
            message = f"HTTP {status} redirect{f' to {where}' if where else ''} (not followed)"
        elif not body:
            message = f"HTTP {status} with an empty body"
        else:
            quoted = text[:QUOTE_LIMIT].strip()
            more = f" ... ({len(body)} bytes)" if len(text) > QUOTE_LIMIT else ""
            message = f"HTTP {status} ({ctype or 'no content type'}): {quoted}{more}"
    else:
        message = _clip(redact(message, secrets))
    cls = STATUS_ERRORS.get(status, R9SDefaultError)
    raw = RawResponse(status, headers, body, request)
    return cls(
        message, status_code=status, body=text, headers=headers, raw_response=raw, data=_wrap(data)
    )


def decode_json(
    status: int,
    headers: Headers,
    body: bytes,
    make: type[Any],
    *,
    request: Request | None = None,
    secrets: Sequence[str] = (),
) -> Any:
    """Decode a 2XX JSON body into a result object, or raise ``ResponseValidationError``.

    ``make`` is a ``Model`` class, or ``dict`` for the parsed object as it is.
    """
    try:
        data = loads(body.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        text = redact(body.decode("utf-8", "replace"), secrets)
        quoted = text[:QUOTE_LIMIT]
        raise ResponseValidationError(
            f"HTTP {status} body is not valid JSON ({len(body)} bytes, "
            f"content type {headers.get('content-type') or 'none'}): {exc}; body: {quoted!r}",
            status_code=status,
            body=text,
            headers=headers,
            raw_response=RawResponse(status, headers, body, request),
        ) from exc
    if type(data) is not dict:
        raise ResponseValidationError(
            f"HTTP {status} body is JSON but not an object (a {type(data).__name__})",
            status_code=status,
            body=redact(body.decode("utf-8", "replace"), secrets),
            headers=headers,
            raw_response=RawResponse(status, headers, body, request),
        )
    if "error" in data and data["error"] and "choices" not in data and "output" not in data:
        # A gateway that answers 200 with an error body: an error all the same.
        raise stream_error(data, status, headers, secrets=secrets, events_received=None)
    if make is dict:
        return data
    result = make._wrap(data)
    rid = headers.get("x-request-id")
    if rid is not None:
        result._request_id = rid
    return result


#: ``error.type`` / ``code`` strings that name a status when no number is given: OpenAI's and
#: gateways' names, and the Messages API's (https://docs.anthropic.com/en/api/errors:
#: ``invalid_request_error`` ... ``overloaded_error``, which is its HTTP 529).
_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "permission_denied": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "server_error": 500,
    "internal_error": 500,
    "api_error": 500,
    "overloaded_error": 529,
    "overloaded": 503,
    "service_unavailable": 503,
    "gateway_timeout": 504,
    "timeout": 504,
    "timeout_error": 504,
}


def _status_in(payload: dict[str, Any]) -> int | None:
    for key in ("status", "code", "status_code"):
        value = payload.get(key)
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) == 3:
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 400 <= value < 600:
            return value
    for key in ("type", "code"):
        value = payload.get(key)
        if isinstance(value, str) and value in _TYPE_STATUS:
            return _TYPE_STATUS[value]
    return None


def stream_error(
    payload: Any,
    status: int,
    headers: Headers,
    *,
    secrets: Sequence[str] = (),
    events_received: int | None,
) -> R9SError:
    """The error for an error reported inside a 2XX body or stream.

    ``payload`` is the decoded event: ``{"error": {...}}``, a Responses ``{"type": "error",
    ...}`` event, a Messages ``{"type": "error", "error": {"type": "overloaded_error",
    "message": ...}}`` event, or whatever an ``event: error`` carried (plain text is the
    message).  The class comes from a status or type the payload names (``"code": 503``,
    ``"type": "rate_limit_error"``, ``"type": "overloaded_error"``: 529); when it names none,
    ``R9SDefaultError``.  ``status_code`` is that named status, else the HTTP status.
    """
    inner = payload.get("error", payload) if isinstance(payload, dict) else payload
    if not isinstance(inner, dict):
        inner = {"message": inner} if isinstance(inner, str) else {}
    named = _status_in(inner) or (_status_in(payload) if isinstance(payload, dict) else None)
    message = _server_message(payload)
    if message is None and isinstance(payload, str) and payload.strip():
        message = payload.strip()  # an ``event: error`` whose data is plain text
    message = _clip(redact(message or "the server reported an error inside the stream", secrets))
    cls = STATUS_ERRORS.get(named, R9SDefaultError) if named is not None else R9SDefaultError
    try:
        body = redact(json.dumps(payload, ensure_ascii=False, default=str), secrets)
    except (RecursionError, ValueError):
        body = "<an error payload too deeply nested to quote>"
    raw_body = body.encode("utf-8", "replace")  # a lone surrogate from JSON "\ud800"
    where = (
        f"reported inside the stream after {events_received} events"
        if events_received is not None
        else f"reported in an HTTP {status} body"
    )
    err = cls(
        f"{message} ({where})",
        status_code=named if named is not None else status,
        body=body,
        headers=headers,
        raw_response=RawResponse(status, headers, raw_body),
        data=_wrap(_reparse(body) if secrets else payload),  # the redacted copy, if redacted
    )
    err.events_received = events_received
    return err


def is_event_stream(status: int, headers: Headers) -> bool:
    """Whether a streamed call's answer is to be read as an event stream.

    A 2XX answer is, unless it names another content type: a gateway that ignored
    ``stream: true`` (or put an error in a 200 JSON body) must not read as an empty stream.
    """
    if not 200 <= status < 300:
        return False
    ctype = headers.get("content-type")
    return ctype is None or ctype.split(";", 1)[0].strip().lower() == "text/event-stream"


def _is_json(headers: Headers) -> bool:
    ctype = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


def is_binary(status: int, headers: Headers) -> bool:
    """Whether a binary operation's answer is its data: a 2XX that is not JSON (a JSON 2XX
    is read whole: it holds an error, or is not what was asked for)."""
    return 200 <= status < 300 and not _is_json(headers)


def finish(
    status: int,
    headers: Headers,
    body: bytes,
    make: type[Any],
    *,
    request: Request | None = None,
    secrets: Sequence[str] = (),
    answer: str = "json",
) -> Any:
    """The result of a complete non-streamed answer, or raise its error.

    For a call that asked for a stream (``request.stream``) a 2XX answer reaching here was
    not an event stream: its error is raised if it holds one, else a
    ``ResponseValidationError`` saying what came instead.
    """
    if 200 <= status < 300:
        if answer == "text" and not _is_json(headers):
            return body.decode("utf-8", "replace")  # text, srt, vtt: the text itself
        if answer == "binary":  # JSON where bytes were asked for: its error, or a mismatch
            make = dict
        result = decode_json(status, headers, body, make, request=request, secrets=secrets)
        if answer == "binary" or (request is not None and request.stream):
            raise ResponseValidationError(
                f"asked for {'binary data' if answer == 'binary' else 'an event stream'}, got "
                f"HTTP {status} with content type "
                f"{headers.get('content-type')!r} ({len(body)} bytes)",
                status_code=status,
                body=redact(body.decode("utf-8", "replace"), secrets),
                headers=headers,
                raw_response=RawResponse(status, headers, body, request),
            )
        return result
    raise error_for_status(status, headers, body, request=request, secrets=secrets)
