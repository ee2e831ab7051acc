"""Security properties, end to end, under every runtime (sync; async under asyncio and trio).

- The API key never shows: not in ``repr``/``str`` of the client, requests, responses, streams
  or errors, not in log output at DEBUG, not in formatted tracebacks, whether the call
  succeeded, got a 401 whose body echoes the key, timed out or could not connect.
- Header values (and names, and keys) holding CR or LF are refused before anything is sent.
- Redirects are not followed, so the ``Authorization`` header never travels to another origin.
- TLS verification is on unless switched off explicitly with ``verify=False``.
- Proxy credentials from ``HTTP_PROXY`` never show in errors or reprs.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from _procs import TLSFiles, free_port
from _support.scripted_server import (
    Conn,
    ReceivedRequest,
    ScriptedServer,
    keepalive,
    response,
    server_context,
)

from r9s import R9S, errors, protocol
from r9s.testing import FakeServer
from r9s.transports.h11_anyio import H11Transport
from r9s.transports.urllib import UrllibTransport
from r9s.utils import BackoffStrategy, RetryConfig

KEY = "sk-live-SECRET-4f9a8b7c6d5e4f3a2b1c"
#: Parts of the key that must not show either (a truncated key is still a leak).
KEY_PARTS = (KEY, "SECRET-4f9a8b7c", "4f9a8b7c6d5e4f3a2b1c")
MSGS = [{"role": "user", "content": "Hi"}]
RUNTIMES = ["sync", "asyncio", "trio"]
FAST_RETRY = RetryConfig("backoff", BackoffStrategy(1, 5, 2, 300), retry_connection_errors=True)


# -- helpers ------------------------------------------------------------------------------------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # the message, arguments and any traceback


@pytest.fixture
def logs() -> Iterator[list[str]]:
    """Every log line written during the test, at DEBUG, from ``r9s`` and everything else."""
    handler = _Lines()
    r9s_logger, root = logging.getLogger("r9s"), logging.getLogger()
    old = r9s_logger.level, root.level
    r9s_logger.setLevel(logging.DEBUG)
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        r9s_logger.setLevel(old[0])
        root.setLevel(old[1])


def texts_of(obj: Any) -> list[str]:
    """Every way ``obj`` gets printed: repr and str; for errors, their fields and traceback."""
    out = [repr(obj), str(obj)]
    if isinstance(obj, BaseException):
        out.append("".join(traceback.format_exception(obj)))
    if isinstance(obj, errors.R9SError):
        out += [obj.message, obj.body, repr(obj.headers), repr(obj.raw_response)]
        if obj.raw_response is not None and obj.raw_response.request is not None:
            out.append(repr(obj.raw_response.request))
    return out


def assert_hidden(secrets: tuple[str, ...], *things: Any) -> None:
    for thing in things:
        for text in texts_of(thing) if not isinstance(thing, list) else thing:
            for secret in secrets:
                assert secret not in text, f"{secret!r} leaked into: {text[:500]}"


def run(runtime: str, make: Callable[[], R9S], **kwargs: Any) -> tuple[R9S, Any]:
    """One ``chat.create`` under ``runtime``, a stream read to its end; returns the client and
    the result (or the ``R9SError`` raised)."""
    c = make()
    if runtime == "sync":
        with c:
            try:
                res = c.chat.create(model="m", messages=MSGS, **kwargs)
                if kwargs.get("stream"):
                    with res:
                        return c, (res, list(res))
                return c, res
            except errors.R9SError as exc:
                return c, exc

    async def main() -> Any:
        async with c:
            try:
                res = await c.chat.create_async(model="m", messages=MSGS, **kwargs)
                if kwargs.get("stream"):
                    async with res:
                        return res, [x async for x in res]
                return res
            except errors.R9SError as exc:
                return exc

    return c, anyio.run(main, backend=runtime)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def _echo_key_401(req: ReceivedRequest) -> bytes:
    token = (req.header("authorization") or "").partition(" ")[2]
    body = {
        "error": {"message": f"Incorrect API key provided: {token}.", "code": "invalid_api_key"}
    }
    return response(
        json.dumps(body).encode(), status=401, headers={"Content-Type": "application/json"}
    )


def _echo_key_401_text(req: ReceivedRequest) -> bytes:
    auth = req.header("authorization") or ""
    return response(
        f"denied: {auth}\n".encode(), status=401, headers={"Content-Type": "text/plain"}
    )


def _echo_key_in_param(req: ReceivedRequest) -> bytes:
    token = (req.header("authorization") or "").partition(" ")[2]
    body = {"error": {"message": "Bad request.", "param": token, "echo": {"auth": token}}}
    return response(
        json.dumps(body).encode(), status=400, headers={"Content-Type": "application/json"}
    )


def _echo_key_503(req: ReceivedRequest) -> bytes:
    auth = req.header("authorization") or ""
    return response(
        f"<html>overloaded ({auth})</html>".encode(), status=503, headers={"Retry-After": "0"}
    )


def _echo_key_in_stream(req: ReceivedRequest) -> bytes:
    token = (req.header("authorization") or "").partition(" ")[2]
    first = {"choices": [{"index": 0, "delta": {"content": "Hel"}}]}
    error = {"error": {"message": f"key {token} was revoked", "code": 401}}
    body = f"data: {json.dumps(first)}\n\ndata: {json.dumps(error)}\n\n".encode()
    return response(body, status=200, headers={"Content-Type": "text/event-stream"})


def _stall(conn: Conn) -> None:
    conn.read_request()
    conn.hold(10)


LEAK_SCENARIOS: dict[str, tuple[Any, dict[str, Any], type | None]] = {
    # name: (script, or None for FakeServer; call kwargs; expected error class or None)
    "success": (None, {}, None),
    "success-stream": (None, {"stream": True}, None),
    "401-json-echoes-key": (keepalive(_echo_key_401), {}, errors.AuthenticationError),
    "401-text-echoes-key": (keepalive(_echo_key_401_text), {}, errors.AuthenticationError),
    "400-key-in-params": (keepalive(_echo_key_in_param), {}, errors.BadRequestError),
    "503-echoes-key-with-retries": (
        keepalive(_echo_key_503),
        {"retries": FAST_RETRY},
        errors.ServiceUnavailableError,
    ),
    "stream-error-echoes-key": (
        keepalive(_echo_key_in_stream),
        {"stream": True},
        errors.AuthenticationError,
    ),
    "timeout-with-retries": (
        _stall,
        {"timeout_ms": 200, "retries": FAST_RETRY},
        errors.RequestTimeoutError,
    ),
    "connection-refused-with-retries": ("refused", {"retries": FAST_RETRY}, errors.NoResponseError),
}


# -- the key never shows ------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("scenario", list(LEAK_SCENARIOS))
def test_api_key_never_shows(
    scenario: str, runtime: str, fake: FakeServer, logs: list[str]
) -> None:
    script, kwargs, expected = LEAK_SCENARIOS[scenario]
    server: ScriptedServer | None = None
    if script is None:
        url = fake.url
    elif script == "refused":
        url = f"http://127.0.0.1:{free_port()}/v1"
    else:
        server = ScriptedServer(script)
        url = server.url("/v1")
    try:
        c, result = run(
            runtime,
            lambda: R9S(api_key=KEY, server_url=url, retry_config=None, timeout_ms=5000),
            **kwargs,
        )
    finally:
        if server is not None:
            server.close()
    if expected is None:
        assert not isinstance(result, BaseException), repr(result)
    else:
        assert isinstance(result, expected), repr(result)
    if server is not None and server.requests:
        assert KEY in json.dumps([r.headers for r in server.requests])  # the key was sent
    request = protocol.build_request("chat.create", api_key=KEY, model="m", messages=MSGS)
    call = protocol.build_call("chat.create", api_key=KEY, model="m", messages=MSGS)
    things: list[Any] = [c, request, request.headers, call, result, logs]
    if isinstance(result, tuple):  # a stream and its events
        things += [result[0], *result[1]]
    assert_hidden(KEY_PARTS, *things)
    assert any(" r9s " in line for line in logs)  # r9s did log: request lines or retries


def _json_200_error_echoes_key(req: ReceivedRequest) -> bytes:
    token = (req.header("authorization") or "").partition(" ")[2]
    body = {"error": {"message": f"key {token} was revoked", "type": "authentication_error"}}
    return response(
        json.dumps(body).encode(), status=200, headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize(
    ("handler", "stream"),
    [
        pytest.param(_echo_key_401, False, id="401-json"),
        pytest.param(_echo_key_in_param, False, id="400-key-in-params"),
        pytest.param(_json_200_error_echoes_key, False, id="200-json-error-body"),
        pytest.param(_echo_key_in_stream, True, id="stream-error-event"),
    ],
)
def test_error_data_never_holds_the_key(handler: Any, stream: bool, runtime: str) -> None:
    """``err.data``, the decoded error body, is as clean as ``err.body`` and ``str(err)``."""
    with ScriptedServer(keepalive(handler)) as server:
        _, err = run(
            runtime,
            lambda: R9S(api_key=KEY, server_url=server.url("/v1"), retry_config=None),
            stream=stream,
        )
    assert isinstance(err, errors.R9SError), repr(err)
    assert err.data is not None
    assert_hidden(KEY_PARTS, err.data, json.dumps(err.data.to_dict()), err)


def test_rotating_key_callable_is_not_called_for_repr() -> None:
    calls = []

    def key() -> str:
        calls.append(1)
        return KEY

    c = R9S(api_key=key, server_url="http://127.0.0.1:9/v1")
    assert_hidden(KEY_PARTS, c)
    assert calls == []


# -- CR / LF in headers -------------------------------------------------------------------------

INJECTIONS: dict[str, dict[str, Any]] = {
    "value-crlf": {"http_headers": {"X-Trace": "a\r\nX-Injected: 1"}},
    "value-lf": {"http_headers": {"X-Trace": "a\nX-Injected: 1"}},
    "value-cr": {"http_headers": {"X-Trace": "a\rX-Injected: 1"}},
    "value-nul": {"http_headers": {"X-Trace": "a\x00b"}},
    "name-crlf": {"http_headers": {"X-Trace\r\nX-Injected": "1"}},
    "default-headers": {"default_headers": {"X-Trace": "a\r\n\r\nGET / HTTP/1.1"}},
    "api-key": {"api_key": KEY + "\r\nX-Injected: 1"},
}


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("where", list(INJECTIONS))
def test_cr_lf_in_headers_is_refused_before_sending(where: str, runtime: str) -> None:
    spec = dict(INJECTIONS[where])
    with FakeServer() as server:
        api_key = spec.pop("api_key", KEY)
        default_headers = spec.pop("default_headers", None)

        def make() -> R9S:
            return R9S(
                api_key=api_key,
                server_url=server.url,
                retry_config=None,
                default_headers=default_headers,
            )

        with pytest.raises(ValueError) as info:
            c = make()
            if runtime == "sync":
                with c:
                    c.chat.create(model="m", messages=MSGS, **spec)
            else:

                async def main() -> None:
                    async with c:
                        await c.chat.create_async(model="m", messages=MSGS, **spec)

                anyio.run(main, backend=runtime)
        assert server.connections_opened == 0
    assert_hidden(KEY_PARTS, info.value)


def _raw_request(url: str, name: str, value: str) -> protocol.Request:
    return protocol.Request(
        "POST", url, protocol.Headers([("Content-Type", "application/json"), (name, value)]), b"{}"
    )


@pytest.mark.parametrize(
    ("name", "value"), [("X-Trace", "a\r\nX-Injected: 1"), ("X-Trace\r\nX-Injected", "1")]
)
def test_transports_refuse_cr_lf_in_a_hand_built_request(name: str, value: str) -> None:
    """A ``Request`` built by hand skips the core's check: the transports check again."""
    with FakeServer() as server:
        req = _raw_request(server.url + "/chat/completions", name, value)
        with UrllibTransport() as transport, pytest.raises(ValueError):
            transport.handle_request(req, protocol.Timeout.from_ms(2000))

        async def main() -> None:
            async with H11Transport() as transport:
                with pytest.raises(ValueError):
                    await transport.handle_async_request(req, protocol.Timeout.from_ms(2000))

        anyio.run(main, backend="asyncio")
        anyio.run(main, backend="trio")
        assert server.connections_opened == 0


