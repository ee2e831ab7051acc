"""The built-in server's JSON endpoints (issue 11): models, embeddings, moderations, edits,
search and the channel proxy, driven over loopback with ``http.client`` and raw sockets only.

Why not through the r9s client: these tests pin the server, the peer of the client's tests;
they must not depend on the client they help test.  Every socket read has a timeout; nothing
here is timed.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from r9s.testing import FakeServer, Fault

TIMEOUT = 5.0
AUTH = {"Authorization": "Bearer sk-test"}
CATEGORIES = {
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def call(
    server: FakeServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection; a JSON body gets its Content-Type, a GET none."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    try:
        sent = dict(AUTH)
        raw: bytes | None = None
        if body is not None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        conn.request(method, path, raw, sent)
        res = conn.getresponse()
        data = res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data
    finally:
        conn.close()


def ok(server: FakeServer, method: str, path: str, body: Any = None) -> Any:
    status, headers, data = call(server, method, path, body)
    assert status == 200, data
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(data)
    return json.loads(data)


def error_of(
    server: FakeServer, method: str, path: str, body: Any = None, status: int = 400
) -> dict[str, Any]:
    got, headers, data = call(server, method, path, body)
    assert got == status, data
    assert headers["content-type"] == "application/json"
    error = json.loads(data)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return dict(error)


def raw_exchange(server: FakeServer, head: str, body: bytes = b"") -> bytes:
    """Send a raw request (head lines without the blank line) and read to EOF."""
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n" + body)
        chunks = []
        for _ in range(10_000):
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def not_found(model: str) -> dict[str, Any]:
    return {
        "message": f"The model `{model}` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


# ------------------------------------------------------------------------ models


def test_models_list_default(server: FakeServer) -> None:
    doc = ok(server, "GET", "/v1/models")
    assert doc["object"] == "list"
    ids = [m["id"] for m in doc["data"]]
    assert "openai/gpt-4o-mini" in ids and "gpt-4o-mini" in ids
    assert "text-embedding-3-small" in ids
    for model in doc["data"]:
        assert set(model) == {"id", "object", "created", "owned_by"}
        assert model["object"] == "model"
        assert isinstance(model["created"], int) and 1_500_000_000 < model["created"] <= 1700000000
        assert isinstance(model["owned_by"], str) and model["owned_by"]
    by_id = {m["id"]: m for m in doc["data"]}
    assert by_id["openai/gpt-4o-mini"]["owned_by"] == "openai"
    assert ok(server, "GET", "/v1/models") == doc  # deterministic
    recorded = server.requests[0]
    assert (recorded.method, recorded.path, recorded.body, recorded.json) == (
        "GET",
        "/v1/models",
        b"",
        None,
    )
    assert "content-type" not in recorded.headers


def test_models_list_is_the_allow_list_in_order() -> None:
    with FakeServer(models=["b-model", "a/model", "b-model", "claude-x"]) as server:
        doc = ok(server, "GET", "/v1/models")
        assert [m["id"] for m in doc["data"]] == ["b-model", "a/model", "claude-x"]
        assert [m["owned_by"] for m in doc["data"]] == ["r9s", "a", "anthropic"]
    with pytest.raises(TypeError):
        FakeServer(models=["ok", 3])  # type: ignore[list-item]
    with FakeServer(models=[]) as server:
        assert ok(server, "GET", "/v1/models") == {"object": "list", "data": []}


def test_models_retrieve(server: FakeServer) -> None:
    listed = {m["id"]: m for m in ok(server, "GET", "/v1/models")["data"]}
    assert ok(server, "GET", "/v1/models/gpt-4o-mini") == listed["gpt-4o-mini"]
    # A slash in the id: sent as is or percent-encoded, it is the same model.
    assert ok(server, "GET", "/v1/models/openai/gpt-4o-mini") == listed["openai/gpt-4o-mini"]
    assert ok(server, "GET", "/v1/models/openai%2Fgpt-4o-mini") == listed["openai/gpt-4o-mini"]
    assert ok(server, "GET", "/v1/models/openai%2fgpt-4o-mini")["id"] == "openai/gpt-4o-mini"
    # Any other id exists on a server without models=, decoded from the path.
    doc = ok(server, "GET", "/v1/models/mod%C3%A8le%20a%3Fb%23c")
    assert doc["id"] == "modèle a?b#c" and doc["owned_by"] == "r9s"
    assert [r.target for r in server.requests][-1] == "/v1/models/mod%C3%A8le%20a%3Fb%23c"
    assert server.requests[-1].path == "/v1/models/mod%C3%A8le%20a%3Fb%23c"


def test_models_retrieve_unknown() -> None:
    with FakeServer() as server:
        for model in ("does-not-exist", "does-not-exist-either"):
            assert error_of(server, "GET", f"/v1/models/{model}", status=404) == not_found(model)
        # The same rule for every endpoint that names a model.
        body = {"model": "does-not-exist", "messages": [{"role": "user", "content": "x"}]}
        assert error_of(server, "POST", "/v1/chat/completions", body, 404)["code"] == (
            "model_not_found"
        )
    with FakeServer(models=["a/b", "c"]) as server:
        assert ok(server, "GET", "/v1/models/a%2Fb")["id"] == "a/b"
        assert ok(server, "GET", "/v1/models/a/b")["id"] == "a/b"
        assert error_of(server, "GET", "/v1/models/gpt-4o", status=404) == not_found("gpt-4o")
        assert error_of(server, "GET", "/v1/models/a%2Fc", status=404) == not_found("a/c")


def test_models_methods_and_paths(server: FakeServer) -> None:
    status, headers, data = call(server, "POST", "/v1/models", {})
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert json.loads(data)["error"]["code"] == "method_not_allowed"
    status, headers, _ = call(server, "DELETE", "/v1/models/gpt-4o")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert error_of(server, "GET", "/v1/models/", status=404)["code"] == "unknown_url"
    assert error_of(server, "GET", "/v1/model", status=404)["code"] == "unknown_url"
    # A GET to a POST endpoint is still refused the old way.
    status, headers, _ = call(server, "GET", "/v1/embeddings")
    assert status == 405 and headers["allow"] == "POST"


def test_models_head_and_no_content_type(server: FakeServer) -> None:
    length = len(call(server, "GET", "/v1/models")[2])
    raw = raw_exchange(
        server,
        "HEAD /v1/models HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\nConnection: close",
    )
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and rest == b""
    assert f"content-length: {length}".encode() in head.lower()
    # A bare GET: no Content-Type, no Content-Length, no body.
    raw = raw_exchange(
        server, "GET /v1/models HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\nConnection: close"
    )
    assert raw.startswith(b"HTTP/1.1 200") and b'"object":"list"' in raw


def test_get_endpoints_check_the_key() -> None:
    with FakeServer(api_key="secret") as server:
        status, _, data = call(server, "GET", "/v1/models")
        assert status == 401 and json.loads(data)["error"]["code"] == "invalid_api_key"
        status, _, _ = call(server, "GET", "/v1/models/x", headers={"Authorization": ""})
        assert status == 401
        status, _, _ = call(server, "GET", "/v1/models", headers={"Authorization": "Bearer secret"})
        assert status == 200
        body = {"model": "m", "input": "x"}
        assert call(server, "POST", "/v1/embeddings", body)[0] == 401
        assert call(server, "POST", "/v1/nextrouter/proxy/1/x", body)[0] == 401


# ------------------------------------------------------------------------ embeddings


def test_embeddings_float(server: FakeServer) -> None:
    text = "The food was delicious and the waiter was friendly."
    doc = ok(server, "POST", "/v1/embeddings", {"model": "qwen-plus", "input": text})
    assert set(doc) == {"object", "data", "model", "usage"}
    assert (doc["object"], doc["model"]) == ("list", "qwen-plus")
    assert doc["usage"] == {"prompt_tokens": 9, "total_tokens": 9}
    [item] = doc["data"]
    assert (item["object"], item["index"]) == ("embedding", 0)
    vector = item["embedding"]
    assert len(vector) == 8 and all(isinstance(v, float) and -1 <= v <= 1 for v in vector)
    assert sum(v * v for v in vector) == pytest.approx(1.0, abs=0.01)
    # Deterministic: the same text gives the same vector, on another server too.
    again = ok(server, "POST", "/v1/embeddings", {"model": "other", "input": [text]})
    assert again["data"][0]["embedding"] == vector
    with FakeServer() as other:
        body = {"model": "x", "input": text, "encoding_format": "float"}
        assert ok(other, "POST", "/v1/embeddings", body)["data"][0]["embedding"] == vector


def test_embeddings_lists_and_token_arrays(server: FakeServer) -> None:
    doc = ok(server, "POST", "/v1/embeddings", {"model": "m", "input": ["one", "two words", "one"]})
    assert [d["index"] for d in doc["data"]] == [0, 1, 2]
    vectors = [d["embedding"] for d in doc["data"]]
    assert vectors[0] == vectors[2] != vectors[1]
    assert doc["usage"]["prompt_tokens"] == 4
    doc = ok(server, "POST", "/v1/embeddings", {"model": "m", "input": [1, 2, 3]})
    assert len(doc["data"]) == 1 and doc["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    doc = ok(server, "POST", "/v1/embeddings", {"model": "m", "input": [[1, 2], [3], [1, 2]]})
    assert [len(d["embedding"]) for d in doc["data"]] == [8, 8, 8]
    assert doc["data"][0]["embedding"] == doc["data"][2]["embedding"]
    assert doc["usage"]["prompt_tokens"] == 5


def test_embeddings_dimensions_and_base64(server: FakeServer) -> None:
    body = {"model": "m", "input": ["a", "b"], "dimensions": 3}
    floats = ok(server, "POST", "/v1/embeddings", body)
    assert [len(d["embedding"]) for d in floats["data"]] == [3, 3]
    doc = ok(server, "POST", "/v1/embeddings", {**body, "encoding_format": "base64"})
    for item, plain in zip(doc["data"], floats["data"], strict=True):
        assert isinstance(item["embedding"], str)
        raw = base64.b64decode(item["embedding"], validate=True)
        assert len(raw) == 3 * 4
        # Little-endian float32, exactly the numbers of the float encoding.
        assert list(struct.unpack("<3f", raw)) == plain["embedding"]
    big = ok(server, "POST", "/v1/embeddings", {"model": "m", "input": "a", "dimensions": 256})
    assert len(big["data"][0]["embedding"]) == 256


def test_engine_embeddings(server: FakeServer) -> None:
    body = {"input": "The quick brown fox jumps over the lazy dog", "encoding_format": "float"}
    doc = ok(server, "POST", "/v1/engines/qwen-plus/embeddings", body)
    assert doc["model"] == "qwen-plus" and len(doc["data"][0]["embedding"]) == 8
    plain = ok(server, "POST", "/v1/embeddings", {"model": "qwen-plus", **body})
    assert plain == doc
    assert ok(server, "POST", "/v1/engines/openai/text-3/embeddings", body)["model"] == (
        "openai/text-3"
    )
    assert ok(server, "POST", "/v1/engines/openai%2Ftext-3/embeddings", body)["model"] == (
        "openai/text-3"
    )
    assert ok(server, "POST", "/v1/engines/a%20b%3F/embeddings", body)["model"] == "a b?"
    assert server.requests[-1].target == "/v1/engines/a%20b%3F/embeddings"
    assert error_of(server, "POST", "/v1/engines//embeddings", body, 404)["code"] == "unknown_url"


def test_embeddings_unknown_model() -> None:
    with FakeServer(models=["e"]) as server:
        body = {"model": "nope", "input": "x"}
        assert error_of(server, "POST", "/v1/embeddings", body, 404) == not_found("nope")
        got = error_of(server, "POST", "/v1/engines/nope/embeddings", {"input": "x"}, 404)
        assert got == not_found("nope")
        assert ok(server, "POST", "/v1/engines/e/embeddings", {"input": "x"})["model"] == "e"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": 3, "input": "x"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": ""}, "input"),
        ({"model": "m", "input": []}, "input"),
        ({"model": "m", "input": 5}, "input"),
        ({"model": "m", "input": ["a", 1]}, "input"),
        ({"model": "m", "input": ["a", ""]}, "input"),
        ({"model": "m", "input": [1, -2]}, "input"),
        ({"model": "m", "input": [1, True]}, "input"),
        ({"model": "m", "input": [[1], []]}, "input"),
        ({"model": "m", "input": [{"text": "a"}]}, "input"),
        ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": 100_000}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": "8"}, "dimensions"),
        ({"model": "m", "input": "x", "user": 1}, "user"),
        ({"model": "m", "input": ["x"] * 400, "dimensions": 3072}, "input"),
    ],
)
def test_embeddings_validation(server: FakeServer, body: dict[str, Any], param: str) -> None:
    error = error_of(server, "POST", "/v1/embeddings", body)
    assert (error["type"], error["param"]) == ("invalid_request_error", param)


def test_json_endpoints_want_a_json_object(server: FakeServer) -> None:
    for path in ("/v1/embeddings", "/v1/moderations", "/v1/edits", "/v1/search"):
        for raw in (b"", b"not json", b"[1]"):
            assert error_of(server, "POST", path, raw)["type"] == "invalid_request_error"


# ------------------------------------------------------------------------ moderations


def test_moderations(server: FakeServer) -> None:
    body = {"input": "I want to hurt someone", "model": "gpt-4o-mini"}
    doc = ok(server, "POST", "/v1/moderations", body)
    assert set(doc) == {"id", "model", "results"}
    assert doc["id"].startswith("modr-") and doc["model"] == "gpt-4o-mini"
    [result] = doc["results"]
    assert set(result) == {"flagged", "categories", "category_scores"}
    assert set(result["categories"]) == set(result["category_scores"]) == CATEGORIES
    assert result["flagged"] is True
    assert {k for k, v in result["categories"].items() if v} == {"violence"}
    scores = result["category_scores"]
    assert all(isinstance(v, float) and 0 <= v <= 1 for v in scores.values())
    assert scores["violence"] > 0.5 > max(v for k, v in scores.items() if k != "violence")
    assert ok(server, "POST", "/v1/moderations", body)["results"] == doc["results"]


def test_moderations_list_and_default_model(server: FakeServer) -> None:
    texts = ["Hello there", "They will KILL it.", "skill and hurtle are fine"]
    doc = ok(server, "POST", "/v1/moderations", {"input": texts})
    assert doc["model"] == "omni-moderation-latest"
    assert [r["flagged"] for r in doc["results"]] == [False, True, False]
    assert not any(doc["results"][0]["categories"].values())
    parts = [{"type": "text", "text": "we hurt"}, {"type": "image_url", "image_url": {"url": "x"}}]
    doc = ok(server, "POST", "/v1/moderations", {"input": parts})
    assert [r["flagged"] for r in doc["results"]] == [True]


@pytest.mark.parametrize(
    "body", [{}, {"input": 3}, {"input": []}, {"input": ["a", 2]}, {"input": "x", "model": 1}]
)
def test_moderations_validation(server: FakeServer, body: dict[str, Any]) -> None:
    assert error_of(server, "POST", "/v1/moderations", body)["param"] in ("input", "model")


def test_moderations_unknown_model() -> None:
    with FakeServer(models=["omni-moderation-latest"]) as server:
        assert ok(server, "POST", "/v1/moderations", {"input": "x"})["results"]
        body = {"input": "x", "model": "gpt-4o-mini"}
        assert error_of(server, "POST", "/v1/moderations", body, 404) == not_found("gpt-4o-mini")


# ------------------------------------------------------------------------ edits


def test_edits(server: FakeServer) -> None:
    body = {
        "model": "gpt-4o-mini",
        "instruction": "Fix the spelling mistakes",
        "input": "What day of the wek is it?",
        "n": 1,
        "temperature": 1,
        "top_p": 1,
    }
    doc = ok(server, "POST", "/v1/edits", body)
    assert doc == {
        "object": "edit",
        "created": 1700000000,
        "choices": [{"text": "What day of the week is it?\n", "index": 0}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 8, "total_tokens": 19},
    }
    doc = ok(
        server,
        "POST",
        "/v1/edits",
        {"model": "m", "instruction": "tidy", "input": "  teh   cat sat", "n": 3},
    )
    assert [c["index"] for c in doc["choices"]] == [0, 1, 2]
    assert {c["text"] for c in doc["choices"]} == {"The cat sat.\n"}
    doc = ok(server, "POST", "/v1/edits", {"model": "m", "instruction": "write"})
    assert doc["choices"] == [{"text": "\n", "index": 0}]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"instruction": "x"}, "model"),
        ({"model": "m"}, "instruction"),
        ({"model": "m", "instruction": 1}, "instruction"),
        ({"model": "m", "instruction": "x", "input": 1}, "input"),
        ({"model": "m", "instruction": "x", "n": 0}, "n"),
        ({"model": "m", "instruction": "x", "temperature": 3}, "temperature"),
        ({"model": "m", "instruction": "x", "top_p": "1"}, "top_p"),
    ],
)
def test_edits_validation(server: FakeServer, body: dict[str, Any], param: str) -> None:
    assert error_of(server, "POST", "/v1/edits", body)["param"] == param


def test_edits_unknown_model() -> None:
    with FakeServer(models=["m"]) as server:
        body = {"model": "x", "instruction": "i"}
        assert error_of(server, "POST", "/v1/edits", body, 404) == not_found("x")


# ------------------------------------------------------------------------ search


def test_search_exa(server: FakeServer) -> None:
    body = {
        "engine": "exa",
        "extra": {
            "query": "What is artificial intelligence?",
            "num": 5,
            "contents": {"text": True},
        },
    }
    doc = ok(server, "POST", "/v1/search", body)
    assert doc["engine"] == "exa"
    result = doc["result"]
    assert result["query"] == "What is artificial intelligence?"
    assert len(result["results"]) == 5
    for i, item in enumerate(result["results"], 1):
        assert item["url"] == f"https://example.com/exa/what-is-artificial-intelligence/{i}"
        assert item["title"] and item["text"] and item["id"] == item["url"]
    assert ok(server, "POST", "/v1/search", body)["result"]["results"] == result["results"]
    # The engine defaults to exa, the count to 3.
    doc = ok(server, "POST", "/v1/search", {"extra": {"query": "q"}})
    assert doc["engine"] == "exa" and len(doc["result"]["results"]) == 3


def test_search_tavily_and_google(server: FakeServer) -> None:
    extra = {"query": "llm gateways", "max_results": 2}
    doc = ok(server, "POST", "/v1/search", {"engine": "tavily", "extra": extra})
    result = doc["result"]
    assert doc["engine"] == "tavily" and len(result["results"]) == 2
    assert result["answer"] and all("score" in r and r["content"] for r in result["results"])
    extra = {"query": "llm gateways", "include_answer": False}
    assert (
        ok(server, "POST", "/v1/search", {"engine": "tavily", "extra": extra})["result"]["answer"]
        is None
    )
    doc = ok(server, "POST", "/v1/search", {"engine": "google", "extra": {"query": "x", "num": 1}})
    result = doc["result"]
    assert len(result["results"]) == len(result["items"]) == 1
    assert result["items"][0]["link"] == result["results"][0]["url"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "extra"),
        ({"extra": "q"}, "extra"),
        ({"extra": {}}, "extra.query"),
        ({"extra": {"query": " "}}, "extra.query"),
        ({"extra": {"query": 3}}, "extra.query"),
        ({"engine": "bing", "extra": {"query": "q"}}, "engine"),
        ({"extra": {"query": "q", "num": 0}}, "extra.num"),
        ({"extra": {"query": "q", "num": 11}}, "extra.num"),
        ({"engine": "tavily", "extra": {"query": "q", "max_results": 1000}}, "extra.max_results"),
    ],
)
def test_search_validation(server: FakeServer, body: dict[str, Any], param: str) -> None:
    assert error_of(server, "POST", "/v1/search", body)["param"] == param


# ------------------------------------------------------------------------ proxy


def test_proxy_chat_is_answered_like_chat(server: FakeServer) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}
    doc = ok(server, "POST", "/v1/nextrouter/proxy/123/chat/completions", body)
    direct = ok(server, "POST", "/v1/chat/completions", body)
    assert doc["object"] == "chat.completion"
    assert doc["choices"] == direct["choices"] and doc["usage"] == direct["usage"]
    assert doc["choices"][0]["message"]["content"] == "Hello! You said: Hello"
    # Never streamed: the proxy answers one JSON document.
    streamed = ok(
        server, "POST", "/v1/nextrouter/proxy/123/chat%2Fcompletions", {**body, "stream": True}
    )
    assert streamed["choices"] == direct["choices"]


def test_proxy_echoes_what_arrived(server: FakeServer) -> None:
    path = "/v1/nextrouter/proxy/ch%2F1%20x/v1/some/deep%3Ftarget"
    doc = ok(server, "POST", path + "?a=1&b=%20", {"k": [1, 2]})
    assert doc == {
        "channelid": "ch/1 x",
        "target": "v1/some/deep?target",
        "path": path,
        "query": "a=1&b=%20",
        "method": "POST",
        "body": {"k": [1, 2]},
    }
    assert server.requests[-1].target == path + "?a=1&b=%20"
    assert server.requests[-1].query == "a=1&b=%20"
    doc = ok(server, "POST", "/v1/nextrouter/proxy/7/embeddings")
    assert (doc["target"], doc["query"], doc["body"]) == ("embeddings", None, None)
    doc = ok(server, "GET", "/v1/nextrouter/proxy/7/status")
    assert (doc["method"], doc["body"]) == ("GET", None)
    # A chat/completions body that is no chat request is echoed too.
    doc = ok(server, "POST", "/v1/nextrouter/proxy/7/chat/completions", {"ping": 1})
    assert doc["body"] == {"ping": 1}
    for bad in ("/v1/nextrouter/proxy/7", "/v1/nextrouter/proxy/7/", "/v1/nextrouter/proxy//x"):
        assert error_of(server, "POST", bad, {}, 404)["code"] == "unknown_url"


def test_proxy_chat_unknown_model() -> None:
    with FakeServer(models=["m"]) as server:
        body = {"model": "x", "messages": [{"role": "user", "content": "Hello"}]}
        got = error_of(server, "POST", "/v1/nextrouter/proxy/1/chat/completions", body, 404)
        assert got == not_found("x")
        body = {"model": "x", "anything": True}
        assert ok(server, "POST", "/v1/nextrouter/proxy/1/other", body)["body"] == body


# ------------------------------------------------------------------------ faults


NEW_ROUTES = [
    ("GET", "/v1/models", None),
    ("GET", "/v1/models/openai%2Fgpt-4o-mini", None),
    ("POST", "/v1/embeddings", {"model": "m", "input": "x"}),
    ("POST", "/v1/engines/m/embeddings", {"input": "x"}),
    ("POST", "/v1/moderations", {"input": "x"}),
    ("POST", "/v1/edits", {"model": "m", "instruction": "i"}),
    ("POST", "/v1/search", {"extra": {"query": "q"}}),
    ("POST", "/v1/nextrouter/proxy/1/chat/completions", {"x": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), NEW_ROUTES)
def test_status_faults_apply_to_every_route(
    server: FakeServer, method: str, path: str, body: Any
) -> None:
    server.add_fault(Fault(status=429, retry_after=2))
    status, headers, data = call(server, method, path, body)
    assert status == 429 and headers["retry-after"] == "2"
    assert json.loads(data)["error"]["code"] == "rate_limit_exceeded"
    status, headers, data = call(
        server, method, path, body, {"X-R9S-Fault": "status=502,body=html"}
    )
    assert status == 502 and headers["content-type"] == "text/html"
    assert b"<h1>502 Bad Gateway</h1>" in data
    assert call(server, method, path, body)[0] == 200


@pytest.mark.parametrize(("method", "path", "body"), NEW_ROUTES)
def test_broken_bodies_on_every_route(
    server: FakeServer, method: str, path: str, body: Any
) -> None:
    status, _, data = call(server, method, path, body, {"X-R9S-Fault": "invalid_json"})
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(data)
    for fault in ("cut_after=0", "short_body"):
        with pytest.raises(http.client.IncompleteRead):
            call(server, method, path, body, {"X-R9S-Fault": fault})


def test_gzip_stall_and_reset_on_new_routes(server: FakeServer) -> None:
    status, headers, data = call(
        server, "GET", "/v1/models", headers={"X-R9S-Fault": "gzip", "Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(data))["object"] == "list"
    # A stall before the status line, ended by the server after stall_seconds: no answer.
    head = (
        "GET /v1/models HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
        "X-R9S-Fault: stall_after=0,stall_seconds=0.05"
    )
    assert raw_exchange(server, head) == b""
    server.add_fault(Fault(reset=True))
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        call(server, "POST", "/v1/embeddings", {"model": "m", "input": "x"})
    assert call(server, "POST", "/v1/embeddings", {"model": "m", "input": "x"})[0] == 200


def test_faults_come_before_routing_and_auth() -> None:
    with FakeServer(api_key="secret") as server:
        server.add_fault(Fault(status=503), times=2)
        assert call(server, "GET", "/v1/models")[0] == 503  # wrong key, fault first
        assert call(server, "GET", "/v1/nope")[0] == 503
        assert call(server, "GET", "/v1/models")[0] == 401


# ------------------------------------------------------------------------ recording


def test_recorded_target_is_raw(server: FakeServer) -> None:
    ok(server, "GET", "/v1/models/a%2Fb%3Fc?x=%2F&y")
    ok(server, "POST", "/v1/embeddings?api-version=1", {"model": "m", "input": "x"})
    first, second = server.requests
    assert first.target == "/v1/models/a%2Fb%3Fc?x=%2F&y"
    assert (first.path, first.query) == ("/v1/models/a%2Fb%3Fc", "x=%2F&y")
    assert (first.method, first.body, first.json) == ("GET", b"", None)
    assert second.target == "/v1/embeddings?api-version=1"
    assert second.json == {"model": "m", "input": "x"}
