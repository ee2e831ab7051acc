"""Lazy typed objects over parsed JSON.

A response object *is* the dict ``json.loads`` returned: that dict becomes the instance
``__dict__``.  Building one costs one small allocation whatever the size of the JSON, and
reading a plain field (``delta.content``, ``chunk.id``, or a field a gateway added, such as
``reasoning_content``) is an ordinary attribute lookup, with no Python code involved.

The class annotations are the single description of the shape:

- a field whose type is plain JSON (``str | None``, ``int``, ``dict[str, Any]``) gets a class
  default of ``None``, so a field the server left out reads as ``None``;
- a field whose type is a ``Model`` (or a list of them) gets a descriptor that wraps the raw
  dict (or list) on first access and stores the wrapped value back in ``__dict__``.

Shape drift never raises: a nested value of an unexpected type is returned as it came, and an
unknown field is reachable as an attribute.  (A JSON key named like a method of this class,
``get`` or ``to_dict``, shadows that method on that object.)
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, Union

if TYPE_CHECKING:
    from r9s._core.meta import ResponseInfo

__all__ = ["Model"]

M = TypeVar("M", bound="Model")

_new = object.__new__


class _ModelList(list[Any]):
    """A list whose items were wrapped already (so it is not wrapped again)."""

    __slots__ = ()


def _plain(value: Any) -> Any:
    """A deep copy of ``value`` as plain JSON values (models unwrapped), key order kept.

    Iterative, not recursive: ``json`` parses nesting deeper than Python's recursion limit
    allows a recursive copy to walk, and ``to_dict()`` / ``repr()`` must not fail on it.
    """
    if isinstance(value, Model):
        value = value.__dict__
    t = type(value)
    if t is not dict and t is not list and t is not _ModelList:
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        item, parent, key = stack.pop()
        if isinstance(item, Model):
            item = item.__dict__
        t = type(item)
        if t is dict:
            copy: Any = dict.fromkeys(item)
            stack.extend((v, copy, k) for k, v in item.items())
        elif t is list or t is _ModelList:
            copy = [None] * len(item)
            stack.extend((v, copy, i) for i, v in enumerate(item))
        else:
            copy = item
        parent[key] = copy
    return root[0]


def _nested_type(hint: Any) -> tuple[type[Model] | None, bool]:
    """``(model class, is_list)`` for a field's type hint, or ``(None, False)``."""
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _nested_type(args[0]) if len(args) == 1 else (None, False)
    if origin is list:
        item = next(iter(typing.get_args(hint)), Any)
        if isinstance(item, type) and issubclass(item, Model):
            return item, True
        return None, False
    if isinstance(hint, type) and issubclass(hint, Model):
        return hint, False
    return None, False


