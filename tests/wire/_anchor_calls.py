"""Run a list of SDK calls, each against its own server URL, and report how each ended.

The same code drives both sides of the wire-parity test (``test_wire_parity.py``):

- the published ``r9s==0.9.0`` (the anchor): this file runs as a script inside the anchor's
  venv, started with ``python -I`` from a directory outside the repository so that only the
  installed package can be imported; the payload arrives as JSON on stdin and the report
  leaves as one JSON line on stdout;
- this repository's ``r9s``: the test imports this module and calls ``run`` in-process.

A payload is ``{"urls": [...], "calls": [...]}``; call ``i`` goes to ``urls[i]`` with a new
client, as each usage example does.  A call is
``{"id", "resource", "method", "kwargs", "wrap", "async", "binary"}``:
``client.<resource>.<method>`` (its ``_async`` twin, awaited under ``asyncio.run``, when
``async`` is true) called with ``kwargs``, where each parameter named in ``wrap`` is first
turned into the SDK's own model class of that name (``{"extra": "Extra"}``:
``models.Extra(**kwargs["extra"])``).  A call with ``stream=True`` reads its stream to the
end; a ``binary`` one (speech) reads the answer's bytes (``read()`` / ``aread()``) and closes it.

Files cannot travel as JSON: anywhere in ``kwargs``, ``{"$file": {"file_name", "content_b64",
"content_type" (optional), "open": bool}}`` stands for the published package's file dict
``{"file_name", "content", "content_type"}``, rebuilt here on each side: ``content`` is the
decoded bytes, or with ``open`` a binary file opened on a temporary copy of them (closed, and
the copy removed, once the call is over).

Nothing here talks to the server but the SDK under test; the server records what it got.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import tempfile
from contextlib import ExitStack
from typing import Any

API_KEY = "wire-parity-key"
#: Per-request timeout given to both SDKs (their constructors take the same ``timeout_ms``).
TIMEOUT_MS = 30_000
#: No stream of the built-in server is this long; a longer one means a runaway loop.
MAX_EVENTS = 10_000


def _identity() -> dict[str, str]:
    import importlib.metadata

    import r9s

    try:
        version = importlib.metadata.version("r9s")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        version = "unknown"
    return {"version": version, "file": str(r9s.__file__), "prefix": sys.prefix}


def _file(spec: dict[str, Any], files: ExitStack) -> dict[str, Any]:
    """The file dict a ``{"$file": spec}`` stands for (module docstring)."""
    data = base64.b64decode(spec["content_b64"])
    content: Any = data
    if spec.get("open"):
        folder = files.enter_context(tempfile.TemporaryDirectory(prefix="r9s-wire-"))
        path = os.path.join(folder, os.path.basename(spec["file_name"]) or "upload")
        with open(path, "wb") as fh:
            fh.write(data)
        content = files.enter_context(open(path, "rb"))  # closed by the stack
    out = {"file_name": spec["file_name"], "content": content}
    if "content_type" in spec:
        out["content_type"] = spec["content_type"]
    return out


def _rebuild(value: Any, files: ExitStack) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$file"}:
            return _file(value["$file"], files)
        return {k: _rebuild(v, files) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebuild(v, files) for v in value]
    return value


def _arguments(call: dict[str, Any], files: ExitStack) -> dict[str, Any]:
    from r9s import models

    kwargs = _rebuild(dict(call["kwargs"]), files)
    for name, cls_name in call.get("wrap", {}).items():
        kwargs[name] = getattr(models, cls_name)(**kwargs[name])
    return kwargs


def _failure(exc: BaseException) -> dict[str, Any]:
    return {
        "status": "error",
        "error": f"{type(exc).__name__}: {exc}"[:2000],
        "events": None,
        "bytes": None,
    }


def _sync_call(url: str, call: dict[str, Any]) -> dict[str, Any]:
    from r9s import R9S

    try:
        with ExitStack() as files:
            kwargs = _arguments(call, files)
            with R9S(api_key=API_KEY, server_url=url, timeout_ms=TIMEOUT_MS) as client:
                method = getattr(getattr(client, call["resource"]), call["method"])
                result = method(**kwargs)
                events = size = None
                if kwargs.get("stream") is True:
                    events = 0
                    with result as stream:
                        for _event in stream:
                            events += 1
                            if events >= MAX_EVENTS:
                                raise RuntimeError(f"more than {MAX_EVENTS} events")
                elif call.get("binary"):
                    try:
                        size = len(result.read())
                    finally:
                        result.close()
                return {"status": "ok", "error": None, "events": events, "bytes": size}
    except Exception as exc:
        return _failure(exc)


async def _async_call(url: str, call: dict[str, Any]) -> dict[str, Any]:
    from r9s import R9S

    try:
        with ExitStack() as files:
            kwargs = _arguments(call, files)
            async with R9S(api_key=API_KEY, server_url=url, timeout_ms=TIMEOUT_MS) as client:
                method = getattr(getattr(client, call["resource"]), call["method"] + "_async")
                result = await method(**kwargs)
                events = size = None
                if kwargs.get("stream") is True:
                    events = 0
                    async with result as stream:
                        async for _event in stream:
                            events += 1
                            if events >= MAX_EVENTS:
                                raise RuntimeError(f"more than {MAX_EVENTS} events")
                elif call.get("binary"):
                    try:
                        size = len(await result.aread())
                    finally:
                        await result.aclose()
                return {"status": "ok", "error": None, "events": events, "bytes": size}
    except Exception as exc:
        return _failure(exc)


def run(payload: dict[str, Any]) -> dict[str, Any]:
    """Make every call of ``payload``; returns the package used and one outcome per call."""
    urls, calls = payload["urls"], payload["calls"]
    if len(urls) != len(calls):
        raise ValueError("one server URL per call")
    outcomes = []
    for url, call in zip(urls, calls, strict=True):
        if call.get("async"):
            outcome = asyncio.run(_async_call(url, call))
        else:
            outcome = _sync_call(url, call)
        outcomes.append({"id": call["id"], **outcome})
    return {"package": _identity(), "outcomes": outcomes}


def main() -> None:
    payload = json.loads(sys.stdin.read())
    report = run(payload)
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
