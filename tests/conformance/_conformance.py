"""Helpers for the conformance tests: run a vector through ``SSEDecoder``, cut it into writes.

The wire tests serve the writes with the shared ``ScriptedServer`` (``answer_once``).
``PASSED`` counts vectors that passed, per mode, for the summary ``conftest.py`` prints.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

from _support.scripted_server import chunk
from _vectors import Ev, Vector

from r9s._core.sse import ServerSentEvent, SSEDecoder

__all__ = [
    "PASSED",
    "Outcome",
    "check",
    "chunked_writes",
    "decode",
    "observe",
]

#: mode -> names of the vectors that passed in it.
PASSED: collections.defaultdict[str, set[str]] = collections.defaultdict(set)


def observe(events: Iterable[ServerSentEvent | str]) -> list[Ev]:
    """``(type, data, lastEventId)`` per event, with the spec's ``""`` for no id."""
    out: list[Ev] = []
    for e in events:
        if isinstance(e, str):  # feed_raw's plain event
            out.append(("message", e, ""))
        else:
            out.append((e.event, e.data, e.id or ""))
    return out


class Outcome:
    """What a decoder made of a whole input: events from ``feed``, from ``end``, the retry."""

    def __init__(self) -> None:
        self.fed: list[ServerSentEvent | str] = []
        self.ended: list[ServerSentEvent] = []

    @property
    def retry(self) -> int | None:
        value = None
        for e in [*self.fed, *self.ended]:
            if isinstance(e, ServerSentEvent) and e.retry is not None:
                value = e.retry
        return value


def decode(pieces: Iterable[bytes], *, errors: str = "replace", raw: bool = False) -> Outcome:
    """Feed ``pieces`` to a fresh decoder (``feed`` or ``feed_raw``), then ``end()``."""
    dec = SSEDecoder(errors=errors)
    out = Outcome()
    feed = dec.feed_raw if raw else dec.feed
    for piece in pieces:
        out.fed += feed(piece)
    out.ended = dec.end()
    return out


def check(vector: Vector, outcome: Outcome) -> None:
    """Assert ``outcome`` is the vector's: spec events from feed, r9s's pending from end."""
    assert observe(outcome.fed) == list(vector.events), vector.source
    assert observe(outcome.ended) == list(vector.pending), vector.source
    assert outcome.retry == vector.retry, vector.source


def chunked_writes(body: bytes, size: int) -> list[bytes]:
    """``body`` as chunked transfer coding, one chunk (one write) per ``size`` bytes."""
    return [chunk(body[i : i + size]) for i in range(0, len(body), size)] + [b"0\r\n\r\n"]