class _Nested:
    """A field holding a model (or a list of models): wrapped on first access, then kept."""

    __slots__ = ("cls", "is_list", "name", "owner")

    def __init__(self, name: str, owner: type[Model]) -> None:
        self.name = name
        self.owner = owner
        self.cls: type[Model] | None = None
        self.is_list = False

    def _resolve(self) -> type[Model]:
        hint = typing.get_type_hints(self.owner)[self.name]
        cls, self.is_list = _nested_type(hint)
        assert cls is not None
        self.cls = cls
        return cls

    def __get__(self, obj: Model | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        d = obj.__dict__
        raw: Any = d.get(self.name)
        t = type(raw)
        if t is dict:
            cls = self.cls or self._resolve()
            if not self.is_list:
                wrapped = _new(cls)
                wrapped.__dict__ = raw
                d[self.name] = wrapped
                return wrapped
        elif t is list:
            cls = self.cls or self._resolve()
            if self.is_list:
                out = _ModelList()
                for item in raw:
                    if type(item) is dict:
                        m = _new(cls)
                        m.__dict__ = item
                        out.append(m)
                    else:
                        out.append(item)
                d[self.name] = out
                return out
        return raw

    def __set__(self, obj: Model, value: Any) -> None:
        obj.__dict__[self.name] = value


class Model:
    """Base of every response object: attribute access over a JSON object, lazily.

    ``to_dict()`` (and ``model_dump()`` for code written against pydantic) return a deep copy
    of the JSON; ``_request_id`` is the gateway's ``x-request-id`` on top-level results, and
    ``_response`` their HTTP status, headers and parsed rate limits (``ResponseInfo``).
    Iterating yields ``(field, value)`` pairs, and ``with obj:`` returns the object, as the
    published SDK's pydantic models allow (its generated examples rely on both).
    """

    __slots__ = ("__dict__", "_info", "_rid")

    _fields: ClassVar[frozenset[str]] = frozenset()
    # A ``ResponseInfo`` on top-level results, set by the drivers (a slot; may be unset).
    # Typed ``Any`` because ``typing.get_type_hints`` resolves it at run time.
    _info: Any

    def __init__(self, data: dict[str, Any] | None = None, **fields: Any) -> None:
        """An object over a copy of ``data`` (plus ``fields``); your dict is never changed."""
        copied: dict[str, Any] = _plain(data) if data else {}
        if fields:
            copied.update(_plain(fields))
        self.__dict__ = copied

    @classmethod
    def _wrap(cls: type[M], data: dict[str, Any]) -> M:
        """The fast constructor: ``data`` becomes the object (not copied)."""
        obj = _new(cls)
        obj.__dict__ = data
        return obj

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: set[str] = set()
        for klass in reversed(cls.__mro__):
            names.update(getattr(klass, "_fields", ()))
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 (inspect is 3 ms to import)
        for name, annotation in own.items():
            if name.startswith("_") or name in cls.__dict__:
                continue
            text = annotation if isinstance(annotation, str) else repr(annotation)
            if _mentions_model(text, cls):
                setattr(cls, name, _Nested(name, cls))
            else:
                setattr(cls, name, None)
            names.add(name)
        cls._fields = frozenset(names)

    @property
    def _request_id(self) -> str | None:
        """The gateway's ``x-request-id`` for the call that returned this object."""
        try:
            return self._rid
        except AttributeError:
            return None

    @_request_id.setter
    def _request_id(self, value: str | None) -> None:
        self._rid = value

    @property
    def _response(self) -> ResponseInfo | None:
        """Status, headers, request id and rate limits of the response that carried this
        object (top-level results of a call; ``None`` on nested objects and stream events)."""
        try:
            info: ResponseInfo | None = self._info
        except AttributeError:
            return None
        return info

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the JSON object, as received (plus any fields you set)."""
        return {k: _plain(v) for k, v in self.__dict__.items()}

    def model_dump(self, *, exclude_none: bool = False, **_: Any) -> dict[str, Any]:
        """``to_dict()`` under pydantic's name; ``exclude_none`` drops null fields recursively."""
        data = self.to_dict()
        return _drop_none(data) if exclude_none else data

    def model_dump_json(self, *, indent: int | None = None, **kwargs: Any) -> str:
        import json

        return json.dumps(self.model_dump(**kwargs), indent=indent, ensure_ascii=False)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of field ``name`` as stored (raw JSON until first touched), or ``default``."""
        return self.__dict__.get(name, default)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for key in list(self.__dict__):
            yield key, getattr(self, key)

    def __enter__(self: M) -> M:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Model):
            return type(self) is type(other) and self.to_dict() == other.to_dict()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.to_dict(), self._request_id, self._response))


def _restore(
    cls: type[Model], data: dict[str, Any], rid: str | None, info: ResponseInfo | None = None
) -> Model:
    obj = cls._wrap(data)
    if rid is not None:
        obj._request_id = rid
    if info is not None:
        obj._info = info
    return obj


def _mentions_model(annotation: str, owner: type) -> bool:
    """Whether a (string) annotation names a ``Model`` subclass of the owner's module."""
    import sys

    module = sys.modules.get(owner.__module__)
    ns = vars(module) if module else {}
    for token in annotation.replace("[", " ").replace("]", " ").replace("|", " ").split():
        candidate = ns.get(token.strip(",")) or (owner if token == owner.__name__ else None)
        if isinstance(candidate, type) and issubclass(candidate, Model):
            return True
    return False


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
