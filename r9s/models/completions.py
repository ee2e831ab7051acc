"""Text completion objects (``POST /completions``).

OpenAI sends ``"object": "text_completion"``; some gateways send ``"completion"``.  Both decode
the same way: nothing here checks ``object``.
"""

from __future__ import annotations

from typing import Any

from r9s.models._base import Model
from r9s.models.chat import CompletionUsage

__all__ = ["Completion", "CompletionChoice"]


class CompletionChoice(Model):
    index: int
    text: str
    finish_reason: str | None
    logprobs: dict[str, Any] | None


class Completion(Model):
    """A text completion, or one chunk of a streamed one: ``res.choices[0].text``."""

    id: str
    object: str
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: CompletionUsage | None
    system_fingerprint: str | None
