"""Shapes shared by every operation."""

from __future__ import annotations

from typing import Any

from r9s.models._base import Model

__all__ = ["ErrorBody", "ErrorDetail"]


class ErrorDetail(Model):
    message: str | None
    type: str | None
    code: Any
    param: str | None


class ErrorBody(Model):
    """A JSON error body, ``{"error": {"message", "type", "code", "param"}}``: ``err.data``."""

    error: ErrorDetail | None
