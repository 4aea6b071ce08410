"""SSE transcripts follow Letta's stream grammar, survive the byte round trip, reassemble from token chunks, number
background chunks, parse in the official SDK's stream reader, and the faulty ones break exactly one rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _local import ROOT
from _sdk import parse_in_sdk
from contract import validate_against_spec
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import strategies
from mockserver.models import (
    STOP_REASONS,
    ApprovalRequestMessage,
    AssistantMessage,
    LettaErrorMessage,
    LettaPing,
    LettaStopReason,
    LettaUsageStatistics,
    ReasoningMessage,
    ToolCall,
    ToolCallDelta,
    ToolCallMessage,
    ToolReturnMessage,
)
from mockserver.wire.sse import DONE

# No explain phase: on a failure it re-runs a transcript test hundreds of times to annotate the report (minutes).
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
ERROR_REASONS = {"error", "llm_api_error", "invalid_llm_response", "context_window_overflow_in_system_prompt"}


def drawn(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """Independent draws for seeds 0..count-1 (see tests/test_strategies.py)."""
    return [strategies.example_for_seed(strategy, seed) for seed in range(count)]


@st.composite
def transcripts_with_options(draw: st.DrawFn) -> tuple[dict[str, Any], list[Any]]:
    tokens, pings, background = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    options = {"stream_tokens": tokens, "include_pings": pings, "background": background}
    return options, draw(strategies.sse_transcripts(stream_tokens=tokens, include_pings=pings, background=background))


def messages_of(events: list[Any]) -> list[Any]:
    """The LettaMessages of a transcript (no ping, stop reason, usage, error or raw text)."""
    others = str | LettaPing | LettaStopReason | LettaUsageStatistics | LettaErrorMessage
    return [e for e in events if not isinstance(e, others)]


def assert_grammar(options: dict[str, Any], events: list[Any]) -> None:
    """The rules of wire doc §6: where pings, stop reason, usage, errors and [DONE] may appear."""
    assert events[-1] == DONE
    assert DONE not in events[:-1], "[DONE] only as the terminator"
    pings = [i for i, e in enumerate(events) if isinstance(e, LettaPing)]
    if options["include_pings"]:
        assert pings[:1] == [0], "with pings, the first event is a ping"
    else:
        assert pings == [], "without pings, no ping at all"
    stops = [i for i, e in enumerate(events) if isinstance(e, LettaStopReason)]
    assert len(stops) == 1
    stop = events[stops[0]]
    assert isinstance(stop, LettaStopReason)
    after = events[stops[0] + 1 :]
    if stop.stop_reason in ERROR_REASONS:  # failed before the first chunk (§6.5a): error event, then [DONE]
        assert [type(e) for e in after] == [LettaErrorMessage, str]
        assert messages_of(events) == [], "no agent step ran"
    else:
        assert [type(e) for e in after] == [LettaUsageStatistics, str]
        usage = after[0]
        assert isinstance(usage, LettaUsageStatistics)
        assert usage.step_count == len({m.step_id for m in messages_of(events)})
        unreported = (usage.cached_input_tokens, usage.cache_write_tokens, usage.reasoning_tokens)
        assert unreported == ((None, None, None) if options["stream_tokens"] else (0, 0, 0))
    assert not messages_of(events[stops[0] :]), "no message after the stop reason"
    run_ids = {e.run_id for e in events if isinstance(e, LettaPing | LettaErrorMessage)}
    run_ids |= {m.run_id for m in messages_of(events)}
    assert len(run_ids) <= 1, "one run"


def test_transcripts_follow_the_grammar_and_every_event_is_valid() -> None:
    @FAST
    @given(transcripts_with_options())
    def check(drawn: tuple[dict[str, Any], list[Any]]) -> None:
        options, events = drawn
        assert_grammar(options, events)
        for event in events[:-1]:
            data = event.model_dump(mode="json")
            validate_against_spec("LettaStreamingResponse", data)
            parse_in_sdk("LettaStreamingResponse", data, expected_class=type(event).__name__)

    check()


def test_transcripts_reach_every_stop_reason_and_end_as_the_reason_requires() -> None:
    transcripts = drawn(strategies.sse_transcripts(stream_tokens=False), 150)
    reasons = set()
    for events in transcripts:
        stop = next(e for e in events if isinstance(e, LettaStopReason))
        reasons.add(stop.stop_reason)
        messages = messages_of(events)
        if stop.stop_reason == "requires_approval":
            assert isinstance(messages[-1], ApprovalRequestMessage)
        if stop.stop_reason in ("end_turn", "max_tokens_exceeded", "no_tool_call"):
            assert isinstance(messages[-1], AssistantMessage), "the last step replies without a tool call"
        if stop.stop_reason == "max_steps":
            assert len({m.step_id for m in messages}) == 3, "exactly max_steps steps (default 3)"
    assert reasons == set(STOP_REASONS)


def test_stop_reasons_and_max_steps_options_are_honoured() -> None:
    @FAST
    @given(strategies.sse_transcripts(stop_reasons=["max_steps", "end_turn"], max_steps=2))
    def check(events: list[Any]) -> None:
        stop = next(e for e in events if isinstance(e, LettaStopReason))
        assert stop.stop_reason in ("max_steps", "end_turn")
        steps = len({m.step_id for m in messages_of(events)})
        assert steps == 2 if stop.stop_reason == "max_steps" else 1 <= steps <= 2

    check()


def test_tool_call_ids_are_unique_and_every_return_answers_an_earlier_call() -> None:
    @FAST
    @given(strategies.sse_transcripts(stream_tokens=False))
    def check(events: list[Any]) -> None:
        called: dict[str, str] = {}
        for event in events:
            if isinstance(event, ToolCallMessage | ApprovalRequestMessage):
                assert isinstance(event.tool_calls, list)
                assert not {call.tool_call_id for call in event.tool_calls} & set(called), "an id is used once"
                called |= {call.tool_call_id: call.name for call in event.tool_calls}
            if isinstance(event, ToolReturnMessage):
                assert called.get(event.tool_call_id) == event.name
            if isinstance(event, ApprovalRequestMessage):
                assert event.otid == event.id
                assert not any(isinstance(e, ToolReturnMessage) for e in events[events.index(event) :])

    check()


# --- token mode ----------------------------------------------------------------------------------------------------


def test_token_chunks_repeat_id_and_otid_and_carry_deltas_in_both_fields() -> None:
    @FAST
    @given(strategies.sse_transcripts(stream_tokens=True, background=False))
    def check(events: list[Any]) -> None:
        for event in events:
            if isinstance(event, ToolCallMessage | ApprovalRequestMessage):
                assert isinstance(event.tool_calls, ToolCallDelta), "token mode: a delta object, not an array"
                assert event.tool_call == event.tool_calls
        ids: dict[str, set[str | None]] = {}
        for message in messages_of(events):
            ids.setdefault(message.id, set()).add(message.otid)
        for message in strategies.reassemble(events):
            assert message.otid in ids[message.id]

    check()


def test_tool_call_delta_arguments_concatenate_to_json_objects() -> None:
    @FAST
    @given(strategies.sse_transcripts(stream_tokens=True))
    def check(events: list[Any]) -> None:
        arguments: dict[str, str] = {}
        for event in events:
            if isinstance(event, ToolCallMessage | ApprovalRequestMessage):
                assert isinstance(event.tool_calls, ToolCallDelta)
                call_id = event.tool_calls.tool_call_id
                assert call_id is not None
                arguments[call_id] = arguments.get(call_id, "") + (event.tool_calls.arguments or "")
        for text in arguments.values():
            assert isinstance(json.loads(text), dict)

    check()


def test_token_transcripts_reassemble_into_valid_whole_messages() -> None:
    @FAST
    @given(strategies.sse_transcripts(stream_tokens=True))
    def check(events: list[Any]) -> None:
        for message in strategies.reassemble(events):
            data = message.model_dump(mode="json")
            validate_against_spec("LettaMessageUnion", data)
            parse_in_sdk("LettaMessageUnion", data, expected_class=type(message).__name__)
            if isinstance(message, ToolCallMessage | ApprovalRequestMessage):
                assert isinstance(message.tool_calls, list)
                assert message.tool_call == message.tool_calls[0]
                assert all(isinstance(json.loads(call.arguments), dict) for call in message.tool_calls)

    check()


CHUNKABLE = st.one_of(
    strategies.assistant_messages(),
    strategies.reasoning_messages(),
    strategies.tool_call_messages(),
    strategies.approval_request_messages(),
    strategies.tool_return_messages(),
)


def test_reassembling_the_token_chunks_of_a_message_gives_the_message_back() -> None:
    @settings(FAST, max_examples=80)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        message = data.draw(CHUNKABLE)
        chunks = data.draw(strategies.token_chunks(message))
        assert strategies.reassemble(chunks) == [message]
        for chunk in chunks:
            assert (chunk.id, chunk.otid, chunk.message_type) == (message.id, message.otid, message.message_type)
        if isinstance(message, ReasoningMessage):
            assert "".join(chunk.reasoning for chunk in chunks) == message.reasoning
        if isinstance(message, ToolCallMessage) and len(chunks) > 1:
            first = chunks[0].tool_calls
            assert isinstance(first, ToolCallDelta)
            assert first.arguments is None, "the first fragment names the call"
            assert first.name is not None

    check()


def test_reassembling_a_step_transcript_changes_nothing() -> None:
    @FAST
    @given(strategies.sse_transcripts(stream_tokens=False, background=False))
    def check(events: list[Any]) -> None:
        assert strategies.reassemble(events) == messages_of(events)

    check()


# --- background mode -----------------------------------------------------------------------------------------------


def test_background_transcripts_number_every_chunk_from_one() -> None:
    @FAST
    @given(st.booleans().flatmap(lambda pings: strategies.sse_transcripts(background=True, include_pings=pings)))
    def check(events: list[Any]) -> None:
        number = 0
        for position, event in enumerate(events):
            if isinstance(event, LettaPing) and position > 0:  # a keep-alive repeats the last number
                assert event.seq_id == (number or None)
                continue
            number += 1  # every chunk uses a number, [DONE], stop reason and usage included
            if not isinstance(event, str | LettaStopReason | LettaUsageStatistics):
                assert event.seq_id == number
        assert number == len([e for i, e in enumerate(events) if not (isinstance(e, LettaPing) and i > 0)])

    check()


def test_foreground_transcripts_have_no_seq_id() -> None:
    @FAST
    @given(strategies.sse_transcripts(background=False))
    def check(events: list[Any]) -> None:
        assert all(getattr(event, "seq_id", None) is None for event in events)

    check()


# --- bytes ---------------------------------------------------------------------------------------------------------


def test_decoding_the_encoded_bytes_gives_the_transcript_back() -> None:
    @FAST
    @given(strategies.sse_transcripts())
    def check(events: list[Any]) -> None:
        body = strategies.encode_transcript(events)
        assert strategies.decode_transcript(body) == events
        assert strategies.encode_transcript(strategies.decode_transcript(body)) == body
        frames = body.split(b"\n\n")
        assert frames[-2:] == [b"data: [DONE]", b""]
        for frame in frames[:-1]:
            assert (
                frame.startswith(b"data: {") or frame.startswith(b"event: error\ndata: {") or frame == b"data: [DONE]"
            )

    check()


def sdk_stream(body: bytes) -> Iterator[Any]:
    """What the official Python SDK yields for ``body`` served as a streaming send's response."""
    from letta_client import Letta

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = Letta(
        base_url="http://letta.test",
        api_key="test",
        http_client=httpx.Client(transport=httpx.MockTransport(respond)),
        _strict_response_validation=True,
        max_retries=0,
    )
    with client:
        yield from client.agents.messages.create(
            "agent-123e4567-e89b-42d3-8456-426614174000", input="hi", streaming=True
        )


