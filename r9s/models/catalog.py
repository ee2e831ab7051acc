"""Model catalogue objects (``GET /models``, ``GET /models/{model}``)."""

from __future__ import annotations

from r9s.models._base import Model

__all__ = ["ModelList", "ModelObject"]


class ModelObject(Model):
    """One model the gateway serves: ``id``, ``owned_by``, ``created`` (Unix seconds).

    The published SDK calls this class ``models.Model``; in r9s ``r9s.models.Model`` is the
    base of every response object, so ``isinstance(obj, models.Model)`` still holds.
    """

    id: str
    object: str
    created: int
    owned_by: str


class ModelList(Model):
    """``client.models.list()``: ``res.data`` is the list of ``ModelObject``."""

    object: str
    data: list[ModelObject]
