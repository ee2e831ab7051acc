"""Drop-in means the same wire: the same calls through the published ``r9s==0.9.0`` and r9s.

Every call of ``CALLS`` is made twice, sync and async: once by the anchor (its own venv, a
subprocess running ``_anchor_calls.py``) and once by this repository's ``r9s`` (in-process,
through the same ``_anchor_calls.run``).  Each call of each side goes to a ``FakeServer`` of
its own, which records what arrived; the test then compares, call by call: the method, the
raw request target (path and query, as sent), the ``Accept`` header, the ``Content-Type``
(none on a GET, which has no body; ``application/json`` on every JSON body;
``multipart/form-data; boundary=`` on an upload, whose boundary is random on both sides),
the credentials, and the body: a JSON body as JSON, a multipart body part by part (the
ordered parts' names, filenames, content types, exact header lines and payloads, read from
the raw bytes).  A streamed call reads its stream to the end, a speech call its bytes.

The calls are the anchor's usage snippets (``docs/sdks/{models,embeddings,engineembeddings,
moderations,edits,search,proxy,chat,completions,responses,messages,images,audiosdk}/
README.md``) and the calls of its examples (``example/chat.py``, ``completions.py``,
``response.py``, ``messages.py``, ``image.py``, ``audio.py`` and, from v0.9.2,
``embeddings.py``), written here in our own words: the same operations, parameters and
values, other texts and files (PNGs made here; bytes for audio).  Files go to both SDKs as
the anchor's ``{"file_name", "content", "content_type"}`` dicts, with ``content`` as bytes or
as an open file, as each example has it.  A few more pin facts the examples leave out (a
``/`` in a model id, the defaults the gateway relies on, a proxy call without a body,
hostile path values, several images as bytes, defaults given explicitly).

One difference is allowed, field by field (``API_DEFAULTS``): the anchor fills in some
defaults the caller did not give, and where that default is the API's own, r9s leaves the
field out.  For those fields the test asserts that the anchor sends the default (a JSON
field or a form part), that r9s leaves it out when the caller did not set it, and that r9s
sends it when the caller did.

Everything else must be equal, except the differences listed here on purpose:

- ``UNLISTED_DEFAULTS``: more anchor defaults equal to the API's that r9s also leaves out
  (``r9s/_core/api.py`` says so) but that are not in the allowance above; those calls are
  reported as expected failures (xfail, with the fields) until one of the two lists changes;
- the README's deliberate differences, each asserted exactly: a messages call's tools
  (``tool_differences``) and an image edit with several images (``expected_image_parts``);
- ``ANCHOR_REFUSES``: calls the anchor refuses before sending (its request model rejects
  the argument), which r9s sends;
- ``SERVER_REFUSES``: calls the built-in server answers with an error, whoever sends them
  (compared all the same);
- ``ROUTE_FIXES``: hostile path values the anchor sends somewhere else (a query dropped, a
  ``..`` resolved), which r9s sends as written or refuses (issue 11).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import mimetypes
import os
import re
import struct
import zlib
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


def message(name: str, **kwargs: Any) -> Call:
    return Call(name, "messages", "create", kwargs)


def said(role: str, *blocks: str | dict[str, Any]) -> dict[str, Any]:
    """A Messages API turn: each block a text, or a content block as given."""
    content = [{"type": "text", "text": b} if isinstance(b, str) else b for b in blocks]
    return {"role": role, "content": content}


def image(name: str, **kwargs: Any) -> Call:
    return Call(name, "images", "create", kwargs)


def edit(name: str, **kwargs: Any) -> Call:
    return Call(name, "images", "edit", kwargs)


def speak(name: str, **kwargs: Any) -> Call:
    return Call(name, "audio", "speech", kwargs)


def transcribe(name: str, **kwargs: Any) -> Call:
    return Call(name, "audio", "transcribe", kwargs)


def translate(name: str, **kwargs: Any) -> Call:
    return Call(name, "audio", "translate", kwargs)


def png(width: int, height: int, rgba: tuple[int, int, int, int]) -> bytes:
    """A real PNG of one colour (8-bit RGBA), made here."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgba) * width for _ in range(height))
    head = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + pixels + chunk(b"IEND", b"")


