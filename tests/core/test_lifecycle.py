"""The call lifecycle in the core: hooks, limits, the retry decision, response metadata.

Sans-IO: times are passed in, nothing sleeps, no socket.
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest

from r9s._core.headers import Headers
from r9s._core.lifecycle import Hooks, Lifecycle, Limits, RequestContext, StreamClock
from r9s._core.meta import RateLimits, ResponseInfo, parse_duration, rate_limits_of
from r9s._core.request import Request, Timeout
from r9s._core.stream import StreamDecoder
from r9s.errors import (
    BadRequestError,
    IncompleteResponseError,
    NoResponseError,
    R9SDefaultError,
    RateLimitError,
    RequestTimeoutError,
    ResponseValidationError,
    ServiceUnavailableError,
)
from r9s.models.chat import ChatCompletionChunk
from r9s.utils.retries import BackoffStrategy, RetryConfig

LOG = logging.getLogger("r9s.test-lifecycle")
REQ = Request(
    "POST",
    "http://127.0.0.1:9/v1/chat/completions",
    Headers([("Authorization", "Bearer sk-secret-key"), ("Accept", "text/event-stream")]),
    b"{}",
    True,
)
RETRY = RetryConfig("backoff", BackoffStrategy(100, 1000, 2.0, 60_000), True)


def life(
    *,
    limits: Limits | None = None,
    hooks: Hooks | None = None,
    retry: RetryConfig | None = RETRY,
    request: Request = REQ,
    now: float = 100.0,
) -> Lifecycle:
    return Lifecycle(
        operation="chat.create",
        request=request,
        timeout=Timeout(10.0, 600.0, 600.0, 600.0),
        retry=retry,
        limits=limits,
        hooks=hooks,
        log=LOG,
        now=now,
    )


def status_error(status: int, headers: dict[str, str] | None = None) -> Any:
    from r9s.errors import STATUS_ERRORS

    cls = STATUS_ERRORS.get(status, R9SDefaultError)
    return cls(f"HTTP {status}", status_code=status, headers=Headers(headers or {}))


# -- limits ------------------------------------------------------------------------------


def test_limits_checked() -> None:
    assert Limits.checked() is None
    assert Limits.checked(deadline=5) == Limits(5, None, None)
    assert Limits.checked(idle_timeout=0.5) == Limits(None, None, 0.5)
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="deadline must be a positive number"):
            Limits.checked(deadline=bad)
    with pytest.raises(TypeError, match="first_event_timeout must be a number of seconds"):
        Limits.checked(first_event_timeout="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="idle_timeout"):
        Limits.checked(idle_timeout=True)


def test_clock_caps_reads_by_the_nearest_limit() -> None:
    clock = StreamClock(Limits(10.0, 2.0, 0.5), start=100.0, sent=101.0, read=600.0)
    # Before the first event: first_event_timeout (from the send at 101) is nearest.
    assert clock.read_timeout(101.5, 101.5, 0) == pytest.approx(1.5)
    # Events flow: the idle timer runs from when the reader began waiting.
    assert clock.read_timeout(105.0, 104.8, 3) == pytest.approx(0.3)
    # Near the deadline (start 100 + 10), the deadline is nearest.
    assert clock.read_timeout(109.9, 109.9, 3) == pytest.approx(0.1)
    # No limit nearer than the transport's read timeout: that one.
    far = StreamClock(Limits(deadline=10_000.0), start=0.0, sent=0.0, read=7.0)
    assert far.read_timeout(1.0, 1.0, 0) == 7.0
    assert StreamClock(Limits(deadline=5.0), 0.0, 0.0, None).read_timeout(1.0, 1.0, 9) == 4.0


def test_clock_raises_the_limit_that_passed() -> None:
    clock = StreamClock(Limits(10.0, 2.0, 0.5), start=100.0, sent=100.0, read=600.0)
    with pytest.raises(RequestTimeoutError, match="no event within first_event_timeout 2 s") as e:
        clock.read_timeout(102.0, 100.0, 0)
    assert e.value.events_received == 0
    with pytest.raises(RequestTimeoutError, match=r"no event for 0.5 s \(idle_timeout\) after 4"):
        clock.read_timeout(105.6, 105.0, 4)
    with pytest.raises(RequestTimeoutError, match="deadline of 10 s passed after 7 events") as e:
        clock.read_timeout(110.0, 109.9, 7)
    assert e.value.events_received == 7
    assert e.value.retryable  # a timeout: trying again may succeed


def test_slow_consumer_is_not_idle() -> None:
    """The idle timer starts when the reader asks for the next event, not at the last one:
    a caller who spends 10 s on each event does not make a healthy stream look idle."""
    clock = StreamClock(Limits(idle_timeout=1.0), start=0.0, sent=0.0, read=600.0)
    assert clock.read_timeout(50.0, 50.0, 10) == pytest.approx(1.0)


def test_explain_turns_a_capped_read_timeout_into_the_limits_error() -> None:
    clock = StreamClock(Limits(idle_timeout=1.0), start=0.0, sent=0.0, read=600.0)
    transport_err = RequestTimeoutError("no data from 127.0.0.1:9 for 1 s (read timeout)")
    explained = clock.explain(transport_err, 11.0, 10.0, 3)
    assert isinstance(explained, RequestTimeoutError)
    assert "idle_timeout" in str(explained) and explained.events_received == 3
    assert explained.__cause__ is transport_err
    # The transport's own timeout (no limit passed) and other errors are left alone.
    assert clock.explain(transport_err, 10.5, 10.0, 3) is transport_err
    reset = IncompleteResponseError("reset")
    assert clock.explain(reset, 11.0, 10.0, 3) is reset
    # A limit error is never explained again.
    with pytest.raises(RequestTimeoutError) as e:
        clock.read_timeout(12.0, 10.0, 3)
    assert clock.explain(e.value, 12.0, 10.0, 3) is e.value


# -- attempts and hooks ------------------------------------------------------------------


def test_begin_runs_before_request_hooks_which_may_set_headers() -> None:
    seen: list[tuple[str, int, str | None]] = []

    def trace(ctx: RequestContext) -> None:
        seen.append((ctx.operation, ctx.attempt, ctx.request.headers.get("x-trace")))
        ctx.set_header("X-Trace", f"t{ctx.attempt}")
        ctx.set_header("accept", "application/json")  # replaces, whatever the case

    lc = life(hooks=Hooks(before_request=[trace]))
    request, timeout = lc.begin(100.0)
    assert request.headers["x-trace"] == "t1"
    assert request.headers.get_list("Accept") == ["application/json"]
    assert timeout == Timeout(10.0, 600.0, 600.0, 600.0)
    request2, _ = lc.begin(101.0)
    assert request2.headers["x-trace"] == "t2"
    assert seen == [("chat.create", 1, None), ("chat.create", 2, None)]  # fresh each attempt
    assert REQ.headers.get("x-trace") is None  # the call's request is never changed


def test_set_header_refuses_injection() -> None:
    ctx = RequestContext("chat.create", 1, REQ)
    for bad in ("a\r\nInjected: 1", "a\nb", "a\x00"):
        with pytest.raises(ValueError, match="CR, LF or NUL"):
            ctx.set_header("X-Bad", bad)
    with pytest.raises(TypeError):
        ctx.set_header("X-Num", 3)  # type: ignore[arg-type]
    assert "sk-secret-key" not in repr(ctx)


def test_deadline_caps_every_phase_and_stops_new_attempts() -> None:
    lc = life(limits=Limits(deadline=5.0), now=100.0)
    _, timeout = lc.begin(102.0)
    assert timeout == Timeout(3.0, 3.0, 3.0, 3.0)
    lc2 = life(limits=Limits(first_event_timeout=1.5))
    _, timeout2 = lc2.begin(100.0)
    assert timeout2 == Timeout(1.5, 1.5, 1.5, 1.5)  # a streamed call: no event in 1.5 s
    lc3 = life(limits=Limits(first_event_timeout=1.5), request=REQ._replace(stream=False))
    assert lc3.begin(100.0)[1] == Timeout(10.0, 600.0, 600.0, 600.0)  # not streamed
    with pytest.raises(RequestTimeoutError, match="deadline of 5 s passed before attempt 2"):
        lc.begin(105.0)


def test_responded_gives_response_info_to_hooks() -> None:
    got: list[ResponseInfo] = []
    lc = life(hooks=Hooks(after_response=[lambda ctx, info: got.append(info)]))
    lc.begin(100.0)
    headers = Headers({"x-request-id": "req_1", "x-ratelimit-remaining-requests": "41"})
    info = lc.responded(200, headers, 100.25)
    assert got == [info]
    assert info.status_code == 200 and info.request_id == "req_1" and info.attempt == 1
    assert info.elapsed == pytest.approx(0.25)
    assert info.rate_limits.remaining_requests == 41


def test_retry_or_raise_runs_after_error_hooks_with_the_decision() -> None:
    calls: list[tuple[int, str, float | None]] = []
    hooks = Hooks(
        after_error=[lambda ctx, err, delay: calls.append((ctx.attempt, type(err).__name__, delay))]
    )
    lc = life(
        hooks=hooks,
        retry=RetryConfig("backoff", BackoffStrategy(100, 1000, 2.0, 60_000), True, max_retries=1),
    )
    lc.begin(100.0)
    delay = lc.retry_or_raise(status_error(503), 100.1, 0.0, 0.0)
    assert delay == pytest.approx(0.1)
    lc.begin(100.2)
    with pytest.raises(ServiceUnavailableError):
        lc.retry_or_raise(status_error(503), 100.3, 0.0, 0.0)
    lc.begin(100.4)
    assert calls == [
        (1, "ServiceUnavailableError", pytest.approx(0.1)),
        (2, "ServiceUnavailableError", None),
    ]


def test_retry_after_longer_than_the_deadline_is_not_waited_for() -> None:
    lc = life(limits=Limits(deadline=2.0), now=100.0)
    lc.begin(100.0)
    err = status_error(429, {"retry-after": "5"})
    with pytest.raises(RateLimitError) as e:
        lc.retry_or_raise(err, 100.5, 0.0, 0.0)
    assert e.value is err
    assert e.value.__notes__ == [
        "not retried: the wait of 5.00 s before attempt 2 would end past the call's deadline "
        "of 2 s (1.50 s left)"
    ]
    assert "not retried" not in str(e.value)  # the message stays the server's
    # Without a deadline the same answer is waited for (Retry-After is a floor).
    free = life()
    free.begin(100.0)
    assert free.retry_or_raise(status_error(429, {"retry-after": "5"}), 100.5, 0.0, 0.0) == 5.0
    # A backoff that would end past the deadline is not taken either.
    tight = life(limits=Limits(deadline=1.0), now=100.0)
    tight.begin(100.0)
    with pytest.raises(ServiceUnavailableError):
        tight.retry_or_raise(status_error(503), 100.95, 0.0, 0.0)


def test_a_read_timeout_the_deadline_caused_is_raised_as_the_deadline() -> None:
    lc = life(limits=Limits(deadline=1.0), now=100.0)
    lc.begin(100.0)
    transport_err = RequestTimeoutError("no response from 127.0.0.1:9 within 1 s (read timeout)")
    with pytest.raises(RequestTimeoutError, match="deadline of 1 s passed") as e:
        lc.retry_or_raise(transport_err, 101.0, 0.0, 0.0)
    assert e.value.__cause__ is transport_err


def test_not_retried_errors() -> None:
    lc = life()
    lc.begin(100.0)
    bad = BadRequestError("bad", status_code=400)
    with pytest.raises(BadRequestError):
        lc.retry_or_raise(bad, 100.1, 0.0, 0.0)


# -- retryable, in-stream errors -----------------------------------------------------------


def stream_error_of(payload: bytes, events_before: int = 2) -> Any:
    dec = StreamDecoder(ChatCompletionChunk, 200, Headers({"content-type": "text/event-stream"}))
    chunk = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'
    items = dec.feed(chunk * events_before + payload)
    assert len(items) == events_before
    assert dec.error is not None
    return dec.error


@pytest.mark.parametrize(
    ("payload", "cls", "retryable"),
    [
        (
            b'data: {"error":{"message":"overloaded","type":"server_error","code":503}}\n\n',
            ServiceUnavailableError,
            True,
        ),
        (
            b'event: error\ndata: {"type":"overloaded_error","message":"Overloaded"}\n\n',
            ServiceUnavailableError,
            True,
        ),
        (b'data: {"error":{"message":"boom","code":502}}\n\n', R9SDefaultError, True),
        (b'data: {"error":{"message":"slow","type":"timeout"}}\n\n', R9SDefaultError, True),
        (
            b'data: {"error":{"message":"rate","type":"rate_limit_exceeded"}}\n\n',
            RateLimitError,
            True,
        ),
        (
            b'data: {"error":{"message":"no","type":"invalid_request_error"}}\n\n',
            BadRequestError,
            False,
        ),
        (b'data: {"error":{"message":"what"}}\n\n', R9SDefaultError, False),
    ],
)
def test_mid_stream_errors_say_whether_retryable(
    payload: bytes, cls: type, retryable: bool
) -> None:
    err = stream_error_of(payload, events_before=2)
    assert type(err) is cls
    assert err.retryable is retryable
    assert err.events_received == 2
    assert "after 2 events" in str(err)


def test_retryable_by_class() -> None:
    assert NoResponseError("refused").retryable
    assert IncompleteResponseError("cut").retryable
    assert not ResponseValidationError("bad json", status_code=200).retryable
    assert status_error(429).retryable and status_error(504).retryable
    assert not status_error(404).retryable and not status_error(501).retryable


# -- metadata ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("1h2m3.5s", 3723.5),
        ("2.25s", 2.25),
        ("17", 17.0),
        ("0.5", 0.5),
        ("250us", 0.00025),
        ("", None),
        ("soon", None),
        ("5x", None),
        ("1s junk", None),
        ("-1", None),
        ("9" * 70, None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    got = parse_duration(text)
    if seconds is None:
        assert got is None
    else:
        assert got == pytest.approx(seconds)


def test_rate_limits_parsed_from_headers() -> None:
    headers = Headers(
        [
            ("X-RateLimit-Limit-Requests", "10000"),
            ("x-ratelimit-remaining-requests", "9999"),
            ("x-ratelimit-reset-requests", "6ms"),
            ("x-ratelimit-limit-tokens", "2000000"),
            ("x-ratelimit-remaining-tokens", "1999925"),
            ("x-ratelimit-reset-tokens", "1m2.5s"),
            ("x-ratelimit-remaining-images", "3"),
            ("x-ratelimit-remaining-tokens_usage_based", "17"),
            ("x-ratelimit-limit-requests-bogus", "lots"),  # not a number: left out
            ("x-ratelimit-", "1"),
            ("x-request-id", "req_1"),
        ]
    )
    rl = rate_limits_of(headers)
    assert rl.limit_requests == 10000 and rl.remaining_requests == 9999
    assert rl.reset_requests == pytest.approx(0.006)
    assert rl.limit_tokens == 2000000 and rl.remaining_tokens == 1999925
    assert rl.reset_tokens == pytest.approx(62.5)
    assert rl.remaining["images"] == 3 and rl.remaining["tokens_usage_based"] == 17
    assert "requests-bogus" not in rl.limit
    assert rl and not rate_limits_of(Headers({"x-request-id": "r"}))
    assert rl == rate_limits_of(headers)


def test_response_info_and_error_metadata_pickle() -> None:
    headers = Headers({"x-request-id": "req_9", "x-ratelimit-remaining-tokens": "5"})
    info = ResponseInfo(200, headers, elapsed=0.5, attempt=2)
    back = pickle.loads(pickle.dumps(info))
    assert (back.status_code, back.request_id, back.elapsed, back.attempt) == (200, "req_9", 0.5, 2)
    assert back.rate_limits == RateLimits(remaining={"tokens": 5})
    err = RateLimitError("slow down", status_code=429, headers=headers)
    assert err.rate_limits.remaining_tokens == 5 and err.request_id == "req_9"
    assert pickle.loads(pickle.dumps(err)).rate_limits.remaining_tokens == 5
