"""One JSON object from a ``str``, at the C scanner's speed.

``json.loads`` runs three Python frames and two regex matches around the C scanner; for a
300-byte chat chunk that wrapper costs as much as the parsing.  ``loads`` calls the scanner
directly and falls back to ``json.loads`` whenever the input is not exactly one JSON value
(leading or trailing white space, garbage, an error to report), so results and error messages
are ``json.loads``'s own.  No Python code runs inside the C scanner (no hooks), so sharing it
between threads is safe.
"""

from __future__ import annotations

import json
from json.decoder import JSONDecoder
from json.scanner import make_scanner  # the C scanner when available (always, on CPython)
from typing import Any

__all__ = ["loads"]

_scan = make_scanner(JSONDecoder())  # type: ignore[arg-type]  # typeshed types it oddly


def loads(text: str) -> Any:
    """``json.loads(text)``, faster for the common case.

    Raises:
        ValueError: not valid JSON (``json.JSONDecodeError``), or nested past Python's
            recursion limit (a plain ``ValueError``: never a ``RecursionError``).
    """
    try:
        try:
            obj, end = _scan(text, 0)
        except (StopIteration, ValueError):
            return json.loads(text)
        if end != len(text):
            return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to decode") from None
    return obj
