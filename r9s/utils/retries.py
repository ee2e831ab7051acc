"""Retry configuration values, call-compatible with the published SDK (milliseconds)."""

from __future__ import annotations

__all__ = ["DEFAULT_RETRY_CONFIG", "BackoffStrategy", "RetryConfig"]


class BackoffStrategy:
    """Exponential backoff, in milliseconds.

    Args:
        initial_interval: wait before the first retry.
        max_interval: cap on one wait (jitter is applied below the cap, so it survives it).
        exponent: growth factor between waits.
        max_elapsed_time: budget for the whole call including waits; a wait (even one a
            ``Retry-After`` asks for) that would overrun it is not taken.
    """

    __slots__ = ("exponent", "initial_interval", "max_elapsed_time", "max_interval")

    def __init__(
        self, initial_interval: int, max_interval: int, exponent: float, max_elapsed_time: int
    ) -> None:
        for name, value in (
            ("initial_interval", initial_interval),
            ("max_interval", max_interval),
            ("exponent", exponent),
            ("max_elapsed_time", max_elapsed_time),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"BackoffStrategy.{name} must be a number >= 0, got {value!r}")
        self.initial_interval = initial_interval
        self.max_interval = max_interval
        self.exponent = exponent
        self.max_elapsed_time = max_elapsed_time

    def __repr__(self) -> str:
        return (
            f"BackoffStrategy(initial_interval={self.initial_interval}, "
            f"max_interval={self.max_interval}, exponent={self.exponent}, "
            f"max_elapsed_time={self.max_elapsed_time})"
        )


class RetryConfig:
    """How a call is retried.

    Args:
        strategy: ``"backoff"`` (the only strategy; anything else means no retries).
        backoff: the intervals and the time budget.
        retry_connection_errors: retry when no response arrived (refused, reset, timeout).
        max_retries: an r9s addition: at most this many retries (``None``: only the time
            budget limits them, as in the published SDK).
    """

    __slots__ = ("backoff", "max_retries", "retry_connection_errors", "strategy")

    def __init__(
        self,
        strategy: str,
        backoff: BackoffStrategy | None,
        retry_connection_errors: bool,
        max_retries: int | None = None,
    ) -> None:
        self.strategy = strategy
        self.backoff = backoff
        self.retry_connection_errors = retry_connection_errors
        self.max_retries = max_retries

    def __repr__(self) -> str:
        return (
            f"RetryConfig({self.strategy!r}, {self.backoff!r}, "
            f"retry_connection_errors={self.retry_connection_errors}, "
            f"max_retries={self.max_retries})"
        )


#: What r9s does when you configure nothing: like openai-python, two retries on 429/5XX and on
#: connection errors, 0.5 s then 1 s (+-25 % jitter, capped at 8 s), never beyond 60 s in all.
#: ``retry_config=None`` on the client, or ``retries=None`` on a call, turns retries off.
DEFAULT_RETRY_CONFIG = RetryConfig(
    "backoff",
    BackoffStrategy(initial_interval=500, max_interval=8000, exponent=2, max_elapsed_time=60000),
    retry_connection_errors=True,
    max_retries=2,
)