def test_the_sdk_stream_reader_yields_every_event_of_a_valid_transcript() -> None:
    @settings(FAST, max_examples=25)
    @given(strategies.sse_transcripts(stop_reasons=[r for r in STOP_REASONS if r not in ERROR_REASONS]))
    def check(events: list[Any]) -> None:
        yielded = list(sdk_stream(strategies.encode_transcript(events)))
        assert [item.message_type for item in yielded] == [event.message_type for event in events[:-1]]

    check()


# --- faulty transcripts --------------------------------------------------------------------------------------------


def raw(event: Any) -> str | None:
    return event if isinstance(event, str) and event != DONE else None


def assert_fault(fault: str, events: list[Any]) -> None:
    """The one rule each fault breaks."""
    stops = [e for e in events if isinstance(e, LettaStopReason)]
    broken = [e for e in events if raw(e) is not None]
    if fault in ("drop_after", "no_done", "mid_stream_error", "cancelled_mid_stream"):
        assert DONE not in events
    if fault == "no_done":
        assert isinstance(events[-1], LettaUsageStatistics)
    if fault == "malformed":
        assert len(broken) == 1
        with pytest.raises(json.JSONDecodeError):
            json.loads(broken[0])
    if fault == "duplicate_stop_reason":
        assert len(stops) == 2
    if fault == "no_stop_reason":
        assert stops == []
        assert events[-1] == DONE
    if fault == "unknown_type":
        assert len(broken) == 1
        assert json.loads(broken[0])["message_type"] not in {"ping", "stop_reason", "usage_statistics"}
    if fault == "mid_stream_error":
        assert isinstance(events[-1], LettaErrorMessage)
        assert isinstance(events[-2], LettaStopReason)
        assert not any(isinstance(e, LettaUsageStatistics) for e in events)
    if fault == "cancelled_mid_stream":
        assert broken == [events[-1]]
        assert json.loads(events[-1]) == {"message_type": "stop_reason", "stop_reason": "cancelled"}
        assert ": " in events[-1], "the cancellation wrapper writes json.dumps spacing"


