"""The resources are made from the operation table; their typed stub is generated from it.

``r9s/resources/__init__.pyi`` must be what ``python -m r9s._core.stubs`` writes now; the
classes at run time must have one method (and its ``_async`` twin) per operation, with the
operation's doc; and a type checker must see every parameter and each result type.
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import pytest

import r9s.resources as resources
from r9s import R9S
from r9s._core.api import OPERATIONS, RESOURCES
from r9s._core.stubs import STUB, render


def test_the_stub_is_current() -> None:
    assert STUB.read_text(encoding="utf-8") == render(), "run: python -m r9s._core.stubs"


def test_every_operation_is_a_method_and_its_async_twin() -> None:
    for name, op in OPERATIONS.items():
        attribute, _, method = name.partition(".")
        cls = getattr(resources, RESOURCES[attribute][0])
        sync, twin = getattr(cls, method), getattr(cls, method + "_async")
        assert sync.__doc__ == op.doc and sync.__name__ == method
        assert inspect.iscoroutinefunction(twin) and not inspect.iscoroutinefunction(sync)
    client = R9S(api_key="k")
    for attribute, (cls_name, _) in RESOURCES.items():
        resource = getattr(client, attribute)
        assert type(resource).__name__ == cls_name
        assert getattr(client, attribute) is resource  # made once per client


def test_a_type_checker_sees_every_parameter_and_result(tmp_path: Path) -> None:
    mypy = pytest.importorskip("mypy.api")
    code = textwrap.dedent(
        """
        from r9s import R9S

        c = R9S(api_key="k")
        reveal_type(c.chat.create(model="m", messages=[]))
        reveal_type(c.chat.create(model="m", messages=[], stream=True))
        reveal_type(c.audio.speech(model="m", input="x", voice="v"))
        reveal_type(c.audio.transcribe(file=b"x", model="m"))
        reveal_type(c.proxy.request(channelid="1", target="t"))
        c.embeddings.create(model="m")
        c.embeddings.create(model="m", input="x", dimensions="8")


        async def f() -> None:
            reveal_type(await c.images.edit_async(image=b"x", prompt="p", stream=True))
            reveal_type(await c.audio.speech_async(model="m", input="x", voice="v"))
        """
    )
    path = tmp_path / "uses.py"
    path.write_text(code)
    out, _, _ = mypy.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "c"), str(path)]
    )
    expected = [
        ':5: note: Revealed type is "r9s.models.chat.ChatCompletion"',
        ':6: note: Revealed type is "r9s.streaming.EventStream[r9s.models.chat.ChatCompletionChunk]"',
        ':7: note: Revealed type is "r9s.binary.BinaryResponse"',
        ':8: note: Revealed type is "r9s.models.audio.AudioTranscriptionResponse | str"',
        ':9: note: Revealed type is "dict[str, Any]"',
        ':10: error: Missing named argument "input" for "create" of "Embeddings"',
        ':11: error: Argument "dimensions" to "create" of "Embeddings" has incompatible type "str"',
        ':15: note: Revealed type is "r9s.streaming.EventStreamAsync[r9s.models.images.ImageStreamEvent]"',
        ':16: note: Revealed type is "r9s.binary.BinaryResponseAsync"',
    ]
    for line in expected:
        assert line in out, out
