"""Classification from literals: status, headers and body in; result or error out."""

from __future__ import annotations

import pickle

import pytest

from r9s import errors
from r9s._core.classify import error_for_status, finish
from r9s._core.headers import Headers
from r9s.models import ChatCompletion, Completion

JSON = Headers({"content-type": "application/json", "x-request-id": "req_42"})
GATEWAY = b'{"error": {"message": "Invalid model", "type": "invalid_request_error", "code": "model_not_found", "param": "model"}}'


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (422, errors.UnprocessableEntityError),
        (429, errors.RateLimitError),
        (500, errors.InternalServerError),
        (503, errors.ServiceUnavailableError),
        (529, errors.ServiceUnavailableError),
        (402, errors.R9SDefaultError),
        (418, errors.R9SDefaultError),
        (502, errors.R9SDefaultError),
        (504, errors.R9SDefaultError),
    ],
)
def test_status_picks_the_class(status: int, cls: type) -> None:
    err = error_for_status(status, JSON, GATEWAY)
    assert type(err) is cls
    assert isinstance(err, errors.R9SError)
    assert err.status_code == status
    assert err.message == "Invalid model"
    assert err.data.error.code == "model_not_found"
    assert err.body == GATEWAY.decode()
    assert err.request_id == "req_42"
    assert str(err) == f"{status} Invalid model (request id req_42)"


def test_html_page_from_a_proxy_is_classified_by_status() -> None:
    page = b"<html><head><title>503 Service Temporarily Unavailable</title></head>" + b"x" * 500
    err = error_for_status(503, Headers({"content-type": "text/html"}), page)
    assert isinstance(err, errors.ServiceUnavailableError)
    assert "HTTP 503 (text/html)" in err.message
    assert "503 Service Temporarily Unavailable" in err.message
    assert len(err.message) < 300 and f"({len(page)} bytes)" in err.message
    assert err.data is None and err.body.startswith("<html>")


def test_json_error_bodies_of_other_shapes() -> None:
    assert error_for_status(400, JSON, b'{"error": "nope"}').message == "nope"
    assert error_for_status(400, JSON, b'{"detail": "missing field"}').message == "missing field"
    odd = error_for_status(400, JSON, b'{"weird": [1]}')
    assert odd.data.weird == [1] and "HTTP 400" in odd.message


def test_empty_body_and_redirect() -> None:
    assert "empty body" in error_for_status(500, Headers(), b"").message
    redirect = error_for_status(302, Headers({"location": "https://elsewhere/"}), b"")
    assert isinstance(redirect, errors.R9SDefaultError)
    assert "redirect to https://elsewhere/" in redirect.message


def test_api_key_is_redacted_from_quoted_bodies() -> None:
    body = b'{"error": {"message": "Incorrect API key provided: sk-live-123456"}}'
    err = error_for_status(401, JSON, body, secrets=["sk-live-123456"])
    for text in (str(err), repr(err), err.body, err.message):
        assert "sk-live-123456" not in text


def test_errors_pickle() -> None:
    err = error_for_status(429, JSON, GATEWAY)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is errors.RateLimitError
    assert (again.status_code, again.message, again.request_id) == (429, "Invalid model", "req_42")
    assert again.data.error.type == "invalid_request_error"
    net = pickle.loads(pickle.dumps(errors.RequestTimeoutError("read timed out")))
    assert isinstance(net, errors.NoResponseError) and net.status_code is None


def test_finish_decodes_2xx_and_keeps_the_request_id() -> None:
    res = finish(
        200, JSON, b'{"id": "c", "choices": [{"message": {"content": "hi"}}]}', ChatCompletion
    )
    assert res.choices[0].message.content == "hi"
    assert res._request_id == "req_42"


def test_finish_raises_the_status_error() -> None:
    with pytest.raises(errors.NotFoundError):
        finish(404, JSON, b'{"error": {"message": "no route"}}', ChatCompletion)


def test_invalid_json_200_is_a_validation_error() -> None:
    with pytest.raises(errors.ResponseValidationError, match="not valid JSON") as info:
        finish(200, JSON, b'{"id": oops', ChatCompletion)
    assert info.value.status_code == 200 and info.value.body == '{"id": oops'


def test_200_with_an_error_body_raises() -> None:
    with pytest.raises(errors.ServiceUnavailableError, match="overloaded"):
        finish(200, JSON, b'{"error": {"message": "overloaded", "code": 503}}', ChatCompletion)


def test_completion_object_names() -> None:
    for name in ("text_completion", "completion"):
        body = f'{{"id": "x", "object": "{name}", "choices": [{{"text": "t"}}]}}'.encode()
        assert finish(200, JSON, body, Completion).choices[0].text == "t"


ANTHROPIC_ERROR = (
    b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
)


def test_anthropic_error_bodies_take_their_message_and_map_by_status() -> None:
    err = error_for_status(529, JSON, ANTHROPIC_ERROR)
    assert type(err) is errors.ServiceUnavailableError and err.status_code == 529
    assert err.message == "Overloaded" and err.retryable
    assert err.data.error.type == "overloaded_error"
    assert str(err) == "529 Overloaded (request id req_42)"
    # the status decides, not the body's type
    err = error_for_status(400, JSON, ANTHROPIC_ERROR)
    assert type(err) is errors.BadRequestError and not err.retryable


def test_anthropic_error_in_a_200_body_is_classified_by_its_type() -> None:
    with pytest.raises(errors.ServiceUnavailableError, match="Overloaded") as info:
        finish(200, JSON, ANTHROPIC_ERROR, ChatCompletion)
    assert info.value.status_code == 529 and info.value.retryable
    body = b'{"type": "error", "error": {"type": "permission_error", "message": "no"}}'
    with pytest.raises(errors.PermissionDeniedError):
        finish(200, JSON, body, ChatCompletion)
