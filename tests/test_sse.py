"""``mockserver.wire.sse``: Letta's SSE framing, byte for byte (wire doc §6.1, §1.6), and a decoder that reads bodies
the way the official SDKs do (wire doc §7)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from letta_client._streaming import SSEDecoder

from mockserver.models import (
    AssistantMessage,
    LettaErrorMessage,
    LettaPing,
    LettaStopReason,
    LettaUsageStatistics,
    ReasoningMessage,
    ToolCallDelta,
    ToolCallMessage,
)
from mockserver.wire import sse

RUN = "run-6b0e4d2c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
MESSAGE = "message-7d9e2f10-5a6b-4c7d-8e9f-a0b1c2d3e4f5"
STEP = "step-0c1d2e3f-4a5b-4c6d-9e7f-8a9b0c1d2e3f"
# Microseconds on purpose: LettaMessage dates are serialised without them (wire doc §1.5).
WHEN = datetime(2025, 6, 1, 12, 0, 4, 654321, tzinfo=timezone.utc)
COMMON = b'"name":null,"message_type":'

FRAMES: list[tuple[str, Any, bytes]] = [
    (
        "the initial ping",
        LettaPing(id="ping-1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b", date=WHEN, run_id=RUN),
        b'data: {"id":"ping-1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b","date":"2025-06-01T12:00:04+00:00","name":null,'
        b'"message_type":"ping","otid":null,"sender_id":null,"step_id":null,"is_err":null,"seq_id":null,'
        b'"run_id":"run-6b0e4d2c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"}\n\n',
    ),
    (
        "a background ping with its seq_id",
        LettaPing(id="ping-1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b", date=WHEN, run_id=RUN, seq_id=1),
        b'data: {"id":"ping-1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b","date":"2025-06-01T12:00:04+00:00","name":null,'
        b'"message_type":"ping","otid":null,"sender_id":null,"step_id":null,"is_err":null,"seq_id":1,'
        b'"run_id":"run-6b0e4d2c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"}\n\n',
    ),
    (
        "a reasoning message",
        ReasoningMessage(
            id=MESSAGE,
            date=WHEN,
            otid="7d9e2f10-5a6b-4c7d-8e9f-a0b1c2d3e480",
            step_id=STEP,
            run_id=RUN,
            source="reasoner_model",
            reasoning="The user greeted me.",
        ),
        b'data: {"id":"message-7d9e2f10-5a6b-4c7d-8e9f-a0b1c2d3e4f5","date":"2025-06-01T12:00:04+00:00","name":null,'
        b'"message_type":"reasoning_message","otid":"7d9e2f10-5a6b-4c7d-8e9f-a0b1c2d3e480","sender_id":null,'
        b'"step_id":"step-0c1d2e3f-4a5b-4c6d-9e7f-8a9b0c1d2e3f","is_err":null,"seq_id":null,'
        b'"run_id":"run-6b0e4d2c-1a2b-4c3d-8e9f-0a1b2c3d4e5f","source":"reasoner_model",'
        b'"reasoning":"The user greeted me.","signature":null}\n\n',
    ),
    (
        "an assistant message whose text holds a newline, quotes and non-ASCII",
        AssistantMessage(id=MESSAGE, date=WHEN, content='Line one\nsaid "h\u00e9"'),
        b'data: {"id":"message-7d9e2f10-5a6b-4c7d-8e9f-a0b1c2d3e4f5","date":"2025-06-01T12:00:04+00:00","name":null,'
        b'"message_type":"assistant_message","otid":null,"sender_id":null,"step_id":null,"is_err":null,'
        b'"seq_id":null,"run_id":null,"content":"Line one\\nsaid \\"h\xc3\xa9\\""}\n\n',
    ),
    (
        "a token-streamed tool call: one ToolCallDelta object in both fields, null keys kept (wire doc §18.1)",
        ToolCallMessage(
            id=MESSAGE,
            date=WHEN,
            tool_call=ToolCallDelta(name=None, arguments='{"q":', tool_call_id="call_1"),
            tool_calls=ToolCallDelta(name=None, arguments='{"q":', tool_call_id="call_1"),
        ),
        b'data: {"id":"message-7d9e2f10-5a6b-4c7d-8e9f-a0b1c2d3e4f5","date":"2025-06-01T12:00:04+00:00","name":null,'
        b'"message_type":"tool_call_message","otid":null,"sender_id":null,"step_id":null,"is_err":null,'
        b'"seq_id":null,"run_id":null,"tool_call":{"name":null,"arguments":"{\\"q\\":","tool_call_id":"call_1"},'
        b'"tool_calls":{"name":null,"arguments":"{\\"q\\":","tool_call_id":"call_1"}}\n\n',
    ),
    (
        "the stop reason",
        LettaStopReason(stop_reason="end_turn"),
        b'data: {"message_type":"stop_reason","stop_reason":"end_turn"}\n\n',
    ),
    (
        "usage statistics with every key, nulls included",
        LettaUsageStatistics(
            completion_tokens=21, prompt_tokens=2190, total_tokens=2211, step_count=1, context_tokens=2211
        ),
        b'data: {"message_type":"usage_statistics","completion_tokens":21,"prompt_tokens":2190,"total_tokens":2211,'
        b'"step_count":1,"run_ids":null,"cached_input_tokens":null,"cache_write_tokens":null,"reasoning_tokens":null,'
        b'"context_tokens":2211}\n\n',
    ),
    (
        "an in-band error, the only named event",
        LettaErrorMessage(
            run_id=RUN, error_type="llm_error", message="An error occurred with the LLM request.", detail="boom"
        ),
        # detail and seq_id are left out when null: the document types them as non-null (the real server writes
        # null, wire doc §2.2; the mock keeps the event valid against the contract instead).
        b'event: error\ndata: {"message_type":"error_message","run_id":"run-6b0e4d2c-1a2b-4c3d-8e9f-0a1b2c3d4e5f",'
        b'"error_type":"llm_error","message":"An error occurred with the LLM request.","detail":"boom"}\n\n',
    ),
    (
        "an in-band error of a background stream, with its seq_id and no detail",
        LettaErrorMessage(
            run_id=RUN,
            error_type="stream_incomplete",
            message="Stream ended unexpectedly without a terminal event.",
            seq_id=3,
        ),
        b'event: error\ndata: {"message_type":"error_message","run_id":"run-6b0e4d2c-1a2b-4c3d-8e9f-0a1b2c3d4e5f",'
        b'"error_type":"stream_incomplete","message":"Stream ended unexpectedly without a terminal event.",'
        b'"seq_id":3}\n\n',
    ),
    ("the terminator", "[DONE]", b"data: [DONE]\n\n"),
]


@pytest.mark.parametrize(("event", "expected"), [(e, b) for _, e, b in FRAMES], ids=[name for name, _, _ in FRAMES])
def test_encode_writes_exactly_the_bytes_letta_writes(event: Any, expected: bytes) -> None:
    assert sse.encode(event) == expected


def test_the_done_constant_is_letta_s_terminator() -> None:
    assert sse.encode(sse.DONE) == b"data: [DONE]\n\n"


def test_encode_all_concatenates_the_frames_of_a_transcript() -> None:
    events = [e for _, e, _ in FRAMES]
    assert sse.encode_all(events) == b"".join(b for _, _, b in FRAMES)


def test_every_frame_is_one_data_line_after_at_most_an_event_line() -> None:
    for _, event, _ in FRAMES:
        lines = sse.encode(event).split(b"\n")
        assert lines[-2:] == [b"", b""]  # the event ends with exactly one blank line
        assert [line.split(b":", 1)[0] for line in lines[:-2]] in ([b"data"], [b"event", b"data"])


def test_decode_inverts_encode_for_a_whole_transcript() -> None:
    events = [e for _, e, _ in FRAMES]
    frames = sse.decode(sse.encode_all(events))
    assert [f.event for f in frames] == [None] * 7 + ["error", "error", None]
    assert [f.data for f in frames] == [e if isinstance(e, str) else e.model_dump_json() for e in events]
    assert frames[-2].json()["error_type"] == "stream_incomplete"


# Text that JSON must escape to keep an event on one line: newlines, carriage returns, quotes, non-ASCII.
_texts = st.lists(st.sampled_from(["a", " ", "\n", "\r", "\r\n", '"', "\\", "é", "🙂", "data: ", ":"])).map("".join)


@given(st.lists(_texts, max_size=6), _texts)
def test_decode_inverts_encode_whatever_the_text(contents: list[str], detail: str) -> None:
    events: list[Any] = [AssistantMessage(id=MESSAGE, date=WHEN, content=c) for c in contents]
    events += [LettaErrorMessage(run_id=RUN, error_type="internal_error", message="m", detail=detail), "[DONE]"]
    frames = sse.decode(sse.encode_all(events))
    assert [f.json()["content"] for f in frames[: len(contents)]] == contents
    assert frames[-2].event == "error"
    assert frames[-2].json()["detail"] == detail
    assert frames[-1] == sse.Frame(None, "[DONE]")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"data: a\n\n", [(None, "a")]),
        (b"data: a\r\n\r\n", [(None, "a")]),
        (b"data: a\r\rdata: b\r\r", [(None, "a"), (None, "b")]),
        (b"data: a\ndata: b\n\n", [(None, "a\nb")]),
        (b"data: a\r\ndata: b\r\n\r\n", [(None, "a\nb")]),
        (b"event: error\r\ndata: {}\r\n\r\n", [("error", "{}")]),
        (b"data:no-space\n\n", [(None, "no-space")]),
        (b"data:  two spaces\n\n", [(None, " two spaces")]),
        (b": a comment\ndata: a\n\n", [(None, "a")]),
        (b": only a comment\n\n", []),
        (b"id: 7\nretry: 100\nfoo: bar\ndata: a\n\n", [(None, "a")]),
        (b"event: cancelled\ndata: {}\n\n", [("cancelled", "{}")]),
        (b"data: a\n\n\n\ndata: b\n\n", [(None, "a"), (None, "b")]),
    ],
    ids=[
        "lf",
        "crlf",
        "cr",
        "multi-line data joined with lf",
        "multi-line data over crlf",
        "named event over crlf",
        "no space after the colon",
        "only the first space is dropped",
        "comment lines",
        "a comment alone is no event",
        "id, retry and unknown fields are ignored",
        "other event names are kept for the reader to ignore",
        "extra blank lines",
    ],
)
def test_decode_reads_a_body_as_the_python_sdk_does(body: bytes, expected: list[tuple[str | None, str]]) -> None:
    assert [(f.event, f.data) for f in sse.decode(body)] == expected
    assert [(e.event, e.data) for e in SSEDecoder().iter_bytes(iter([body]))] == expected


def test_decode_accepts_text_as_well_as_bytes() -> None:
    assert sse.decode("data: [DONE]\n\n") == sse.decode(b"data: [DONE]\n\n") == [sse.Frame(None, "[DONE]")]


def test_decode_drops_a_last_event_the_body_ends_before_its_blank_line_as_the_sdks_do() -> None:
    # A connection that closes mid-event (a drop) leaves an unterminated event: neither SDK dispatches it,
    # because an event is dispatched only at a blank line (wire doc §7; SSE spec "dispatch the event").
    body = b'data: {"message_type":"stop_reason","stop_reason":"end_turn"}\n\ndata: {"message_type":"usa'
    sdk = [(e.event, e.data) for e in SSEDecoder().iter_bytes(iter([body]))]
    assert sdk == [(None, '{"message_type":"stop_reason","stop_reason":"end_turn"}')]
    assert [(f.event, f.data) for f in sse.decode(body)] == sdk


_lines = st.one_of(
    st.builds(lambda v: f"data: {v}", st.text(alphabet="ab {}:[]", max_size=5)),
    st.builds(lambda v: f"data:{v}", st.text(alphabet="ab ", max_size=3)),
    st.sampled_from(["event: error", "event: cancelled", ": comment", "foo: bar", "data", ""]),
)


@given(st.lists(_lines, max_size=12), st.sampled_from(["\n", "\r\n", "\r"]))
def test_decode_agrees_with_the_python_sdk_on_any_terminated_body(lines: list[str], newline: str) -> None:
    body = (newline.join([*lines, "", ""])).encode()
    sdk = [(e.event, e.data) for e in SSEDecoder().iter_bytes(iter([body]))]
    assert [(f.event, f.data) for f in sse.decode(body)] == sdk
