"""Transports over a caller's own ``httpx.Client`` / ``httpx.AsyncClient``.

Code written for the published ``r9s`` 0.9.0 package (built on httpx) passes its own clients,
e.g. to set proxies, certificates or connection limits::

    R9S(api_key=..., client=httpx.Client(proxy=...), async_client=httpx.AsyncClient(...))

``adapt_sync`` / ``adapt_async`` recognise such objects and wrap them in ``HttpxTransport`` /
``HttpxAsyncTransport``; everything after the transport (content decoding, server-sent events,
errors, retries, limits) stays r9s's own.  httpx is never a dependency of r9s: importing this
module does not import httpx (nor anyio); ``adapt_*`` look at an object's class module first and
import httpx only for an object whose class comes from it.

What the caller's client decides, and what r9s decides:

- **The request** is built with ``client.build_request``: r9s's method, URL, headers and body
  over the client's own defaults (its ``headers``, cookies, ``params``), as the published SDK
  did; r9s's fields replace same-named defaults.  ``Host``, ``Content-Length`` and
  ``Transfer-Encoding`` are httpx's to set.  When r9s's request carries no ``Accept-Encoding``,
  httpx's default one (which may name ``br`` or ``zstd``, codings r9s cannot decode) is removed,
  so nothing is asked for, as with r9s's own transports.
- **Sending** is ``client.send(request, stream=True)``: the client's auth, event hooks, proxies,
  TLS settings, pool limits, HTTP/2 and its own ``follow_redirects`` setting all apply; none is
  overridden.  (httpx drops ``Authorization`` on a redirect to another origin.)
- **Timeouts**: r9s's ``Timeout`` (from ``timeout_ms``, or r9s's default of 10 s to connect and
  600 s per read) replaces the client's own timeout on every request: connect, read, write and
  pool map one to one onto ``httpx.Timeout``.
- **The body** is handed over raw (``iter_raw`` / ``aiter_raw``): gzip and deflate are decoded by
  r9s's core, not by httpx.  A body httpx has read already (an event hook called
  ``response.read()``, or an ``httpx.MockTransport`` handler answered with ``content=``) is
  handed over as httpx decoded it, without the ``Content-Encoding`` field; one an event hook
  consumed without keeping it fails the request with a ``RuntimeError``.
- **Per-read timeouts** (``read_chunk(timeout=...)``: the call's ``idle_timeout`` and
  ``first_event_timeout``, and the short drain after a stream's ``[DONE]``) replace the request's
  read timeout for one read.  Async: an anyio cancel scope around the read.  Sync: httpx has no
  way to say so; httpcore fixes a response's read timeout when its body starts.  On an HTTP/1
  connection of httpx's own transport, the adapter sets the timeout on the ``network_stream``
  that httpcore exposes and reads through, for that one read (``_one_read_timeout``).  Elsewhere
  (HTTP/2, whose connection is shared; a custom transport) each sync read waits up to the
  request's read timeout: a stalled stream then ends with that read timeout rather than at its
  ``idle_timeout``, and a server that holds the connection open after ``[DONE]`` keeps the
  stream's close waiting for the body's end, up to that timeout.  (``deadline`` and
  ``first_event_timeout`` still bound a stall there: r9s caps the request's read timeout by
  both.)  Either way, when a read times out httpx drops the connection.
- **Closing** a response before its body ended closes it in httpx too, which drops its
  connection instead of pooling it: the client's pool stays consistent.  Closing the
  *transport* does nothing to the client: the caller made it and closes it (the published SDK
  never closed a client it was given either).
- **Errors** are translated here, as ``r9s.transports.base`` describes: a timeout becomes
  ``RequestTimeoutError``; a connection that fails before a response head,
  ``NoResponseError``; one cut (or reset) mid-body, ``IncompleteResponseError``; a request
  httpx refuses to send (a bad URL or header), ``ValueError``.  Messages name ``host:port`` and
  what failed; values of credential headers (``Authorization`` ...) are removed from any text
  taken from httpx, and a refused request is not chained to httpx's error (which may quote a
  header value).  Cancellation is never translated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

from r9s._core.headers import SENSITIVE_HEADERS, Headers
from r9s._core.request import Request, Timeout
from r9s.errors import IncompleteResponseError, NoResponseError, RequestTimeoutError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "HttpxAsyncResponse",
    "HttpxAsyncTransport",
    "HttpxResponse",
    "HttpxTransport",
    "adapt_async",
    "adapt_sync",
]

#: Request fields httpx sets itself; never copied from r9s's request.
_OWN_FIELDS: Final = frozenset({"host", "content-length", "transfer-encoding"})
#: Longest an async close may take while the caller is being cancelled.
_CLOSE_TIMEOUT: Final = 1.0
#: Credential values shorter than this are not scrubbed from messages (they would garble the
#: text and reveal nothing).
_MIN_SECRET: Final = 4
#: Most buffered pieces run through when finishing httpx's body iterator after a close.
_FINISH_STEPS: Final = 100_000
#: h11's words for a body that ended before its declared end (httpx passes them on).
_CUT_BODY: Final = "without sending complete message body"


# ---------------------------------------------------------------------------------------------
# Recognising httpx clients without importing httpx


def _from_httpx(obj: object) -> bool:
    """Whether ``obj``'s class, or a class it derives from, is defined in the httpx package."""
    for cls in type(obj).__mro__:
        module = getattr(cls, "__module__", None)
        if isinstance(module, str) and module.partition(".")[0] == "httpx":
            return True
    return False


