"""Shared strategies and checks for the fuzz tests (hypothesis), and the known r9s bugs.

``KNOWN_BUGS`` names every r9s bug these tests found.  Each has a reproducer test marked
``skip(reason="BUG: ...")`` in the module that found it; the property tests tolerate exactly
those failures (``is_known_bug``) so that they keep guarding everything else.  When a bug is
fixed: un-skip its reproducer and delete its entry here, and the properties check it again.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "JSON",
    "KNOWN_BUGS",
    "SSE_TOKENS",
    "chunkings",
    "is_known_bug",
    "json_objects",
    "split",
    "sse_bytes",
]

#: id -> what goes wrong (the reproducer tests quote these).
KNOWN_BUGS: dict[str, str] = {}  # all fixed; see each reproducer test


def is_known_bug(exc: BaseException) -> str | None:
    """The ``KNOWN_BUGS`` id ``exc`` is an instance of, or ``None``."""
    del exc
    return None


# -- bytes --------------------------------------------------------------------------------

#: Pieces that make arbitrary bytes look like an event stream often enough to reach deep states.
SSE_TOKENS = [
    b"data:",
    b"data: ",
    b"data",
    b"data\r",
    b"data\n",
    b"event:",
    b"event: e",
    b"id:",
    b"id: 7",
    b"retry:",
    b"retry: 15",
    b":",
    b": ping",
    b" ",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xa9",
    b"x",
    b"[DONE]",
    b"{}",
    b'{"error": 1}',
    b"x" * 40,
]

_token = st.sampled_from(SSE_TOKENS)
#: A token, or a run of one token (long runs reach the size limits).
_piece = st.one_of(_token, st.builds(lambda t, n: t * n, _token, st.integers(2, 60)))

sse_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(_piece, max_size=40).map(b"".join),
)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(c for c in cuts if 0 <= c <= len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def chunkings(data: bytes) -> st.SearchStrategy[list[bytes]]:
    """Ways to cut ``data`` into pieces: random cut points, or fixed-size pieces."""
    n = len(data)
    return st.one_of(
        st.lists(st.integers(0, n), max_size=16).map(lambda cuts: split(data, cuts)),
        st.integers(1, max(1, n)).map(lambda k: [data[i : i + k] for i in range(0, n, k)]),
    )


# -- JSON ---------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)

#: Any JSON value (bounded size and depth).
JSON: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=12), inner, max_size=6),
    ),
    max_leaves=30,
)

#: Keys a chat answer has, so generated objects hit the typed fields too.
_CHAT_KEYS = st.sampled_from(
    [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "message",
        "delta",
        "content",
        "tool_calls",
        "function",
        "name",
        "arguments",
        "index",
        "finish_reason",
        "logprobs",
        "role",
        "error",
        "type",
        "code",
        "status",
        "detail",
        "prompt_tokens",
    ]
)


def json_objects() -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects shaped a little like chat answers (typed keys, any values, any nesting)."""
    value = st.recursive(
        _scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(_CHAT_KEYS, st.text(max_size=8)), inner, max_size=5),
        ),
        max_leaves=25,
    )
    return st.dictionaries(st.one_of(_CHAT_KEYS, st.text(max_size=8)), value, max_size=6)


def dumps(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