# -- redirects ----------------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_not_followed(status: int, runtime: str, fake: FakeServer) -> None:
    elsewhere = f"{fake.url}/chat/completions"
    before = len(fake.requests)

    def redirect(req: ReceivedRequest) -> bytes:
        return response(status=status, headers={"Location": elsewhere})

    with ScriptedServer(keepalive(redirect)) as origin:
        _, err = run(
            runtime, lambda: R9S(api_key=KEY, server_url=origin.url("/v1"), timeout_ms=5000)
        )
        assert len(origin.requests) == 1
    assert isinstance(err, errors.R9SDefaultError), repr(err)
    assert err.status_code == status
    assert "redirect" in str(err) and "not followed" in str(err)
    assert len(fake.requests) == before  # the other origin saw nothing: no Authorization sent
    assert_hidden(KEY_PARTS, err)


# -- TLS verification ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(certs: TLSFiles) -> Iterator[ScriptedServer]:
    """A TLS server presenting a self-signed certificate for 127.0.0.1."""
    ctx = server_context(certs.self_signed_cert, certs.self_signed_key)

    def answer(req: ReceivedRequest) -> bytes:
        doc = {"id": "x", "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "tls ok"}, "finish_reason": "stop"}
        ]}  # fmt: skip
        return response(
            json.dumps(doc).encode(), status=200, headers={"Content-Type": "application/json"}
        )

    with ScriptedServer(keepalive(answer), ssl_context=ctx) as server:
        yield server


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_tls_verification_is_on_by_default(runtime: str, self_signed: ScriptedServer) -> None:
    """The default (``verify`` not given) and ``verify=True`` refuse a self-signed certificate.

    Verification cannot be turned off by accident: ``R9S`` has no environment variable or
    falsy default that disables it.  ``verify=False`` must be written out, and only that
    (see ``test_only_an_explicit_verify_false_skips_verification``) skips the checks.
    """
    before = len(self_signed.requests)
    for kwargs in ({}, {"verify": True}):
        _, err = run(
            runtime,
            lambda kw=kwargs: R9S(  # type: ignore[misc]
                api_key=KEY, server_url=self_signed.url("/v1"), retry_config=None, **kw
            ),
        )
        assert isinstance(err, errors.NoResponseError), repr(err)
        assert "certificate" in str(err)
        assert_hidden(KEY_PARTS, err)
    assert len(self_signed.requests) == before  # nothing (no key) was sent


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("value", [None, 0, ""], ids=["None", "zero", "empty-string"])
def test_falsy_verify_values_do_not_skip_verification(
    value: Any, runtime: str, self_signed: ScriptedServer
) -> None:
    """Only the literal ``False`` skips verification: ``None``, ``0`` or ``""`` (say, from an
    unset setting) either are refused or still verify."""
    before = len(self_signed.requests)
    try:
        _, result = run(
            runtime,
            lambda: R9S(
                api_key=KEY, server_url=self_signed.url("/v1"), retry_config=None, verify=value
            ),
        )
    except TypeError:
        result = None
    else:
        assert isinstance(result, errors.NoResponseError), repr(result)
    assert len(self_signed.requests) == before


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_only_an_explicit_verify_false_skips_verification(
    runtime: str, self_signed: ScriptedServer, certs: TLSFiles
) -> None:
    """``verify=False``, written out, is the one way to talk to a self-signed server without
    its certificate; a CA bundle that did not sign it still fails."""
    _, err = run(
        runtime,
        lambda: R9S(
            api_key=KEY, server_url=self_signed.url("/v1"), retry_config=None, verify=str(certs.ca)
        ),
    )
    assert isinstance(err, errors.NoResponseError) and "certificate" in str(err)
    _, res = run(
        runtime,
        lambda: R9S(
            api_key=KEY, server_url=self_signed.url("/v1"), retry_config=None, verify=False
        ),
    )
    assert res.choices[0].message.content == "tls ok"