def adapt_sync(obj: object) -> HttpxTransport | None:
    """An ``HttpxTransport`` over ``obj`` if it is an ``httpx.Client``, else ``None``.

    httpx is imported only when ``obj``'s class comes from it.
    """
    if not _from_httpx(obj):
        return None
    import httpx

    return HttpxTransport(obj) if isinstance(obj, httpx.Client) else None


def adapt_async(obj: object) -> HttpxAsyncTransport | None:
    """An ``HttpxAsyncTransport`` over ``obj`` if it is an ``httpx.AsyncClient``, else ``None``.

    httpx is imported only when ``obj``'s class comes from it.
    """
    if not _from_httpx(obj):
        return None
    import httpx

    return HttpxAsyncTransport(obj) if isinstance(obj, httpx.AsyncClient) else None


# ---------------------------------------------------------------------------------------------
# Requests in, heads out


class _AsyncPieces:
    """A streamed body's pieces for an ``httpx.AsyncClient``, produced on the event loop (each
    step is bounded work, as ``StreamedBody.pieces`` promises).  Not an async generator:
    nothing is left for the loop to finalize when sending stops half way."""

    __slots__ = ("_pieces",)

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces

    def __aiter__(self) -> _AsyncPieces:
        return self

    async def __anext__(self) -> bytes:
        try:
            return next(self._pieces)
        except StopIteration:
            raise StopAsyncIteration from None


def _build(
    client: httpx.Client | httpx.AsyncClient, request: Request, timeout: Timeout
) -> httpx.Request:
    """The ``httpx.Request`` for ``request``, with r9s's timeouts.

    A streamed body (``StreamedBody``) goes through ``checked_pieces`` (counted against its
    declared length; a failure of its source raises ``BodyReadError``), with its length as
    ``Content-Length``, or chunked when unknown.

    Raises:
        ValueError: httpx cannot build it (a bad URL, a header value that is not ASCII).
    """
    import httpx

    fields = [(k, v) for k, v in request.headers.raw() if k.lower() not in _OWN_FIELDS]
    body = request.body
    content: bytes | Iterator[bytes] | _AsyncPieces | None
    if isinstance(body, (bytes, bytearray, memoryview)):
        content = bytes(body) or None
    else:
        from r9s._core import request as core_request

        length = body.length
        if length is not None:
            fields.append(("Content-Length", str(length)))
        content = core_request.checked_pieces(body)
        if isinstance(client, httpx.AsyncClient):
            content = _AsyncPieces(content)
    try:
        built = client.build_request(
            request.method,
            request.url,
            headers=fields,
            content=content,
            timeout=httpx.Timeout(
                connect=timeout.connect,
                read=timeout.read,
                write=timeout.write,
                pool=timeout.pool,
            ),
        )
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        text = _scrub(_describe(exc), _secrets(request.headers.raw()))
        raise ValueError(f"httpx cannot build this request: {text}") from None
    if "accept-encoding" not in request.headers:
        built.headers.pop("accept-encoding", None)
    return built


def _where(built: httpx.Request) -> str:
    url = built.url
    host = url.host
    if ":" in host:
        host = f"[{host}]"
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{host}:{port}"


