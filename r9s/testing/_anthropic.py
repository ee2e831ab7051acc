"""The Anthropic Messages API (``POST /v1/messages``) for the test server.

Why: gateways serve Claude models through Anthropic's own wire format, whose stream is a
different dialect from OpenAI's (typed ``event:`` lines, content blocks, no ``[DONE]``), so the
SDK needs a peer that speaks it exactly and deterministically.  Like ``_openai`` this module
does no I/O: it turns a parsed request into a JSON body or an ``SseStream``.

What the answer holds, derived from the request alone:

- the text ``"Hello! You said: <last user text>"``, cut at the first of ``stop_sequences``
  found in it (``stop_reason`` ``"stop_sequence"``) and at ``max_tokens`` word pieces
  (``"max_tokens"``); a long answer is asked for with a long message;
- with ``thinking: {"type": "enabled"}``, first a ``thinking`` block and its ``signature``;
- with ``tools``: a ``tool_use`` block for each tool the last user text mentions (its name, or
  a word of its name of four letters or more, as whole words, any case: ``get_stock_price``
  is mentioned by "stock"), or the tool ``tool_choice`` forces (``{"type": "tool", "name"}``;
  ``"any"``: the mentioned ones, else the first); ``"none"``, or a last user turn holding a
  ``tool_result``, answers with text.  Its ``input`` is built from the tool's
  ``input_schema.properties`` (a string gets the user's text, an ``enum`` its first value, an
  integer 1, a number 1.5, a boolean true, an array one item, an object its own properties);
  ``stop_reason`` is ``"tool_use"``.

The stream: ``message_start``, then per block ``content_block_start``, ``content_block_delta``
events (``text_delta`` per word piece; ``thinking_delta`` per word piece then one
``signature_delta``; ``input_json_delta``: ``""`` then the input's JSON in pieces -- when it holds
a non-ASCII character, that character is sent as its ``\\uXXXX`` escape split across two
pieces, so only the joined JSON parses), ``content_block_stop``; a ``ping`` after the first
block starts; ``message_delta`` (``stop_reason``, ``usage.output_tokens``); ``message_stop``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any, Final

from r9s.testing._openai import (
    CONTENT,
    POST,
    PRE,
    ApiError,
    SseStream,
    _content_text,
    _dumps,
    _hole,
    _pad,
    _Template,
    _utf8,
    count_tokens,
    split_pieces,
)

__all__ = ["ERROR_TYPES", "anthropic_error_body", "answer_messages", "error_type"]

#: Anthropic's error type for each status it uses.
ERROR_TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
#: Bounds that keep one request's work bounded.
MAX_MESSAGES: Final = 10_000
MAX_TOOLS: Final = 128
MAX_PROPERTIES: Final = 100
_MAX_DEPTH: Final = 4
_MAX_PIECES: Final = 4_000_000
_ROLES: Final = ("user", "assistant")
_CHOICES: Final = ("auto", "any", "tool", "none")
_NAME_WORD_RE: Final = re.compile(r"[A-Za-z0-9]+")
_CAMEL_RE: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def error_type(status: int) -> str:
    """The Anthropic error type of a status (``api_error`` / ``invalid_request_error`` for
    those Anthropic does not name)."""
    named = ERROR_TYPES.get(status)
    if named is not None:
        return named
    return "api_error" if status >= 500 else "invalid_request_error"


def anthropic_error_body(status: int, message: str, type: str | None = None) -> bytes:
    """An Anthropic error body: ``{"type": "error", "error": {"type", "message"}}``.

    Args:
        status: the HTTP status (picks the type when ``type`` is None).
        message: the message.
        type: the error type, if not the status's.

    Returns:
        The JSON body as bytes.
    """
    doc = {"type": "error", "error": {"type": type or error_type(status), "message": message}}
    return _utf8(_dumps(doc))


# ----------------------------------------------------------------------------- request


def _fail(message: str, status: int = 400, type: str = "invalid_request_error") -> ApiError:
    return ApiError(status, message, type=type)


def _block_text(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        return str(block["text"])
    if kind == "tool_result":
        return _content_text(block.get("content"))
    return ""


def _message_text(content: object) -> tuple[str, bool]:
    """A message's text and whether it holds a ``tool_result``."""
    if isinstance(content, str):
        return content, False
    assert isinstance(content, list)
    texts = [_block_text(b) for b in content]
    has_result = any(b.get("type") == "tool_result" for b in content)
    return " ".join(t for t in texts if t), has_result