# -- proxy credentials --------------------------------------------------------------------------

PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxy-pa55-SECRET-77e1"
PROXY_TOKEN = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
PROXY_SECRETS = (PROXY_PASSWORD, PROXY_TOKEN, *KEY_PARTS)


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)

    def point_at(port: int) -> None:
        url = f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}"
        monkeypatch.setenv("HTTP_PROXY", url)
        monkeypatch.setenv("HTTPS_PROXY", url)

    return point_at


def _forward_ok(req: ReceivedRequest) -> bytes:
    doc = {"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "via proxy"}, "finish_reason": "stop"}
    ]}  # fmt: skip
    return response(
        json.dumps(doc).encode(), status=200, headers={"Content-Type": "application/json"}
    )


def _proxy_407(req: ReceivedRequest) -> bytes:
    return response(
        b"Proxy Authentication Required\n",
        status=407,
        headers={"Proxy-Authenticate": 'Basic realm="test"', "Content-Type": "text/plain"},
        reason="Proxy Authentication Required",
    )


def _proxy_407_echo(req: ReceivedRequest) -> bytes:
    sent = req.header("proxy-authorization") or ""
    return response(
        f"bad proxy credentials: {sent}\n".encode(),
        status=407,
        headers={"Content-Type": "text/plain"},
    )


