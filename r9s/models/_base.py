"""Lazy typed objects over parsed JSON.

A response object is a thin wrapper around the ``dict`` that ``json.loads`` returned: building
one costs a single small allocation, whatever the size of the JSON.  Fields are read from the
dict when first touched; a nested object (``choices[0].delta``) is wrapped at that moment and
cached on the instance, so the second access is a plain attribute lookup.

The class annotations are the single description of the shape: each annotated field becomes a
non-data descriptor that knows how to wrap its value (a ``Model`` subclass, a list of them, or
a plain JSON value).  Shape drift never raises: a declared field the server left out reads as
``None``, a field the server added (``reasoning_content`` from a gateway) is reachable as an
attribute with its raw JSON value, and a nested value of an unexpected type is returned as is.
"""

from __future__ import annotations

import copy
import inspect
import json
import types
import typing
from collections.abc import Iterator
from typing import Any, ClassVar, TypeVar, Union

__all__ = ["Model"]

M = TypeVar("M", bound="Model")

_Converter = typing.Callable[[Any], Any]


def _unwrap(value: Any) -> Any:
    if isinstance(value, Model):
        return value._data
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _converter_for(hint: Any) -> _Converter | None:
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _converter_for(args[0]) if len(args) == 1 else None
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        if isinstance(item, type) and issubclass(item, Model):
            cls = item

            def wrap_list(raw: Any) -> Any:
                if type(raw) is not list:
                    return raw
                return [cls(v) if type(v) is dict else v for v in raw]

            return wrap_list
        return None
    if isinstance(hint, type) and issubclass(hint, Model):
        cls2 = hint

        def wrap(raw: Any) -> Any:
            return cls2(raw) if type(raw) is dict else raw

        return wrap
    return None


class _Field:
    """Reads one declared field from ``_data`` on first access, then caches it on the instance.

    A non-data descriptor: once the value sits in the instance ``__dict__`` it shadows this.
    """

    __slots__ = ("conv", "name", "owner", "resolved")

    def __init__(self, name: str, owner: type[Model]) -> None:
        self.name = name
        self.owner = owner
        self.conv: _Converter | None = None
        self.resolved = False

    def _resolve(self) -> None:
        hints = _hints(self.owner)
        self.conv = _converter_for(hints.get(self.name, Any))
        self.resolved = True

    def __get__(self, obj: Model | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        raw = obj._data.get(self.name)
        if raw is not None and type(raw) in (dict, list):
            if not self.resolved:
                self._resolve()
            conv = self.conv
            if conv is not None:
                raw = conv(raw)
        obj.__dict__[self.name] = raw
        return raw


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = hints
    return hints


class Model:
    """Base of every response object: attribute access over a JSON object, lazily.

    ``to_dict()`` (and ``model_dump()`` for code written against pydantic) return a deep copy
    of the JSON; ``_request_id`` is the gateway's ``x-request-id`` on top-level results.
    Iterating yields ``(field, value)`` pairs, and ``with obj:`` returns the object, as the
    published SDK's pydantic models allow (its generated examples rely on both).
    """

    _fields: ClassVar[frozenset[str]] = frozenset()
    _request_id: str | None = None

    def __init__(self, data: dict[str, Any] | None = None, **fields: Any) -> None:
        if data is None:
            data = {}
        if fields:
            data = {**data, **{k: _unwrap(v) for k, v in fields.items()}}
        self.__dict__["_data"] = data

    _data: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: set[str] = set()
        for klass in reversed(cls.__mro__):
            names.update(getattr(klass, "_fields", ()))
        for name in inspect.get_annotations(cls):
            if name.startswith("_") or name in cls.__dict__:
                continue
            setattr(cls, name, _Field(name, cls))
            names.add(name)
        cls._fields = frozenset(names)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are neither declared nor cached: server-added fields.
        if not name.startswith("__"):
            data = self.__dict__.get("_data")
            if data is not None and name in data:
                return data[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        self._data[name] = _unwrap(value)
        self.__dict__[name] = value

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the JSON object, as received (plus any fields you set)."""
        return copy.deepcopy(self._data)

    def model_dump(self, *, exclude_none: bool = False, **_: Any) -> dict[str, Any]:
        """``to_dict()`` under pydantic's name; ``exclude_none`` drops null fields recursively."""
        data = self.to_dict()
        return _drop_none(data) if exclude_none else data

    def model_dump_json(self, *, indent: int | None = None, **kwargs: Any) -> str:
        return json.dumps(self.model_dump(**kwargs), indent=indent, ensure_ascii=False)

    def get(self, name: str, default: Any = None) -> Any:
        """The raw JSON value of ``name``, or ``default``."""
        return self._data.get(name, default)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for key in list(self._data):
            yield key, getattr(self, key)

    def __enter__(self: M) -> M:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Model):
            return type(self) is type(other) and self._data == other._data
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._data))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
