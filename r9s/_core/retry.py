"""The retry policy: a pure function from (attempt, outcome) to "wait this long" or "give up".

It decides, the drivers act: they sleep the returned seconds (``time.sleep`` or
``anyio.sleep``) and try again.  Randomness and the wall clock come in as arguments, so every
rule is tested with literal inputs.

Rules:
- statuses 429, 500, 502, 503, 504 and 529 (overloaded) are retried; connection failures
  (``NoResponseError``) only when ``retry_connection_errors`` is set; nothing else is;
- exponential backoff, capped at ``max_interval``, then jittered *below* the cap (25 %), so
  clients that all hit the cap still spread out;
- the server's ``retry-after-ms`` (milliseconds) or else ``Retry-After`` (seconds, or an
  HTTP date: RFC 9110 section 10.2.3) is a floor: the wait is the longer of it and the
  backoff, so ``Retry-After: 0`` from an overloaded server cannot turn retries into a storm;
- ``max_elapsed_time`` is a budget for the whole call: a wait that would end past it is not
  taken, whoever asked for it; ``max_retries`` (an r9s addition) bounds the count.
"""

from __future__ import annotations

from r9s._core.headers import Headers
from r9s.errors import RETRY_STATUSES, NoResponseError, R9SError
from r9s.utils.retries import RetryConfig

__all__ = ["JITTER", "RETRY_STATUSES", "parse_retry_after", "retry_delay"]

#: Fraction of a backoff interval removed at random.
JITTER = 0.25


def parse_retry_after(headers: Headers, now: float) -> float | None:
    """Seconds the server asked us to wait, or ``None`` if it did not (validly) ask.

    Args:
        headers: the response headers.
        now: the current time as a UNIX timestamp (for the HTTP-date form).
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = -1.0
        if 0 <= value < 1e9:
            return value
    ra = headers.get("retry-after")
    if ra is None:
        return None
    ra = ra.strip()
    try:
        value = float(ra)
    except ValueError:
        from email.utils import parsedate_to_datetime  # the rare date form: imported lazily

        try:
            when = parsedate_to_datetime(ra)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        value = max(0.0, when.timestamp() - now)
    return value if 0 <= value < 1e9 else None


def retry_delay(
    config: RetryConfig | None,
    error: R9SError,
    *,
    attempt: int,
    elapsed: float,
    now: float,
    rand: float,
) -> float | None:
    """How long to wait before attempt ``attempt + 1``, or ``None`` to raise ``error`` now.

    Args:
        config: the call's retry configuration (``None``: never retry).
        error: what attempt ``attempt`` ended with.
        attempt: 1 for the first try.
        elapsed: seconds since the first try started.
        now: UNIX time, for ``Retry-After`` dates.
        rand: a number in [0, 1) (``random.random()``), for jitter.
    """
    if config is None or config.strategy != "backoff" or config.backoff is None:
        return None
    if config.max_retries is not None and attempt > config.max_retries:
        return None
    if isinstance(error, NoResponseError):
        if not config.retry_connection_errors:
            return None
    elif error.status_code not in RETRY_STATUSES:
        return None
    b = config.backoff
    base = (b.initial_interval / 1000.0) * (b.exponent ** (attempt - 1))
    delay = min(base, b.max_interval / 1000.0) * (1.0 - JITTER * rand)
    asked = parse_retry_after(error.headers, now)
    if asked is not None and asked > delay:
        delay = asked  # the server's wait is a floor: "Retry-After: 0" cannot cause a storm
    if elapsed + delay > b.max_elapsed_time / 1000.0:
        return None
    return delay
