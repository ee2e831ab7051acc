"""The retry policy as a pure function of attempt and outcome."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from r9s import errors
from r9s._core.headers import Headers
from r9s._core.retry import parse_retry_after, retry_delay
from r9s.utils import BackoffStrategy, RetryConfig

CFG = RetryConfig("backoff", BackoffStrategy(500, 8000, 2, 60000), retry_connection_errors=True)
NOW = 1_700_000_000.0


def status_error(status: int, **headers: str) -> errors.R9SError:
    cls = errors.STATUS_ERRORS.get(status, errors.R9SDefaultError)
    return cls("x", status_code=status, headers=Headers(headers))


def delay(
    err: errors.R9SError,
    attempt: int = 1,
    elapsed: float = 0.0,
    rand: float = 0.0,
    config: RetryConfig | None = CFG,
) -> float | None:
    return retry_delay(config, err, attempt=attempt, elapsed=elapsed, now=NOW, rand=rand)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retried_statuses(status: int) -> None:
    assert delay(status_error(status)) == 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 501])
def test_not_retried_statuses(status: int) -> None:
    assert delay(status_error(status)) is None


def test_validation_errors_are_not_retried() -> None:
    assert delay(errors.ResponseValidationError("bad", status_code=200)) is None


def test_connection_errors_only_when_configured() -> None:
    assert delay(errors.NoResponseError("refused")) == 0.5
    assert delay(errors.RequestTimeoutError("slow")) == 0.5
    off = RetryConfig("backoff", CFG.backoff, retry_connection_errors=False)
    assert delay(errors.NoResponseError("refused"), config=off) is None
    assert delay(status_error(503), config=off) == 0.5


def test_exponential_backoff_capped_with_jitter_below_the_cap() -> None:
    assert [delay(status_error(500), attempt=n) for n in (1, 2, 3, 4, 5, 6)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        8.0,
    ]
    # Jitter survives the cap: at the cap, different random draws still give different waits.
    capped = {delay(status_error(500), attempt=9, rand=r) for r in (0.0, 0.5, 0.99)}
    assert len(capped) == 3 and all(6.0 <= d <= 8.0 for d in capped)  # type: ignore[operator]


def test_retry_after_seconds_date_and_ms_are_a_floor() -> None:
    assert delay(status_error(429, **{"retry-after": "3"})) == 3.0
    assert delay(status_error(429, **{"retry-after": "1.5"})) == 1.5
    date = formatdate(NOW + 7, usegmt=True)
    assert delay(status_error(503, **{"retry-after": date})) == pytest.approx(7.0)
    past = formatdate(NOW - 100, usegmt=True)
    assert delay(status_error(503, **{"retry-after": past})) == 0.5  # backoff, not 0
    assert delay(status_error(429, **{"retry-after-ms": "2500", "retry-after": "9"})) == 2.5
    assert delay(status_error(429, **{"retry-after-ms": "250"})) == 0.5  # shorter than backoff
    assert delay(status_error(429, **{"retry-after": "0"})) == 0.5  # no storm
    assert delay(status_error(429, **{"retry-after": "soon"})) == 0.5  # invalid: backoff


def test_budget_is_never_overrun_even_by_retry_after() -> None:
    assert delay(status_error(429, **{"retry-after": "120"})) is None
    assert delay(status_error(429), elapsed=59.8) is None
    assert delay(status_error(429), elapsed=59.0) == 0.5


def test_max_retries_and_off_switches() -> None:
    capped = RetryConfig("backoff", CFG.backoff, True, max_retries=2)
    assert delay(status_error(500), attempt=2, config=capped) == 1.0
    assert delay(status_error(500), attempt=3, config=capped) is None
    assert delay(status_error(500), config=None) is None
    assert delay(status_error(500), config=RetryConfig("none", CFG.backoff, True)) is None


def test_parse_retry_after_ignores_garbage() -> None:
    assert parse_retry_after(Headers({"retry-after": "-5"}), NOW) is None
    assert parse_retry_after(Headers({"retry-after-ms": "x", "retry-after": "2"}), NOW) == 2.0
    assert parse_retry_after(Headers(), NOW) is None
