"""An immutable, case-insensitive, order-preserving list of HTTP header fields.

Both directions use it: the core builds request headers, transports hand back response headers.
Values are ``str`` (latin-1 on the wire, as HTTP/1.1 allows).  Lookup is by lower-cased name;
repeated fields are kept, ``get`` returns them joined with ``", "`` as RFC 9110 section 5.3
allows.  ``repr`` hides credentials so a header list can be printed safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar, Union, overload

__all__ = ["SENSITIVE_HEADERS", "Headers", "HeadersLike"]

#: Header names whose values never appear in a repr, a log line or an error message.
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"}
)

_T = TypeVar("_T")

HeadersLike = Union["Headers", Mapping[str, str], Iterable[tuple[str, str]]]


class Headers(Mapping[str, str]):
    """Header fields as ``(name, value)`` pairs; a read-only mapping keyed case-insensitively."""

    __slots__ = ("_index", "_items")

    _items: tuple[tuple[str, str], ...]
    _index: dict[str, str] | None

    def __init__(self, items: HeadersLike | None = None) -> None:
        if items is None:
            self._items = ()
        elif isinstance(items, Headers):
            self._items = items._items
        elif isinstance(items, Mapping):
            self._items = tuple((str(k), str(v)) for k, v in items.items())
        else:
            self._items = tuple((str(k), str(v)) for k, v in items)
        self._index = None

    def _lookup(self) -> dict[str, str]:
        index = self._index
        if index is None:
            index = {}
            for name, value in self._items:
                key = name.lower()
                if key in index:
                    index[key] = f"{index[key]}, {value}"
                else:
                    index[key] = value
            self._index = index
        return index

    def __getitem__(self, name: str) -> str:
        return self._lookup()[name.lower()]

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...

    def get(self, name: str, default: object = None, /) -> object:
        return self._lookup().get(name.lower(), default)

    def get_list(self, name: str) -> list[str]:
        """Every value of the field ``name``, in order, unjoined."""
        key = name.lower()
        return [v for k, v in self._items if k.lower() == key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lookup()

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup())

    def __len__(self) -> int:
        return len(self._lookup())

    def raw(self) -> tuple[tuple[str, str], ...]:
        """The fields as received or built: original case, order and repetitions."""
        return self._items

    def merged(self, other: HeadersLike | None) -> Headers:
        """A copy in which every field named in ``other`` replaces the fields of that name."""
        if not other:
            return self
        extra = Headers(other)
        replaced = {k.lower() for k, _ in extra._items}
        kept = [(k, v) for k, v in self._items if k.lower() not in replaced]
        out = Headers.__new__(Headers)
        out._items = (*kept, *extra._items)
        out._index = None
        return out

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._lookup() == other._lookup()
        if isinstance(other, Mapping):
            return self._lookup() == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = [(k, "<redacted>" if k.lower() in SENSITIVE_HEADERS else v) for k, v in self._items]
        return f"Headers({shown!r})"

    def __reduce__(self) -> tuple[type[Headers], tuple[tuple[tuple[str, str], ...]]]:
        return (Headers, (self._items,))
