"""What every resource shares: the client it runs its operations on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from r9s.client import R9S

__all__ = ["Resource"]


class Resource:
    """A group of operations (``client.chat``, ``client.models`` ...).

    Each public method is a typed signature and one line that hands its operation (an entry
    of ``r9s._core.api``) and the caller's arguments to the client's drivers.
    """

    __slots__ = ("_client",)

    def __init__(self, client: R9S) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"
