"""``client.search``: web search (``POST /search``)."""

from __future__ import annotations

from typing import Unpack

from r9s._core.api import SEARCH
from r9s._core.params import SearchParams
from r9s.models.search import SearchResponse
from r9s.resources._base import Resource

__all__ = ["Search"]


class Search(Resource):
    """Web search; ``create`` and its async twin ``create_async``."""

    __slots__ = ()

    def create(self, **params: Unpack[SearchParams]) -> SearchResponse:
        """Search with ``engine`` (``"exa"`` when not given): ``res.result``."""
        return self._client._run(SEARCH, params)

    async def create_async(self, **params: Unpack[SearchParams]) -> SearchResponse:
        return await self._client._run_async(SEARCH, params)
