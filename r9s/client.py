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
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from r9s._core.headers import Headers
from r9s._core.lifecycle import Hooks, Limits
from r9s._core.operations import (
    DEFAULT_SERVER_URL,
    NOT_GIVEN,
    OPTION_NAMES,
    ClientConfig,
    NotGiven,
    Operation,
    prepare,
)
from r9s._core.request import DEFAULT_MAX_EVENT_SIZE
from r9s._core.urls import redact_url
from r9s.utils.retries import DEFAULT_RETRY_CONFIG, RetryConfig

if TYPE_CHECKING:
    import logging

    from r9s.resources import (
        Audio,
        Chat,
        Completions,
        Edits,
        Embeddings,
        EngineEmbeddings,
        Images,
        Messages,
        Models,
        Moderations,
        Proxy,
        Responses,
        Search,
    )
    from r9s.transports._common import Verify
    from r9s.transports.base import AsyncTransport, SyncTransport

__all__ = ["R9S"]

#: The published SDK's server list (``server_idx`` picks one).
SERVERS = (DEFAULT_SERVER_URL,)

T = TypeVar("T")
R = TypeVar("R")


class _Resource(Generic[T]):
    """``client.chat`` and the others: the resource module is imported on first use."""

    def __init__(self) -> None:
        self._attr = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self._attr = attr

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Resource[T]: ...
    @overload
    def __get__(self, obj: R9S, owner: type | None = None) -> T: ...
    def __get__(self, obj: R9S | None, owner: type | None = None) -> T | _Resource[T]:
        if obj is None:
            return self
        import r9s.resources as resources  # the classes, made from the operation table
        from r9s._core.api import RESOURCES

        cls = getattr(resources, RESOURCES[self._attr][0])
        value: T = cls(obj)
        obj.__dict__[self._attr] = value  # later lookups find it there, not here
        return value


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
        server_idx: int | None = None,
        server_url: str | None = None,
        url_params: Mapping[str, str] | None = None,
        client: SyncTransport | Any | None = None,
        async_client: AsyncTransport | Any | None = None,
        retry_config: RetryConfig | NotGiven | None = NOT_GIVEN,
        timeout_ms: int | None = None,
        debug_logger: logging.Logger | None = None,
        *,
        base_url: str | None = None,
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
        url = _server_url(server_idx, server_url, url_params, base_url)
        if isinstance(retry_config, NotGiven):
            retry_config = DEFAULT_RETRY_CONFIG
        elif retry_config is not None and not isinstance(retry_config, RetryConfig):
            raise TypeError("retry_config must be a RetryConfig or None")
        self._config = ClientConfig(
            api_key=api_key,
            server_url=url,
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
        self._sync: SyncTransport | None = _sync_transport_of(client)
        self._async: AsyncTransport | None = _async_transport_of(async_client)
        self._own_sync = client is None
        self._own_async = async_client is None
        self._lock = _thread.allocate_lock()  # threading.Lock, without importing threading

    @classmethod
    def from_env(
        cls,
        *,
        api_key_env: str = "R9S_API_KEY",
        base_url_env: str = "R9S_BASE_URL",
        default_base_url: str | None = DEFAULT_SERVER_URL,
        **kwargs: Any,
    ) -> R9S:
        """A client configured from the environment, as the published SDK's.

        Args:
            api_key_env: the variable holding the key (``R9S_API_KEY``).
            base_url_env: the variable holding the base URL (``R9S_BASE_URL``).
            default_base_url: the base URL when that variable is unset or empty.
            **kwargs: any other argument of ``R9S`` (an explicit ``server_url`` wins).

        Raises:
            ValueError: the key variable is not set (or blank), and no ``api_key`` given.
        """
        key = (os.environ.get(api_key_env) or "").strip()
        if not key and "api_key" not in kwargs:
            raise ValueError(f"{api_key_env} is not set: export {api_key_env}=<your key>")
        kwargs.setdefault("api_key", key)
        url = (os.environ.get(base_url_env) or "").strip() or (default_base_url or "").strip()
        if url and "base_url" not in kwargs:
            kwargs.setdefault("server_url", url)
        return cls(**kwargs)

    @property
    def server_url(self) -> str:
        return self._config.server_url

    #: The API, one attribute per area, as in the published SDK.
    chat: _Resource[Chat] = _Resource()
    completions: _Resource[Completions] = _Resource()
    responses: _Resource[Responses] = _Resource()
    messages: _Resource[Messages] = _Resource()
    models: _Resource[Models] = _Resource()
    embeddings: _Resource[Embeddings] = _Resource()
    engine_embeddings: _Resource[EngineEmbeddings] = _Resource()
    moderations: _Resource[Moderations] = _Resource()
    edits: _Resource[Edits] = _Resource()
    search: _Resource[Search] = _Resource()
    proxy: _Resource[Proxy] = _Resource()
    images: _Resource[Images] = _Resource()
    audio: _Resource[Audio] = _Resource()

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

    def _prepare(self, op: Operation[Any], params: Mapping[str, Any]) -> Any:
        params = dict(params)
        options = {name: params.pop(name) for name in OPTION_NAMES if name in params}
        return prepare(op, params, self._config, **options)

    def _run(self, op: Operation[R], params: Mapping[str, Any]) -> R:
        """Run ``op``: its result (or, for a streamed call, its ``EventStream``)."""
        from r9s._sync_driver import execute

        call = self._prepare(op, params)
        return execute(self._sync_transport(), call, self._logger(), self.hooks)  # type: ignore[no-any-return]

    async def _run_async(self, op: Operation[R], params: Mapping[str, Any]) -> R:
        from r9s._async_driver import execute_async

        call = self._prepare(op, params)
        result: R = await execute_async(self._async_transport(), call, self._logger(), self.hooks)
        return result

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

    def __del__(self) -> None:
        # A client dropped without close(): its idle pooled (sync) connections go with it,
        # quietly, as openai-python's client does.  Async pools belong to their event loops.
        try:
            self.close()
        except Exception:
            pass

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

    def __repr__(self) -> str:  # never credentials in the URL
        return f"R9S(server_url={redact_url(self._config.server_url)!r})"


def _server_url(
    server_idx: int | None,
    server_url: str | None,
    url_params: Mapping[str, str] | None,
    base_url: str | None,
) -> str:
    """The base URL, as the published SDK picks it: ``server_url`` (templated with
    ``url_params``) if given, else ``SERVERS[server_idx]``; ``base_url`` is a synonym."""
    if base_url is not None:
        if server_url is not None and server_url != base_url:
            raise TypeError("give server_url or base_url (its synonym), not both")
        server_url = base_url
    if server_url:
        if url_params:
            for name, value in url_params.items():
                server_url = server_url.replace("{" + name + "}", value)
        if "{" in server_url and "}" in server_url:
            raise ValueError(
                f"server_url {redact_url(server_url)!r} has a {{placeholder}} that url_params "
                "did not fill"
            )
        if not server_url.startswith(("http://", "https://")):
            raise ValueError(
                f"server_url must be an absolute http(s) URL, got {redact_url(server_url)!r}"
            )
        return server_url
    index = 0 if server_idx is None else server_idx
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(SERVERS):
        raise ValueError(f"server_idx must be 0..{len(SERVERS) - 1}, got {server_idx!r}")
    return SERVERS[index]


def _sync_transport_of(client: Any) -> SyncTransport | None:
    """``client=``: an r9s transport, or an ``httpx.Client`` (adapted; httpx is never
    imported unless such a client is given)."""
    if client is None or hasattr(client, "handle_request"):
        return client  # type: ignore[no-any-return]
    from r9s.transports.httpx_adapter import adapt_sync

    adapted = adapt_sync(client)
    if adapted is None:
        raise TypeError(
            "client must be an r9s transport (with handle_request) or an httpx.Client, "
            f"not {type(client).__name__}"
        )
    return adapted


def _async_transport_of(client: Any) -> AsyncTransport | None:
    """``async_client=``: an r9s async transport, or an ``httpx.AsyncClient`` (adapted)."""
    if client is None or hasattr(client, "handle_async_request"):
        return client  # type: ignore[no-any-return]
    from r9s.transports.httpx_adapter import adapt_async

    adapted = adapt_async(client)
    if adapted is None:
        raise TypeError(
            "async_client must be an r9s async transport (with handle_async_request) or an "
            f"httpx.AsyncClient, not {type(client).__name__}"
        )
    return adapted


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
