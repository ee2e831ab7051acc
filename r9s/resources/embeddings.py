"""``client.embeddings``: embeddings (``POST /embeddings``)."""

from __future__ import annotations

from typing import Unpack

from r9s._core.api import EMBEDDINGS
from r9s._core.params import EmbeddingParams
from r9s.models.embeddings import EmbeddingResponse
from r9s.resources._base import Resource

__all__ = ["Embeddings"]


class Embeddings(Resource):
    """Embedding vectors; ``create`` and its async twin ``create_async``."""

    __slots__ = ()

    def create(self, **params: Unpack[EmbeddingParams]) -> EmbeddingResponse:
        """Embed ``input`` (a text, texts or token ids): ``res.data[i].embedding``."""
        return self._client._run(EMBEDDINGS, params)

    async def create_async(self, **params: Unpack[EmbeddingParams]) -> EmbeddingResponse:
        return await self._client._run_async(EMBEDDINGS, params)
