"""``client.models``: the model catalogue (``GET /models``, ``GET /models/{model}``)."""

from __future__ import annotations

from typing import Unpack

from r9s._core.api import MODELS_LIST, MODELS_RETRIEVE
from r9s._core.params import CallOptions, ModelParams
from r9s.models.catalog import ModelList, ModelObject
from r9s.resources._base import Resource

__all__ = ["Models"]


class Models(Resource):
    """List the models the gateway serves, or look one up."""

    __slots__ = ()

    def list(self, **options: Unpack[CallOptions]) -> ModelList:
        """Every model: ``res.data[i].id``, ``.owned_by``, ``.created``."""
        return self._client._run(MODELS_LIST, options)

    async def list_async(self, **options: Unpack[CallOptions]) -> ModelList:
        return await self._client._run_async(MODELS_LIST, options)

    def retrieve(self, **params: Unpack[ModelParams]) -> ModelObject:
        """One model by id (``"openai/gpt-4o"`` is sent as ``/models/openai/gpt-4o``).

        Raises:
            r9s.errors.NotFoundError: no such model.
        """
        return self._client._run(MODELS_RETRIEVE, params)

    async def retrieve_async(self, **params: Unpack[ModelParams]) -> ModelObject:
        return await self._client._run_async(MODELS_RETRIEVE, params)