def upload(
    file_name: str, data: bytes, content_type: str | None = None, *, opened: bool = False
) -> dict[str, Any]:
    """The published package's file dict ``{"file_name", "content", "content_type"}``, as the
    driver rebuilds it (``_anchor_calls.py``): ``content`` the bytes, or with ``opened`` a
    binary file open on a copy of them."""
    spec: dict[str, Any] = {
        "file_name": file_name,
        "content_b64": base64.b64encode(data).decode("ascii"),
        "open": opened,
    }
    if content_type is not None:
        spec["content_type"] = content_type
    return {"$file": spec}


def uploaded(value: Any) -> bytes:
    """The bytes an ``upload(...)`` description holds."""
    return base64.b64decode(value["$file"]["content_b64"])


RED_SQUARE = png(4, 4, (200, 30, 30, 255))
BLUE_SQUARE = png(4, 4, (20, 40, 220, 255))
GREEN_WIDE = png(6, 3, (20, 180, 60, 255))
#: A mask: transparent all over (the whole image may change).
HALF_MASK = png(4, 4, (0, 0, 0, 0))
#: Not real audio, but every byte value, CR LF and ``--`` among them: a multipart body must
#: carry them through unchanged.
SOME_AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 16 + b"\r\n--\r\n"
OTHER_AUDIO = b"RIFF\x24\x08\x00\x00WAVEfmt " + bytes(range(255, -1, -1)) * 8