PROXY_SCENARIOS: dict[str, tuple[Any, str, type | None]] = {
    # name: (proxy script, or "refused"; target scheme; expected error or None)
    "forward-ok": (keepalive(_forward_ok), "http", None),
    "refused": ("refused", "http", errors.NoResponseError),
    "407-to-plain-request": (keepalive(_proxy_407), "http", errors.R9SDefaultError),
    "407-to-connect": (keepalive(_proxy_407), "https", errors.NoResponseError),
    "stalls": (_stall, "http", errors.RequestTimeoutError),
}


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("scenario", list(PROXY_SCENARIOS))
def test_proxy_credentials_never_show(
    scenario: str, runtime: str, proxy_env: Callable[[int], None], logs: list[str]
) -> None:
    script, scheme, expected = PROXY_SCENARIOS[scenario]
    # the target is never reached directly: port 9 (discard) on loopback has no listener
    target = f"{scheme}://127.0.0.1:9/v1"
    proxy = None if script == "refused" else ScriptedServer(script)
    try:
        proxy_env(free_port() if proxy is None else proxy.port)
        c, result = run(
            runtime,
            lambda: R9S(
                api_key=KEY,
                server_url=target,
                retry_config=None,
                timeout_ms=300 if scenario == "stalls" else 5000,
            ),
        )
    finally:
        if proxy is not None:
            proxy.close()
    if expected is None:
        assert result.choices[0].message.content == "via proxy"
    else:
        assert isinstance(result, expected), repr(result)
    if proxy is not None and proxy.requests:  # the credentials were really used
        assert proxy.requests[0].header("proxy-authorization") == f"Basic {PROXY_TOKEN}"
    assert_hidden(PROXY_SECRETS, c, result, logs)
    assert os.environ["HTTP_PROXY"].count(PROXY_PASSWORD) == 1  # the env really held them


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_proxy_credentials_echoed_by_the_proxy_are_redacted(
    runtime: str, proxy_env: Callable[[int], None]
) -> None:
    with ScriptedServer(keepalive(_proxy_407_echo)) as proxy:
        proxy_env(proxy.port)
        _, err = run(
            runtime,
            lambda: R9S(api_key=KEY, server_url="http://127.0.0.1:9/v1", retry_config=None),
        )
    assert isinstance(err, errors.R9SDefaultError) and err.status_code == 407
    assert_hidden(PROXY_SECRETS, err)
