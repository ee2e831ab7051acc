"""Accumulating a stream into its final object, and picking the text out of each event.

Sans-IO: fed the events a stream yields, in order; no reading, no waiting.  The event
streams' ``text_deltas()`` and ``get_final()`` helpers (sync and async alike) use this.

- chat: one choice per ``index``: role, content, refusal, ``finish_reason``, logprobs (the
  ``content`` / ``refusal`` token lists concatenated), and tool calls assembled by their own
  ``index`` (id, type and name from whichever fragment carries them, the ``arguments``
  string concatenated across fragments, as servers split it mid-token); ``usage`` from the
  chunk that carries it (``stream_options={"include_usage": True}``);
- completions: one text per choice ``index``, ``finish_reason``, logprobs lists concatenated;
- responses: the ``response`` of ``response.completed``; a stream ending in
  ``response.failed`` or ``response.incomplete`` raises instead;
- messages: a ``Message``: the fields of ``message_start``'s message, one content block per
  ``index`` in index order (text and thinking joined from their deltas, a ``signature``
  joined from its ``signature_delta`` pieces, ``citations`` collected, a ``tool_use`` block's
  ``input`` parsed from its ``input_json_delta`` pieces at ``content_block_stop``),
  ``stop_reason`` / ``stop_sequence`` from ``message_delta``, and ``usage`` merged: the
  input side from ``message_start``, what ``message_delta`` reports (the final output count)
  on top.  Tool input that is not a JSON object raises ``ResponseValidationError`` from
  ``result()``, naming the block; the rest of the stream is still read, so the connection is
  reused.

Shape drift is tolerated as everywhere in r9s: a fragment without an ``index`` joins the tool
call with the same ``id``, else the last one seen; missing fields stay ``None``.  A stream cut
before its ``finish_reason`` still yields what arrived, with ``finish_reason`` ``None`` (a
messages stream ending without ``message_delta``: ``stop_reason`` ``None``; a block without
its ``content_block_stop`` is finished by ``result()`` all the same).
"""

from __future__ import annotations

from typing import Any

from r9s._core._json import loads
from r9s._core.classify import QUOTE_LIMIT, stream_error
from r9s._core.headers import Headers
from r9s.errors import R9SDefaultError, R9SError, ResponseValidationError
from r9s.models._base import Model, _plain
from r9s.models.chat import ChatCompletion, ChatCompletionChunk, ChoiceDelta, ChunkChoice
from r9s.models.completions import Completion, CompletionChoice
from r9s.models.images import ImageGenerationResponse, ImageStreamEvent
from r9s.models.messages import Message, MessageStreamDelta, MessageStreamEvent
from r9s.models.responses import Response, ResponseStreamEvent

__all__ = ["Accumulator", "accumulator_for", "text_of"]


def _index(choice: dict[str, Any]) -> int:
    idx = choice.get("index")
    return idx if isinstance(idx, int) else 0


def _raw(event: Any) -> dict[str, Any]:
    if isinstance(event, Model):
        return event.to_dict()
    return event if isinstance(event, dict) else {}


class Accumulator:
    """Base: ``feed(event)`` each event, then ``result()``."""

    def feed(self, event: Any) -> None:
        raise NotImplementedError

    def result(self) -> Model:
        raise NotImplementedError


