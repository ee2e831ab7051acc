"""The resources: ``client.chat``, ``client.models`` ... one class each, made from the table.

Every method is the same line, ``self._client._run(operation, params)`` (awaited in the
``_async`` twin), so the classes are built here from ``r9s._core.api.OPERATIONS`` rather than
written out thirteen times.  Their typed signatures (every parameter, the ``stream=True``
overloads, the result types) are in ``__init__.pyi`` beside this file, generated from the
same table by ``python -m r9s._core.stubs`` (a test checks it is current).  Imported on first
use of a resource.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from r9s._core.api import OPERATIONS, RESOURCES
from r9s._core.operations import Operation

if TYPE_CHECKING:
    from r9s.client import R9S


class Resource:
    """A group of operations (``client.chat``, ``client.models`` ...)."""

    __slots__ = ("_client",)

    def __init__(self, client: R9S) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"


def _methods(op: Operation[Any], method: str) -> dict[str, Callable[..., Any]]:
    def run(self: Resource, **params: Any) -> Any:
        return self._client._run(op, params)

    async def run_async(self: Resource, **params: Any) -> Any:
        return await self._client._run_async(op, params)

    run.__name__, run_async.__name__ = method, method + "_async"
    run.__doc__ = op.doc
    run_async.__doc__ = f"``{method}``, awaited (asyncio or trio)."
    return {method: run, method + "_async": run_async}


def _resource(attribute: str) -> type[Resource]:
    name, doc = RESOURCES[attribute]
    namespace: dict[str, Any] = {"__slots__": (), "__doc__": doc, "__module__": __name__}
    for op_name, op in OPERATIONS.items():
        owner, _, method = op_name.partition(".")
        if owner == attribute:
            namespace.update(_methods(op, method))
    return type(name, (Resource,), namespace)


for _attribute, (_name, _doc) in RESOURCES.items():
    globals()[_name] = _resource(_attribute)

__all__ = ["Resource", *sorted(name for name, _ in RESOURCES.values())]
