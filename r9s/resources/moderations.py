"""``client.moderations``: content moderation (``POST /moderations``)."""

from __future__ import annotations

from typing import Unpack

from r9s._core.api import MODERATIONS
from r9s._core.params import ModerationParams
from r9s.models.moderations import ModerationResponse
from r9s.resources._base import Resource

__all__ = ["Moderations"]


class Moderations(Resource):
    """Moderation; ``create`` and its async twin ``create_async``."""

    __slots__ = ()

    def create(self, **params: Unpack[ModerationParams]) -> ModerationResponse:
        """Classify ``input``: ``res.results[i].flagged``, ``.categories``, ``.category_scores``."""
        return self._client._run(MODERATIONS, params)

    async def create_async(self, **params: Unpack[ModerationParams]) -> ModerationResponse:
        return await self._client._run_async(MODERATIONS, params)
