"""``client.edits``: text edits (``POST /edits``)."""

from __future__ import annotations

from typing import Unpack

from r9s._core.api import EDITS
from r9s._core.params import EditParams
from r9s.models.edits import EditResponse
from r9s.resources._base import Resource

__all__ = ["Edits"]


class Edits(Resource):
    """Edits; ``create`` and its async twin ``create_async``."""

    __slots__ = ()

    def create(self, **params: Unpack[EditParams]) -> EditResponse:
        """Edit ``input`` as ``instruction`` says: ``res.choices[0].text``."""
        return self._client._run(EDITS, params)

    async def create_async(self, **params: Unpack[EditParams]) -> EditResponse:
        return await self._client._run_async(EDITS, params)
