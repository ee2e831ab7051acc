"""The published SDK's constructor and ``from_env``, and credentials in URLs never shown.

Against the built-in server on 127.0.0.1: ``server_idx``, ``url_params``, ``base_url`` (what
openai users type), ``R9S.from_env(api_key_env=..., base_url_env=..., default_base_url=...)``,
``from r9s.client import R9S``; and a ``server_url`` holding ``user:password@`` is sent as
Basic auth (as httpx under the published SDK does) and never printed: not by ``repr``, not by
the ``R9S_LOG=debug`` log, not in an error message or note.
"""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

import r9s.client
from r9s import R9S, errors
from r9s.testing import FakeServer
from r9s.utils import BackoffStrategy, RetryConfig

SECRET = "hunter2-very-secret"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def with_credentials(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://alice:{SECRET}@{rest}"


def test_server_idx_picks_the_published_server_list() -> None:
    assert R9S(api_key="k").server_url == "https://api.r9s.ai/v1"
    assert R9S(api_key="k", server_idx=0).server_url == "https://api.r9s.ai/v1"
    with pytest.raises(ValueError, match=r"server_idx must be 0\.\.0"):
        R9S(api_key="k", server_idx=1)
    assert R9S(api_key="k", server_idx=0, server_url="http://h/v1").server_url == "http://h/v1"


def test_url_params_template_the_server_url(server: FakeServer) -> None:
    template = server.url.replace("/v1", "/{version}")
    with R9S(api_key="k", server_url=template, url_params={"version": "v1"}) as c:
        assert c.server_url == server.url
        assert c.models.list().data
    with pytest.raises(ValueError, match="placeholder"):
        R9S(api_key="k", server_url="https://{region}.example/v1")


def test_base_url_is_a_synonym_of_server_url(server: FakeServer) -> None:
    with R9S(api_key="k", base_url=server.url) as c:
        assert c.server_url == server.url
        assert c.models.retrieve(model="gpt-4o-mini").id == "gpt-4o-mini"
    with pytest.raises(TypeError, match="server_url or base_url"):
        R9S(api_key="k", base_url="http://a/v1", server_url="http://b/v1")


def test_from_env_as_the_published_sdk(monkeypatch: pytest.MonkeyPatch, server: FakeServer) -> None:
    monkeypatch.delenv("R9S_BASE_URL", raising=False)
    monkeypatch.setenv("MY_KEY", "  sk-env  ")
    c = R9S.from_env(api_key_env="MY_KEY", default_base_url=server.url)
    assert c.server_url == server.url and c._config.key() == "sk-env"
    monkeypatch.setenv("MY_URL", server.url + "/")
    assert R9S.from_env(api_key_env="MY_KEY", base_url_env="MY_URL").server_url == server.url + "/"
    assert R9S.from_env(api_key_env="MY_KEY").server_url == "https://api.r9s.ai/v1"
    assert R9S.from_env(api_key_env="MY_KEY", default_base_url=None).server_url == (
        "https://api.r9s.ai/v1"
    )
    explicit = R9S.from_env(api_key_env="MY_KEY", base_url_env="MY_URL", server_url="http://x/v1")
    assert explicit.server_url == "http://x/v1"
    monkeypatch.setenv("MY_KEY", "   ")
    with pytest.raises(ValueError, match="MY_KEY is not set"):
        R9S.from_env(api_key_env="MY_KEY")


def test_the_client_module_path_of_the_published_sdk() -> None:
    assert r9s.client.R9S is R9S


def test_credentials_in_the_server_url_go_as_basic_auth(server: FakeServer) -> None:
    url = with_credentials(server.url)
    with R9S(api_key="sk-k", server_url=url, retry_config=None) as c:
        with pytest.raises(errors.AuthenticationError) as info:
            c.models.list()  # the built-in server wants Bearer: a 401, as a gateway would say
    got = server.requests[-1]
    expected = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    assert got.headers["authorization"] == f"Basic {expected}"
    for shown in (str(info.value), repr(info.value), repr(info.value.raw_response)):
        assert SECRET not in shown and expected not in shown


def test_credentials_are_never_in_a_repr_or_a_constructor_error(server: FakeServer) -> None:
    client = R9S(api_key="k", server_url=with_credentials(server.url))
    assert SECRET not in repr(client)
    assert SECRET not in repr(client.chat) and SECRET not in repr(client._config)
    for bad in ("ftp://alice:" + SECRET + "@h/v1", with_credentials("https://{x}.example/v1")):
        with pytest.raises(ValueError) as info:
            R9S(api_key="k", server_url=bad)
        assert SECRET not in str(info.value)


@pytest.mark.parametrize("runtime", ["sync", "asyncio"])
def test_credentials_are_never_in_a_connection_error_or_retry_note(runtime: str) -> None:
    from _support.scripted_server import BlackHole

    with BlackHole() as hole:
        url = with_credentials(hole.url("/v1"))
        retry = RetryConfig("backoff", BackoffStrategy(10, 10, 1, max_elapsed_time=100), True)
        with R9S(api_key="k", server_url=url, retry_config=retry, timeout_ms=100) as c:
            if runtime == "sync":
                with pytest.raises(errors.NoResponseError) as info:
                    c.models.list(deadline=0.15)
            else:
                with pytest.raises(errors.NoResponseError) as info:
                    asyncio.run(c.models.list_async(deadline=0.15))
    err = info.value
    shown = [str(err), repr(err), *getattr(err, "__notes__", [])]
    assert all(SECRET not in s for s in shown), shown


def test_credentials_are_never_in_the_debug_log(server: FakeServer) -> None:
    script = textwrap.dedent(
        f"""
        from r9s import R9S, errors
        url = {with_credentials(server.url)!r}
        with R9S(api_key="sk-live-do-not-print", server_url=url) as c:
            try:
                c.models.list()
            except errors.AuthenticationError:
                print("401")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "R9S_LOG": "debug"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "401"
    assert "/v1/models -> 401" in proc.stderr, proc.stderr
    assert SECRET not in proc.stderr and "sk-live-do-not-print" not in proc.stderr