STOCK_TOOL = {
    "name": "quote_stock",
    "description": "The latest price of a listed share",
    "input_schema": {
        "type": "object",
        "properties": {"symbol": {"type": "string", "description": "Exchange symbol, e.g. MSFT"}},
        "required": ["symbol"],
    },
}
WEATHER_TOOL = {
    "name": "current_weather",
    "description": "The weather in a city now",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TIME_TOOL = {
    "name": "local_time",
    "description": "The time now in a time zone",
    "input_schema": {
        "type": "object",
        "properties": {"zone": {"type": "string"}},
        "required": ["zone"],
    },
}

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
    # ---- docs/sdks/messages/README.md
    message("docs/messages", model="claude-opus-4.5", messages=[said("user", "Good evening, Claude.")], max_tokens=1024, stream=False, service_tier="auto"),
    # ---- example/messages.py
    message("examples/messages/basic", model="claude-haiku-4.5", messages=[said("user", "Hi! What can you help me with?")], max_tokens=1024),
    message("examples/messages/system", model="claude-haiku-4.5", system="You are an expert on medieval castles.", messages=[said("user", "How were moats dug?")], max_tokens=500, temperature=0.7),
    message("examples/messages/stream", model="claude-haiku-4.5", messages=[said("user", "Four lines about a lighthouse, please.")], max_tokens=300, stream=True),
    message("examples/messages/tools", model="claude-haiku-4.5", messages=[said("user", "What does a Microsoft share cost now?")], tools=[STOCK_TOOL], max_tokens=1024),
    message(
        "examples/messages/tool-result", model="claude-haiku-4.5", tools=[STOCK_TOOL], max_tokens=1024,
        messages=[
            said("user", "What does a Microsoft share cost now?"),
            said("assistant", "Let me look that up.", {"type": "tool_use", "id": "toolu_01", "name": "quote_stock", "input": {"symbol": "MSFT"}}),
            said("user", {"type": "tool_result", "tool_use_id": "toolu_01", "content": "{\"symbol\": \"MSFT\", \"price\": 411.2, \"currency\": \"USD\"}"}),
        ],
    ),
    message(
        "examples/messages/multi-turn", model="claude-haiku-4.5", system="You coach beginners in SQL, patiently.", max_tokens=800,
        messages=[
            said("user", "I am new to SQL. What is a join?"),
            said("assistant", "A join combines rows of two tables that share a value, such as a customer id."),
            said("user", "Could you show me one?"),
        ],
    ),
    message("examples/messages/vision-url", model="claude-sonnet-4.5", max_tokens=500, messages=[said("user", "What does this photo show? Be thorough.", {"type": "image", "source": {"type": "url", "url": "https://example.com/photos/harbour.jpg"}})]),
    message("examples/messages/vision-base64", model="claude-sonnet-4.5", max_tokens=300, messages=[said("user", "What colour is this?", {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(RED_SQUARE).decode("ascii")}})]),
    message("examples/messages/metadata", model="claude-haiku-4.5", messages=[said("user", "What is a neural network?")], max_tokens=500, metadata={"user_id": "user_981", "session_id": "sess_k2", "source": "mobile", "version": "3.0.1"}),
    message("examples/messages/stop-sequences", model="claude-haiku-4.5", messages=[said("user", "List the months of the year")], max_tokens=200, temperature=0.9, stop_sequences=["June\n"]),
    message("examples/messages/temperature-0", model="claude-haiku-4.5", messages=[said("user", "Name a bakery in three words.")], max_tokens=100, temperature=0.0),
    message("examples/messages/temperature-1", model="claude-haiku-4.5", messages=[said("user", "Name a bakery in three words.")], max_tokens=100, temperature=1.0),
    message("examples/messages/top-k-top-p", model="claude-haiku-4.5", messages=[said("user", "Open a mystery novel in one sentence.")], max_tokens=150, top_k=50, top_p=0.95),
    message("examples/messages/parallel-tools", model="claude-haiku-4.5", messages=[said("user", "How warm is Lisbon, and what time is it there?")], tools=[WEATHER_TOOL, TIME_TOOL], max_tokens=1024),
    message("examples/messages/thinking", model="claude-sonnet-4.5", messages=[said("user", "Three painters paint three walls in three hours. How many paint twelve walls in six hours?")], max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 1000}),
    # ---- docs/sdks/images/README.md
    image("docs/images.create", prompt="A sleepy fox curled up in the snow", model="gpt-4o-mini", n=1, quality="standard", response_format="url", size="1024x1024", style="vivid"),
    edit("docs/images.edit", image=upload("original.png", RED_SQUARE), prompt="Put a blue scarf on it", model="dall-e-2", size="1024x1024"),
    edit("docs/images.edit-mask", image=upload("photo.png", RED_SQUARE), mask=upload("mask.png", HALF_MASK), prompt="Swap the background for a snowy forest", n=2, response_format="b64_json"),
    edit("docs/images.edit-minimal", image=upload("input.png", BLUE_SQUARE), prompt="Render it as an oil painting"),
    image("docs/images.create-n", prompt="A vintage motorbike in a garage", model="gpt-image-1.5", n=5, size="1536x1024", quality="high"),
    image("docs/images.create-negative-prompt", prompt="A quiet lake at dawn", negative_prompt="boats, houses, people", model="wanx-v1"),
    image("docs/images.create-seed", prompt="A green parrot", seed=4242, model="wanx-v1"),
    image("docs/images.create-aspect-ratio", prompt="A harbour town at dusk", model="gemini-2.5-flash-image", size="16:9", quality="hd"),
    image("docs/images.create-pixels", prompt="A portrait of a clockwork knight", model="gemini-2.5-flash-image", size="1024x1792"),
    image("docs/images.create-4k", prompt="A very detailed glacier", model="gemini-3-pro-image-preview", size="1:1", quality="4k"),
    # ---- example/image.py
    image("examples/images/detailed", model="gpt-image-1", prompt="A puppy asleep on a rug", n=1, quality="high", size="1024x1024"),
    image("examples/images/stream", prompt="A desert city at night with hovering trains", model="gpt-image-1", stream=True, partial_images=2, n=1, size="1024x1024"),
    image("examples/images/url", model="dall-e-2", prompt="A flat logo of a leaf inside a gear", n=1, response_format="url", size="512x512"),
    edit("examples/images/edit", image=upload("puppy.png", RED_SQUARE, "image/png", opened=True), prompt="Give the puppy sunglasses", model="gpt-image-1", n=1, size="1024x1024"),
    edit("examples/images/edit-fidelity", image=upload("puppy.png", RED_SQUARE, "image/png", opened=True), prompt="Make the puppy look royal", model="gpt-image-1", input_fidelity="high", size="1024x1024", background="opaque", output_format="png", quality="low"),
    edit("examples/images/edit-stream", image=upload("puppy.png", RED_SQUARE, "image/png", opened=True), prompt="Move the puppy to a neon street", model="gpt-image-1", stream=True, partial_images=2, n=1),
    edit(
        "examples/images/edit-several", model="gpt-image-1", n=1, size="1024x1024", prompt="Two puppies playing, one of them in sunglasses",
        image=[upload("puppy.png", RED_SQUARE, "image/png", opened=True), upload("puppy_sunglasses.png", BLUE_SQUARE, "image/png", opened=True)],
    ),
    # ---- docs/sdks/audiosdk/README.md
    speak("docs/audio.speech", model="speech-2.6-turbo", input="Thanks for calling, how can we help?", voice="alloy", response_format="mp3", speed=1),
    transcribe("docs/audio.transcribe", file=upload("example.file", SOME_AUDIO, opened=True), model="whisper-1", response_format="json", temperature=0),
    translate("docs/audio.translate", file=upload("example.file", OTHER_AUDIO, opened=True), model="whisper-1", response_format="json", temperature=0),
    # ---- example/audio.py
    speak("examples/audio/speech", model="speech-2.6-turbo", input="Good morning and welcome aboard!", voice="alloy"),
    speak("examples/audio/speech-options", model="speech-2.6-hd", input="Sphinx of black quartz, judge my vow.", voice="nova", response_format="mp3", speed=1.0),
    speak("examples/audio/speech-fast", model="speech-2.6-turbo", input="News in brief: roads are open, skies are clear, lunch is at noon.", voice="echo", response_format="mp3", speed=1.2),
    speak("examples/audio/speech-slow", model="speech-2.6-turbo", input="Listen carefully and say it back slowly.", voice="shimmer", response_format="mp3", speed=0.75),
    transcribe("examples/audio/transcribe", file=upload("slow_speech.mp3", SOME_AUDIO), model="whisper-1"),
    transcribe("examples/audio/transcribe-options", file=upload("slow_speech.mp3", SOME_AUDIO), model="whisper-1", language="en", response_format="json", temperature=0),
    transcribe("examples/audio/transcribe-timestamps", file=upload("standup.wav", OTHER_AUDIO), model="gpt-4o-transcribe", language="en", response_format="verbose_json", timestamp_granularities=["word"]),
    transcribe("examples/audio/transcribe-srt", file=upload("lecture.mp3", SOME_AUDIO), model="whisper-1", language="en", response_format="srt"),
    transcribe("examples/audio/transcribe-prompt", file=upload("devops_talk.mp3", SOME_AUDIO), model="whisper-1", language="en", prompt="A talk about Terraform, Helm charts and service meshes", response_format="json", temperature=0),
    translate("examples/audio/translate", file=upload("spanish.mp3", SOME_AUDIO), model="whisper-1"),
    translate("examples/audio/translate-prompt", file=upload("italian.mp3", SOME_AUDIO), model="whisper-1", prompt="This is about cooking", response_format="json"),
    translate("examples/audio/translate-text", file=upload("team_call_jp.mp3", OTHER_AUDIO), model="gpt-4o-transcribe", prompt="A team call, translate plainly", response_format="text"),
    translate("examples/audio/translate-precise", file=upload("contract.mp3", SOME_AUDIO), model="whisper-1", prompt="A contract read aloud, translate exactly", response_format="json", temperature=0),
    # ---- more: the Messages API, images and audio
    message("more/messages-service-tier", model="claude-haiku-4.5", messages=[said("user", "Only standard capacity, please.")], max_tokens=64, service_tier="standard_only"),
    message("more/messages-tool-choice", model="claude-haiku-4.5", messages=[said("user", "Price of an Apple share?")], tools=[STOCK_TOOL], tool_choice={"type": "tool", "name": "quote_stock"}, max_tokens=256),
    edit(
        "more/images.edit-several-bytes", prompt="Blend the three squares into one", model="gpt-image-1",
        image=[upload("red.png", RED_SQUARE, "image/png"), upload("blue.png", BLUE_SQUARE, "image/png"), upload("green.png", GREEN_WIDE)],
    ),
    edit("more/images.edit-one-in-a-list", image=[upload("red.png", RED_SQUARE, "image/png")], prompt="Only one image, in a list"),
    edit("more/images.edit-defaults-given", image=upload("red.png", RED_SQUARE), prompt="Every default given", n=1, input_fidelity="low", partial_images=0, size="512x512"),
    edit("more/images.edit-mask-open", image=upload("photo.png", RED_SQUARE, "image/png", opened=True), mask=upload("mask.png", HALF_MASK, "image/png", opened=True), prompt="Fill the clear part with stars", user="customer_42"),
    transcribe("more/audio.transcribe-granularities", file=upload("interview.mp3", SOME_AUDIO, "audio/mpeg"), model="whisper-1", response_format="verbose_json", timestamp_granularities=["word", "segment"]),
    transcribe("more/audio.transcribe-text", file=upload("memo.mp3", SOME_AUDIO), model="whisper-1", response_format="text", temperature=0.2),
    transcribe("more/audio.transcribe-open", file=upload("memo.wav", OTHER_AUDIO, "audio/wav", opened=True), model="whisper-1", prompt="A voice memo"),
    translate("more/audio.translate-temperature", file=upload("greek.mp3", OTHER_AUDIO), model="whisper-1", temperature=0.4, response_format="verbose_json"),
    speak("more/audio.speech-speed-only", model="speech-2.6-turbo", input="Just the speed.", voice="onyx", speed=1.5),
    speak("more/audio.speech-format-only", model="speech-2.6-turbo", input="Just the format.", voice="fable", response_format="wav"),
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
    "messages.create": {"service_tier": "auto", "stream": False},
    "images.create": {"n": 1},
    "images.edit": {"n": 1, "input_fidelity": "low", "partial_images": 0},
    "audio.speech": {"response_format": "mp3", "speed": 1},
    "audio.transcribe": {"response_format": "json", "temperature": 0},
    "audio.translate": {"response_format": "json", "temperature": 0},
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
    # its images page shows quality="4k", which its own ImageGenerationRequest refuses
    "docs/images.create-4k": "Input should be 'standard', 'hd', 'low', 'medium' or 'high'",
}

