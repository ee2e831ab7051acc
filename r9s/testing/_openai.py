"""OpenAI-shaped answers for the test server: validation, deterministic text, stream events.

Why: tests and benchmarks need answers shaped like OpenAI's (same fields, same event order)
yet fully predictable, so assertions can be exact.  This module does no I/O: it turns a parsed
request body into a JSON body or an ``SseStream``; the server module puts them on the wire
and breaks them on purpose when a fault asks for it.

Speed: a stream of tens of thousands of chunks must cost little CPU, so each event shape is
serialised once into a template with holes and rendered by joining strings; chat chunks, which
differ only in their token piece, are cached per distinct piece.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any, Final

__all__ = [
    "CONTENT",
    "CREATED",
    "POST",
    "PRE",
    "ApiError",
    "SseStream",
    "answer",
    "count_tokens",
    "dumps_utf8",
    "error_body",
    "split_pieces",
]

#: The fixed ``created`` timestamp of every answer (deterministic output).
CREATED: Final = 1700000000
FINGERPRINT: Final = "fp_r9s"
#: Upper bounds that keep one request's work bounded.
MAX_TOKENS: Final = 1_000_000
MAX_CHOICES: Final = 128
MAX_PROMPTS: Final = 1024

#: Event kinds yielded by ``SseStream.events``: before, carrying, and after the content.
PRE: Final = 0
CONTENT: Final = 1
POST: Final = 2

# A word with the whitespace before it, or trailing whitespace: "Hello! You" -> "Hello!", " You".
_PIECE_RE: Final = re.compile(r"\s*\S+|\s+$")
# Template holes are strings holding a random token, so no user text can collide with one.
_TOKEN: Final = secrets.token_hex(8)
_HOLE_RE: Final = re.compile(r'"\\u0000' + _TOKEN + r'(\w+)\\u0000"')


def _dumps(doc: object) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _utf8(text: str) -> bytes:
    # A lone surrogate can only come from a "\ud800" escape in the request; pass it through
    # rather than fail the whole answer.
    return text.encode("utf-8", "surrogatepass")


def _hole(name: str) -> str:
    return f"\x00{_TOKEN}{name}\x00"


class _Template:
    """A JSON document with named holes, rendered by joining strings."""

    __slots__ = ("_literals", "_names")

    def __init__(self, doc: object, *, before: str = "", after: str = "") -> None:
        parts = _HOLE_RE.split(before + _dumps(doc) + after)
        self._literals = parts[0::2]
        self._names = parts[1::2]

    def render(self, **values: str) -> str:
        out = [self._literals[0]]
        for name, literal in zip(self._names, self._literals[1:], strict=True):
            out.append(values[name])
            out.append(literal)
        return "".join(out)


class ApiError(Exception):
    """A request the API refuses: becomes an OpenAI-style JSON error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> bytes:
        """Serialise the error.

        Returns:
            ``{"error": {"message", "type", "param", "code"}}`` as UTF-8 JSON.
        """
        return error_body(self.message, self.type, self.param, self.code)


def error_body(message: str, type: str, param: str | None, code: str | int | None) -> bytes:
    """Build an OpenAI error body.

    Args:
        message: human-readable text.
        type: error type, e.g. ``invalid_request_error`` or ``server_error``.
        param: the request field at fault, if any.
        code: machine-readable code, if any.

    Returns:
        The JSON body as bytes.
    """
    doc = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return _utf8(_dumps(doc))


def split_pieces(text: str) -> list[str]:
    """Split text into the word pieces the server streams as tokens.

    Args:
        text: the answer text.

    Returns:
        Words with their leading whitespace, e.g. ``["Hello!", " You", " said:"]``.
    """
    return _PIECE_RE.findall(text) or [text]


class _Pieces:
    """The token pieces of one answer: the natural ones, or exactly ``limit`` cycled ones."""

    __slots__ = ("count", "finish", "pieces")

    def __init__(self, text: str, limit: int | None) -> None:
        self.pieces = split_pieces(text)
        self.count = len(self.pieces) if limit is None else limit
        self.finish = "stop" if limit is None else "length"

    def __iter__(self) -> Iterator[str]:
        # Later rounds repeat the words with a space before the first one, so that cycled
        # text reads "... said: hi Hello! You".
        first = self.pieces[0]
        again = [first if first[:1].isspace() else " " + first, *self.pieces[1:]]
        rounds = itertools.chain(self.pieces, itertools.cycle(again))
        return itertools.islice(rounds, self.count)

    def text(self) -> str:
        return "".join(self)