def test_faulty_transcripts_break_exactly_their_rule_and_reach_every_fault() -> None:
    drawn_faulty = drawn(strategies.faulty_sse_transcripts(), 160)
    for fault, events in drawn_faulty:
        assert_fault(fault, events)
        strategies.encode_transcript(events)  # every fault is still framable as SSE
    assert {fault for fault, _ in drawn_faulty} == set(strategies.FAULTS)


def test_faulty_transcripts_can_be_restricted_to_some_faults() -> None:
    @FAST
    @given(strategies.faulty_sse_transcripts(faults=["malformed", "mid_stream_error"], stream_tokens=True))
    def check(faulty: strategies.FaultyTranscript) -> None:
        assert faulty.fault in ("malformed", "mid_stream_error")
        assert_fault(*faulty)

    check()


def test_the_sdk_raises_on_a_mid_stream_error_after_yielding_the_chunks_before_it() -> None:
    from letta_client import APIStatusError

    faulty = strategies.example_for_seed(strategies.faulty_sse_transcripts(faults=["mid_stream_error"]), 1)
    yielded: list[Any] = []

    def read_stream() -> None:
        for item in sdk_stream(strategies.encode_transcript(faulty.events)):
            yielded.append(item)

    with pytest.raises(APIStatusError):
        read_stream()
    assert [item.message_type for item in yielded] == [getattr(e, "message_type", e) for e in faulty.events[:-1]]


