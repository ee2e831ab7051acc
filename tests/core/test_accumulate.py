"""Accumulating recorded chunk sequences into final objects (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest

from r9s import errors
from r9s._core.accumulate import accumulator_for, text_of
from r9s.models import ChatCompletionChunk, Completion, ResponseStreamEvent


def chat(
    *deltas: dict[str, Any], index: int = 0, finish: str | None = None, **top: Any
) -> ChatCompletionChunk:
    return ChatCompletionChunk._wrap(
        {
            "id": "c1",
            "model": "m",
            "created": 1,
            **top,
            "choices": [{"index": index, "delta": d, "finish_reason": finish} for d in deltas],
        }
    )


def final(*chunks: ChatCompletionChunk):
    acc = accumulator_for(ChatCompletionChunk)
    for c in chunks:
        acc.feed(c)
    return acc.result()


def test_text_and_finish_and_usage() -> None:
    res = final(
        chat({"role": "assistant", "content": ""}),
        chat({"content": "Hel"}),
        chat({"content": "lo"}),
        chat({}, finish="stop"),
        ChatCompletionChunk._wrap(
            {
                "id": "c1",
                "choices": [],
                "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
            }
        ),
    )
    msg = res.choices[0].message
    assert (msg.role, msg.content, msg.refusal, msg.tool_calls) == (
        "assistant",
        "Hello",
        None,
        None,
    )
    assert res.choices[0].finish_reason == "stop" and res.usage.total_tokens == 3 and res.id == "c1"


def test_parallel_tool_calls_assembled_by_index_with_arguments_split_mid_token() -> None:
    res = final(
        chat(
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "weather", "arguments": ""},
                    },
                    {
                        "index": 1,
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "time", "arguments": ""},
                    },
                ],
            }
        ),
        chat(
            {"tool_calls": [{"index": 1, "function": {"arguments": '{"tz": "U'}}]}
        ),  # out of order
        chat({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),
        chat({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]}),
        chat({"tool_calls": [{"index": 1, "function": {"arguments": 'TC"}'}}]}),
        chat({}, finish="tool_calls"),
    )
    calls = res.choices[0].message.tool_calls
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("call_a", "weather", '{"city": "Paris"}'),
        ("call_b", "time", '{"tz": "UTC"}'),
    ]
    assert res.choices[0].message.content is None and res.choices[0].finish_reason == "tool_calls"


def test_fragments_without_index_or_id_join_the_right_call() -> None:
    res = final(
        chat({"tool_calls": [{"id": "call_x", "function": {"name": "f", "arguments": "{"}}]}),
        chat({"tool_calls": [{"id": "call_x", "function": {"arguments": '"a": 1'}}]}),
        chat({"tool_calls": [{"function": {"arguments": "}"}}]}),
    )
    (call,) = res.choices[0].message.tool_calls
    assert (call.id, call.function.arguments) == ("call_x", '{"a": 1}')


def test_stream_cut_mid_tool_call_keeps_what_arrived() -> None:
    res = final(
        chat(
            {
                "tool_calls": [
                    {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": '{"par'}}
                ]
            }
        )
    )
    assert res.choices[0].message.tool_calls[0].function.arguments == '{"par'
    assert res.choices[0].finish_reason is None  # no finish_reason: the caller can tell


def test_multi_choice_refusal_and_logprobs() -> None:
    res = final(
        chat({"content": "A"}, index=0),
        chat({"content": "B"}, index=1),
        chat({"refusal": "no"}, index=1, finish="stop"),
        chat({"content": "A2"}, index=0, finish="length"),
        ChatCompletionChunk._wrap(
            {"choices": [{"index": 0, "delta": {}, "logprobs": {"content": [{"token": "A"}]}}]}
        ),
        ChatCompletionChunk._wrap(
            {"choices": [{"index": 0, "delta": {}, "logprobs": {"content": [{"token": "A2"}]}}]}
        ),
    )
    assert [c.message.content for c in res.choices] == ["AA2", "B"]
    assert res.choices[1].message.refusal == "no"
    assert [c.finish_reason for c in res.choices] == ["length", "stop"]
    assert [t["token"] for t in res.choices[0].logprobs.content] == ["A", "A2"]


def test_text_of_takes_choice_index_zero_only() -> None:
    assert text_of(chat({"content": "x"}, index=1)) is None
    assert text_of(chat({"content": "y"})) == "y"
    assert (
        text_of(ResponseStreamEvent._wrap({"type": "response.output_text.delta", "delta": "z"}))
        == "z"
    )
    assert text_of(ResponseStreamEvent._wrap({"type": "response.created"})) is None


def test_completions_text_per_choice() -> None:
    acc = accumulator_for(Completion)
    for i, t in enumerate(["a", "b", "c"]):
        acc.feed(
            Completion._wrap(
                {
                    "id": "x",
                    "choices": [
                        {"index": i % 2, "text": t, "finish_reason": "stop" if i == 2 else None}
                    ],
                }
            )
        )
    res = acc.result()
    assert [c.text for c in res.choices] == ["ac", "b"] and res.choices[0].finish_reason == "stop"


def responses(*events: dict[str, Any]):
    acc = accumulator_for(ResponseStreamEvent)
    for e in events:
        acc.feed(ResponseStreamEvent._wrap(e))
    return acc.result()


def test_responses_final_from_completed() -> None:
    done = {
        "id": "r",
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "hi"}]}],
    }
    res = responses(
        {"type": "response.created", "response": {"id": "r"}},
        {"type": "response.completed", "response": done},
    )
    assert res.output_text == "hi" and res.status == "completed"


def test_responses_failed_incomplete_and_missing_end_raise() -> None:
    with pytest.raises(errors.RateLimitError, match="quota"):
        responses(
            {
                "type": "response.failed",
                "response": {"error": {"code": "rate_limit_exceeded", "message": "quota"}},
            }
        )
    with pytest.raises(errors.R9SDefaultError, match="max_output_tokens"):
        responses(
            {
                "type": "response.incomplete",
                "response": {"incomplete_details": {"reason": "max_output_tokens"}},
            }
        )
    with pytest.raises(errors.R9SDefaultError, match=r"without response\.completed"):
        responses({"type": "response.created"})


def test_accumulator_for_a_messages_stream_and_text_of_its_events() -> None:
    from r9s._core.accumulate import MessagesAccumulator
    from r9s.models.messages import MessageStreamEvent

    assert type(accumulator_for(MessageStreamEvent)) is MessagesAccumulator
    events = [
        {
            "type": "message_start",
            "message": {"id": "m1", "model": "c", "usage": {"input_tokens": 5}},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi "}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "there"},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 2},
        },
        {"type": "message_stop"},
    ]
    wrapped = [MessageStreamEvent._wrap(e) for e in events]
    assert [text_of(e) for e in wrapped] == [None, None, "Hi ", "there", None, None, None]
    acc = accumulator_for(MessageStreamEvent)
    for e in wrapped:
        acc.feed(e)
    message = acc.result()
    assert message.content[0].text == "Hi there" and message.stop_reason == "end_turn"
    assert message.usage.to_dict() == {"input_tokens": 5, "output_tokens": 2}
    assert message.id == "m1" and message.role == "assistant"