# ----------------------------------------------------------------------------- validation


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None:
        raise ApiError(400, "you must provide a model parameter", param="model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "'model' must be a non-empty string", param="model")
    return model


def _int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, f"'{name}' must be an integer from {low} to {high}", param=name)
    return value


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiError(400, f"'{name}' must be a boolean", param=name)
    return value


def _include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise ApiError(400, "'stream_options' must be an object", param="stream_options")
    return _bool(options, "include_usage")


def _content_text(content: object) -> str:
    """Text of a message content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        return " ".join(texts)
    return ""


def _count(texts: list[str]) -> int:
    return sum(len(_PIECE_RE.findall(text)) for text in texts)


def count_tokens(texts: list[str]) -> int:
    """Count the "tokens" of texts as every endpoint counts them: their word pieces.

    Args:
        texts: the texts.

    Returns:
        The number of pieces ``split_pieces`` would make of them, an empty text counting 0.
    """
    return _count(texts)


def dumps_utf8(doc: object) -> bytes:
    """Serialise a JSON answer compactly, as UTF-8.

    Args:
        doc: the document.

    Returns:
        The bytes (a lone surrogate from a ``\\ud800`` escape in the request passes through).
    """
    return _utf8(_dumps(doc))


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _reply(text: str) -> str:
    return "Hello! You said: " + text


# ----------------------------------------------------------------------------- streams


class SseStream:
    """The events of one streamed answer.

    ``events`` yields ``(kind, bytes)`` pairs, kind being PRE, CONTENT (one token piece) or
    POST; the caller adds ``data: [DONE]`` when ``has_done`` and may stop early and call
    ``error_event`` instead.
    """

    has_done: bool = True

    def __init__(self) -> None:
        self._nl = "\n"

    def events(
        self, *, crlf: bool, big_event: int | None, invalid_json: bool
    ) -> Iterator[tuple[int, bytes]]:
        """Generate the stream's events.

        Args:
            crlf: end lines with CRLF instead of LF.
            big_event: if set, add one event whose data JSON is padded to this many bytes.
            invalid_json: if set, add one ``data: {bad json`` event after the preamble.

        Returns:
            An iterator of ``(kind, event bytes)``.
        """
        self._nl = "\r\n" if crlf else "\n"
        return self._events(big_event, invalid_json)

    def done_event(self) -> bytes:
        """The ``data: [DONE]`` terminator event.

        Returns:
            The event bytes with this stream's line endings.
        """
        return _utf8(f"data: [DONE]{self._nl}{self._nl}")

    def error_event(self) -> bytes:
        """An in-stream error, as the API sends when it fails mid-stream.

        Returns:
            The event bytes.
        """
        doc = {"error": {"message": "overloaded", "type": "server_error", "code": 503}}
        return self._data(json.dumps(doc))

    def _bad_json(self) -> bytes:
        return self._data("{bad json")

    def _data(self, payload: str) -> bytes:
        return _utf8(f"data: {payload}{self._nl}{self._nl}")

    def _events(self, big_event: int | None, invalid_json: bool) -> Iterator[tuple[int, bytes]]:
        raise NotImplementedError


def _pad(template: _Template, size: int) -> str:
    """The padding that makes ``template`` (``pad`` hole) render to ``size`` bytes if it can."""
    bare = len(_utf8(template.render(pad='""')))
    return "x" * max(0, size - bare)


class _ChunkStream(SseStream):
    """Chat and legacy completions streams: ``data:`` chunks, then ``data: [DONE]``."""

    def __init__(
        self,
        header: dict[str, Any],
        choice: dict[str, Any],
        usage: dict[str, int],
        include_usage: bool,
    ) -> None:
        super().__init__()
        self._header = header
        self._choice = choice
        self._usage = usage
        self._include_usage = include_usage
        self._template = _Template({})

    def _chunks(self) -> None:
        """Build the chunk template, once the line ending is known."""
        doc = dict(self._header)
        doc["choices"] = [self._choice]
        if self._include_usage:
            # As OpenAI: with include_usage every chunk carries "usage", null until the last.
            doc["usage"] = None
        self._template = _Template(doc, before="data: ", after=self._nl + self._nl)

    def _big_event(self, size: int, choice: dict[str, Any]) -> bytes:
        doc = dict(self._header)
        doc["choices"] = [choice]
        if self._include_usage:
            doc["usage"] = None
        template = _Template(doc)
        return self._data(template.render(pad=json.dumps(_pad(template, size))))

    def _usage_event(self) -> bytes:
        doc = dict(self._header)
        doc["choices"] = []
        doc["usage"] = self._usage
        return self._data(_dumps(doc))


class _ChatStream(_ChunkStream):
    def __init__(
        self,
        *,
        ident: int,
        model: str,
        n: int,
        pieces: _Pieces,
        tool: tuple[str, str] | None,
        include_usage: bool,
        usage: dict[str, int],
    ) -> None:
        header = {
            "id": f"chatcmpl-{ident}",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": FINGERPRINT,
        }
        choice = {
            "index": _hole("index"),
            "delta": _hole("delta"),
            "logprobs": None,
            "finish_reason": _hole("finish"),
        }
        super().__init__(header, choice, usage, include_usage)
        self._ident = ident
        self._n = n
        self._pieces = pieces
        self._tool = tool

    def _chunk(self, index: int, delta: object, finish: str | None = None) -> bytes:
        return _utf8(
            self._template.render(index=str(index), delta=_dumps(delta), finish=_dumps(finish))
        )

    def _events(self, big_event: int | None, invalid_json: bool) -> Iterator[tuple[int, bytes]]:
        self._chunks()
        n = self._n
        if self._tool is None:
            for i in range(n):
                yield PRE, self._chunk(i, {"role": "assistant", "content": ""})
        else:
            name = self._tool[0]
            for i in range(n):
                call = {
                    "index": 0,
                    "id": _call_id(self._ident, i),
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }
                delta = {"role": "assistant", "content": None, "tool_calls": [call]}
                yield PRE, self._chunk(i, delta)
        if invalid_json:
            yield PRE, self._bad_json()
        if big_event is not None:
            pad = {"index": 0, "delta": {"content": _hole("pad")}, "logprobs": None}
            yield PRE, self._big_event(big_event, {**pad, "finish_reason": None})
        if self._tool is None:
            cache: dict[tuple[int, str], bytes] = {}
            for piece in self._pieces:
                for i in range(n):
                    event = cache.get((i, piece))
                    if event is None:
                        event = cache[(i, piece)] = self._chunk(i, {"content": piece})
                    yield CONTENT, event
            finish = self._pieces.finish
        else:
            for fragment in _thirds(self._tool[1]):
                for i in range(n):
                    delta = {"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}
                    yield CONTENT, self._chunk(i, delta)
            finish = "tool_calls"
        for i in range(n):
            yield POST, self._chunk(i, {}, finish)
        if self._include_usage:
            yield POST, self._usage_event()


def _call_id(ident: int, choice: int) -> str:
    return f"call_{ident}" if choice == 0 else f"call_{ident}_{choice}"


def _thirds(text: str) -> list[str]:
    """Split a string into (about) three non-empty pieces."""
    step = max(1, -(-len(text) // 3))
    return [text[i : i + step] for i in range(0, len(text), step)] or [text]


class _TextChoice:
    __slots__ = ("echo", "index", "pieces")

    def __init__(self, index: int, echo: str | None, pieces: _Pieces) -> None:
        self.index = index
        self.echo = echo
        self.pieces = pieces


class _CompletionStream(_ChunkStream):
    def __init__(
        self,
        *,
        ident: int,
        model: str,
        choices: list[_TextChoice],
        include_usage: bool,
        usage: dict[str, int],
    ) -> None:
        header = {
            "id": f"cmpl-{ident}",
            "object": "text_completion",
            "created": CREATED,
            "model": model,
            "system_fingerprint": FINGERPRINT,
        }
        choice = {
            "text": _hole("text"),
            "index": _hole("index"),
            "logprobs": None,
            "finish_reason": _hole("finish"),
        }
        super().__init__(header, choice, usage, include_usage)
        self._choices = choices

    def _chunk(self, index: int, text: str, finish: str | None = None) -> bytes:
        return _utf8(
            self._template.render(index=str(index), text=_dumps(text), finish=_dumps(finish))
        )

    def _events(self, big_event: int | None, invalid_json: bool) -> Iterator[tuple[int, bytes]]:
        self._chunks()
        if invalid_json:
            yield PRE, self._bad_json()
        if big_event is not None:
            pad = {"text": _hole("pad"), "index": 0, "logprobs": None, "finish_reason": None}
            yield PRE, self._big_event(big_event, pad)
        for choice in self._choices:
            if choice.echo is not None:
                yield CONTENT, self._chunk(choice.index, choice.echo)
        cache: dict[tuple[int, str], bytes] = {}
        streams = [(choice.index, iter(choice.pieces)) for choice in self._choices]
        for _ in range(max(choice.pieces.count for choice in self._choices)):
            for index, pieces in streams:
                piece = next(pieces, None)
                if piece is None:
                    continue
                event = cache.get((index, piece))
                if event is None:
                    event = cache[(index, piece)] = self._chunk(index, piece)
                yield CONTENT, event
        for choice in self._choices:
            yield POST, self._chunk(choice.index, "", choice.pieces.finish)
        if self._include_usage:
            yield POST, self._usage_event()


class _ResponseStream(SseStream):
    """Responses API stream: typed events with sequence numbers and no ``[DONE]``."""

    has_done = False

    def __init__(self, *, shell: dict[str, Any], pieces: _Pieces, usage: dict[str, Any]) -> None:
        super().__init__()
        self._shell = shell
        self._pieces = pieces
        self._usage = usage
        self._seq = 0

    def _event(self, type: str, **fields: object) -> bytes:
        doc = {"type": type, "sequence_number": self._seq, **fields}
        self._seq += 1
        nl = self._nl
        return _utf8(f"event: {type}{nl}data: {_dumps(doc)}{nl}{nl}")

    def error_event(self) -> bytes:
        doc = {
            "type": "error",
            "code": "server_error",
            "message": "overloaded",
            "sequence_number": self._seq,
        }
        self._seq += 1
        nl = self._nl
        return _utf8(f"event: error{nl}data: {_dumps(doc)}{nl}{nl}")

    def _events(self, big_event: int | None, invalid_json: bool) -> Iterator[tuple[int, bytes]]:
        nl = self._nl
        item_id = self._shell["output_id"]
        shell = {k: v for k, v in self._shell.items() if k != "output_id"}
        started = {**shell, "status": "in_progress"}
        yield PRE, self._event("response.created", response=started)
        yield PRE, self._event("response.in_progress", response=started)
        item = {
            "type": "message",
            "id": item_id,
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        yield PRE, self._event("response.output_item.added", output_index=0, item=item)
        where: dict[str, object] = {"item_id": item_id, "output_index": 0, "content_index": 0}
        part = {"type": "output_text", "text": "", "annotations": []}
        yield PRE, self._event("response.content_part.added", **where, part=part)
        if invalid_json:
            yield PRE, self._bad_json()
        delta = _Template(
            {
                "type": "response.output_text.delta",
                "sequence_number": _hole("seq"),
                **where,
                "delta": _hole("delta"),
            },
            before=f"event: response.output_text.delta{nl}data: ",
            after=nl + nl,
        )
        padding = ""
        if big_event is not None:
            sized = _Template(
                {
                    "type": "response.output_text.delta",
                    "sequence_number": self._seq,
                    **where,
                    "delta": _hole("pad"),
                }
            )
            padding = _pad(sized, big_event)
            yield PRE, _utf8(delta.render(seq=str(self._seq), delta=json.dumps(padding)))
            self._seq += 1
        cache: dict[str, str] = {}
        for piece in self._pieces:
            encoded = cache.get(piece)
            if encoded is None:
                encoded = cache[piece] = _dumps(piece)
            yield CONTENT, _utf8(delta.render(seq=str(self._seq), delta=encoded))
            self._seq += 1
        text = padding + self._pieces.text()
        yield POST, self._event("response.output_text.done", **where, text=text)
        part = {"type": "output_text", "text": text, "annotations": []}
        yield POST, self._event("response.content_part.done", **where, part=part)
        final = _response_output(shell, text, self._usage, item_id)
        yield (
            POST,
            self._event("response.output_item.done", output_index=0, item=final["output"][0]),
        )
        yield POST, self._event("response.completed", response=final)


# ----------------------------------------------------------------------------- endpoints

#: The API paths the server answers (all POST).
ENDPOINTS: Final = frozenset({"/v1/chat/completions", "/v1/completions", "/v1/responses"})
# Keeps one request's work bounded (events = pieces x choices).
_MAX_EVENTS: Final = 4_000_000


def answer(path: str, body: dict[str, Any], ident: int) -> bytes | SseStream:
    """Answer one API request.

    Args:
        path: one of ``ENDPOINTS``.
        body: the parsed JSON request body.
        ident: the request's number, used in every id of the answer.

    Returns:
        A JSON body, or the stream to send when the request asked for one.  Raises
        ApiError for an invalid request.
    """
    if path == "/v1/chat/completions":
        return _chat(body, ident)
    if path == "/v1/completions":
        return _completions(body, ident)
    if path == "/v1/responses":
        return _responses(body, ident)
    raise ApiError(404, f"Unknown request URL: POST {path}.", code="unknown_url")


def _check_size(events: int) -> None:
    if events > _MAX_EVENTS:
        raise ApiError(400, f"the test server produces at most {_MAX_EVENTS} tokens per request")


def _chat(body: dict[str, Any], ident: int) -> bytes | SseStream:
    model = _model(body)
    messages = body.get("messages")
    if (
        not isinstance(messages, list)
        or not messages
        or not all(isinstance(m, dict) for m in messages)
    ):
        problem = "'messages' must be a non-empty array of message objects"
        raise ApiError(400, problem, param="messages")
    n = _int(body, "n", 1, MAX_CHOICES) or 1
    if body.get("max_completion_tokens") is not None:
        limit = _int(body, "max_completion_tokens", 1, MAX_TOKENS)
    else:
        limit = _int(body, "max_tokens", 1, MAX_TOKENS)
    stream = _bool(body, "stream")
    include_usage = _include_usage(body)
    texts = [_content_text(m.get("content")) for m in messages]
    users = [text for m, text in zip(messages, texts, strict=True) if m.get("role") == "user"]
    user = users[-1] if users else ""
    tool = _pick_tool(body, user)
    if tool is None:
        pieces = _Pieces(_reply(user), limit)
        completion = pieces.count
    else:
        pieces = _Pieces(tool[1], None)
        completion = pieces.count
    _check_size(completion * n)
    usage = _usage(_count(texts), completion * n)
    if stream:
        return _ChatStream(
            ident=ident,
            model=model,
            n=n,
            pieces=pieces,
            tool=tool,
            include_usage=include_usage,
            usage=usage,
        )
    message: dict[str, Any]
    if tool is None:
        message = {"role": "assistant", "content": pieces.text(), "refusal": None}
        finish = pieces.finish
    else:
        message = {"role": "assistant", "content": None, "refusal": None}
        finish = "tool_calls"
    choices = []
    for i in range(n):
        choice_message = dict(message)
        if tool is not None:
            function = {"name": tool[0], "arguments": tool[1]}
            choice_message["tool_calls"] = [
                {"id": _call_id(ident, i), "type": "function", "function": function}
            ]
        choices.append(
            {"index": i, "message": choice_message, "logprobs": None, "finish_reason": finish}
        )
    doc = {
        "id": f"chatcmpl-{ident}",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": choices,
        "usage": usage,
        "system_fingerprint": FINGERPRINT,
    }
    return _utf8(_dumps(doc))


def _pick_tool(body: dict[str, Any], user: str) -> tuple[str, str] | None:
    """The (name, arguments) of the tool call to answer with, or None for a text answer."""
    tools = body.get("tools")
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise ApiError(400, "'tools' must be an array", param="tools")
    names: list[str] = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise ApiError(400, "each tool must be an object", param=f"tools[{i}]")
        if tool.get("type", "function") != "function":
            continue
        function = tool.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            raise ApiError(400, "a function tool needs a name", param=f"tools[{i}].function.name")
        names.append(name)
    choice = body.get("tool_choice")
    if not names or choice == "none":
        return None
    name = names[0]
    if isinstance(choice, dict):
        function = choice.get("function")
        wanted = function.get("name") if isinstance(function, dict) else None
        if isinstance(wanted, str):
            if wanted not in names:
                raise ApiError(
                    400, f"tool_choice names unknown tool {wanted!r}", param="tool_choice"
                )
            name = wanted
    return name, json.dumps({"text": user})


def _prompts(prompt: object) -> list[str]:
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and 0 < len(prompt) <= MAX_PROMPTS:
        if all(isinstance(p, str) for p in prompt):
            return list(prompt)
        if all(isinstance(p, int) and not isinstance(p, bool) for p in prompt):
            return [" ".join(map(str, prompt))]
        if all(isinstance(p, list) and all(isinstance(t, int) for t in p) for p in prompt):
            return [" ".join(map(str, p)) for p in prompt]
    message = f"'prompt' must be a string or a non-empty array (at most {MAX_PROMPTS}) of them"
    raise ApiError(400, message, param="prompt")


def continuation(prompt: str) -> str:
    """The deterministic completion of a prompt.

    The first words never depend on the prompt, so two prompts cut to a few tokens agree.

    Args:
        prompt: the prompt text.

    Returns:
        ``" and they lived happily ever after."``, then ``" The <last word> was happy too."``
        when the prompt has a word.
    """
    words = prompt.split()
    last = words[-1].strip(".,;:!?'\"()[]") if words else ""
    tail = f" The {last} was happy too." if last else ""
    return " and they lived happily ever after." + tail


def _completions(body: dict[str, Any], ident: int) -> bytes | SseStream:
    model = _model(body)
    if body.get("prompt") is None:
        raise ApiError(400, "you must provide a prompt parameter", param="prompt")
    prompts = _prompts(body["prompt"])
    n = _int(body, "n", 1, MAX_CHOICES) or 1
    limit = _int(body, "max_tokens", 1, MAX_TOKENS)
    echo = _bool(body, "echo")
    stream = _bool(body, "stream")
    include_usage = _include_usage(body)
    choices: list[_TextChoice] = []
    for p, prompt in enumerate(prompts):
        pieces = _Pieces(continuation(prompt), limit)
        for j in range(n):
            choices.append(_TextChoice(p * n + j, prompt if echo else None, pieces))
    completion = sum(choice.pieces.count for choice in choices)
    _check_size(completion)
    usage = _usage(_count(prompts), completion)
    if stream:
        return _CompletionStream(
            ident=ident, model=model, choices=choices, include_usage=include_usage, usage=usage
        )
    texts: dict[int, str] = {}
    doc = {
        "id": f"cmpl-{ident}",
        "object": "text_completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "text": (choice.echo or "")
                + texts.setdefault(id(choice.pieces), choice.pieces.text()),
                "index": choice.index,
                "logprobs": None,
                "finish_reason": choice.pieces.finish,
            }
            for choice in choices
        ],
        "usage": usage,
        "system_fingerprint": FINGERPRINT,
    }
    return _utf8(_dumps(doc))


def _responses(body: dict[str, Any], ident: int) -> bytes | SseStream:
    model = _model(body)
    given = body.get("input")
    if given is None:
        raise ApiError(400, "you must provide an input parameter", param="input")
    texts: list[str] = []
    user = ""
    if isinstance(given, str):
        texts.append(given)
        user = given
    elif isinstance(given, list):
        for i, item in enumerate(given):
            if not isinstance(item, dict):
                raise ApiError(400, "each input item must be an object", param=f"input[{i}]")
            text = _content_text(item.get("content"))
            texts.append(text)
            if item.get("role") == "user":
                user = text
    else:
        raise ApiError(400, "'input' must be a string or an array of items", param="input")
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise ApiError(400, "'instructions' must be a string", param="instructions")
    limit = _int(body, "max_output_tokens", 1, MAX_TOKENS)
    stream = _bool(body, "stream")
    pieces = _Pieces(_reply(user), limit)
    _check_size(pieces.count)
    input_tokens = _count([*texts, instructions or ""])
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": pieces.count,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + pieces.count,
    }
    temperature = body.get("temperature")
    top_p = body.get("top_p")
    metadata = body.get("metadata")
    previous = body.get("previous_response_id")
    shell: dict[str, Any] = {
        "id": f"resp_{ident}",
        "object": "response",
        "created_at": CREATED,
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": instructions,
        "max_output_tokens": limit,
        "model": model,
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": previous if isinstance(previous, str) else None,
        "temperature": temperature if isinstance(temperature, int | float) else 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": top_p if isinstance(top_p, int | float) else 1.0,
        "metadata": metadata if isinstance(metadata, dict) else {},
        "usage": None,
    }
    if stream:
        return _ResponseStream(
            shell={**shell, "output_id": f"msg_{ident}"}, pieces=pieces, usage=usage
        )
    doc = _response_output(shell, pieces.text(), usage, f"msg_{ident}")
    return _utf8(_dumps(doc))


def _response_output(
    shell: dict[str, Any], text: str, usage: dict[str, Any], item_id: str
) -> dict[str, Any]:
    """The finished response object.

    Always ``completed``, even when ``max_output_tokens`` set the length: that limit only
    says how many pieces to produce (as ``max_tokens`` does for chat), so that long streams
    can be asked for.  (OpenAI would report a truncated answer as ``incomplete``.)
    """
    item = {
        "type": "message",
        "id": item_id,
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    return {**shell, "status": "completed", "output": [item], "usage": usage}