def test_tool_call_deltas_are_not_mistaken_for_complete_calls_when_decoded() -> None:
    # An Anthropic-style delta has every key filled, so it also fits ToolCall; decode keeps it a delta.
    delta = ToolCallDelta(name="web_search", arguments='{"q', tool_call_id="toolu_01")
    message = strategies.example_for_seed(strategies.tool_call_messages(), 0)
    chunk = message.model_copy(update={"tool_call": delta, "tool_calls": delta})
    [decoded] = strategies.decode_transcript(strategies.encode_transcript([chunk]))
    assert isinstance(decoded, ToolCallMessage)
    assert isinstance(decoded.tool_call, ToolCallDelta)
    assert not isinstance(decoded.tool_call, ToolCall)


def test_the_readmes_hypothesis_example_runs_as_written() -> None:
    from pydantic import BaseModel

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Hypothesis strategies")[1].split("\n## ")[0]
    namespace: dict[str, Any] = {}
    exec(section.split("```python\n")[1].split("```")[0], namespace)

    def my_reducer(body: bytes) -> list[dict[str, Any]]:
        """A user's reducer: plain dicts from the wire's JSON (token chunks merged as Letta's clients merge them)."""
        whole = strategies.reassemble(strategies.decode_transcript(body))
        assert all(isinstance(message, BaseModel) for message in whole)  # what the README says reassemble returns
        return [json.loads(message.model_dump_json()) for message in whole]

    namespace["my_reducer"] = my_reducer
    settings(max_examples=15, deadline=None)(namespace["test_my_reducer_rebuilds_what_the_server_meant"])()
