"""What a response says about itself: request id, status, headers, rate limits.  No I/O.

``ResponseInfo`` is attached to every result (``result._response``), event stream
(``stream.response``) and hook call; errors carry the same fields (``err.status_code``,
``err.headers``, ``err.request_id``, ``err.rate_limits``).

Rate-limit headers, as OpenAI-compatible gateways send them::

    x-ratelimit-limit-requests: 10000        x-ratelimit-remaining-requests: 9999
    x-ratelimit-limit-tokens: 2000000        x-ratelimit-remaining-tokens: 1999925
    x-ratelimit-reset-requests: 6ms          x-ratelimit-reset-tokens: 2.25s

are parsed into ``RateLimits`` (any ``<kind>`` after ``x-ratelimit-limit-`` /
``-remaining-`` / ``-reset-`` is kept, not just ``requests`` and ``tokens``).  Reset values
are durations (``"1s"``, ``"6m0s"``, ``"20ms"``, ``"1h2m3.5s"``, or plain seconds) turned into
seconds; a value that does not parse is left out (the raw header stays in ``headers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from r9s._core.headers import Headers

__all__ = ["RateLimits", "ResponseInfo", "parse_duration", "rate_limits_of"]

if TYPE_CHECKING:
    import re

_PREFIX = "x-ratelimit-"
_duration: re.Pattern[str] | None = None  # compiled on first use (``re`` costs an import)
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(text: str) -> float | None:
    """Seconds in a rate-limit reset value (``"6m0s"``, ``"20ms"``, ``"1.5"``), or ``None``."""
    text = text.strip()
    if not text or len(text) > 64:
        return None
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        return value if 0 <= value < 1e12 else None
    global _duration
    if _duration is None:
        import re

        _duration = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)", re.ASCII)
    total = 0.0
    pos = 0
    for match in _duration.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    return total if pos == len(text) and pos else None


class RateLimits:
    """The ``x-ratelimit-*`` headers of one response, parsed.

    Attributes:
        limit: ``{"requests": 10000, "tokens": 2000000}`` — the quota per window.
        remaining: what is left of it.
        reset: seconds until each quota resets.
    """

    __slots__ = ("limit", "remaining", "reset")

    def __init__(
        self,
        limit: Mapping[str, int] | None = None,
        remaining: Mapping[str, int] | None = None,
        reset: Mapping[str, float] | None = None,
    ) -> None:
        self.limit: dict[str, int] = dict(limit or {})
        self.remaining: dict[str, int] = dict(remaining or {})
        self.reset: dict[str, float] = dict(reset or {})

    @property
    def remaining_requests(self) -> int | None:
        return self.remaining.get("requests")

    @property
    def remaining_tokens(self) -> int | None:
        return self.remaining.get("tokens")

    @property
    def limit_requests(self) -> int | None:
        return self.limit.get("requests")

    @property
    def limit_tokens(self) -> int | None:
        return self.limit.get("tokens")

    @property
    def reset_requests(self) -> float | None:
        """Seconds until the request quota resets."""
        return self.reset.get("requests")

    @property
    def reset_tokens(self) -> float | None:
        """Seconds until the token quota resets."""
        return self.reset.get("tokens")

    def __bool__(self) -> bool:
        return bool(self.limit or self.remaining or self.reset)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RateLimits):
            return NotImplemented
        return (self.limit, self.remaining, self.reset) == (
            other.limit,
            other.remaining,
            other.reset,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RateLimits(limit={self.limit}, remaining={self.remaining}, reset={self.reset})"


def _count(text: str) -> int | None:
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


def rate_limits_of(headers: Headers) -> RateLimits:
    """Parse every ``x-ratelimit-{limit,remaining,reset}-<kind>`` header of ``headers``."""
    limit: dict[str, int] = {}
    remaining: dict[str, int] = {}
    reset: dict[str, float] = {}
    for name, value in headers.raw():
        lower = name.lower()
        if not lower.startswith(_PREFIX):
            continue
        field, _, kind = lower[len(_PREFIX) :].partition("-")
        if not kind:
            continue
        if field == "limit":
            n = _count(value)
            if n is not None:
                limit[kind] = n
        elif field == "remaining":
            n = _count(value)
            if n is not None:
                remaining[kind] = n
        elif field == "reset":
            secs = parse_duration(value)
            if secs is not None:
                reset[kind] = secs
    return RateLimits(limit, remaining, reset)


class ResponseInfo:
    """Status, headers and what they tell, for one HTTP response.

    Attributes:
        status_code: the HTTP status.
        headers: every header, as received.
        elapsed: seconds from sending the request to receiving the response head.
        attempt: which attempt this response answered (1 for the first try).
    """

    __slots__ = ("_limits", "attempt", "elapsed", "headers", "status_code")

    def __init__(
        self, status_code: int, headers: Headers, *, elapsed: float = 0.0, attempt: int = 1
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.elapsed = elapsed
        self.attempt = attempt
        self._limits: RateLimits | None = None

    @property
    def request_id(self) -> str | None:
        """The gateway's ``x-request-id``."""
        return self.headers.get("x-request-id")

    @property
    def rate_limits(self) -> RateLimits:
        """The parsed ``x-ratelimit-*`` headers (empty when there were none)."""
        limits = self._limits
        if limits is None:
            limits = self._limits = rate_limits_of(self.headers)
        return limits

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _info,
            (self.status_code, self.headers, self.elapsed, self.attempt),
        )

    def __repr__(self) -> str:
        rid = self.request_id
        return (
            f"<ResponseInfo {self.status_code}"
            f"{f' request id {rid}' if rid else ''}, {self.elapsed * 1000:.1f} ms>"
        )


def _info(status: int, headers: Headers, elapsed: float, attempt: int) -> ResponseInfo:
    return ResponseInfo(status, headers, elapsed=elapsed, attempt=attempt)
