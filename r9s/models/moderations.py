"""Moderation objects (``POST /moderations``)."""

from __future__ import annotations

from typing import Any

from r9s.models._base import Model

__all__ = ["ModerationResponse", "ModerationResult"]


class ModerationResult(Model):
    """``flagged``; ``categories`` (name -> bool) and ``category_scores`` (name -> float),
    as dicts: category names carry ``/`` and ``-`` (``self-harm/intent``)."""

    flagged: bool
    categories: dict[str, Any]
    category_scores: dict[str, Any]


class ModerationResponse(Model):
    id: str
    model: str
    results: list[ModerationResult]
