"""``client.engine_embeddings``: embeddings by engine (``POST /engines/{model}/embeddings``)."""

from __future__ import annotations

from typing import Unpack

from r9s._core.api import ENGINE_EMBEDDINGS
from r9s._core.params import EmbeddingParams
from r9s.models.embeddings import EmbeddingResponse
from r9s.resources._base import Resource

__all__ = ["EngineEmbeddings"]


class EngineEmbeddings(Resource):
    """Embeddings with the model in the path; ``create`` and ``create_async``."""

    __slots__ = ()

    def create(self, **params: Unpack[EmbeddingParams]) -> EmbeddingResponse:
        """Embed ``input`` with ``model`` (sent in the path, not the body)."""
        return self._client._run(ENGINE_EMBEDDINGS, params)

    async def create_async(self, **params: Unpack[EmbeddingParams]) -> EmbeddingResponse:
        return await self._client._run_async(ENGINE_EMBEDDINGS, params)
