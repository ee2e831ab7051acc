"""Hostile path values: no value may change the route (r9s alone, against ``FakeServer``).

The rules are those ``encode_path_value`` (r9s/_core/operations.py) documents:

- every character outside RFC 3986's ``pchar`` is percent-encoded (``?``, ``#``, space,
  control characters, non-ASCII), so a value never adds a query or a fragment;
- a ``%XX`` escape the caller wrote is kept as written; a bare ``%`` is escaped;
- refused with ``ValueError`` before anything is sent: an empty value; a ``.`` or ``..``
  segment, or an escape that decodes into one or into a ``/`` (``%2e%2e``, ``%2F``); a ``/``
  in a one-segment parameter (a channel id); an empty segment in a model id; a ``#fragment``
  in a proxy target;
- a model id may span segments (``openai/gpt-4o-mini``); a proxy target too, and its
  ``?query`` is the request's query, as written.

Each case either raises ``ValueError``/``TypeError`` with nothing recorded by the server, or
arrives as exactly the raw target asserted here, sync and async; for every value sent, the
test also checks the general promise: no query, fragment or path segment the caller did not
write, and no segment a server would read as ``.``, ``..`` or one holding a ``/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from r9s import R9S
from r9s.testing import FakeServer, RecordedRequest

MODES = ("sync", "async")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with pytest.MonkeyPatch.context() as mp:  # loopback only, whatever the environment says
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            mp.delenv(name, raising=False)
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        with FakeServer() as srv:
            yield srv


def call(server: FakeServer, mode: str, resource: str, method: str, **kwargs: Any) -> Any:
    """``client.<resource>.<method>(**kwargs)`` on a new client, no retries, sync or async."""
    if mode == "sync":
        with R9S(api_key="k", server_url=server.url, retry_config=None) as client:
            return getattr(getattr(client, resource), method)(**kwargs)

    async def run() -> Any:
        async with R9S(api_key="k", server_url=server.url, retry_config=None) as client:
            return await getattr(getattr(client, resource), method + "_async")(**kwargs)

    return asyncio.run(run())


def sent(
    server: FakeServer, mode: str, resource: str, method: str, **kwargs: Any
) -> RecordedRequest:
    """Make the call; the one request the server received for it."""
    before = len(server.requests)
    call(server, mode, resource, method, **kwargs)
    got = server.requests[before:]
    assert len(got) == 1, [r.target for r in got]
    return got[0]


def refused(
    server: FakeServer, mode: str, error: type[Exception], resource: str, method: str, **kwargs: Any
) -> str:
    """Make the call, which must raise ``error`` with nothing sent; the error's message."""
    before = len(server.requests)
    with pytest.raises(error) as caught:
        call(server, mode, resource, method, **kwargs)
    assert server.requests[before:] == [], "refused, yet something was sent"
    return str(caught.value)


def check_segments(raw: str, written: str) -> None:
    """``raw`` (the path sent for the value ``written``) adds no segment, none a server reads
    as a dot segment or as holding a ``/``, and holds no query or fragment."""
    assert "?" not in raw and "#" not in raw, raw
    segments = raw.split("/")
    assert len(segments) == written.count("/") + 1, (raw, written)
    for seg in segments:
        assert seg, (raw, "an empty segment")
        assert unquote(seg) not in (".", ".."), (raw, seg)
        assert "/" not in unquote(seg), (raw, seg)


# ----------------------------------------------------------------------------- models.retrieve

#: A model id and the raw path that must arrive for it.
SENT_MODELS = {
    "a?b=1": "/v1/models/a%3Fb=1",  # '?' never starts a query
    "a#b": "/v1/models/a%23b",  # '#' never starts a fragment
    "a b": "/v1/models/a%20b",
    "ü-model": "/v1/models/%C3%BC-model",
    "openai/gpt-4o-mini": "/v1/models/openai/gpt-4o-mini",  # as the published SDK sends it
    "a%3Fb": "/v1/models/a%3Fb",  # an escape the caller wrote is kept
    "a%20b": "/v1/models/a%20b",
    "100%": "/v1/models/100%25",  # a bare '%' is escaped
    "a%2": "/v1/models/a%252",
    "a\r\nb": "/v1/models/a%0D%0Ab",  # no header injection either
    "a\x00b": "/v1/models/a%00b",
    "...": "/v1/models/...",  # not a dot segment
    "a/...": "/v1/models/a/...",
    "a;b=c": "/v1/models/a;b=c",  # pchar: as written
    "x y/z": "/v1/models/x%20y/z",
    # Sent as written; only a server that decodes twice, turns '\' into '/', or accepts
    # overlong UTF-8 would read dots into these (none of the usual ones does).
    "a\\..\\x": "/v1/models/a%5C..%5Cx",
    "%252e%252e": "/v1/models/%252e%252e",
    "%c0%ae%c0%ae": "/v1/models/%c0%ae%c0%ae",
}