#: Calls the built-in server answers with an error (a part of it), whoever sends them: the
#: request went out and is compared all the same.  (Empty now: its images endpoints take the
#: aspect-ratio sizes the reference pages use, "16:9", as the gateway's models do.)
SERVER_REFUSES: dict[str, str] = {}


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

#: Operations whose body is ``multipart/form-data`` (compared part by part), and those whose
#: answer is bytes (read to the end by the driver).
MULTIPART_OPS = frozenset({"images.edit", "audio.transcribe", "audio.translate"})
BINARY_OPS = frozenset({"audio.speech"})
MULTIPART = "multipart/form-data; boundary="

# Two deliberate differences (README, "Drop-in"), asserted exactly where they apply:
#
# - messages.create with tools: r9s sends each tool's input_schema as given; the anchor sends
#   its "properties" as {} (every other field of the tool as given): ``tool_differences``;
# - images.edit with several images (image=[...], two or more): the anchor sends only the
#   first, as a part named "image"; r9s sends every image, in order, each as a part named
#   "image[]", with the same part headers otherwise: ``expected_image_parts``.  One image,
#   in a list or not, is one "image" part on both sides.


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
            "binary": call.op in BINARY_OPS,
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


def check_headers(req: RecordedRequest, who: str, *, multipart: bool = False) -> None:
    ctype = req.headers.get("content-type")
    if req.method == "GET":
        assert req.body == b"", f"{who}: a GET with a body"
        assert ctype is None, f"{who}: a GET with Content-Type {ctype!r}"
    elif multipart:
        assert ctype is not None and ctype.startswith(MULTIPART), f"{who}: sent as {ctype!r}"
        assert re.fullmatch(r"[0-9A-Za-z'()+_,\-./:=?]{1,70}", ctype[len(MULTIPART) :]), ctype
    elif req.body:
        assert ctype == "application/json", f"{who}: a JSON body sent as {ctype!r}"
        assert req.json is not None, f"{who}: the body is not JSON: {req.body[:200]!r}"
    else:
        assert ctype is None, f"{who}: Content-Type {ctype!r} with no body"
    assert req.headers.get("authorization") == f"Bearer {driver.API_KEY}", who