class ChatAccumulator(Accumulator):
    def __init__(self) -> None:
        self._top: dict[str, Any] = {}
        self._choices: dict[int, dict[str, Any]] = {}
        self._usage: Any = None

    def feed(self, event: Any) -> None:
        chunk = _raw(event)
        for key in ("id", "created", "model", "system_fingerprint", "service_tier"):
            if chunk.get(key) is not None:
                self._top[key] = chunk[key]
        if chunk.get("usage") is not None:
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            state: Any = self._choices.setdefault(
                _index(choice),
                {
                    "role": None,
                    "content": [],
                    "refusal": [],
                    "finish_reason": None,
                    "logprobs": None,
                    "tool_calls": {},
                    "order": [],
                },
            )
            delta: Any = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
            if delta.get("role"):
                state["role"] = delta["role"]
            if isinstance(delta.get("content"), str):
                state["content"].append(delta["content"])
            if isinstance(delta.get("refusal"), str):
                state["refusal"].append(delta["refusal"])
            for call in delta.get("tool_calls") or ():
                if isinstance(call, dict):
                    self._tool_call(state, call)
            if choice.get("finish_reason") is not None:
                state["finish_reason"] = choice["finish_reason"]
            logprobs = choice.get("logprobs")
            if isinstance(logprobs, dict):
                merged = state["logprobs"] or {"content": None, "refusal": None}
                for key in ("content", "refusal"):
                    if isinstance(logprobs.get(key), list):
                        merged[key] = (merged[key] or []) + logprobs[key]
                state["logprobs"] = merged

    @staticmethod
    def _tool_call(state: dict[str, Any], call: dict[str, Any]) -> None:
        calls: dict[Any, dict[str, Any]] = state["tool_calls"]
        order: list[Any] = state["order"]
        key: Any = call.get("index")
        if not isinstance(key, int):
            same = [k for k, c in calls.items() if call.get("id") and c["id"] == call.get("id")]
            key = same[0] if same else (order[-1] if order else 0)
        entry = calls.get(key)
        if entry is None:
            entry = calls[key] = {"id": None, "type": "function", "name": None, "arguments": []}
            order.append(key)
        if call.get("id"):
            entry["id"] = call["id"]
        if call.get("type"):
            entry["type"] = call["type"]
        fn: Any = call.get("function") if isinstance(call.get("function"), dict) else {}
        if fn.get("name"):
            entry["name"] = fn["name"]
        if isinstance(fn.get("arguments"), str):
            entry["arguments"].append(fn["arguments"])

    def result(self) -> ChatCompletion:
        choices = []
        for idx in sorted(self._choices):
            s = self._choices[idx]
            message: dict[str, Any] = {
                "role": s["role"] or "assistant",
                "content": "".join(s["content"]) if s["content"] else None,
                "refusal": "".join(s["refusal"]) if s["refusal"] else None,
            }
            if s["order"]:
                message["tool_calls"] = [
                    {
                        "id": c["id"],
                        "type": c["type"],
                        "function": {"name": c["name"], "arguments": "".join(c["arguments"])},
                    }
                    for c in (s["tool_calls"][k] for k in sorted(s["order"]))
                ]
            choices.append(
                {
                    "index": idx,
                    "message": message,
                    "finish_reason": s["finish_reason"],
                    "logprobs": s["logprobs"],
                }
            )
        data = {"object": "chat.completion", **self._top, "choices": choices, "usage": self._usage}
        return ChatCompletion._wrap(data)


class CompletionAccumulator(Accumulator):
    def __init__(self) -> None:
        self._top: dict[str, Any] = {}
        self._choices: dict[int, dict[str, Any]] = {}
        self._usage: Any = None

    def feed(self, event: Any) -> None:
        chunk = _raw(event)
        for key in ("id", "created", "model", "system_fingerprint"):
            if chunk.get(key) is not None:
                self._top[key] = chunk[key]
        if chunk.get("usage") is not None:
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            state: Any = self._choices.setdefault(
                _index(choice), {"text": [], "finish_reason": None, "lp": None}
            )
            if isinstance(choice.get("text"), str):
                state["text"].append(choice["text"])
            if choice.get("finish_reason") is not None:
                state["finish_reason"] = choice["finish_reason"]
            lp = choice.get("logprobs")
            if isinstance(lp, dict):
                merged = state["lp"] or {}
                for key, value in lp.items():
                    if isinstance(value, list):
                        merged[key] = merged.get(key, []) + value
                state["lp"] = merged

    def result(self) -> Completion:
        choices = [
            {
                "index": i,
                "text": "".join(s["text"]),
                "finish_reason": s["finish_reason"],
                "logprobs": s["lp"],
            }
            for i, s in sorted(self._choices.items())
        ]
        data = {"object": "text_completion", **self._top, "choices": choices, "usage": self._usage}
        return Completion._wrap(data)


class ResponsesAccumulator(Accumulator):
    def __init__(self) -> None:
        self._final: dict[str, Any] | None = None
        self._failure: R9SError | None = None
        self._events = 0

    def feed(self, event: Any) -> None:
        self._events += 1
        ev = _raw(event)
        kind = ev.get("type")
        response = ev.get("response")
        if kind == "response.completed" and isinstance(response, dict):
            self._final = response
        elif kind in ("response.failed", "response.incomplete"):
            response = response if isinstance(response, dict) else {}
            if kind == "response.failed":
                detail = response.get("error") or {"message": "the response failed"}
                self._failure = stream_error(
                    {"error": detail}, 200, Headers(), events_received=self._events - 1
                )
            else:
                why = (response.get("incomplete_details") or {}).get("reason", "unknown")
                self._failure = R9SDefaultError(
                    f"the response is incomplete ({why})",
                    status_code=200,
                    data=Response._wrap(response),
                )
                self._failure.events_received = self._events - 1

    def result(self) -> Response:
        if self._failure is not None:
            raise self._failure
        if self._final is None:
            raise R9SDefaultError(
                f"the stream ended after {self._events} events without response.completed",
                status_code=200,
            )
        return Response._wrap(_plain(self._final))


def _fields(value: Any) -> dict[str, Any]:
    """The JSON object behind ``value`` (a model, already wrapped or not), without copying."""
    if isinstance(value, Model):
        return value.__dict__
    return value if isinstance(value, dict) else {}


