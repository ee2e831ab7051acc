"""Edit objects (``POST /edits``)."""

from __future__ import annotations

from r9s.models._base import Model
from r9s.models.chat import CompletionUsage

__all__ = ["EditChoice", "EditResponse"]


class EditChoice(Model):
    text: str
    index: int


class EditResponse(Model):
    """``res.choices[0].text``."""

    object: str
    created: int
    choices: list[EditChoice]
    usage: CompletionUsage | None