class FormPart(NamedTuple):
    """One part of a ``multipart/form-data`` body, as it went on the wire."""

    name: str
    filename: str | None
    content_type: str | None
    #: The part's header lines, exactly (decoded as UTF-8), in their order.
    head: tuple[str, ...]
    #: A text field's value; for a file, its SHA-256 and size.
    payload: str

    def renamed(self, name: str) -> FormPart:
        old = f'Content-Disposition: form-data; name="{self.name}"'
        assert self.head[0].startswith(old), self.head
        new = f'Content-Disposition: form-data; name="{name}"' + self.head[0][len(old) :]
        return self._replace(name=name, head=(new, *self.head[1:]))


_DISPOSITION = re.compile(
    r'Content-Disposition: form-data; name="([^"]*)"(?:; filename="([^"]*)")?'
)


def digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()} ({len(data)} bytes)"


def form_parts(req: RecordedRequest, who: str) -> list[FormPart]:
    """The parts of ``req``'s multipart body, read from its raw bytes (checked against what
    the server's own parser read: names in order, file sizes and digests)."""
    assert req.body_size == len(req.body), f"{who}: the body was not kept whole"
    delimiter = b"--" + req.headers["content-type"][len(MULTIPART) :].encode("ascii")
    body = req.body
    first, last = delimiter + b"\r\n", b"\r\n" + delimiter + b"--\r\n"
    assert body.startswith(first) and body.endswith(last), (who, body[:80], body[-80:])
    parts = []
    for raw in body[len(first) : -len(last)].split(b"\r\n" + delimiter + b"\r\n"):
        head, sep, payload = raw.partition(b"\r\n\r\n")
        assert sep, f"{who}: a part without a blank line after its headers: {raw[:200]!r}"
        lines = tuple(head.decode("utf-8").split("\r\n"))
        found = _DISPOSITION.fullmatch(lines[0])
        assert found, f"{who}: the first header line of a part is {lines[0]!r}"
        types = [
            v for k, _, v in (ln.partition(": ") for ln in lines[1:]) if k.lower() == "content-type"
        ]
        assert len(types) <= 1 and len(lines) == 1 + len(types), (who, lines)
        name, filename = found.group(1), found.group(2)
        shown = digest(payload) if filename is not None else payload.decode("utf-8")
        parts.append(FormPart(name, filename, types[0] if types else None, lines, shown))
    assert req.form is not None, f"{who}: the server could not read the body"
    assert req.form["order"] == [p.name for p in parts], (who, req.form["order"])
    files = [p for p in parts if p.filename is not None]
    assert [
        (f["name"], f["filename"], f"sha256:{f['sha256']} ({f['size']} bytes)")
        for f in req.form["files"]
    ] == [(p.name, p.filename, p.payload) for p in files], who
    return parts