#: The block type a delta implies, for a delta whose ``content_block_start`` never came.
_BLOCK_OF_DELTA = {
    "text_delta": "text",
    "input_json_delta": "tool_use",
    "thinking_delta": "thinking",
    "signature_delta": "thinking",
    "citations_delta": "text",
}

#: ``delta.type`` -> (the delta's field, the block's field it is joined into).
_JOINED = {
    "text_delta": ("text", "text"),
    "thinking_delta": ("thinking", "thinking"),
    "signature_delta": ("signature", "signature"),
    "input_json_delta": ("partial_json", "input"),
}


class _Block:
    """One content block under construction: its fields, and the pieces of each joined one."""

    __slots__ = ("done", "fields", "pieces")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.pieces: dict[str, list[str]] = {}
        self.done = False


class MessagesAccumulator(Accumulator):
    def __init__(self) -> None:
        self._message: dict[str, Any] = {}
        self._blocks: dict[int, _Block] = {}
        self._usage: dict[str, Any] = {}
        self._stop: dict[str, Any] = {}
        self._failure: R9SError | None = None
        self._last = -1  # the index of the last block seen, for events without one

    def feed(self, event: Any) -> None:
        ev = _fields(event)
        kind = ev.get("type")
        if kind == "content_block_delta":
            self._delta(ev)
        elif kind == "content_block_start":
            block = _plain(_fields(ev.get("content_block")))
            idx = self._index(ev, new=True)
            old = self._blocks.get(idx)
            if old is not None and not old.done:
                block = {**old.fields, **block}  # deltas that came before their start
            self._blocks[idx] = entry = _Block(block)
            if old is not None:
                entry.pieces = old.pieces
        elif kind == "content_block_stop":
            idx = self._index(ev)
            ended = self._blocks.get(idx)
            if ended is not None and not ended.done:
                ended.fields = self._finish(idx, ended, stopped=True)
                ended.pieces = {}
                ended.done = True
        elif kind == "message_start":
            message = _plain(_fields(ev.get("message")))
            self._merge_usage(message.pop("usage", None))
            for i, block in enumerate(message.pop("content", None) or ()):
                if isinstance(block, dict):
                    self._blocks.setdefault(i, _Block(block)).done = True
                    self._last = max(self._last, i)
            self._message = message
        elif kind == "message_delta":
            delta = _fields(ev.get("delta"))
            for key in ("stop_reason", "stop_sequence"):
                if key in delta:
                    self._stop[key] = delta[key]
            self._merge_usage(ev.get("usage"))
        # message_stop, and types this code does not know, add nothing

    def _index(self, ev: dict[str, Any], *, new: bool = False) -> int:
        idx = ev.get("index")
        if isinstance(idx, int) and not isinstance(idx, bool):
            self._last = max(self._last, idx)
            return idx
        if new or self._last < 0:  # a server that numbers nothing: one block after another
            self._last += 1
        return self._last

    def _delta(self, ev: dict[str, Any]) -> None:
        delta = _fields(ev.get("delta"))
        dtype: Any = delta.get("type")
        if dtype is None and isinstance(delta.get("text"), str):
            dtype = "text_delta"
        idx = self._index(ev)
        entry = self._blocks.get(idx)
        if entry is None:
            entry = self._blocks[idx] = _Block({"type": _BLOCK_OF_DELTA.get(dtype, "text")})
        joined = _JOINED.get(dtype)
        if joined is not None:
            piece = delta.get(joined[0])
            if isinstance(piece, str):
                entry.pieces.setdefault(joined[1], []).append(piece)
        elif dtype == "citations_delta" and delta.get("citation") is not None:
            citations = entry.fields.get("citations")
            if not isinstance(citations, list):
                citations = entry.fields["citations"] = []
            citations.append(_plain(delta["citation"]))

    def _merge_usage(self, usage: Any) -> None:
        for key, value in _fields(usage).items():
            if value is not None:
                self._usage[key] = _plain(value)

    def _finish(self, idx: int, entry: _Block, *, stopped: bool) -> dict[str, Any]:
        """The block's fields with its pieces joined (a copy; ``entry`` is not changed).

        Sets ``_failure`` (the first one wins) when a tool input does not parse.
        """
        fields = dict(entry.fields)
        for name, pieces in entry.pieces.items():
            if name != "input":
                start = fields.get(name)
                fields[name] = (start if isinstance(start, str) else "") + "".join(pieces)
                continue
            text = "".join(pieces)
            if not text.strip():  # no arguments streamed: keep the start's input ({})
                continue
            try:
                value = loads(text)
            except ValueError as exc:
                self._fail(idx, fields, f"are not valid JSON ({exc})", text, exc, stopped)
                continue
            if type(value) is not dict:
                what = f"are JSON but not an object (a {type(value).__name__})"
                self._fail(idx, fields, what, text, None, stopped)
                continue
            fields["input"] = value
        if fields.get("type") == "tool_use" and "input" not in fields:
            fields["input"] = {}
        return fields

    def _fail(
        self,
        idx: int,
        fields: dict[str, Any],
        what: str,
        text: str,
        cause: BaseException | None,
        stopped: bool,
    ) -> None:
        if self._failure is not None:
            return
        name = fields.get("name")
        tool = f"tool_use {name!r}" if isinstance(name, str) else "tool_use"
        cut = "" if stopped else " (the stream ended before its content_block_stop)"
        err = ResponseValidationError(
            f"content block {idx} ({tool}): the input_json_delta pieces of its input "
            f"{what}{cut}; input: {text[:QUOTE_LIMIT]!r}",
            status_code=200,
            body=text,
        )
        err.__cause__ = cause
        self._failure = err

    def result(self) -> Message:
        """The ``Message`` so far (at the end of the stream: the whole answer).

        Raises:
            ResponseValidationError: a tool_use block's input is not a JSON object.
        """
        content = []
        for idx in sorted(self._blocks):
            entry = self._blocks[idx]
            content.append(entry.fields if entry.done else self._finish(idx, entry, stopped=False))
        if self._failure is not None:
            raise self._failure
        data: dict[str, Any] = {"type": "message", "role": "assistant", **self._message}
        data["content"] = _plain(content)
        for key in ("stop_reason", "stop_sequence"):
            if key in self._stop:
                data[key] = self._stop[key]
            else:
                data.setdefault(key, None)
        data["usage"] = dict(self._usage)
        return Message._wrap(data)


