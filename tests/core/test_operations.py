"""Request building: what goes on the wire, and what fails before any I/O."""

from __future__ import annotations

import json
import math

import pytest

from r9s import __version__
from r9s._core.api import CHAT, COMPLETIONS, RESPONSES
from r9s._core.operations import ClientConfig, prepare
from r9s._core.request import DEFAULT_TIMEOUT, Timeout
from r9s.models import ChatCompletionMessage
from r9s.utils import BackoffStrategy, RetryConfig
from r9s.utils.retries import DEFAULT_RETRY_CONFIG

CFG = ClientConfig(api_key="sk-test-key", server_url="http://127.0.0.1:9/v1/")
MSGS = [{"role": "user", "content": "Hi"}]


def body(call) -> dict:
    return json.loads(call.request.body)


def test_only_set_parameters_go_on_the_wire() -> None:
    call = prepare(CHAT, {"model": "m", "messages": MSGS, "temperature": 0, "top_p": None}, CFG)
    assert body(call) == {"model": "m", "messages": MSGS, "temperature": 0}
    assert call.request.method == "POST"
    assert call.request.url == "http://127.0.0.1:9/v1/chat/completions"
    assert not call.stream


def test_headers_are_exactly_these() -> None:
    call = prepare(CHAT, {"model": "m", "messages": MSGS, "stream": True}, CFG)
    assert dict(call.request.headers) == {
        "authorization": "Bearer sk-test-key",
        "accept": "text/event-stream",
        "content-type": "application/json",
        "user-agent": f"r9s-python/{__version__}",
        "accept-encoding": "gzip, deflate",
    }
    assert call.stream


def test_accept_json_when_not_streaming() -> None:
    assert prepare(COMPLETIONS, {"model": "m", "prompt": "x"}, CFG).request.headers["accept"] == (
        "application/json"
    )


def test_every_seed_parameter_is_accepted() -> None:
    chat = dict(
        model="m",
        messages=MSGS,
        frequency_penalty=0.1,
        logit_bias={"1": -1.0},
        logprobs=True,
        top_logprobs=2,
        max_tokens=5,
        max_completion_tokens=6,
        n=1,
        modalities=["text"],
        audio={"voice": "a", "format": "wav"},
        presence_penalty=0.0,
        response_format={"type": "json_object"},
        seed=1,
        service_tier="auto",
        stop=["x"],
        stream=False,
        stream_options={"include_usage": True},
        temperature=1,
        top_p=1.0,
        top_k=3,
        tools=[{"type": "function", "function": {"name": "f"}}],
        tool_choice="auto",
        parallel_tool_calls=True,
        user="u",
        reasoning_effort="low",
        store=False,
        metadata={"k": "v"},
    )
    assert body(prepare(CHAT, chat, CFG)) == chat
    comp = dict(
        model="m",
        prompt=["a", "b"],
        best_of=1,
        echo=False,
        frequency_penalty=0,
        logit_bias={},
        logprobs=1,
        max_tokens=50,
        n=1,
        presence_penalty=0,
        seed=3,
        stop="\n",
        stream=False,
        suffix="s",
        temperature=1,
        top_p=1,
        user="u",
    )
    assert body(prepare(COMPLETIONS, comp, CFG)) == comp
    resp = dict(
        model="m",
        input=[{"role": "user", "content": "x"}],
        instructions="be brief",
        temperature=0.7,
        top_p=1,
        max_output_tokens=500,
        stream=False,
        modalities=["text"],
        tools=[],
        tool_choice="auto",
        metadata={"a": 1},
    )
    assert body(prepare(RESPONSES, resp, CFG)) == resp