def same_text(text: str, value: Any) -> bool:
    """A form field's text is ``value`` (numbers by value: ``0.0`` is ``0``)."""
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, int | float):
        try:
            return float(text) == value
        except ValueError:
            return False
    return text == value


def expected_image_parts(anchor_part: FormPart, images: list[Any]) -> list[FormPart]:
    """What r9s sends for ``image=[...]``, given the part the anchor sent for the first one."""
    out = []
    for i, value in enumerate(images):
        spec = value["$file"]
        if i == 0:
            assert anchor_part.filename == spec["file_name"]
            assert anchor_part.payload == digest(uploaded(value))
            out.append(anchor_part.renamed("image[]"))
            continue
        ctype = spec.get("content_type") or mimetypes.guess_type(spec["file_name"])[0]
        ctype = ctype or "application/octet-stream"
        head = (
            f'Content-Disposition: form-data; name="image[]"; filename="{spec["file_name"]}"',
            f"Content-Type: {ctype}",
        )
        out.append(FormPart("image[]", spec["file_name"], ctype, head, digest(uploaded(value))))
    return out


def json_paths(a: Any, b: Any, path: str = "") -> dict[str, tuple[Any, Any]]:
    """Every place where two JSON values differ: ``{path: (a's value, b's value)}``."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, tuple[Any, Any]] = {}
        for k in sorted(a.keys() | b.keys()):
            out.update(json_paths(a.get(k, _MISSING), b.get(k, _MISSING), f"{path}.{k}"))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = {}
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out.update(json_paths(x, y, f"{path}[{i}]"))
        return out
    if a is _MISSING or b is _MISSING or not same_json(a, b):
        return {path: (a, b)}
    return {}


def tool_differences(tools: list[dict[str, Any]]) -> dict[str, tuple[Any, Any]]:
    """The deliberate difference for ``tools``, field by field: the anchor sends every
    ``input_schema.properties`` as ``{}``; r9s sends each property as given."""
    return {
        f".tools[{i}].input_schema.properties.{name}": (_MISSING, schema)
        for i, tool in enumerate(tools)
        for name, schema in tool["input_schema"].get("properties", {}).items()
    }


def compare_form(call: Call, a: RecordedRequest, o: RecordedRequest) -> None:
    """The multipart bodies: the same parts in the same order, but for the allowance and
    the several-images difference."""
    anchor_parts, our_parts = form_parts(a, "the anchor"), form_parts(o, "r9s")
    for field, default in API_DEFAULTS.get(call.op, {}).items():
        if field in call.kwargs:
            continue
        sent = [p for p in anchor_parts if p.name == field]
        assert len(sent) == 1 and sent[0].filename is None, (
            f"the anchor no longer sends {field}={default!r} by default"
        )
        assert same_text(sent[0].payload, default), sent[0]
        assert sent[0].head == (f'Content-Disposition: form-data; name="{field}"',), sent[0]
        assert not [p for p in our_parts if p.name == field], f"r9s sent {field}, not given"
        anchor_parts.remove(sent[0])
    images = call.kwargs.get("image") if call.op == "images.edit" else None
    if isinstance(images, list) and len(images) > 1:
        at = [i for i, p in enumerate(anchor_parts) if p.name == "image"]
        assert len(at) == 1, [p.name for p in anchor_parts]
        assert not [p for p in anchor_parts if p.name == "image[]"]
        expected = expected_image_parts(anchor_parts[at[0]], images)
        anchor_parts[at[0] : at[0] + 1] = expected
    assert our_parts == anchor_parts


VARIANTS = [pytest.param(call, mode, id=key(call, mode)) for call in CALLS for mode in MODES]


def test_each_side_ran_its_own_package(wire: Wire) -> None:
    assert wire.anchor_package["version"] == "0.9.0"
    assert Path(wire.anchor_package["file"]).is_relative_to(wire.anchor_package["prefix"])
    ours = Path(wire.our_package["file"]).resolve()
    assert ours == (HERE.parent.parent / "r9s" / "__init__.py").resolve()


def check_outcome(call: Call, side: Side, who: str) -> None:
    """A call that went through: its stream or its bytes were read; a refused one: the
    server's error, as expected."""
    refusal = SERVER_REFUSES.get(call.name)
    if refusal is not None:
        assert side.outcome["status"] == "error", f"{who}: the server now takes it"
        assert refusal in side.outcome["error"], side.outcome["error"]
        return
    assert side.outcome["status"] == "ok", side.outcome["error"]
    if call.kwargs.get("stream") is True:
        assert side.outcome["events"], f"{who} read no event"
    if call.op in BINARY_OPS:
        assert side.outcome["bytes"], f"{who} read no byte"


