"""The operation table: every entry builds its request from the caller's arguments alone.

Bytes out, no sockets: method, URL (path parameters encoded), headers and body of each
operation, the published SDK's defaults that go on the wire, and what is refused before
anything is sent.
"""

from __future__ import annotations

import base64
import json
import typing

import pytest

from r9s import models
from r9s._core import params as P
from r9s._core.api import (
    EDITS,
    EMBEDDINGS,
    ENGINE_EMBEDDINGS,
    MODELS_LIST,
    MODELS_RETRIEVE,
    MODERATIONS,
    OPERATIONS,
    PROXY,
    RESPONSES,
    SEARCH,
)
from r9s._core.operations import (
    OPTION_NAMES,
    PATH_SEGMENT,
    PATH_SEGMENTS,
    PATH_TARGET,
    ClientConfig,
    encode_path_value,
    prepare,
    spec_of,
)

KEY = "sk-table-key-0123"
CFG = ClientConfig(api_key=KEY, server_url="https://gw.example/v1")


def body(call) -> object:
    return json.loads(call.request.body) if call.request.body else None


def test_every_operation_reads_its_parameters_from_one_typeddict() -> None:
    for op in OPERATIONS.values():
        spec = spec_of(op)
        hints = typing.get_type_hints(op.params)
        assert set(spec.types) == {n for n in hints if n not in OPTION_NAMES} | (
            {"stream"} if op.event is not None else set()
        ), op.name
        assert set(OPTION_NAMES) <= set(hints), op.name  # the call options, everywhere
        for name in spec.required:
            assert name in hints


def test_get_operations_send_no_body_and_no_content_type() -> None:
    for op, params in ((MODELS_LIST, {}), (MODELS_RETRIEVE, {"model": "gpt-4o"})):
        req = prepare(op, params, CFG).request
        assert req.method == "GET" and req.body == b""
        assert "content-type" not in req.headers
        assert req.headers["accept"] == "application/json"
        assert req.headers["authorization"] == f"Bearer {KEY}"
    assert prepare(MODELS_RETRIEVE, {"model": "gpt-4o"}, CFG).request.url == (
        "https://gw.example/v1/models/gpt-4o"
    )
    with pytest.raises(TypeError, match="sends no body"):
        prepare(MODELS_LIST, {}, CFG, extra_body={"x": 1})
    with pytest.raises(TypeError, match="unexpected argument 'limit'"):
        prepare(MODELS_LIST, {"limit": 3}, CFG)


def test_a_model_id_keeps_its_slashes_as_the_published_sdk_does() -> None:
    req = prepare(MODELS_RETRIEVE, {"model": "openai/gpt-4o-mini"}, CFG).request
    assert req.url == "https://gw.example/v1/models/openai/gpt-4o-mini"
    req = prepare(ENGINE_EMBEDDINGS, {"model": "org/emb v2", "input": "x"}, CFG).request
    assert req.url == "https://gw.example/v1/engines/org/emb%20v2/embeddings"
    assert body(prepare(ENGINE_EMBEDDINGS, {"model": "e", "input": ["a"]}, CFG)) == {"input": ["a"]}


