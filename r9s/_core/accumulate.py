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
  ``response.failed`` or ``response.incomplete`` raises instead.

Shape drift is tolerated as everywhere in r9s: a fragment without an ``index`` joins the tool
call with the same ``id``, else the last one seen; missing fields stay ``None``.  A stream cut
before its ``finish_reason`` still yields what arrived, with ``finish_reason`` ``None``.
"""

from __future__ import annotations

from typing import Any

from r9s._core.classify import stream_error
from r9s._core.headers import Headers
from r9s.errors import R9SDefaultError, R9SError
from r9s.models._base import Model, _plain
from r9s.models.chat import ChatCompletion, ChatCompletionChunk, ChoiceDelta, ChunkChoice
from r9s.models.completions import Completion, CompletionChoice
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


def accumulator_for(event_class: type) -> Accumulator:
    """A fresh accumulator for a stream of ``event_class`` events."""
    if issubclass(event_class, ChatCompletionChunk):
        return ChatAccumulator()
    if issubclass(event_class, Completion):
        return CompletionAccumulator()
    if issubclass(event_class, ResponseStreamEvent):
        return ResponsesAccumulator()
    raise TypeError(f"no accumulator for {event_class.__name__}")


def text_of(event: Any) -> str | None:
    """The text an event adds (choice ``index`` 0's, or an ``output_text`` delta), or ``None``."""
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