def _check_messages(given: object) -> list[dict[str, Any]]:
    if given is None:
        raise _fail("messages: Field required")
    if not isinstance(given, list) or not given:
        raise _fail("messages: at least one message is required")
    if len(given) > MAX_MESSAGES:
        raise _fail(f"messages: the test server takes at most {MAX_MESSAGES} messages")
    for i, message in enumerate(given):
        if not isinstance(message, dict):
            raise _fail(f"messages.{i}: Input should be an object")
        if message.get("role") not in _ROLES:
            raise _fail(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = message.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            raise _fail(f"messages.{i}.content: Input should be a string or a list of blocks")
        for j, block in enumerate(content):
            if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                raise _fail(f"messages.{i}.content.{j}: a content block needs a type")
    if given[0].get("role") != "user":
        raise _fail("messages: the first message must use the user role")
    return given


def _system_text(system: object) -> str:
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    if isinstance(system, list) and all(isinstance(b, dict) for b in system):
        return " ".join(_block_text(b) for b in system)
    raise _fail("system: Input should be a string or a list of text blocks")


class _Tool:
    __slots__ = ("name", "schema", "words")

    def __init__(self, name: str, schema: dict[str, Any]) -> None:
        self.name = name
        self.schema = schema
        spaced = _CAMEL_RE.sub(" ", name)
        self.words = {w.lower() for w in _NAME_WORD_RE.findall(spaced) if len(w) >= 4}

    def mentioned(self, text: str, words: set[str]) -> bool:
        return self.name.lower() in text.lower() or bool(self.words & words)


def _check_tools(given: object) -> list[_Tool]:
    if given is None:
        return []
    if not isinstance(given, list) or len(given) > MAX_TOOLS:
        raise _fail(f"tools: Input should be a list of at most {MAX_TOOLS} tools")
    tools: list[_Tool] = []
    for i, tool in enumerate(given):
        if not isinstance(tool, dict):
            raise _fail(f"tools.{i}: Input should be an object")
        name = tool.get("name")
        if not isinstance(name, str) or not name:
            raise _fail(f"tools.{i}.name: Field required")
        schema = tool.get("input_schema")
        if tool.get("type") not in (None, "custom") and schema is None:
            continue  # a server tool (web_search ...): never called here
        if not isinstance(schema, dict):
            raise _fail(f"tools.{i}.input_schema: Field required")
        tools.append(_Tool(name, schema))
    return tools


def _chosen_tools(tools: list[_Tool], choice: object, user: str, answered: bool) -> list[_Tool]:
    """The tools to call (empty: answer with text)."""
    kind = "auto"
    if choice is not None:
        if not isinstance(choice, dict) or choice.get("type") not in _CHOICES:
            raise _fail("tool_choice: Input should be auto, any, tool (with a name) or none")
        kind = choice["type"]
    if kind == "tool":
        name = choice.get("name") if isinstance(choice, dict) else None
        named = [t for t in tools if t.name == name]
        if not named:
            raise _fail(f"tool_choice.name: no tool named {name!r} is in tools")
        return named[:1]
    if not tools or kind == "none":
        return []
    words = {w.lower() for w in _NAME_WORD_RE.findall(user)}
    mentioned = [t for t in tools if t.mentioned(user, words)]
    if kind == "any":
        return mentioned or tools[:1]
    return [] if answered else mentioned


def _value_for(schema: object, text: str, depth: int) -> Any:
    if not isinstance(schema, dict):
        return text
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        return [] if depth >= _MAX_DEPTH else [_value_for(schema.get("items"), text, depth + 1)]
    if kind == "object" or "properties" in schema:
        return {} if depth >= _MAX_DEPTH else _object_for(schema, text, depth + 1)
    return text


def _object_for(schema: dict[str, Any], text: str, depth: int = 0) -> dict[str, Any]:
    props = schema.get("properties")
    if not isinstance(props, dict):
        return {}
    out: dict[str, Any] = {}
    for name, prop in list(props.items())[:MAX_PROPERTIES]:
        out[str(name)] = _value_for(prop, text, depth)
    return out


def json_pieces(text: str) -> list[str]:
    """The ``partial_json`` pieces of a tool input's JSON (see the module docstring).

    Args:
        text: the JSON, non-ASCII characters as they are.

    Returns:
        ``""`` and then about four pieces; when ``text`` holds a non-ASCII character, its first
        one is written as its ``\\uXXXX`` escape(s), cut in the middle.  Joined, the pieces are
        JSON for the same value.
    """
    at = next((i for i, c in enumerate(text) if ord(c) > 127), -1)
    if at >= 0:
        escape = json.dumps(text[at])[1:-1]  # "\u00fc", or a surrogate pair for an emoji
        middle = len(escape) // 2
        head = text[:at] + escape[:middle]
        tail = escape[middle:] + text[at + 1 :]
        return ["", *_quarters(head), *_quarters(tail)]
    return ["", *_quarters(text)]


def _quarters(text: str) -> list[str]:
    step = max(1, -(-len(text) // 4))
    return [text[i : i + step] for i in range(0, len(text), step)]


def _signature(thinking: str) -> str:
    digest = hashlib.sha256(_utf8(thinking)).digest()
    return base64.b64encode(b"r9s-signature:" + digest + digest).decode("ascii")


# ----------------------------------------------------------------------------- answer


class _Block:
    """One content block of the answer and its stream deltas."""

    __slots__ = ("deltas", "doc", "start")

    def __init__(self, doc: dict[str, Any], start: dict[str, Any], deltas: list[dict[str, Any]]):
        self.doc = doc  # as in the non-streamed message
        self.start = start  # as in content_block_start
        self.deltas = deltas


def answer_messages(body: dict[str, Any], ident: int, exists: Any) -> bytes | SseStream:
    """Answer one ``POST /v1/messages``.

    Args:
        body: the parsed JSON body (an object).
        ident: the request's number, used in the ids.
        exists: ``Catalog.exists``: whether a model id exists.

    Returns:
        The message as JSON, or the stream.  Raises ApiError (to be sent in Anthropic's
        error shape).
    """
    model = body.get("model")
    if model is None:
        raise _fail("model: Field required")
    if not isinstance(model, str) or not model:
        raise _fail("model: Input should be a non-empty string")
    if not exists(model):
        raise _fail(f"model: {model}", 404, "not_found_error")
    messages = _check_messages(body.get("messages"))
    system = _system_text(body.get("system"))
    limit = body.get("max_tokens")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise _fail("max_tokens: Input should be an integer of at least 1")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _fail("stream: Input should be a valid boolean")
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops)
    ):
        raise _fail("stop_sequences: Input should be a list of non-empty strings")
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _fail(f"{name}: Input should be a valid number")
    thinking = body.get("thinking")
    think = False
    if thinking is not None:
        if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
            raise _fail("thinking: Input should be {'type': 'enabled', 'budget_tokens': N}")
        think = thinking["type"] == "enabled"
    tools = _check_tools(body.get("tools"))

    texts = [_message_text(m["content"]) for m in messages]
    users = [t for m, t in zip(messages, texts, strict=True) if m["role"] == "user"]
    user, answered = users[-1] if users else ("", False)
    calls = _chosen_tools(tools, body.get("tool_choice"), user, answered)
    input_tokens = count_tokens([system, *(t for t, _ in texts)])

    blocks: list[_Block] = []
    if think:
        thought = f"The user wrote: {user}. A friendly echo will do."
        signature = _signature(thought)
        deltas = [{"type": "thinking_delta", "thinking": p} for p in split_pieces(thought)]
        deltas.append({"type": "signature_delta", "signature": signature})
        doc: dict[str, Any] = {"type": "thinking", "thinking": thought, "signature": signature}
        blocks.append(_Block(doc, {"type": "thinking", "thinking": "", "signature": ""}, deltas))
    stop_reason = "end_turn"
    stop_sequence: str | None = None
    if calls:
        stop_reason = "tool_use"
        for k, tool in enumerate(calls):
            args = _object_for(tool.schema, user)
            call_id = f"toolu_{ident:08d}_{k}"
            pieces = json_pieces(json.dumps(args, ensure_ascii=False, separators=(",", ":")))
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
            doc = {"type": "tool_use", "id": call_id, "name": tool.name, "input": args}
            start = {"type": "tool_use", "id": call_id, "name": tool.name, "input": {}}
            blocks.append(_Block(doc, start, deltas))
    else:
        reply = "Hello! You said: " + user
        for seq in stops or ():
            at = reply.find(seq)
            if at >= 0 and (stop_sequence is None or at < reply.find(stop_sequence)):
                stop_sequence = seq
        if stop_sequence is not None:
            reply = reply[: reply.find(stop_sequence)]
            stop_reason = "stop_sequence"
        pieces = split_pieces(reply) if reply else []
        if limit is not None and len(pieces) > limit:
            pieces = pieces[:limit]
            stop_reason = "max_tokens"
            stop_sequence = None
        if len(pieces) > _MAX_PIECES:
            raise _fail(f"the test server produces at most {_MAX_PIECES} pieces per message")
        text = "".join(pieces)
        blocks.append(_Block({"type": "text", "text": text}, {"type": "text", "text": ""}, []))
        blocks[-1].deltas = [{"type": "text_delta", "text": p} for p in pieces]
    output_tokens = sum(
        1
        for b in blocks
        for d in b.deltas
        if d.get("text") or d.get("thinking") or d.get("partial_json")
    )
    usage = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    }
    shell: dict[str, Any] = {
        "id": f"msg_{ident:08d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    if stream:
        return MessageStream(shell, blocks, stop_reason, stop_sequence)
    message = {
        **shell,
        "content": [b.doc for b in blocks],
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
    }
    return _utf8(_dumps(message))


class MessageStream(SseStream):
    """The stream of one message; its terminator (``done_event``) is ``message_stop``.

    Kinds: ``message_start``, block starts, ``ping`` and the stops of all blocks but the last
    are PRE; every ``content_block_delta`` is CONTENT; the last block's stop and
    ``message_delta`` are POST.
    """

    has_done = True

    def __init__(
        self,
        shell: dict[str, Any],
        blocks: list[_Block],
        stop_reason: str,
        stop_sequence: str | None,
    ) -> None:
        super().__init__()
        self._shell = shell
        self._blocks = blocks
        self._stop_reason = stop_reason
        self._stop_sequence = stop_sequence

    def _event(self, doc: dict[str, Any]) -> bytes:
        nl = self._nl
        return _utf8(f"event: {doc['type']}{nl}data: {_dumps(doc)}{nl}{nl}")

    def done_event(self) -> bytes:
        return self._event({"type": "message_stop"})

    def error_event(self) -> bytes:
        return self._event(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )

    def _bad_json(self) -> bytes:
        nl = self._nl
        return _utf8(f"event: content_block_delta{nl}data: {{bad json{nl}{nl}")

    def _events(self, big_event: int | None, invalid_json: bool) -> Iterator[tuple[int, bytes]]:
        nl = self._nl
        usage = self._shell["usage"]
        start_usage = {**usage, "output_tokens": 1}
        message = {**self._shell, "usage": start_usage}
        yield PRE, self._event({"type": "message_start", "message": message})
        if invalid_json:
            yield PRE, self._bad_json()
        last = len(self._blocks) - 1
        for index, block in enumerate(self._blocks):
            start = {"type": "content_block_start", "index": index, "content_block": block.start}
            yield PRE, self._event(start)
            if index == 0:
                yield PRE, self._event({"type": "ping"})
            if big_event is not None and block.start["type"] == "text":
                yield PRE, self._padded(index, big_event)
            template = _Template(
                {"type": "content_block_delta", "index": index, "delta": _hole("delta")},
                before=f"event: content_block_delta{nl}data: ",
                after=nl + nl,
            )
            if block.start["type"] == "text":
                text = _Template(
                    {"type": "text_delta", "text": _hole("text")},
                )
                cache: dict[str, bytes] = {}
                for delta in block.deltas:
                    piece = delta["text"]
                    event = cache.get(piece)
                    if event is None:
                        rendered = text.render(text=_dumps(piece))
                        event = cache[piece] = _utf8(template.render(delta=rendered))
                    yield CONTENT, event
            else:
                for delta in block.deltas:
                    yield CONTENT, _utf8(template.render(delta=_dumps(delta)))
            stop = self._event({"type": "content_block_stop", "index": index})
            yield (POST if index == last else PRE), stop
        if big_event is not None and not any(b.start["type"] == "text" for b in self._blocks):
            yield POST, self._padded_ping(big_event)
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": self._stop_reason, "stop_sequence": self._stop_sequence},
            "usage": {"output_tokens": usage["output_tokens"]},
        }
        yield POST, self._event(delta)

    def _padded(self, index: int, size: int) -> bytes:
        doc = {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "text_delta", "text": _hole("pad")},
        }
        template = _Template(doc)
        nl = self._nl
        data = template.render(pad=json.dumps(_pad(template, size)))
        return _utf8(f"event: content_block_delta{nl}data: {data}{nl}{nl}")

    def _padded_ping(self, size: int) -> bytes:
        template = _Template({"type": "ping", "pad": _hole("pad")})
        nl = self._nl
        data = template.render(pad=json.dumps(_pad(template, size)))
        return _utf8(f"event: ping{nl}data: {data}{nl}{nl}")