@pytest.mark.parametrize(
    ("value", "kind", "path", "query"),
    [
        ("gpt-4o", PATH_SEGMENTS, "gpt-4o", None),
        ("a?b=1", PATH_SEGMENTS, "a%3Fb=1", None),
        ("a#b", PATH_SEGMENTS, "a%23b", None),
        ("a b", PATH_SEGMENT, "a%20b", None),
        ("100%", PATH_SEGMENT, "100%25", None),
        ("a%20b", PATH_SEGMENT, "a%20b", None),  # an escape the caller wrote is kept
        ("ü", PATH_SEGMENT, "%C3%BC", None),
        ("qwen:7b@v2", PATH_SEGMENT, "qwen:7b@v2", None),
        ("chat/completions", PATH_TARGET, "chat/completions", None),
        ("search?q=a b&x=1", PATH_TARGET, "search", "q=a%20b&x=1"),
        ("v1/x?a=%2F", PATH_TARGET, "v1/x", "a=%2F"),
    ],
)
def test_path_values_are_encoded(value: str, kind: str, path: str, query: str | None) -> None:
    assert encode_path_value("op", "p", value, kind) == (path, query)


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("", PATH_SEGMENT, "must not be empty"),
        ("  ", PATH_SEGMENTS, "must not be empty"),
        ("..", PATH_SEGMENT, "'..' segment"),
        (".", PATH_SEGMENTS, "'.' segment"),
        ("a/../../chat", PATH_SEGMENTS, "'..' segment"),
        ("%2e%2E", PATH_SEGMENTS, "'..' segment"),
        ("a%2Fb", PATH_SEGMENTS, "a '/'"),
        ("1/2", PATH_SEGMENT, "a '/'"),
        ("a//b", PATH_SEGMENTS, "empty path part"),
        ("/gpt", PATH_SEGMENTS, "empty path part"),
        ("chat#frag", PATH_TARGET, "fragment"),
        ("../../models", PATH_TARGET, "'..' segment"),
        ("a/%2e%2e/b", PATH_TARGET, "'..' segment"),
    ],
)
def test_path_values_that_would_change_the_route_are_refused(
    value: str, kind: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        encode_path_value("op", "p", value, kind)


def test_path_values_must_be_strings() -> None:
    with pytest.raises(TypeError, match="must be str"):
        prepare(MODELS_RETRIEVE, {"model": 4}, CFG)
    with pytest.raises(TypeError, match="missing required argument: 'model'"):
        prepare(MODELS_RETRIEVE, {}, CFG)
    with pytest.raises(TypeError, match="missing required argument: 'target'"):
        prepare(PROXY, {"channelid": "1"}, CFG)
    with pytest.raises(TypeError, match="must be str"):
        prepare(ENGINE_EMBEDDINGS, {"model": 4, "input": "x"}, CFG)
    with pytest.raises(TypeError, match="unexpected argument 'accept_header_override'"):
        prepare(EMBEDDINGS, {"model": "e", "input": "x", "accept_header_override": "a/b"}, CFG)


def test_the_published_sdks_gateway_defaults_go_on_the_wire_when_not_given() -> None:
    assert body(prepare(MODERATIONS, {"input": "x"}, CFG)) == {"input": "x", "model": "gpt-4o-mini"}
    assert body(prepare(MODERATIONS, {"input": "x", "model": None}, CFG))["model"] == "gpt-4o-mini"
    assert body(prepare(SEARCH, {"extra": {"query": "q"}, "engine": None}, CFG))["engine"] == "exa"
    assert body(prepare(MODERATIONS, {"input": ["x"], "model": "omni"}, CFG)) == {
        "input": ["x"],
        "model": "omni",
    }
    extra = models.Extra(query="q", num=5, contents={"text": True})
    assert body(prepare(SEARCH, {"extra": extra}, CFG)) == {
        "extra": {"query": "q", "num": 5, "contents": {"text": True}},
        "engine": "exa",
    }
    assert body(prepare(SEARCH, {"extra": {"query": "q"}, "engine": "tavily"}, CFG)) == {
        "extra": {"query": "q"},
        "engine": "tavily",
    }
    with pytest.raises(ValueError, match="query"):
        prepare(SEARCH, {"extra": {"num": 1}}, CFG)


def test_defaults_equal_to_the_apis_own_are_left_out() -> None:
    assert body(prepare(EMBEDDINGS, {"model": "e", "input": "x"}, CFG)) == {
        "model": "e",
        "input": "x",
    }
    assert body(prepare(EDITS, {"model": "m", "instruction": "i"}, CFG)) == {
        "model": "m",
        "instruction": "i",
    }
    assert body(prepare(RESPONSES, {"model": "m", "input": "x"}, CFG)) == {
        "model": "m",
        "input": "x",
    }


def test_responses_takes_the_published_sdks_whole_parameter_list() -> None:
    params = {
        "model": "m",
        "input": "x",
        "parallel_tool_calls": False,
        "text": {"format": {"type": "json_object"}},
        "previous_response_id": "resp_1",
        "store": False,
        "background": True,
        "reasoning": {"effort": "high"},
        "truncation": "auto",
        "stop": ["END"],
    }
    assert body(prepare(RESPONSES, params, CFG)) == params


def test_embedding_inputs_and_token_arrays() -> None:
    for value in ("x", ["a", "b"], [1, 2, 3], [[1, 2], [3]]):
        assert body(prepare(EMBEDDINGS, {"model": "e", "input": value}, CFG))["input"] == value
    with pytest.raises(ValueError, match="non-empty"):
        prepare(EMBEDDINGS, {"model": "e", "input": []}, CFG)
    with pytest.raises(TypeError, match="'dimensions' must be int"):
        prepare(EMBEDDINGS, {"model": "e", "input": "x", "dimensions": "8"}, CFG)
    with pytest.raises(TypeError, match="unexpected argument 'stream'"):
        prepare(EMBEDDINGS, {"model": "e", "input": "x", "stream": True}, CFG)


def test_proxy_sends_the_request_body_alone() -> None:
    call = prepare(
        PROXY, {"channelid": "7", "target": "chat/completions", "request_body": {"a": 1}}, CFG
    )
    assert call.request.url == "https://gw.example/v1/nextrouter/proxy/7/chat/completions"
    assert body(call) == {"a": 1}
    empty = prepare(PROXY, {"channelid": "7", "target": "models"}, CFG).request
    assert empty.body == b"" and "content-type" not in empty.headers
    merged = prepare(
        PROXY, {"channelid": "7", "target": "x", "request_body": {"a": 1}}, CFG, extra_body={"b": 2}
    )
    assert body(merged) == {"a": 1, "b": 2}
    query = prepare(PROXY, {"channelid": "7", "target": "v1/search?q=a b"}, CFG).request
    assert query.url == "https://gw.example/v1/nextrouter/proxy/7/v1/search?q=a%20b"


def test_credentials_in_the_server_url_are_sent_as_basic_auth_and_kept_out_of_the_url() -> None:
    cfg = ClientConfig(api_key=KEY, server_url="https://alice:p%40ss@gw.example/v1")
    call = prepare(MODELS_LIST, {}, cfg)
    assert call.request.url == "https://gw.example/v1/models"
    token = base64.b64encode(b"alice:p@ss").decode()
    assert call.request.headers["authorization"] == f"Basic {token}"
    for shown in (repr(call), repr(call.request), repr(cfg)):
        assert "p@ss" not in shown and "p%40ss" not in shown and token not in shown
    assert "p@ss" in call.secrets and token in call.secrets
    per_call = prepare(MODELS_LIST, {}, CFG, server_url="http://bob:hunter2@127.0.0.1:9/v1")
    assert per_call.request.url == "http://127.0.0.1:9/v1/models"
    with pytest.raises(ValueError) as info:
        prepare(MODELS_LIST, {}, CFG, server_url="ftp://bob:hunter2@host/v1")
    assert "hunter2" not in str(info.value)


def test_every_params_typeddict_is_exported_with_call_options() -> None:
    for name in P.__all__:
        cls = getattr(P, name)
        assert typing.is_typeddict(cls), name


def test_form_bodies_follow_the_published_sdks_spelling_of_floats() -> None:
    from r9s._core.api import AUDIO_TRANSCRIBE

    call = prepare(AUDIO_TRANSCRIBE, {"file": b"abc", "model": "whisper-1", "temperature": 0}, CFG)
    body = b"".join(call.request.body.pieces())
    assert b'name="temperature"\r\n\r\n0.0\r\n' in body  # a float parameter, written as one
    assert call.request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert call.request.body.length == len(body)
