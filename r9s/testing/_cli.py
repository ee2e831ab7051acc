"""Command line of the test server, reusable by another CLI through ``main(argv)``.

Why: a separate process is what the README demo and cross-client benchmarks need; the
signal handling lives here so that ``FakeServer`` itself never touches process-wide state.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from r9s.testing._server import FakeServer

__all__ = ["main"]

#: How often the main thread checks whether a signal asked it to stop.
_POLL = 0.1

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGINT or SIGTERM.

    Args:
        argv: the arguments (without the program name); None reads ``sys.argv``.

    Returns:
        The exit status: 0 after a clean stop (2 for bad arguments, via argparse).
    """
    parser = argparse.ArgumentParser(
        prog="python -m r9s.testing",
        description="Local OpenAI-compatible test server (deterministic answers, faults).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (default) or ::1")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--api-key", default=None, help="require this bearer token")
    parser.add_argument("--gzip", action="store_true", help="gzip answers when accepted")
    parser.add_argument(
        "--models",
        default=None,
        metavar="NAMES",
        help="comma-separated model names to serve (and list at GET /v1/models); others get "
        "404 model_not_found (default: any name but those beginning with does-not-exist)",
    )
    args = parser.parse_args(argv)
    models = None
    if args.models is not None:
        models = [name.strip() for name in args.models.split(",") if name.strip()]
        if not models:
            parser.error("--models needs at least one model name")
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("r9s.testing.main must run in the main thread (it waits for signals)")
    try:
        server = FakeServer(
            host=args.host, port=args.port, api_key=args.api_key, gzip=args.gzip, models=models
        )
    except ValueError as exc:
        parser.error(str(exc))
    stopped = [False]

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Only a plain flag write: Event.set() could deadlock on the Event's own lock if the
        # signal landed while the main thread held it.
        stopped[0] = True

    previous: list[tuple[signal.Signals, _Handler]] = []
    with server:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous.append((signum, signal.signal(signum, on_signal)))
        try:
            print(f"r9s test server listening on {server.url}", flush=True)
            # Serves until SIGINT or SIGTERM sets the flag.
            while not stopped[0]:
                time.sleep(_POLL)
        finally:
            for signum, handler in previous:
                signal.signal(signum, handler)
    return 0
