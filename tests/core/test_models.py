"""Lazy response objects: attribute access, shape drift, dumps, compatibility shims."""

from __future__ import annotations

import json
import pickle

import pytest

from r9s.models import ChatCompletion, ChatCompletionChunk, Response

RAW = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi", "reasoning_content": "thinking"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    "vendor_extra": {"a": 1},
}


def test_attribute_access_and_nesting() -> None:
    res = ChatCompletion(json.loads(json.dumps(RAW)))
    assert res.choices[0].message.content == "Hi"
    assert res.usage.total_tokens == 3
    assert type(res.choices[0]).__name__ == "Choice"
    assert res.choices is res.choices  # wrapped once, then cached


def test_shape_drift_never_raises() -> None:
    res = ChatCompletion({"id": "x", "choices": [{"message": "not an object"}], "usage": 5})
    assert res.model is None  # declared, missing
    assert res.choices[0].message == "not an object"  # unexpected type, returned as is
    assert res.usage == 5
    assert res.choices[0].finish_reason is None


def test_unknown_fields_are_kept_and_reachable() -> None:
    res = ChatCompletion(RAW)
    assert res.choices[0].message.reasoning_content == "thinking"
    assert res.vendor_extra == {"a": 1}
    with pytest.raises(AttributeError):
        _ = res.no_such_field
    assert "vendor_extra" in dir(res)


def test_to_dict_and_model_dump() -> None:
    res = ChatCompletion(json.loads(json.dumps(RAW)))
    d = res.to_dict()
    assert d == RAW
    d["id"] = "changed"
    assert res.id == "chatcmpl-1"  # a copy
    assert ChatCompletion({"a": None, "b": [{"c": None}]}).model_dump(exclude_none=True) == {
        "b": [{}]
    }
    assert json.loads(res.model_dump_json()) == RAW


def test_setting_fields_writes_through() -> None:
    res = ChatCompletion(json.loads(json.dumps(RAW)))
    res.choices[0].message.content = "edited"
    assert res.to_dict()["choices"][0]["message"]["content"] == "edited"


def test_pickle_equality_repr() -> None:
    res = ChatCompletion(RAW)
    assert pickle.loads(pickle.dumps(res)) == res
    assert res != ChatCompletionChunk(RAW)
    assert repr(res).startswith("ChatCompletion({")


def test_published_sdk_example_shapes_work() -> None:
    # The generated examples do `with res as s: for event in s` and `for event in res`.
    res = ChatCompletion(RAW)
    with res as same:
        pairs = list(same)
    assert pairs[0] == ("id", "chatcmpl-1")


def test_responses_output_text() -> None:
    resp = Response(
        {
            "output": [
                {"type": "reasoning", "content": [{"type": "output_text", "text": "no"}]},
                {
                    "type": "message",
                    "content": [
                        {"type": "output_text", "text": "Hello"},
                        {"type": "refusal", "refusal": "x"},
                        {"type": "output_text", "text": " world"},
                    ],
                },
            ]
        }
    )
    assert resp.output_text == "Hello world"
    assert resp.output[1].content[0].text == "Hello"


def test_every_declared_field_is_wired_as_its_type_says() -> None:
    # Nested-model fields get a wrapping descriptor at class creation, which needs the nested
    # class defined first; this checks every model class against its resolved type hints.
    import typing

    import r9s.models as m
    from r9s.models._base import Model, _Nested, _nested_type

    found = (getattr(m, name) for name in m.__all__)
    classes = {v for v in found if isinstance(v, type) and issubclass(v, Model)}
    checked = 0
    for cls in classes:
        hints = typing.get_type_hints(cls)
        for name in cls._fields:
            nested, _ = _nested_type(hints[name])
            assert isinstance(inspect_attr(cls, name), _Nested) == (nested is not None), (cls, name)
            checked += 1
    assert checked > 60


def inspect_attr(cls: type, name: str) -> object:
    for klass in cls.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    raise AssertionError(name)


def test_your_dict_is_never_changed() -> None:
    raw = json.loads(json.dumps(RAW))
    res = ChatCompletion(raw)
    assert res.choices[0].message.content == "Hi"
    res.id = "changed"
    assert raw == RAW


def test_wrapped_values_are_cached_and_reassignable() -> None:
    res = ChatCompletion._wrap(json.loads(json.dumps(RAW)))
    first = res.choices[0]
    assert res.choices[0] is first and res.choices[0].message is first.message
    res.usage = None
    assert res.usage is None and res.to_dict()["usage"] is None
    assert res.get("model") == "m"
