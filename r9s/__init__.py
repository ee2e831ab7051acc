"""r9s: a Python SDK for the r9s LLM gateway (and any OpenAI-compatible API).

    from r9s import R9S
    with R9S(api_key="...") as client:
        res = client.chat.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
        print(res.choices[0].message.content)

Importing ``r9s`` is light: it loads neither anyio nor h11 (the async transport imports them
on first use), and ``R9S``, ``errors``, ``models`` are loaded when first touched.
"""

from __future__ import annotations

import sys

from r9s._version import USER_AGENT, __version__

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: importing typing costs ~7 ms
if TYPE_CHECKING:
    from typing import Any

    from r9s import errors, models, protocol, utils
    from r9s._core.lifecycle import Hooks, RequestContext
    from r9s._core.meta import RateLimits, ResponseInfo
    from r9s.client import R9S
    from r9s.streaming import EventStream, EventStreamAsync
    from r9s.utils.retries import BackoffStrategy, RetryConfig

__all__ = [
    "USER_AGENT",
    "VERSION",
    "BackoffStrategy",
    "EventStream",
    "EventStreamAsync",
    "Hooks",
    "R9S",
    "RateLimits",
    "RequestContext",
    "ResponseInfo",
    "RetryConfig",
    "__version__",
    "errors",
    "models",
    "protocol",
    "utils",
]

VERSION = __version__

_LAZY = {
    "R9S": ("r9s.client", "R9S"),
    "EventStream": ("r9s.streaming", "EventStream"),
    "EventStreamAsync": ("r9s.streaming", "EventStreamAsync"),
    "RetryConfig": ("r9s.utils.retries", "RetryConfig"),
    "Hooks": ("r9s._core.lifecycle", "Hooks"),
    "RequestContext": ("r9s._core.lifecycle", "RequestContext"),
    "ResponseInfo": ("r9s._core.meta", "ResponseInfo"),
    "RateLimits": ("r9s._core.meta", "RateLimits"),
    "BackoffStrategy": ("r9s.utils.retries", "BackoffStrategy"),
    "errors": ("r9s.errors", None),
    "models": ("r9s.models", None),
    "protocol": ("r9s.protocol", None),
    "utils": ("r9s.utils", None),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'r9s' has no attribute {name!r}")
    __import__(target[0])  # importlib itself would add an import
    module = sys.modules[target[0]]
    value = module if target[1] is None else getattr(module, target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
