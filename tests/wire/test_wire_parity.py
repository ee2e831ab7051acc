"""Drop-in means the same wire: the same calls through the published ``r9s==0.9.0`` and r9s.

Every call of ``CALLS`` is made twice, sync and async: once by the anchor (its own venv, a
subprocess running ``_anchor_calls.py``) and once by this repository's ``r9s`` (in-process,
through the same ``_anchor_calls.run``).  Each call of each side goes to a ``FakeServer`` of
its own, which records what arrived; the test then compares, call by call: the method, the
raw request target (path and query, as sent), the JSON body, the ``Content-Type`` (none on a
GET, which has no body; ``application/json`` on every JSON body) and the credentials.

The calls are the anchor's usage snippets (``docs/sdks/{models,embeddings,engineembeddings,
moderations,edits,search,proxy,chat,completions,responses}/README.md``) and the calls of its
examples (``example/chat.py``, ``completions.py``, ``response.py`` and, from v0.9.2,
``embeddings.py``), written here in our own words: the same operations, parameters and
values, other texts.  A few more pin facts the examples leave out (a ``/`` in a model id,
the defaults the gateway relies on, a proxy call without a body, hostile path values).

One difference is allowed, field by field (``API_DEFAULTS``): the anchor fills in some
defaults the caller did not give, and where that default is the API's own, r9s leaves the
field out.  For those fields the test asserts that the anchor sends the default, that r9s
leaves it out when the caller did not set it, and that r9s sends it when the caller did.

Everything else must be equal, except the differences listed here on purpose:

- ``UNLISTED_DEFAULTS``: more anchor defaults equal to the API's that r9s also leaves out
  (``r9s/_core/api.py`` says so) but that are not in the allowance above; those calls are
  reported as expected failures (xfail, with the fields) until one of the two lists changes;
- ``ANCHOR_REFUSES``: calls the anchor refuses before sending (its request model rejects
  the argument), which r9s sends;
- ``ROUTE_FIXES``: hostile path values the anchor sends somewhere else (a query dropped, a
  ``..`` resolved), which r9s sends as written or refuses (issue 11).
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import pytest

from r9s.testing import FakeServer, RecordedRequest

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "_anchor_calls.py"

_spec = importlib.util.spec_from_file_location("_wire_driver", DRIVER)
assert _spec is not None and _spec.loader is not None
driver = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(driver)


class Call(NamedTuple):
    """One call: ``client.<resource>.<method>(**kwargs)``; ``wrap`` names model classes."""

    name: str
    resource: str
    method: str
    kwargs: dict[str, Any]
    wrap: Mapping[str, str] = MappingProxyType({})

    @property
    def op(self) -> str:
        return f"{self.resource}.{self.method}"


def chat(name: str, **kwargs: Any) -> Call:
    return Call(name, "chat", "create", kwargs)


def completion(name: str, **kwargs: Any) -> Call:
    return Call(name, "completions", "create", kwargs)


def respond(name: str, **kwargs: Any) -> Call:
    return Call(name, "responses", "create", kwargs)


def embed(name: str, **kwargs: Any) -> Call:
    return Call(name, "embeddings", "create", kwargs)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


FORECAST_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_forecast",
        "description": "The forecast for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City and country, e.g. Oslo, Norway"},
                "scale": {"type": "string", "enum": ["c", "f"], "description": "Degrees in"},
            },
            "required": ["city"],
        },
    },
}
CLOCK_TOOL = {
    "type": "function",
    "function": {
        "name": "read_clock",
        "description": "The local time somewhere",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
}
PROFILE_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "years": {"type": "integer"},
        "role": {"type": "string"},
        "languages": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "role"],
}
PROXIED_CHAT = {"model": "gpt-4o-mini", "messages": [user("Ping through the channel")]}

# fmt: off
CALLS: list[Call] = [
    # ---- the reference pages' usage snippets (docs/sdks/*/README.md)
    Call("docs/models.list", "models", "list", {}),
    Call("docs/models.retrieve", "models", "retrieve", {"model": "gpt-4o-mini"}),
    embed("docs/embeddings", model="qwen-plus", input="Lunch was tasty and the staff were kind.", encoding_format="float"),
    Call("docs/engine_embeddings", "engine_embeddings", "create", {"model": "qwen-plus", "input": "A lazy cat naps on a warm windowsill", "encoding_format": "float"}),
    Call("docs/moderations", "moderations", "create", {"input": "I am going to hurt him", "model": "gpt-4o-mini"}),
    Call("docs/edits", "edits", "create", {"model": "gpt-4o-mini", "instruction": "Correct the typos", "input": "Wich day of the weak is it?", "n": 1, "temperature": 1, "top_p": 1}),
    Call("docs/search", "search", "create", {"extra": {"query": "How do transformers work?", "num": 5, "contents": {"text": True}}, "engine": "exa"}, {"extra": "Extra"}),
    Call("docs/proxy", "proxy", "request", {"channelid": "123", "target": "chat/completions", "request_body": PROXIED_CHAT}),
    chat("docs/chat", model="gpt-4o-mini", messages=[user("Hi there, how is it going?")], stream=False),
    completion("docs/completions", model="gpt-4o-mini", prompt="It was a dark and stormy night", echo=False, frequency_penalty=0, max_tokens=50, n=1, presence_penalty=0, stream=False, temperature=1, top_p=1),
    respond("docs/responses", model="gpt-4o-mini", input="Tell me a pun about compilers", instructions="You are a witty helper", temperature=0.7, max_output_tokens=500, stream=False, parallel_tool_calls=True, store=True, background=False, truncation="disabled"),
    # ---- example/chat.py
    chat("examples/chat/basic", model="gpt-4o-mini", messages=[user("Good morning, anything new?")]),
    chat("examples/chat/system", model="gpt-4o-mini", messages=[{"role": "system", "content": "You answer briefly."}, user("Which city is the capital of Italy?")], temperature=0.7, max_tokens=100),
    chat("examples/chat/stream", model="gpt-4o-mini", messages=[user("Tell a two-line tale about an owl")], stream=True, stream_options={"include_usage": True}, temperature=0.8),
    chat("examples/chat/tools", model="gpt-4o-mini", messages=[user("Will it rain in Oslo today?")], tools=[FORECAST_TOOL], tool_choice="auto"),
    chat(
        "examples/chat/tool-result", model="gpt-4o-mini", tools=[FORECAST_TOOL],
        messages=[
            user("Will it rain in Oslo today?"),
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup_forecast", "arguments": "{\"city\": \"Oslo, Norway\"}"}}]},
            {"role": "tool", "content": "{\"rain_mm\": 3, \"sky\": \"grey\"}", "tool_call_id": "call_1"},
        ],
    ),
    chat(
        "examples/chat/multi-turn", model="gpt-4o-mini", max_tokens=500, temperature=0.8,
        messages=[
            {"role": "system", "content": "You teach Go to beginners."},
            user("How do I declare a slice?"),
            {"role": "assistant", "content": "Use a literal: s := []int{1, 2, 3}"},
            user("And how do I append to it?"),
        ],
    ),
    chat("examples/chat/json-mode", model="gpt-4o-mini", messages=[{"role": "system", "content": "Reply with JSON only."}, user("Pull out name and city: Ana lives in Lisbon.")], response_format={"type": "json_object"}, temperature=0.5),
    chat("examples/chat/json-schema", model="gpt-4o-mini", messages=[user("Invent a profile for a tester called Bo")], response_format={"type": "json_schema", "json_schema": {"name": "profile", "description": "A person's profile", "schema": PROFILE_SCHEMA}}, temperature=0.7),
    chat("examples/chat/vision", model="gpt-4o-mini", max_tokens=300, messages=[{"role": "user", "content": [{"type": "text", "text": "Describe this picture."}, {"type": "image_url", "image_url": {"url": "https://example.com/pictures/lake.jpg", "detail": "high"}}]}]),
    chat("examples/chat/forced-tool", model="gpt-4o-mini", messages=[user("What is the weather doing?")], tools=[FORECAST_TOOL, CLOCK_TOOL], tool_choice={"type": "function", "function": {"name": "lookup_forecast"}}),
    chat("examples/chat/parallel-tools", model="gpt-4o-mini", messages=[user("Forecasts for Lima, Rome and Seoul at once, please")], tools=[FORECAST_TOOL], parallel_tool_calls=True, temperature=0.7),
    chat("examples/chat/metadata", model="gpt-4o-mini", messages=[user("Explain superposition to a child")], temperature=0.8, max_tokens=300, user="customer_42", metadata={"session": "s-1", "thread": "t-9", "client": "ios", "build": "4.5.6"}, store=True),
    # ---- example/completions.py
    completion("examples/completions/basic", model="gpt-4o-mini", prompt="In a hole in the ground", max_tokens=50),
    completion("examples/completions/options", model="gpt-4o-mini", prompt="A haiku about tests", max_tokens=100, temperature=0.8, top_p=1.0, n=1),
    completion("examples/completions/stream", model="gpt-4o-mini", prompt="Three reasons to write docs:\n1.", max_tokens=150, stream=True, stop=["\n\n"]),
    completion("examples/completions/code", model="gpt-4o-mini", prompt="def factorial(n):", max_tokens=80, temperature=0.3),
    completion("examples/completions/stops", model="gpt-4o-mini", prompt="A Rust function that reverses a string:\n\n```rust\n", max_tokens=200, temperature=0.5, stop=["```", "\n\n\n"]),
    completion("examples/completions/n", model="gpt-4o-mini", prompt="The most readable syntax is", max_tokens=30, temperature=0.9, n=3),
    completion("examples/completions/echo", model="gpt-4o-mini", prompt="The largest ocean is", max_tokens=20, echo=True, temperature=0.3),
    completion("examples/completions/penalties", model="gpt-4o-mini", prompt="Four fresh ways to say goodbye:", max_tokens=100, temperature=0.8, frequency_penalty=0.5, presence_penalty=0.5),
    completion("examples/completions/seed", model="gpt-4o-mini", prompt="Pick a number from 1 to 10:", max_tokens=20, seed=42, temperature=0.7),
    # ---- example/response.py
    respond("examples/responses/text", model="gpt-4o-mini", input="A joke about recursion, please", instructions="You are a comedian", max_output_tokens=500, temperature=0.7, stream=False),
    respond("examples/responses/messages", model="gpt-4o-mini", input=[user("Hey, how are things?")], instructions="You are a kind assistant", max_output_tokens=1000, stream=False),
    respond(
        "examples/responses/multi-turn", model="gpt-4o-mini", instructions="You tutor statistics", max_output_tokens=2000, stream=False,
        input=[user("What is a p-value?"), {"role": "assistant", "content": "A p-value measures..."}, user("Show me an example?")],
    ),
    respond(
        "examples/responses/tools", model="gpt-4o-mini", input=[user("Is it sunny in Cairo?")], instructions="You may call tools", max_output_tokens=2000, temperature=0.7, stream=False,
        tools=[{"type": "function", "name": "lookup_forecast", "description": "The forecast for a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
    ),
    respond("examples/responses/stream", model="gpt-4o-mini", input="A short verse about rivers", instructions="You are a poet", stream=True, max_output_tokens=500, temperature=0.9),
    respond("examples/responses/json-mode", model="gpt-4o-mini", input="As JSON: Mia is 29 and designs bridges in Porto", instructions="Return the facts as JSON", text={"format": {"type": "json_object"}}, max_output_tokens=500, stream=False),
    respond(
        "examples/responses/json-schema", model="gpt-4o-mini", input="A JSON profile for the engineer Sam Lee", instructions="Follow the schema", max_output_tokens=800, stream=False,
        text={"format": {"type": "json_schema", "name": "profile", "schema": {**PROFILE_SCHEMA, "required": ["name", "years", "role", "languages"], "additionalProperties": False}, "strict": True}},
    ),
    respond("examples/responses/metadata", model="gpt-4o-mini", input="Recap what we agreed on", instructions="You take minutes", max_output_tokens=1500, temperature=0.5, top_p=0.9, metadata={"user": "u-7", "session": "s-3", "thread": "t-1"}, stream=False),
    respond("examples/responses/reasoning", model="gpt-5-codex", input="Three switches, one bulb upstairs; one trip to look. Which switch is it?", instructions="Reason it out", reasoning={"effort": "high"}, max_output_tokens=3000, stream=False),
    # ---- example/embeddings.py (v0.9.2)
    embed("examples/embeddings/basic", model="text-embedding-3-small", input="The tea was hot and the cake was fresh."),
    embed("examples/embeddings/list", model="text-embedding-3-small", input=["Good day", "Good night", "How is it going?", "Glad to see you"]),
    embed("examples/embeddings/base64", model="text-embedding-3-small", input="Encode me compactly.", encoding_format="base64"),
    embed("examples/embeddings/dimensions", model="text-embedding-3-small", input="Fewer numbers, please.", dimensions=256),
    embed("examples/embeddings/token-ids", model="text-embedding-3-small", input=[15339, 1917]),
    embed("examples/embeddings/user", model="text-embedding-3-small", input="Attribute this request.", user="customer_42"),
    embed("examples/embeddings/similarity", model="text-embedding-3-small", input=["A dog sleeps on the sofa", "A puppy dozes on the couch", "Bond yields rose sharply"]),
    # ---- facts the examples leave out
    Call("more/models.retrieve-slash", "models", "retrieve", {"model": "openai/gpt-4o-mini"}),
    Call("more/engine_embeddings-slash", "engine_embeddings", "create", {"model": "openai/text-embedding-3-small", "input": "slashes in the path"}),
    Call("more/engine_embeddings-defaults", "engine_embeddings", "create", {"model": "qwen-plus", "input": "no encoding format given"}),
    Call("more/search-no-engine", "search", "create", {"extra": {"query": "Who wrote the Odyssey?", "num": 5, "contents": {"text": True}}}, {"extra": "Extra"}),
    Call("more/moderations-no-model", "moderations", "create", {"input": "Have a lovely day"}),
    Call("more/proxy-no-body", "proxy", "request", {"channelid": "123", "target": "chat/completions"}),
    Call("more/edits-defaults", "edits", "create", {"model": "gpt-4o-mini", "instruction": "Make it formal"}),
    respond("more/responses-defaults", model="gpt-4o-mini", input="Nothing but the required arguments"),
    respond("more/responses-set-otherwise", model="gpt-4o-mini", input="Every default, the other way", parallel_tool_calls=False, store=False, background=True, truncation="auto"),
    # ---- hostile path values: the anchor sends them elsewhere (ROUTE_FIXES)
    Call("hostile/models.retrieve-query", "models", "retrieve", {"model": "gpt-4o-mini?x=1"}),
    Call("hostile/models.retrieve-dotdot", "models", "retrieve", {"model": "../chat/completions"}),
    Call("hostile/proxy-target-query", "proxy", "request", {"channelid": "7", "target": "chat/completions?api-version=2024-06-01", "request_body": PROXIED_CHAT}),
    Call("hostile/proxy-target-fragment", "proxy", "request", {"channelid": "7", "target": "chat/completions#top", "request_body": PROXIED_CHAT}),
    Call("hostile/proxy-target-dotdot", "proxy", "request", {"channelid": "7", "target": "../../models", "request_body": PROXIED_CHAT}),
]
# fmt: on

MODES = ("sync", "async")

#: The allowance: defaults the anchor sends when the caller gave nothing, equal to the API's
#: own, which r9s leaves out (and sends when the caller gives them).
API_DEFAULTS: dict[str, dict[str, Any]] = {
    "responses.create": {
        "stream": False,
        "parallel_tool_calls": True,
        "store": True,
        "background": False,
        "truncation": "disabled",
    },
    "embeddings.create": {"encoding_format": "float"},
    "engine_embeddings.create": {"encoding_format": "float"},
    "edits.create": {"input": "", "n": 1, "temperature": 1, "top_p": 1},
    "messages.create": {"service_tier": "auto"},  # no messages call here: not in r9s yet
    "chat.create": {"stream": False},
    "completions.create": {
        "echo": False,
        "frequency_penalty": 0,
        "n": 1,
        "presence_penalty": 0,
        "stream": False,
        "temperature": 1,
        "top_p": 1,
    },
}

#: More anchor defaults equal to the API's own that r9s leaves out, outside the allowance:
#: each call that leaves one of them unset is an expected failure naming the fields.
UNLISTED_DEFAULTS: dict[str, dict[str, Any]] = {}

#: Calls the anchor refuses before sending (its error, in part); r9s sends them as given.
ANCHOR_REFUSES: dict[str, str] = {
    # EmbeddingRequest.input is str | list[str] in 0.9.0: token ids fail its validation.
    "examples/embeddings/token-ids": "ValidationError",
}


class Route(NamedTuple):
    """What the anchor sent, and what r9s sent (``None``: refused with ``ValueError``)."""

    anchor: str
    r9s: str | None


#: Hostile path values: the anchor sends another route; r9s sends what was written or
#: refuses it (``encode_path_value`` in r9s/_core/operations.py).
ROUTE_FIXES: dict[str, Route] = {
    # the query is silently dropped: the anchor asks for another model
    "hostile/models.retrieve-query": Route(
        "/v1/models/gpt-4o-mini", "/v1/models/gpt-4o-mini%3Fx=1"
    ),
    # the dots are resolved: the anchor sends GET /v1/chat/completions
    "hostile/models.retrieve-dotdot": Route("/v1/chat/completions", None),
    "hostile/proxy-target-query": Route(
        "/v1/nextrouter/proxy/7/chat/completions",
        "/v1/nextrouter/proxy/7/chat/completions?api-version=2024-06-01",
    ),
    "hostile/proxy-target-fragment": Route("/v1/nextrouter/proxy/7/chat/completions", None),
    # out of the proxy: the anchor posts the body to /v1/nextrouter/models
    "hostile/proxy-target-dotdot": Route("/v1/nextrouter/models", None),
}

#: Answers of the built-in server (OpenAI's shapes) that the anchor sent the request for but
#: cannot decode: a part of its error, by operation.  Not wire differences (the request went
#: out and is compared); listed so that any other failure of the anchor is noticed.
ANCHOR_CANNOT_DECODE: dict[str, str] = {
    # its usage model requires completion_tokens, which an embeddings answer does not have
    # (with encoding_format="base64" it also refuses the string embedding)
    "embeddings.create": "body.usage.completion_tokens",
    "engine_embeddings.create": "body.usage.completion_tokens",
    # it wants "object": "completion"; OpenAI's completions say "text_completion" (streamed
    # too: its stream fails on the first event)
    "completions.create": "Input should be 'completion'",
}


# ----------------------------------------------------------------------------- running


class Side(NamedTuple):
    outcome: dict[str, Any]
    requests: list[RecordedRequest]


class Wire(NamedTuple):
    anchor: dict[str, Side]
    ours: dict[str, Side]
    anchor_package: dict[str, str]
    our_package: dict[str, str]


def key(call: Call, mode: str) -> str:
    return f"{call.name}[{mode}]"


def payload_calls() -> list[dict[str, Any]]:
    return [
        {
            "id": key(call, mode),
            "resource": call.resource,
            "method": call.method,
            "kwargs": call.kwargs,
            "wrap": dict(call.wrap),
            "async": mode == "async",
        }
        for call in CALLS
        for mode in MODES
    ]


def serve_and_run(
    calls: list[dict[str, Any]], runner: Callable[[dict[str, Any]], dict[str, Any]]
) -> tuple[dict[str, Side], dict[str, str]]:
    """Run ``calls`` with ``runner``, each against a new ``FakeServer``; what each received."""
    with ExitStack() as stack:
        servers = [stack.enter_context(FakeServer()) for _ in calls]
        report = runner({"urls": [s.url for s in servers], "calls": calls})
        recorded = [s.requests for s in servers]
    outcomes = report["outcomes"]
    assert [o["id"] for o in outcomes] == [c["id"] for c in calls]
    sides = {o["id"]: Side(o, reqs) for o, reqs in zip(outcomes, recorded, strict=True)}
    return sides, report["package"]


@pytest.fixture(scope="module")
def wire(run_anchor: Callable[[Path, dict[str, Any]], dict[str, Any]]) -> Iterator[Wire]:
    calls = payload_calls()
    anchor, anchor_package = serve_and_run(calls, lambda p: run_anchor(DRIVER, p))
    with pytest.MonkeyPatch.context() as mp:  # loopback only, whatever the environment says
        for name in list(os.environ):
            if name.lower().endswith("_proxy"):
                mp.delenv(name)
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        ours, our_package = serve_and_run(calls, driver.run)
    yield Wire(anchor, ours, anchor_package, our_package)


# ----------------------------------------------------------------------------- comparing


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value (``1`` is ``1.0``), but ``true`` is never ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


_MISSING = "<missing>"


def body_differences(anchor: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, tuple]:
    """Each top-level field that differs: ``{field: (anchor's value, r9s's value)}``."""
    out: dict[str, tuple] = {}
    for field in sorted(anchor.keys() | ours.keys()):
        a, o = anchor.get(field, _MISSING), ours.get(field, _MISSING)
        if a is _MISSING or o is _MISSING or not same_json(a, o):
            out[field] = (a, o)
    return out


def only(side: Side, what: str) -> RecordedRequest:
    assert len(side.requests) == 1, f"{what} sent {len(side.requests)} requests, not 1"
    return side.requests[0]


def check_headers(req: RecordedRequest, who: str) -> None:
    ctype = req.headers.get("content-type")
    if req.method == "GET":
        assert req.body == b"", f"{who}: a GET with a body"
        assert ctype is None, f"{who}: a GET with Content-Type {ctype!r}"
    elif req.body:
        assert ctype == "application/json", f"{who}: a JSON body sent as {ctype!r}"
        assert req.json is not None, f"{who}: the body is not JSON: {req.body[:200]!r}"
    else:
        assert ctype is None, f"{who}: Content-Type {ctype!r} with no body"
    assert req.headers.get("authorization") == f"Bearer {driver.API_KEY}", who


VARIANTS = [pytest.param(call, mode, id=key(call, mode)) for call in CALLS for mode in MODES]


def test_each_side_ran_its_own_package(wire: Wire) -> None:
    assert wire.anchor_package["version"] == "0.9.0"
    assert Path(wire.anchor_package["file"]).is_relative_to(wire.anchor_package["prefix"])
    ours = Path(wire.our_package["file"]).resolve()
    assert ours == (HERE.parent.parent / "r9s" / "__init__.py").resolve()


@pytest.mark.parametrize(("call", "mode"), VARIANTS)
def test_same_wire(wire: Wire, call: Call, mode: str) -> None:
    anchor, ours = wire.anchor[key(call, mode)], wire.ours[key(call, mode)]
    stream = call.kwargs.get("stream") is True

    if call.name in ANCHOR_REFUSES:
        assert anchor.outcome["status"] == "error", "the anchor now accepts it: compare instead"
        assert ANCHOR_REFUSES[call.name] in anchor.outcome["error"]
        assert anchor.requests == [], "the anchor refused it, but sent something"
        assert ours.outcome["status"] == "ok", ours.outcome["error"]
        sent = only(ours, "r9s")
        check_headers(sent, "r9s")
        assert same_json(sent.json, call.kwargs), sent.json
        return

    route = ROUTE_FIXES.get(call.name)
    a = only(anchor, "the anchor")
    if route is not None:
        assert a.target == route.anchor, "the anchor's route changed"
    if route is not None and route.r9s is None:
        assert ours.outcome["status"] == "error"
        assert ours.outcome["error"].startswith("ValueError: "), ours.outcome["error"]
        assert ours.requests == [], "r9s refused the call but sent something"
        return

    assert ours.outcome["status"] == "ok", ours.outcome["error"]
    if stream:
        assert ours.outcome["events"], "r9s read no event"
    if route is None and anchor.outcome["status"] != "ok":
        expected = ANCHOR_CANNOT_DECODE.get(call.op)
        assert expected is not None and expected in anchor.outcome["error"], anchor.outcome
    elif route is None and stream:
        assert anchor.outcome["events"], "the anchor read no event"

    o = only(ours, "r9s")
    assert o.method == a.method
    assert o.target == (route.r9s if route else a.target)
    check_headers(a, "the anchor")
    check_headers(o, "r9s")
    assert (a.json is None) == (o.json is None), (a.body[:200], o.body[:200])
    if a.json is None:
        return

    anchor_body = dict(a.json)
    for field, default in API_DEFAULTS.get(call.op, {}).items():
        if field in call.kwargs:
            continue  # given: compared with every other field below
        assert field in anchor_body and same_json(anchor_body[field], default), (
            f"the anchor no longer sends {field}={default!r} by default"
        )
        assert field not in o.json, f"r9s sent {field}={o.json[field]!r}, which was not given"
        del anchor_body[field]
    differences = body_differences(anchor_body, o.json)
    unlisted = {
        field: (default, _MISSING)
        for field, default in UNLISTED_DEFAULTS.get(call.op, {}).items()
        if field not in call.kwargs
    }
    if unlisted:
        assert differences.keys() == unlisted.keys(), differences
        assert all(same_json(differences[f][0], v[0]) for f, v in unlisted.items())
        assert all(differences[f][1] is _MISSING for f in unlisted)
        fields = ", ".join(f"{f}={json.dumps(v[0])}" for f, v in unlisted.items())
        pytest.xfail(f"the anchor sends its defaults {fields}; r9s leaves them out")
    assert differences == {}


def test_the_allowance_is_exercised_both_ways() -> None:
    """Each allowed field is left unset by some call and set by another (messages aside)."""
    for op, defaults in API_DEFAULTS.items():
        if op == "messages.create":
            continue
        for field in defaults:
            given = [c.name for c in CALLS if c.op == op and field in c.kwargs]
            unset = [c.name for c in CALLS if c.op == op and field not in c.kwargs]
            assert given and unset, (op, field, given, unset)


def test_every_expectation_names_a_call() -> None:
    names = {c.name for c in CALLS}
    assert len(names) == len(CALLS), "two calls share a name"
    assert set(ANCHOR_REFUSES) <= names
    assert set(ROUTE_FIXES) <= names