class ImagesAccumulator(Accumulator):
    """An image stream's final images: each ``*.completed`` event's image, in order (the
    partial images are previews), as an ``ImageGenerationResponse``."""

    def __init__(self) -> None:
        self._data: list[dict[str, Any]] = []
        self._top: dict[str, Any] = {}

    def feed(self, event: Any) -> None:
        raw = _raw(event)
        kind = raw.get("type")
        if isinstance(kind, str) and kind.endswith(".completed"):
            image: dict[str, Any] = {
                k: raw[k] for k in ("b64_json", "url", "revised_prompt") if k in raw
            }
            self._data.append(image)
            for key in ("created_at", "usage", "size", "quality", "background", "output_format"):
                if key in raw:
                    self._top["created" if key == "created_at" else key] = raw[key]
        elif isinstance(raw.get("data"), list) and raw.get("object"):  # the published SDK's form
            for item in raw["data"]:
                if isinstance(item, dict) and item.get("is_final"):
                    self._data.append({k: v for k, v in item.items() if k != "is_final"})
            if raw.get("usage") is not None:
                self._top["usage"] = raw["usage"]

    def result(self) -> Model:
        if not self._data:
            raise ResponseValidationError(
                "the image stream ended without a completed image (only partial ones, or none)"
            )
        return ImageGenerationResponse._wrap({**self._top, "data": self._data})


def accumulator_for(event_class: type) -> Accumulator:
    """A fresh accumulator for a stream of ``event_class`` events."""
    if issubclass(event_class, ChatCompletionChunk):
        return ChatAccumulator()
    if issubclass(event_class, Completion):
        return CompletionAccumulator()
    if issubclass(event_class, ResponseStreamEvent):
        return ResponsesAccumulator()
    if issubclass(event_class, MessageStreamEvent):
        return MessagesAccumulator()
    if issubclass(event_class, ImageStreamEvent):
        return ImagesAccumulator()
    raise TypeError(f"no accumulator for {event_class.__name__}")


def text_of(event: Any) -> str | None:
    """The text an event adds (choice ``index`` 0's, an ``output_text`` delta, a messages
    ``text_delta``), or ``None``."""
    if isinstance(event, ChatCompletionChunk):
        for choice in event.choices or ():
            if isinstance(choice, ChunkChoice) and choice.index in (0, None):
                delta = choice.delta
                content = delta.content if isinstance(delta, ChoiceDelta) else None
                return content if isinstance(content, str) else None
        return None
    if isinstance(event, Completion):
        for item in event.choices or ():
            if isinstance(item, CompletionChoice) and item.index in (0, None):
                return item.text if isinstance(item.text, str) else None
        return None
    if isinstance(event, ResponseStreamEvent):
        if event.type == "response.output_text.delta" and isinstance(event.delta, str):
            return event.delta
        return None
    if isinstance(event, MessageStreamEvent):
        if event.type == "content_block_delta":
            piece = event.delta
            if isinstance(piece, MessageStreamDelta) and piece.type in ("text_delta", None):
                return piece.text if isinstance(piece.text, str) else None
    return None
