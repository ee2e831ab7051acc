"""The ``R9S`` client: configuration, resources, transports, context managers.

Call-compatible with the published SDK's constructor.  Transports are created on first use:
the stdlib ``UrllibTransport`` for sync calls, the h11/anyio ``H11Transport`` for async calls
(so ``import r9s`` and every sync call work without h11 or anyio installed).  One client may
be used from several threads, and from successive event loops (asyncio or trio).
"""

from __future__ import annotations

import _thread
import os
from collections.abc import Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any

from r9s._core.headers import Headers
from r9s._core.lifecycle import Hooks, Limits
from r9s._core.operations import (
    DEFAULT_SERVER_URL,
    NOT_GIVEN,
    ClientConfig,
    NotGiven,
    Operation,
    prepare,
)
from r9s._core.request import DEFAULT_MAX_EVENT_SIZE
from r9s.utils.retries import DEFAULT_RETRY_CONFIG, RetryConfig

if TYPE_CHECKING:
    import logging

    from r9s.resources import Chat, Completions, Responses
    from r9s.transports._common import Verify
    from r9s.transports.base import AsyncTransport, SyncTransport

__all__ = ["R9S"]

_OPTION_NAMES = (
    "retries",
    "server_url",
    "timeout_ms",
    "http_headers",
    "extra_body",
    "deadline",
    "first_event_timeout",
    "idle_timeout",
)


