"""Web search (``POST /search``)."""

from __future__ import annotations

from typing import Any

from r9s.models._base import Model

__all__ = ["Extra", "SearchResponse"]


class Extra(Model):
    """The engine's parameters: ``Extra(query="...", num=5, contents={"text": True})``.

    Any keyword goes on the wire as given (exa: ``num``, ``contents``; tavily:
    ``max_results``, ``search_depth`` ...).
    """

    query: str


class SearchResponse(Model):
    """``res.engine`` and the engine's ``res.result`` (a dict, as the engine sent it)."""

    engine: str
    result: dict[str, Any]