#: A model id refused before anything is sent, and a part of the error's message.
REFUSED_MODELS = {
    "": "must not be empty",
    " ": "must not be empty",
    ".": "'.' segment",
    "..": "'..' segment",
    "../chat/completions": "'..' segment",
    "a/../../x": "'..' segment",
    "a/..": "'..' segment",
    "a/./b": "'.' segment",
    "%2e%2e": "'..' segment",
    "%2E": "'.' segment",
    ".%2e": "'..' segment",
    "a/%2E%2e": "'..' segment",
    "a%2Fb": "'/'",
    "a%2fb": "'/'",
    "a/": "empty path part",
    "/a": "empty path part",
    "a//b": "empty path part",
    "\ud800": "no UTF-8 form",  # a lone surrogate: no URL can carry it
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", list(SENT_MODELS), ids=ascii)
def test_model_id_sent_as_written(server: FakeServer, mode: str, model: str) -> None:
    req = sent(server, mode, "models", "retrieve", model=model)
    assert req.method == "GET" and req.body == b""
    assert req.target == SENT_MODELS[model]
    assert req.query == ""
    assert req.target.startswith("/v1/models/")
    check_segments(req.target.removeprefix("/v1/models/"), model)
    if "%" not in model:  # what the server decodes is what was written
        assert unquote(req.target.removeprefix("/v1/models/")) == model


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", list(REFUSED_MODELS), ids=ascii)
def test_model_id_refused(server: FakeServer, mode: str, model: str) -> None:
    message = refused(server, mode, ValueError, "models", "retrieve", model=model)
    assert REFUSED_MODELS[model] in message


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", [None, 123, b"gpt-4o-mini", ["gpt-4o-mini"]], ids=repr)
def test_model_id_of_another_type_refused(server: FakeServer, mode: str, model: Any) -> None:
    refused(server, mode, TypeError, "models", "retrieve", model=model)


@pytest.mark.parametrize("mode", MODES)
def test_engine_embeddings_model_follows_the_same_rules(server: FakeServer, mode: str) -> None:
    req = sent(server, mode, "engine_embeddings", "create", model="a?b c/d", input="x")
    assert req.target == "/v1/engines/a%3Fb%20c/d/embeddings"
    refused(server, mode, ValueError, "engine_embeddings", "create", model="../x", input="x")


# ----------------------------------------------------------------------------- proxy.request

PROXY = "/v1/nextrouter/proxy/"

#: (channelid, target) and the raw request target (path and query) that must arrive.
SENT_PROXY = {
    ("a?x", "chat/completions"): PROXY + "a%3Fx/chat/completions",
    ("1 ", "chat/completions"): PROXY + "1%20/chat/completions",
    ("ch#1", "models"): PROXY + "ch%231/models",
    ("1", "chat/completions?x=1"): PROXY + "1/chat/completions?x=1",  # the query, as the query
    ("1", "chat/completions?x=1 2&y=ü"): PROXY + "1/chat/completions?x=1%202&y=%C3%BC",
    ("1", "chat?a?b=/c"): PROXY + "1/chat?a?b=/c",  # a query may hold '?' and '/'
    ("1", "chat?%zz"): PROXY + "1/chat?%25zz",
    ("1", "chat/completions?x=%2e%2e/../"): PROXY + "1/chat/completions?x=%2e%2e/../",
    ("1", "chat/completions?"): PROXY + "1/chat/completions",  # an empty query: none
    ("1", "a\\..\\b"): PROXY + "1/a%5C..%5Cb",
    ("1", "v1/chat completions"): PROXY + "1/v1/chat%20completions",
    # empty segments are the caller's own (only model ids refuse them)
    ("1", "/chat"): PROXY + "1//chat",
    ("1", "a//b"): PROXY + "1/a//b",
    ("1", "chat/"): PROXY + "1/chat/",
}

#: (channelid, target) refused before anything is sent, and a part of the error's message.
REFUSED_PROXY = {
    ("1/2", "chat/completions"): "must not hold a '/'",
    ("..", "chat/completions"): "'..' segment",
    (".", "chat/completions"): "'.' segment",
    ("%2e%2e", "chat/completions"): "'..' segment",
    ("a%2Fb", "chat/completions"): "must not hold a '/'",
    ("", "chat/completions"): "must not be empty",
    ("1", "chat#frag"): "'#fragment'",
    ("1", "chat/completions?x=1#frag"): "'#fragment'",
    ("1", "../../models"): "'..' segment",
    ("1", "a/%2e%2e/b"): "'..' segment",
    ("1", "a/%2F/b"): "'/'",
    ("1", "."): "'.' segment",
    ("1", ""): "must not be empty",
}


def _proxy_id(case: tuple[str, str]) -> str:
    return ascii(case[0]) + "-" + ascii(case[1])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(SENT_PROXY), ids=_proxy_id)
def test_proxy_sent_as_written(server: FakeServer, mode: str, case: tuple[str, str]) -> None:
    channelid, target = case
    req = sent(server, mode, "proxy", "request", channelid=channelid, target=target)
    assert req.method == "POST"
    assert req.target == SENT_PROXY[case]
    path, _, query = req.target.partition("?")
    written_path, _, written_query = target.partition("?")
    assert req.query == query
    assert "#" not in req.target
    assert bool(query) == bool(written_query), "a query the caller did not write"
    channel, _, rest = path.removeprefix(PROXY).partition("/")
    check_segments(channel, channelid)
    assert rest.count("/") == written_path.count("/"), "a segment the caller did not write"
    for seg in rest.split("/"):
        assert unquote(seg) not in (".", "..") and "/" not in unquote(seg), seg


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(REFUSED_PROXY), ids=_proxy_id)
def test_proxy_refused(server: FakeServer, mode: str, case: tuple[str, str]) -> None:
    channelid, target = case
    message = refused(
        server, mode, ValueError, "proxy", "request", channelid=channelid, target=target
    )
    assert REFUSED_PROXY[case] in message


@pytest.mark.parametrize("mode", MODES)
def test_proxy_channel_of_another_type_refused(server: FakeServer, mode: str) -> None:
    refused(server, mode, TypeError, "proxy", "request", channelid=123, target="chat/completions")


@pytest.mark.parametrize("target", ["?x=1", "?"], ids=ascii)
def test_proxy_target_with_an_empty_path_refused(server: FakeServer, target: str) -> None:
    refused(server, "sync", ValueError, "proxy", "request", channelid="1", target=target)