class R9S:
    """A client of the r9s gateway (or any OpenAI-compatible API).

    Args:
        api_key: the key sent as ``Authorization: Bearer``; a callable is asked on every
            request (for rotating keys).
        server_url: the base URL (default ``https://api.r9s.ai/v1``).
        retry_config: how failed calls are retried; not given: ``DEFAULT_RETRY_CONFIG``
            (two retries on 429/5XX and connection errors); ``None``: no retries.
        timeout_ms: connect and read timeout per call in milliseconds (default: 10 s to
            connect, 600 s between bytes).
        client: a sync transport (``r9s.transports.base.SyncTransport``), e.g. a
            ``MockTransport``; default: the standard-library ``UrllibTransport``.
        async_client: an async transport; default: ``H11Transport`` (asyncio and trio).
        debug_logger: a ``logging.Logger`` for request and retry logs (default: ``"r9s"``).
        verify: TLS verification for the default transports: ``True``, a CA bundle path,
            or an ``ssl.SSLContext``.  ``False`` turns it off and must be said explicitly.
        max_event_size: largest event accepted in a stream, in bytes (default 8 MiB).
        default_headers: headers added to every request.
        hooks: callables run before each request, after each response and after each
            error (``r9s.Hooks``); also reachable as ``client.hooks`` to add more later.
        deadline, first_event_timeout, idle_timeout: default time limits of every call, in
            seconds (each call may set its own): the whole call including retries and the
            streamed body; from sending a streamed request to its first event; the longest
            wait for the next event once a stream flows.

    Logging: ``logging.getLogger("r9s")`` logs each response at DEBUG and each retry at
    INFO, never the API key; ``R9S_LOG=debug`` (or ``info``) in the environment sends those
    records to stderr without any logging setup.
    """

    def __init__(
        self,
        api_key: str | Callable[[], str],
        server_url: str | None = None,
        retry_config: RetryConfig | NotGiven | None = NOT_GIVEN,
        timeout_ms: int | None = None,
        client: SyncTransport | None = None,
        async_client: AsyncTransport | None = None,
        debug_logger: logging.Logger | None = None,
        *,
        verify: Verify = True,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        default_headers: Mapping[str, str] | None = None,
        hooks: Hooks | None = None,
        deadline: float | None = None,
        first_event_timeout: float | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        if not (isinstance(api_key, str) or callable(api_key)):
            raise TypeError("api_key must be a string or a callable returning one")
        if server_url is not None and not server_url.startswith(("http://", "https://")):
            raise ValueError(f"server_url must be an absolute http(s) URL, got {server_url!r}")
        if isinstance(retry_config, NotGiven):
            retry_config = DEFAULT_RETRY_CONFIG
        elif retry_config is not None and not isinstance(retry_config, RetryConfig):
            raise TypeError("retry_config must be a RetryConfig or None")
        self._config = ClientConfig(
            api_key=api_key,
            server_url=server_url or DEFAULT_SERVER_URL,
            retry_config=retry_config,
            timeout_ms=timeout_ms,
            max_event_size=max_event_size,
            default_headers=Headers(default_headers),
            extra_secrets=_proxy_secrets(),
            limits=Limits.checked(deadline, first_event_timeout, idle_timeout),
        )
        if hooks is not None and not isinstance(hooks, Hooks):
            raise TypeError("hooks must be an r9s.Hooks")
        #: The callables run at each step of every call (see ``r9s.Hooks``).
        self.hooks = hooks if hooks is not None else Hooks()
        self._log = debug_logger  # the "r9s" logger is looked up on first use
        self._verify = verify
        self._sync = client
        self._async = async_client
        self._own_sync = client is None
        self._own_async = async_client is None
        self._lock = _thread.allocate_lock()  # threading.Lock, without importing threading

    @classmethod
    def from_env(cls, **kwargs: Any) -> R9S:
        """A client configured from ``R9S_API_KEY`` and ``R9S_BASE_URL``.

        Raises:
            ValueError: ``R9S_API_KEY`` is not set.
        """
        key = os.environ.get("R9S_API_KEY")
        if not key and "api_key" not in kwargs:
            raise ValueError("R9S_API_KEY is not set: export R9S_API_KEY=<your key>")
        kwargs.setdefault("api_key", key)
        kwargs.setdefault("server_url", os.environ.get("R9S_BASE_URL") or None)
        return cls(**kwargs)

    @property
    def server_url(self) -> str:
        return self._config.server_url

    @cached_property
    def chat(self) -> Chat:
        from r9s.resources.chat import Chat

        return Chat(self)

    @cached_property
    def completions(self) -> Completions:
        from r9s.resources.completions import Completions

        return Completions(self)

    @cached_property
    def responses(self) -> Responses:
        from r9s.resources.responses import Responses

        return Responses(self)

    # -- plumbing -------------------------------------------------------------------------

    def _sync_transport(self) -> SyncTransport:
        transport = self._sync
        if transport is None:
            with self._lock:
                if self._sync is None:
                    from r9s.transports.urllib import UrllibTransport

                    self._sync = UrllibTransport(verify=self._verify)
                transport = self._sync
        return transport

    def _async_transport(self) -> AsyncTransport:
        transport = self._async
        if transport is None:
            with self._lock:
                if self._async is None:
                    from r9s.transports.h11_anyio import H11Transport

                    self._async = H11Transport(verify=self._verify)
                transport = self._async
        return transport

    def _logger(self) -> logging.Logger:
        log = self._log
        if log is None:
            import logging

            log = self._log = logging.getLogger("r9s")
            _log_from_env(log)
        return log

    def _prepare(self, op: Operation, params: dict[str, Any]) -> Any:
        options = {name: params.pop(name) for name in _OPTION_NAMES if name in params}
        return prepare(op, params, self._config, **options)

    def _run(self, op: Operation, params: dict[str, Any]) -> Any:
        from r9s._sync_driver import execute

        call = self._prepare(op, params)
        return execute(self._sync_transport(), call, self._logger(), self.hooks)

    async def _run_async(self, op: Operation, params: dict[str, Any]) -> Any:
        from r9s._async_driver import execute_async

        call = self._prepare(op, params)
        return await execute_async(self._async_transport(), call, self._logger(), self.hooks)

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the pooled connections of the transports this client created."""
        if self._own_sync and self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        """Close the pooled connections of both transports this client created."""
        if self._own_async and self._async is not None:
            await self._async.aclose()
        self.close()

    def __enter__(self) -> R9S:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> R9S:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"R9S(server_url={self._config.server_url!r})"


_LOG_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_env_logging_done = False


def _log_from_env(log: logging.Logger) -> None:
    """``R9S_LOG=debug`` / ``info``: send the "r9s" logger's records to stderr, once per
    process, unless the application configured that logger itself."""
    global _env_logging_done
    if _env_logging_done:
        return
    _env_logging_done = True
    level = _LOG_LEVELS.get(os.environ.get("R9S_LOG", "").strip().lower())
    if level is None or log.handlers:
        return
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)


def _proxy_secrets() -> tuple[str, ...]:
    """Credentials in ``*_PROXY`` variables, in the forms an echoing proxy may quote them."""
    found: list[str] = []
    for name, value in os.environ.items():
        if not name.lower().endswith("_proxy") or "@" not in value:
            continue
        import base64
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(value if "://" in value else "http://" + value)
        if parts.username is None:
            continue
        user, password = unquote(parts.username), unquote(parts.password or "")
        pair = f"{user}:{password}"
        found += [pair, base64.b64encode(pair.encode()).decode("ascii")]
        if password:
            found.append(password)
            if parts.password and parts.password != password:
                found.append(parts.password)
    return tuple(dict.fromkeys(found))