def _secrets(fields: Iterable[tuple[str | bytes, str | bytes]]) -> tuple[str, ...]:
    """Values of credential headers among ``fields`` (str or bytes pairs), longest first."""
    found: set[str] = set()
    for name, value in fields:
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if name.lower() not in SENSITIVE_HEADERS:
            continue
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        value = value.strip()
        found.add(value)
        token = value.partition(" ")[2]  # "Bearer sk-..." -> also "sk-..."
        if token:
            found.add(token.strip())
    return tuple(sorted((s for s in found if len(s) >= _MIN_SECRET), key=len, reverse=True))


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "<redacted>")
        quoted = repr(secret)[1:-1]  # as it appears inside a quoted repr
        if quoted != secret and quoted in text:
            text = text.replace(quoted, "<redacted>")
    return text


def _describe(exc: BaseException) -> str:
    text = (str(exc) or type(exc).__name__).strip()
    if len(text) > 200:
        text = text[:200] + "..."
    return f"{type(exc).__name__}: {text}"


def _secs(seconds: float | None) -> str:
    if seconds is None:
        return "ever"
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.3g} s"


def _send_error(
    exc: Exception, where: str, timeout: Timeout, secrets: tuple[str, ...]
) -> Exception | None:
    """The r9s error for an httpx failure before a response head; ``None``: not httpx's."""
    import httpx

    if not isinstance(exc, httpx.HTTPError):
        return None
    reason = _scrub(_describe(exc), secrets)
    if isinstance(exc, httpx.ConnectTimeout):
        return RequestTimeoutError(
            f"could not connect to {where} within {_secs(timeout.connect)} (connect timeout)"
        )
    if isinstance(exc, httpx.PoolTimeout):
        return RequestTimeoutError(
            f"no free connection to {where} in the httpx client's pool within "
            f"{_secs(timeout.pool)} (pool timeout)"
        )
    if isinstance(exc, httpx.WriteTimeout):
        return RequestTimeoutError(
            f"could not send the request to {where} within {_secs(timeout.write)} (write timeout)"
        )
    if isinstance(exc, httpx.ReadTimeout):
        return RequestTimeoutError(
            f"no response from {where} within {_secs(timeout.read)} (read timeout)"
        )
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(f"the request to {where} timed out: {reason}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
        return ValueError(f"httpx refused to send this request to {where}: {reason}")
    if isinstance(exc, httpx.ProxyError):
        return NoResponseError(f"the proxy for {where} failed: {reason}")
    if isinstance(exc, httpx.ConnectError):
        return NoResponseError(f"could not connect to {where}: {reason}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return NoResponseError(f"no valid response from {where}: {reason}")
    return NoResponseError(f"the request to {where} failed: {reason}")


def _raise_send_error(
    exc: Exception, where: str, timeout: Timeout, secrets: tuple[str, ...]
) -> None:
    err = _send_error(exc, where, timeout, secrets)
    if err is None:
        return  # not httpx's: the caller re-raises it untouched
    if isinstance(err, ValueError):
        raise err from None  # httpx's text may quote a header value: do not chain it
    raise err from exc


def _response_headers(response: httpx.Response, decoded: bool) -> Headers:
    """The head's fields; without ``Content-Encoding`` when httpx ``decoded`` the body."""
    return Headers(
        [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in response.headers.raw
            if not (decoded and k.lower() == b"content-encoding")
        ]
    )


def _patchable_stream(response: httpx.Response) -> Any:
    """httpcore's ``network_stream`` of an HTTP/1 response, if one read's timeout can be set
    on it (``HttpxResponse._one_read_timeout``); else ``None``."""
    if response.http_version not in ("HTTP/1.1", "HTTP/1.0"):
        return None  # an HTTP/2 connection's stream is shared by concurrent requests
    net = response.extensions.get("network_stream")
    if net is None or not callable(getattr(net, "read", None)):
        return None
    if "read" in getattr(net, "__dict__", {"read": "no instance attributes"}):
        return None  # patched already (by someone else), or cannot be patched
    return net


def _read_already(response: httpx.Response) -> bytes | None:
    """The body, decoded, if httpx read it before handing the response over, else ``None``.

    That happens when an event hook called ``response.read()``, or when an
    ``httpx.MockTransport`` handler answered with ``content=`` (httpx reads those at once).

    Raises:
        RuntimeError: the body was consumed as a stream and not kept (an event hook iterated
            it): it is gone.
    """
    if not response.is_stream_consumed:
        return None
    try:
        return response.content
    except RuntimeError:  # httpx.ResponseNotRead
        raise RuntimeError(
            "the httpx client's event hooks consumed the response body without keeping it; "
            "r9s needs it unread (or read with response.read())"
        ) from None


# ---------------------------------------------------------------------------------------------
# Body errors


class _Body:
    """What both response classes share: bookkeeping and error translation for the body."""

    __slots__ = ("_closed", "_done", "_read_timeout", "_received", "_secrets", "_where")

    def __init__(self, where: str, read_timeout: float | None, secrets: tuple[str, ...]) -> None:
        self._where = where
        self._read_timeout = read_timeout
        self._secrets = secrets
        self._received = 0
        self._done = False
        self._closed = False

    def _closed_error(self) -> NoResponseError:
        return NoResponseError(
            f"the response from {self._where} was closed before its body was read to the end"
        )

    def _timed_out(self, seconds: float | None) -> RequestTimeoutError:
        return RequestTimeoutError(
            f"no data from {self._where} for {_secs(seconds)} (read timeout)"
        )

    def _body_error(self, exc: Exception, seconds: float | None) -> NoResponseError | None:
        """The r9s error for an httpx failure while reading the body; ``None``: not httpx's.

        ``seconds``: the read timeout that was in force for this read.
        """
        import httpx

        if not isinstance(exc, httpx.HTTPError):
            return None
        if isinstance(exc, httpx.TimeoutException):
            return self._timed_out(seconds)
        reason = _scrub(_describe(exc), self._secrets)
        after = f"after {self._received} bytes of the body"
        if isinstance(exc, httpx.RemoteProtocolError):
            if _CUT_BODY in str(exc):
                return IncompleteResponseError(
                    f"the body from {self._where} ended before its declared end, {after} ({reason})"
                )
            return NoResponseError(f"malformed body from {self._where}, {after}: {reason}")
        if isinstance(exc, httpx.NetworkError):  # a reset, mostly: the body was cut
            return IncompleteResponseError(
                f"the connection to {self._where} failed {after}: {reason}"
            )
        return NoResponseError(f"reading the body from {self._where} failed, {after}: {reason}")


# ---------------------------------------------------------------------------------------------
# Sync


class HttpxResponse(_Body):
    """A response whose head arrived; ``read_chunk`` hands over the raw body as it comes.

    Attributes:
        status_code: the HTTP status.
        headers: every header field, in the order received.
    """

    __slots__ = ("_chunks", "_net", "_pending", "_response", "headers", "status_code")

    status_code: int
    headers: Headers

    def __init__(
        self,
        response: httpx.Response,
        where: str,
        read_timeout: float | None,
        secrets: tuple[str, ...],
    ) -> None:
        super().__init__(where, read_timeout, secrets)
        body = _read_already(response)
        self.status_code = response.status_code
        self.headers = _response_headers(response, decoded=body is not None)
        self._response = response
        #: The body when httpx had read it already (then handed over in one piece).
        self._pending = body or b""
        #: One iterator per response: httpx's ``iter_raw`` may be started only once.
        self._chunks: Iterator[bytes] | None = None if body is not None else response.iter_raw()
        #: Where one read's timeout can be set (see ``_one_read_timeout``), else ``None``.
        self._net: Any = None if body is not None else _patchable_stream(response)

    def read_chunk(self, timeout: float | None = None) -> bytes:
        """The next piece of the body, content coding kept; ``b""`` once it ended cleanly.

        Args:
            timeout: seconds to wait for bytes this time, instead of the request's read timeout
                (at least 1 ms); honoured on HTTP/1 connections made by httpx's own transport
                (see ``_one_read_timeout``), else each read waits up to the request's read
                timeout.  On expiry the connection is dropped, as on any read timeout.

        Raises:
            IncompleteResponseError: the connection ended or failed before the body's end.
            RequestTimeoutError: no bytes within the read timeout.
            NoResponseError: a malformed body, another failure, or the response was closed.
        """
        if self._done:
            return b""
        if self._closed:
            raise self._closed_error()
        if self._pending:
            chunk, self._pending = self._pending, b""
            self._received += len(chunk)
            return chunk
        net = None if timeout is None else self._one_read_timeout(timeout)
        try:
            for chunk in self._chunks or ():
                if chunk:
                    self._received += len(chunk)
                    return chunk
        except Exception as exc:
            self.close()
            seconds = self._read_timeout if net is None else timeout
            err = self._body_error(exc, seconds)
            if err is None:
                raise
            raise err from exc
        except BaseException:
            self.close()
            raise
        finally:
            if net is not None:
                try:
                    del net.read  # the class's own method again
                except AttributeError:
                    pass
        self._done = True  # httpx released the connection to its pool at the end
        return b""

    def _one_read_timeout(self, timeout: float) -> Any:
        """Make the connection's next socket reads wait at most ``timeout`` seconds.

        httpcore reads an HTTP/1 body through the ``network_stream`` it exposes in the
        response's extensions, calling ``read(max_bytes, timeout=...)`` with the read timeout it
        fixed when the body started.  For the length of one ``read_chunk`` that object gets an
        instance attribute ``read`` that passes ``timeout`` instead (the caller deletes it
        afterwards).  Bytes httpcore has buffered already are handed out without a socket
        read, so this is exactly "wait at most ``timeout`` for more bytes".  An HTTP/1
        connection serves one request at a time, so no other reader sees the change.

        Returns:
            The patched stream, or ``None`` when there is none to patch (HTTP/2, another
            transport, a stream that refuses attributes): the request's read timeout applies.
        """
        net = self._net
        if net is None:
            return None
        original = net.read
        seconds = max(timeout, 0.001)  # 0 would make the socket non-blocking

        def read(max_bytes: int, timeout: float | None = None) -> bytes:
            return original(max_bytes, seconds)  # type: ignore[no-any-return]

        try:
            net.read = read
        except (AttributeError, TypeError):
            self._net = None
            return None
        return net

    def close(self) -> None:
        """Close the httpx response: its connection is pooled only if the body ended. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._response.close()
        except Exception:
            pass
        close = getattr(self._chunks, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                pass

    def __enter__(self) -> HttpxResponse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class HttpxTransport:
    """A ``SyncTransport`` over the caller's ``httpx.Client`` (see the module docstring).

    ``close()`` does not close the client: its owner does.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def handle_request(self, request: Request, timeout: Timeout) -> HttpxResponse:
        """Send ``request`` through the client; return once the status and headers arrived.

        Raises:
            RequestTimeoutError: a connect, write, read (for the head) or pool timeout.
            NoResponseError: no response: refused, reset, DNS, TLS or proxy failure.
            ValueError: httpx cannot send the request (bad URL or header).
        """
        built = _build(self.client, request, timeout)
        where = _where(built)
        secrets = _secrets((*request.headers.raw(), *built.headers.raw))
        try:
            response = self.client.send(built, stream=True)
        except Exception as exc:
            _raise_send_error(exc, where, timeout, secrets)
            raise
        try:
            return HttpxResponse(response, where, timeout.read, secrets)
        except BaseException:
            response.close()
            raise

    def close(self) -> None:
        """Does nothing: the ``httpx.Client`` belongs to the caller, who closes it."""

    def __repr__(self) -> str:
        return f"HttpxTransport({type(self.client).__name__})"


# ---------------------------------------------------------------------------------------------
# Async


class HttpxAsyncResponse(_Body):
    """As ``HttpxResponse``, awaited; ``read_chunk(timeout=...)`` is honoured here."""

    __slots__ = ("_chunks", "_pending", "_response", "headers", "status_code")

    status_code: int
    headers: Headers

    def __init__(
        self,
        response: httpx.Response,
        where: str,
        read_timeout: float | None,
        secrets: tuple[str, ...],
    ) -> None:
        super().__init__(where, read_timeout, secrets)
        body = _read_already(response)
        self.status_code = response.status_code
        self.headers = _response_headers(response, decoded=body is not None)
        self._response = response
        #: The body when httpx had read it already (then handed over in one piece).
        self._pending = body or b""
        #: One iterator per response: httpx's ``aiter_raw`` may be started only once.
        self._chunks: AsyncIterator[bytes] | None = (
            None if body is not None else response.aiter_raw()
        )

    async def _next(self) -> bytes:
        if self._chunks is None:
            return b""
        async for chunk in self._chunks:
            if chunk:
                return chunk
        return b""

    async def read_chunk(self, timeout: float | None = None) -> bytes:
        """The next piece of the body, content coding kept; ``b""`` once it ended cleanly.

        Args:
            timeout: seconds to wait for bytes this time, instead of the request's read timeout
                (when shorter).  On expiry the connection is dropped, as on any read timeout.

        Raises:
            IncompleteResponseError: the connection ended or failed before the body's end.
            RequestTimeoutError: no bytes within the timeout.
            NoResponseError: a malformed body, another failure, or the response was closed.
        """
        if self._done:
            return b""
        if self._closed:
            raise self._closed_error()
        if self._pending:
            data, self._pending = self._pending, b""
            self._received += len(data)
            return data
        chunk: bytes | None = None
        try:
            if timeout is None:
                chunk = await self._next()
            else:
                import anyio

                with anyio.move_on_after(max(timeout, 0.0)):
                    chunk = await self._next()
        except Exception as exc:
            await self.aclose()
            err = self._body_error(exc, self._read_timeout)  # httpx's own timeout fired
            if err is None:
                raise
            raise err from exc
        except BaseException:
            await self.aclose()
            raise
        if chunk is None:  # the per-read timeout expired (httpx dropped the connection)
            await self.aclose()
            raise self._timed_out(timeout)
        if chunk:
            self._received += len(chunk)
            return chunk
        self._done = True  # httpx released the connection to its pool at the end
        return b""

    async def aclose(self) -> None:
        """Close the httpx response: its connection is pooled only if the body ended.

        Idempotent; completes (within a second) even while the caller is being cancelled.
        """
        if self._closed:
            return
        self._closed = True
        import anyio

        with anyio.move_on_after(_CLOSE_TIMEOUT, shield=True):
            try:
                await self._response.aclose()
            except Exception:
                pass
            await self._finish_chunks()

    async def _finish_chunks(self) -> None:
        """Run httpx's body iterator to its end once the response is closed, without waiting.

        ``aiter_raw`` is the outermost of several nested async generators (httpx's, then
        httpcore's).  Closing just it would leave the inner ones suspended for the garbage
        collector, which makes trio warn about each (``ResourceWarning``) and asyncio schedule
        a task per layer.  Resumed after the close, the innermost one hands out what httpcore
        had already buffered, then fails on the closed connection, ends, or is cancelled at its
        first wait (the zero deadline: nothing is ever waited for here), and every layer ends
        with it.  (Before its first step, ``aiter_raw`` just raises ``StreamClosed``.)
        """
        chunks, self._chunks = self._chunks, None
        if chunks is None:
            return
        import anyio

        try:
            with anyio.move_on_after(0):
                for _ in range(_FINISH_STEPS):
                    await chunks.__anext__()
        except Exception:  # StopAsyncIteration, or httpx's error for the closed connection
            return
        aclose = getattr(chunks, "aclose", None)  # cancelled, or more buffered than expected
        if aclose is not None:
            try:
                await aclose()
            except Exception:
                pass

    async def __aenter__(self) -> HttpxAsyncResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class HttpxAsyncTransport:
    """An ``AsyncTransport`` over the caller's ``httpx.AsyncClient`` (see the module docstring).

    Runs wherever the client runs (asyncio, or trio with httpx's trio support).  ``aclose()``
    does not close the client: its owner does.
    """

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def handle_async_request(self, request: Request, timeout: Timeout) -> HttpxAsyncResponse:
        """Send ``request`` through the client; return once the status and headers arrived.

        Raises:
            RequestTimeoutError: a connect, write, read (for the head) or pool timeout.
            NoResponseError: no response: refused, reset, DNS, TLS or proxy failure.
            ValueError: httpx cannot send the request (bad URL or header).
        """
        built = _build(self.client, request, timeout)
        where = _where(built)
        secrets = _secrets((*request.headers.raw(), *built.headers.raw))
        try:
            response = await self.client.send(built, stream=True)
        except Exception as exc:
            _raise_send_error(exc, where, timeout, secrets)
            raise
        try:
            return HttpxAsyncResponse(response, where, timeout.read, secrets)
        except BaseException:
            import anyio

            with anyio.move_on_after(_CLOSE_TIMEOUT, shield=True):
                await response.aclose()
            raise

    async def aclose(self) -> None:
        """Does nothing: the ``httpx.AsyncClient`` belongs to the caller, who closes it."""

    def __repr__(self) -> str:
        return f"HttpxAsyncTransport({type(self.client).__name__})"