def test_per_call_options() -> None:
    retries = RetryConfig("backoff", BackoffStrategy(1, 2, 2, 3), False)
    call = prepare(
        CHAT,
        {"model": "m", "messages": MSGS},
        CFG,
        retries=retries,
        server_url="https://other.example/v2",
        timeout_ms=1500,
        http_headers={"X-Trace": "1", "user-agent": "mine"},
        extra_body={"top_k2": 1, "seed": None},
    )
    assert call.request.url == "https://other.example/v2/chat/completions"
    assert call.request.headers["x-trace"] == "1"
    assert call.request.headers.get_list("user-agent") == ["mine"]
    assert body(call)["top_k2"] == 1 and body(call)["seed"] is None  # extra_body is sent as given
    assert call.timeout == Timeout(1.5, 1.5, 1.5, 1.5)
    assert call.retry is retries
    assert prepare(CHAT, {"model": "m", "messages": MSGS}, CFG, retries=None).retry is None
    default = prepare(CHAT, {"model": "m", "messages": MSGS}, CFG)
    assert default.retry is DEFAULT_RETRY_CONFIG and default.timeout == DEFAULT_TIMEOUT


def test_models_and_pydantic_like_objects_serialize() -> None:
    prev = ChatCompletionMessage({"role": "assistant", "content": "hello"})
    call = prepare(CHAT, {"model": "m", "messages": [*MSGS, prev]}, CFG)
    assert body(call)["messages"][1] == {"role": "assistant", "content": "hello"}


def test_callable_api_key_is_asked_each_time() -> None:
    keys = iter(["k1", "k2"])
    cfg = ClientConfig(api_key=lambda: next(keys))
    assert (
        prepare(CHAT, {"model": "m", "messages": MSGS}, cfg).request.headers["authorization"]
        == "Bearer k1"
    )
    assert (
        prepare(CHAT, {"model": "m", "messages": MSGS}, cfg).request.headers["authorization"]
        == "Bearer k2"
    )


@pytest.mark.parametrize(
    ("params", "exc", "match"),
    [
        ({"messages": MSGS}, TypeError, "missing required argument: 'model'"),
        ({"model": "m"}, TypeError, "missing required argument: 'messages'"),
        ({"model": "m", "messages": []}, ValueError, "non-empty list"),
        ({"model": "m", "messages": ["hi"]}, TypeError, r"messages\[0\] must be a dict"),
        ({"model": 3, "messages": MSGS}, TypeError, "'model' must be str, not int"),
        ({"model": " ", "messages": MSGS}, ValueError, "non-empty model name"),
        (
            {"model": "m", "messages": MSGS, "max_tokens": True},
            TypeError,
            "'max_tokens' must be int",
        ),
        ({"model": "m", "messages": MSGS, "temperature": "hot"}, TypeError, "'temperature'"),
        ({"model": "m", "messages": MSGS, "stream": "yes"}, TypeError, "'stream' must be bool"),
        ({"model": "m", "messages": MSGS, "temprature": 1}, TypeError, "unexpected argument"),
        ({"model": "m", "messages": MSGS, "temperature": math.nan}, ValueError, "not valid JSON"),
    ],
)
def test_bad_arguments_fail_before_io(params: dict, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        prepare(CHAT, params, CFG)


def test_bad_headers_urls_and_timeouts() -> None:
    ok = {"model": "m", "messages": MSGS}
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        prepare(CHAT, ok, CFG, http_headers={"X-A": "1\r\nX-Injected: 1"})
    with pytest.raises(ValueError, match="absolute http"):
        prepare(CHAT, ok, CFG, server_url="ftp://x")
    with pytest.raises(ValueError, match="positive"):
        prepare(CHAT, ok, CFG, timeout_ms=0)
    with pytest.raises(TypeError, match="RetryConfig"):
        prepare(CHAT, ok, CFG, retries=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="input"):
        prepare(RESPONSES, {"model": "m"}, CFG)


def test_request_repr_hides_the_key() -> None:
    call = prepare(CHAT, {"model": "m", "messages": MSGS}, CFG)
    assert "sk-test-key" not in repr(call.request)
    assert "sk-test-key" not in repr(call)
    assert "sk-test-key" not in repr(CFG)