@pytest.mark.parametrize(("call", "mode"), VARIANTS)
def test_same_wire(wire: Wire, call: Call, mode: str) -> None:
    anchor, ours = wire.anchor[key(call, mode)], wire.ours[key(call, mode)]
    multipart = call.op in MULTIPART_OPS

    if call.name in ANCHOR_REFUSES:
        assert anchor.outcome["status"] == "error", "the anchor now accepts it: compare instead"
        assert ANCHOR_REFUSES[call.name] in anchor.outcome["error"]
        assert anchor.requests == [], "the anchor refused it, but sent something"
        check_outcome(call, ours, "r9s")
        sent = only(ours, "r9s")
        check_headers(sent, "r9s", multipart=multipart)
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

    check_outcome(call, ours, "r9s")
    if call.name in SERVER_REFUSES:
        check_outcome(call, anchor, "the anchor")
    elif route is None and anchor.outcome["status"] != "ok":
        expected = ANCHOR_CANNOT_DECODE.get(call.op)
        assert expected is not None and expected in anchor.outcome["error"], anchor.outcome
    elif route is None:
        check_outcome(call, anchor, "the anchor")
        if call.op in BINARY_OPS:
            assert anchor.outcome["bytes"] == ours.outcome["bytes"]

    o = only(ours, "r9s")
    assert o.method == a.method
    assert o.target == (route.r9s if route else a.target)
    assert o.headers.get("accept") == a.headers.get("accept")
    check_headers(a, "the anchor", multipart=multipart)
    check_headers(o, "r9s", multipart=multipart)
    if multipart:
        compare_form(call, a, o)
        return
    assert (a.json is None) == (o.json is None), (a.body[:200], o.body[:200])
    if a.json is None:
        return

    anchor_body, our_body = dict(a.json), dict(o.json)
    for field, default in API_DEFAULTS.get(call.op, {}).items():
        if field in call.kwargs:
            continue  # given: compared with every other field below
        assert field in anchor_body and same_json(anchor_body[field], default), (
            f"the anchor no longer sends {field}={default!r} by default"
        )
        assert field not in our_body, f"r9s sent {field}={our_body[field]!r}, which was not given"
        del anchor_body[field]
    if call.op == "messages.create" and "tools" in call.kwargs:
        tools = call.kwargs["tools"]
        assert same_json(our_body["tools"], tools), "r9s did not send the tools whole"
        assert json_paths(
            {"tools": anchor_body.pop("tools")}, {"tools": our_body.pop("tools")}
        ) == (tool_differences(tools))
    differences = body_differences(anchor_body, our_body)
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
    """Each allowed field is left unset by some call and set by another."""
    for op, defaults in API_DEFAULTS.items():
        for field in defaults:
            given = [c.name for c in CALLS if c.op == op and field in c.kwargs]
            unset = [c.name for c in CALLS if c.op == op and field not in c.kwargs]
            assert given and unset, (op, field, given, unset)


def test_every_expectation_names_a_call() -> None:
    names = {c.name for c in CALLS}
    assert len(names) == len(CALLS), "two calls share a name"
    assert set(ANCHOR_REFUSES) <= names
    assert set(SERVER_REFUSES) <= names
    assert set(ROUTE_FIXES) <= names
