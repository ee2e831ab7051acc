"""Compatibility home of ``RetryConfig`` and ``BackoffStrategy`` (the published SDK's path)."""

from r9s.utils.retries import BackoffStrategy, RetryConfig

__all__ = ["BackoffStrategy", "RetryConfig"]
