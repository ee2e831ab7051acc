"""Embedding objects (``POST /embeddings``, ``POST /engines/{model}/embeddings``)."""

from __future__ import annotations

from r9s.models._base import Model
from r9s.models.chat import CompletionUsage

__all__ = ["EmbeddingObject", "EmbeddingResponse"]


class EmbeddingObject(Model):
    """One vector: ``embedding`` is a list of floats, or with ``encoding_format="base64"``
    the string the server sent (kept as it came; ``floats()`` decodes either)."""

    object: str
    index: int
    embedding: list[float] | str

    def floats(self) -> list[float]:
        """The vector as floats, decoding a base64 string (little-endian float32).

        Raises:
            ValueError: the string is not base64 of a whole number of float32 values.
        """
        value = self.embedding
        if not isinstance(value, str):
            return list(value)
        import base64
        from array import array

        raw = base64.b64decode(value, validate=True)
        if len(raw) % 4:
            raise ValueError(f"a base64 embedding of {len(raw)} bytes is not float32 values")
        vec = array("f", raw)
        if array("h", [1]).tobytes()[0] == 0:  # big-endian machine: the wire is little-endian
            vec.byteswap()
        return vec.tolist()


class EmbeddingResponse(Model):
    """``res.data[i].embedding``, ``res.model``, ``res.usage.prompt_tokens``."""

    object: str
    data: list[EmbeddingObject]
    model: str
    usage: CompletionUsage | None
