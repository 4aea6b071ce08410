"""Streams through the official ``letta_client`` (sync and async, loose and strict) against a live mock.

Every stream a checked client receives is checked before the SDK parses it (``_streaming.StreamRecorder``): Letta's
framing byte for byte, every event against its member of the document's ``LettaStreamingResponse`` union (or its
own message schema for ``summary_message`` / ``event_message``), and the stream grammar of wire doc §6.2/§6.5/§6.6.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from _streaming import AGENT, Mock, call, drain, drain_until_error, types
from contract import DONE, SPEC_PATH, Event, check_grammar
from letta_client import (
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)
from letta_client.types.agents.tool_call_delta import ToolCallDelta

pytest_plugins = ["_stream_fixtures"]

SPEC_STOP_REASONS: list[str] = json.loads(SPEC_PATH.read_text())["components"]["schemas"]["StopReasonType"]["enum"]

# Run status each stop reason leads to (wire doc §2.4).
RUN_STATUS = {
    "end_turn": "completed",
    "error": "failed",
    "llm_api_error": "failed",
    "invalid_llm_response": "failed",
    "invalid_tool_call": "failed",
    "max_steps": "completed",
    "max_tokens_exceeded": "failed",
    "no_tool_call": "failed",
    "tool_rule": "completed",
    "cancelled": "cancelled",
    "insufficient_credits": "failed",
    "requires_approval": "completed",
    "context_window_overflow_in_system_prompt": "failed",
}

# In-band errors before the first agent chunk (wire doc §6.5a): error type -> (stop reason, message).
IN_BAND_ERRORS = {
    "llm_timeout": ("llm_api_error", "The LLM request timed out. Please try again."),
    "llm_rate_limit": (
        "llm_api_error",
        "Rate limit exceeded for LLM model provider. Please wait before making another request.",
    ),
    "llm_authentication": ("llm_api_error", "Authentication failed with the LLM model provider."),
    "llm_empty_response": ("invalid_llm_response", "LLM returned an empty response."),
    "llm_error": ("llm_api_error", "An error occurred with the LLM request."),
    "context_window_overflow_in_system_prompt": (
        "context_window_overflow_in_system_prompt",
        "Compaction failed because the system prompt is too large",
    ),
    "internal_error": ("error", "An unknown error occurred with the LLM streaming request."),
    "stream_incomplete": ("error", "Stream ended unexpectedly without a terminal event."),
}

STEP = ["reasoning_message", "tool_call_message", "tool_return_message"]
REPLY = ["reasoning_message", "assistant_message"]

# scenario -> (trigger phrase, request extras, what the SDK yields (it stops at [DONE]), stop reason)
SCENARIOS: dict[str, tuple[str | None, dict[str, Any], list[str], str]] = {
    "reply": (None, {}, ["ping", "assistant_message"], "end_turn"),
    "reasoning": ("/reasoning", {}, ["ping", *REPLY], "end_turn"),
    "tool_call": ("/tool web_search", {}, ["ping", *STEP, *REPLY], "end_turn"),
    "multi_step": ("/steps 2", {}, ["ping", *STEP, *STEP, *REPLY], "end_turn"),
    "approval": (
        "/approve delete_file",
        {},
        ["ping", "reasoning_message", "approval_request_message"],
        "requires_approval",
    ),
    "client_tool": (
        "/client get_location",
        {"client_tools": [{"name": "get_location", "description": "Where the user is", "parameters": {}}]},
        ["ping", "reasoning_message", "approval_request_message"],
        "requires_approval",
    ),
    "long": ("/long 12", {}, ["ping", *REPLY], "end_turn"),
    "compaction": ("/compact", {}, ["ping", "user_message", *REPLY], "end_turn"),
    "hidden_reasoning": ("/hidden", {}, ["ping", "hidden_reasoning_message", "assistant_message"], "end_turn"),
}
TRIGGERED = [name for name, (trigger, *_) in SCENARIOS.items() if trigger]

DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")  # seconds, +00:00 (wire doc §1.5)


def otid_of(message_id: str, index: int) -> str:
    """The otid Letta derives for item ``index`` of a stored message (wire doc §1.4)."""
    value = uuid.UUID(message_id.removeprefix("message-")).int
    return str(uuid.UUID(int=(value & ~0x7F) | index))


def stop_reason_of(events: list[Any]) -> str:
    return str(next(e.stop_reason for e in events if e.message_type == "stop_reason"))


# -- every scenario, read to the end --------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_each_scenario_streams_its_exact_event_sequence_to_every_sdk_client(
    scenario: str, sdk_client: Any, mock: Mock
) -> None:
    _, extras, expected, stop = SCENARIOS[scenario]
    stream = sdk_client.agents.messages.create(
        AGENT, input="hello", streaming=True, extra_headers={"X-Letta-Mock": f"scenario={scenario}"}, **extras
    )
    events = await drain(stream)
    assert types(events) == [*expected, "stop_reason", "usage_statistics"]
    assert stop_reason_of(events) == stop
    (raw,) = mock.recorder.streams  # the contract check ran on the raw body
    assert types(raw) == [*expected, "stop_reason", "usage_statistics", DONE]
    assert check_grammar(raw) == "done"


@pytest.mark.parametrize("scenario", TRIGGERED)
def test_each_scenario_is_reachable_by_its_trigger_phrase(scenario: str, mock: Mock) -> None:
    trigger, extras, expected, stop = SCENARIOS[scenario]
    events = list(mock.sdk().agents.messages.create(AGENT, input=trigger, streaming=True, **extras))
    assert types(events) == [*expected, "stop_reason", "usage_statistics"]
    assert stop_reason_of(events) == stop


def test_every_event_carries_the_run_id_of_the_initial_ping_and_letta_s_date_format(mock: Mock) -> None:
    events = mock.send('/tool web_search {"query": "weather Paris"}')
    ping = events[0].payload
    assert ping["message_type"] == "ping"
    assert re.fullmatch(r"ping-[0-9a-f-]{36}", ping["id"])
    assert re.fullmatch(r"run-[0-9a-f-]{36}", ping["run_id"])
    messages = [e.payload for e in events if e.type not in ("stop_reason", "usage_statistics", DONE)]
    assert {m["run_id"] for m in messages} == {ping["run_id"]}
    assert all(DATE.fullmatch(m["date"]) for m in messages)
    assert all(m["seq_id"] is None for m in messages)  # null outside background streams (wire doc §0 rule 5)
    assert mock.run(ping["run_id"])["status"] == "completed"


def test_a_step_s_items_share_the_stored_message_id_with_otids_counting_from_zero(mock: Mock) -> None:
    events = mock.send("hi", controls="scenario=reasoning")
    reasoning, reply = (e.payload for e in events[1:3])
    assert reasoning["id"] == reply["id"]
    assert reasoning["step_id"] == reply["step_id"] is not None
    assert [reasoning["otid"], reply["otid"]] == [otid_of(reply["id"], 0), otid_of(reply["id"], 1)]
    assert reasoning["source"] == "reasoner_model"
    assert reply["content"] == "You said: hi"


def test_the_user_input_is_not_echoed_in_the_stream(mock: Mock) -> None:
    events = mock.send("hi", controls="scenario=reply")
    assert "user_message" not in types(events)


def test_a_server_tool_call_is_followed_by_its_return_and_a_second_step(mock: Mock) -> None:
    events = mock.send('/tool web_search {"query": "weather Paris"}')
    call_event, tool_return = (e.payload for e in events if e.type in ("tool_call_message", "tool_return_message"))
    (tool_call,) = call_event["tool_calls"]
    assert call_event["tool_call"] == tool_call
    assert tool_call["name"] == "web_search"
    assert tool_call["arguments"] == '{"query": "weather Paris"}'  # json.dumps spacing (wire doc §2.2)
    assert tool_return["name"] == "web_search"
    assert tool_return["tool_call_id"] == tool_call["tool_call_id"]
    assert tool_return["status"] == "success"
    assert tool_return["tool_returns"] == [
        {
            "type": "tool",
            "tool_return": tool_return["tool_return"],
            "status": "success",
            "tool_call_id": tool_call["tool_call_id"],
            "stdout": [],  # a tool the server ran: its (empty) output, as Letta 0.16.8 sends it
            "stderr": [],
        }
    ]
    assert (tool_return["stdout"], tool_return["stderr"]) == ([], [])
    second_step = [e.payload for e in events if e.type in ("reasoning_message", "assistant_message")][-2:]
    assert {p["step_id"] for p in second_step} != {call_event["step_id"]}
    usage = events[-2].payload
    assert usage["step_count"] == 2


def test_multi_step_makes_as_many_tool_steps_as_asked_before_replying(mock: Mock) -> None:
    events = mock.send("go", controls="scenario=multi_step; steps=3")
    assert types(events).count("tool_call_message") == 3
    assert events[-2].payload["step_count"] == 4
    assert [json.loads(e.payload["tool_call"]["arguments"]) for e in events if e.type == "tool_call_message"] == [
        {"query": "step 1"},
        {"query": "step 2"},
        {"query": "step 3"},
    ]


def test_an_approval_request_takes_the_assistant_id_minus_one_and_its_own_id_as_otid(mock: Mock) -> None:
    events = mock.send('/approve delete_file {"path": "a.txt"}')
    reasoning, request = (e.payload for e in events[1:3])
    assert request["message_type"] == "approval_request_message"
    assert uuid.UUID(request["id"][8:]).int == uuid.UUID(reasoning["id"][8:]).int - 1
    assert request["otid"] == request["id"]
    assert request["tool_call"] == request["tool_calls"][0]
    assert request["tool_call"]["name"] == "delete_file"
    assert json.loads(request["tool_call"]["arguments"]) == {"path": "a.txt"}
    run = mock.run(request["run_id"])
    assert (run["status"], run["stop_reason"]) == ("completed", "requires_approval")


@pytest.mark.parametrize(
    ("controls", "text", "extras"),
    [
        ("scenario=client_tool", "where am I?", {}),
        (None, "/client get_location", {}),
        (None, "/tool get_location", {"client_tools": [{"name": "get_location"}]}),
    ],
    ids=["header", "client trigger", "tool trigger naming an offered client tool"],
)
def test_a_client_tool_call_ends_the_turn_with_requires_approval(
    controls: str | None, text: str, extras: dict[str, Any], mock: Mock
) -> None:
    events = mock.send(text, controls=controls, **extras)
    assert types(events) == [
        "ping",
        "reasoning_message",
        "approval_request_message",
        "stop_reason",
        "usage_statistics",
        DONE,
    ]
    assert events[2].payload["tool_call"]["name"] == "get_location"
    assert events[-3].payload["stop_reason"] == "requires_approval"


def test_long_replies_have_the_number_of_words_asked_for(mock: Mock) -> None:
    events = mock.send("tell me", controls="scenario=long; tokens=40")
    assert len(events[2].payload["content"].split()) == 40


def test_a_compaction_shows_as_a_user_message_with_the_packed_summary_by_default(mock: Mock) -> None:
    events = mock.send("/compact")
    packed = events[1].payload
    assert packed["message_type"] == "user_message"
    assert json.loads(packed["content"])["type"] == "system_alert"  # wire doc §17.5


def test_include_compaction_messages_streams_an_event_message_then_a_summary_message(mock: Mock) -> None:
    events = mock.send("/compact", include_compaction_messages=True)
    assert types(events) == [
        "ping",
        "event_message",
        "summary_message",
        *REPLY,
        "stop_reason",
        "usage_statistics",
        DONE,
    ]
    event, summary = events[1].payload, events[2].payload
    assert str(uuid.UUID(event["id"], version=4)) == event["id"]  # a bare uuid4 (wire doc §1.4)
    assert event["otid"] is None
    assert (event["event_type"], event["event_data"]["trigger"]) == ("compaction", "post_step_context_check")
    assert summary["summary"]
    assert summary["compaction_stats"]["trigger"] == "post_step_context_check"


async def test_loose_clients_read_compaction_messages_as_the_first_union_member_keeping_their_type(mock: Mock) -> None:
    stream = mock.sdk(strict=False).agents.messages.create(
        AGENT, input="/compact", streaming=True, include_compaction_messages=True
    )
    events = await drain(stream)
    assert [(type(e).__name__, e.message_type) for e in events[1:3]] == [
        ("SystemMessage", "event_message"),
        ("SystemMessage", "summary_message"),
    ]  # wire doc §2.2: not in the document's union, the Python SDK builds the first member


async def test_strict_clients_refuse_compaction_messages_the_document_s_union_lacks(mock: Mock) -> None:
    async with mock.async_sdk(strict=True) as client:
        stream = client.agents.messages.create(
            AGENT, input="/compact", streaming=True, include_compaction_messages=True
        )
        received, error = await drain_until_error(stream)
    assert types(received) == ["ping"]
    assert isinstance(error, APIResponseValidationError)


def test_hidden_reasoning_is_an_omitted_hidden_reasoning_message_first(mock: Mock) -> None:
    events = mock.send("hi", controls="scenario=hidden_reasoning")
    hidden = events[1].payload
    assert (hidden["state"], hidden["hidden_reasoning"]) == ("omitted", None)
    assert hidden["otid"] == otid_of(hidden["id"], 0)


def test_include_pings_false_leaves_out_the_initial_ping(mock: Mock) -> None:
    events = mock.send("hi", include_pings=False)
    assert types(events) == [*REPLY, "stop_reason", "usage_statistics", DONE]


async def test_the_deprecated_stream_route_streams_the_same_sequence(sdk_client: Any, mock: Mock) -> None:
    with pytest.warns(DeprecationWarning, match="deprecated"):  # the SDK marks the route deprecated
        stream = sdk_client.agents.messages.stream(AGENT, input="/tool web_search")
    events = await drain(stream)
    assert types(events) == SCENARIOS["tool_call"][2] + ["stop_reason", "usage_statistics"]


async def test_a_conversation_streams_by_default(sdk_client: Any, mock: Mock) -> None:
    events = await drain(sdk_client.conversations.messages.create("default", agent_id=AGENT, input="hi"))
    assert types(events) == ["ping", *REPLY, "stop_reason", "usage_statistics"]
    run = mock.run(events[0].run_id)
    assert (run["metadata"]["run_type"], run["status"]) == ("send_conversation_message", "completed")


# -- token streaming (wire doc §6.3) --------------------------------------------------------------------------


def _groups(events: list[Event]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Consecutive chunks of one item: (message_type, otid, chunks)."""
    groups: list[tuple[str, str, list[dict[str, Any]]]] = []
    for event in events:
        if event.done or event.type in ("ping", "stop_reason", "usage_statistics"):
            continue
        payload = event.payload
        if groups and groups[-1][:2] == (payload["message_type"], payload["otid"]):
            groups[-1][2].append(payload)
        else:
            groups.append((payload["message_type"], payload["otid"], [payload]))
    return groups


def test_token_chunks_of_one_item_repeat_its_id_and_otid_and_carry_only_the_new_fragment(mock: Mock) -> None:
    events = mock.send("one two three four", controls="scenario=reasoning", stream_tokens=True)
    (reasoning_type, _, thoughts), (reply_type, _, replies) = _groups(events)
    assert (reasoning_type, reply_type) == ("reasoning_message", "assistant_message")
    for chunks, field in ((thoughts, "reasoning"), (replies, "content")):
        assert len(chunks) > 1
        assert len({c["id"] for c in chunks}) == len({c["otid"] for c in chunks}) == 1
        fragments = [c[field] for c in chunks]
        assert all(fragments)
        assert all(not later.startswith(fragments[0]) for later in fragments[1:])  # no cumulative text
    assert thoughts[0]["id"] == replies[0]["id"]
    assert [thoughts[0]["otid"], replies[0]["otid"]] == [otid_of(thoughts[0]["id"], 0), otid_of(thoughts[0]["id"], 1)]
    assert "".join(c["content"] for c in replies) == "You said: one two three four"


async def test_token_streamed_tool_calls_are_tool_call_deltas_whose_arguments_concatenate_to_json(
    sdk_client: Any, mock: Mock
) -> None:
    stream = sdk_client.agents.messages.create(
        AGENT,
        input='/tool web_search {"query": "weather Paris", "units": "metric"}',
        streaming=True,
        stream_tokens=True,
    )
    chunks = [e for e in await drain(stream) if e.message_type == "tool_call_message"]
    assert len(chunks) > 2
    assert all(isinstance(c.tool_call, ToolCallDelta) and isinstance(c.tool_calls, ToolCallDelta) for c in chunks)
    assert all(c.tool_call == c.tool_calls for c in chunks)
    assert (
        len({c.id for c in chunks})
        == len({c.otid for c in chunks})
        == len({c.tool_call.tool_call_id for c in chunks})
        == 1
    )
    first, *rest = chunks
    assert (first.tool_call.name, first.tool_call.arguments) == ("web_search", None)
    assert all(c.tool_call.name is None for c in rest)
    arguments = "".join(c.tool_call.arguments for c in rest)
    assert json.loads(arguments) == {"query": "weather Paris", "units": "metric"}
    # The raw deltas keep their null keys (wire doc §18.1).
    raw_calls = [e.payload for e in mock.recorder.last if e.type == "tool_call_message"]
    assert all(set(p["tool_call"]) == {"name", "arguments", "tool_call_id"} for p in raw_calls)


def test_token_streamed_approval_requests_are_deltas_whose_id_is_their_otid(mock: Mock) -> None:
    events = mock.send('/approve delete_file {"path": "a.txt"}', stream_tokens=True)
    chunks = [e.payload for e in events if e.type == "approval_request_message"]
    assert len(chunks) > 1
    assert all(c["id"] == c["otid"] and isinstance(c["tool_calls"], dict) for c in chunks)
    assert json.loads("".join(c["tool_call"]["arguments"] or "" for c in chunks)) == {"path": "a.txt"}


def test_tool_returns_arrive_whole_in_token_streams(mock: Mock) -> None:
    events = mock.send("/tool web_search", stream_tokens=True)
    returns = [e.payload for e in events if e.type == "tool_return_message"]
    assert len(returns) == 1
    assert returns[0]["tool_return"] == "Top result: Letta is a platform for stateful agents."


def test_a_token_stream_sends_the_hidden_reasoning_message_first_and_whole(mock: Mock) -> None:
    events = mock.send("one two", controls="scenario=hidden_reasoning", stream_tokens=True)
    assert types(events)[:3] == ["ping", "hidden_reasoning_message", "assistant_message"]
    assert types(events).count("hidden_reasoning_message") == 1


@pytest.mark.parametrize(("stream_tokens", "cache_figure"), [(False, 0), (True, None)])
def test_usage_cache_figures_are_zero_in_step_streams_and_null_in_token_streams(
    stream_tokens: bool, cache_figure: int | None, mock: Mock
) -> None:
    usage = mock.send("hi", stream_tokens=stream_tokens)[-2].payload
    assert usage["message_type"] == "usage_statistics"
    assert (usage["cached_input_tokens"], usage["cache_write_tokens"], usage["reasoning_tokens"]) == (
        cache_figure,
        cache_figure,
        cache_figure,
    )  # wire doc §18.2
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


# -- the 13 stop reasons (wire doc §2.4) ----------------------------------------------------------------------


def test_the_mock_knows_every_stop_reason_of_the_document() -> None:
    assert len(SPEC_STOP_REASONS) == 13
    assert set(SPEC_STOP_REASONS) == set(RUN_STATUS)


@pytest.mark.parametrize("how", ["header", "trigger"])
@pytest.mark.parametrize("stop_reason", SPEC_STOP_REASONS)
def test_every_stop_reason_ends_the_stream_and_sets_the_run_status_it_maps_to(
    stop_reason: str, how: str, mock: Mock
) -> None:
    client = mock.sdk()
    if how == "header":
        stream = client.agents.messages.create(
            AGENT, input="hi", streaming=True, extra_headers={"X-Letta-Mock": f"stop_reason={stop_reason}"}
        )
    else:
        stream = client.agents.messages.create(AGENT, input=f"/stop {stop_reason}", streaming=True)
    events = list(stream)
    assert types(events)[-2:] == ["stop_reason", "usage_statistics"]
    assert stop_reason_of(events) == stop_reason
    assert types(mock.recorder.last)[-1] == DONE
    run = mock.run(events[0].run_id)
    assert (run["status"], run["stop_reason"]) == (RUN_STATUS[stop_reason], stop_reason)
    assert run["completed_at"] is not None


# -- in-band errors (wire doc §6.5) ---------------------------------------------------------------------------


@pytest.mark.parametrize("error_type", list(IN_BAND_ERRORS))
def test_an_error_before_the_first_chunk_is_a_stop_reason_an_error_event_and_done(error_type: str, mock: Mock) -> None:
    events = mock.send("hi", controls=f"error={error_type}")
    assert [(e.event, e.type) for e in events] == [
        (None, "ping"),
        (None, "stop_reason"),
        ("error", "error_message"),
        (None, DONE),
    ]
    stop, message = IN_BAND_ERRORS[error_type]
    assert events[1].payload["stop_reason"] == stop
    error = events[2].payload
    run_id = events[0].payload["run_id"]
    assert (error["run_id"], error["error_type"]) == (run_id, error_type)
    assert error["message"].startswith(message)
    assert (error.get("detail") is None) == (error_type == "stream_incomplete")  # no detail to give
    assert check_grammar(events) == "error_before_first_chunk"
    run = mock.run(run_id)
    assert (run["status"], run["stop_reason"]) == ("failed", stop)
    assert run["metadata"]["error"] == error  # wire doc §13.1


@pytest.mark.parametrize("error_type", ["llm_timeout", "internal_error"])
def test_an_error_is_reachable_by_its_trigger_phrase(error_type: str, mock: Mock) -> None:
    events = mock.send(f"/error {error_type}")
    assert events[2].payload["error_type"] == error_type


async def test_the_sdk_raises_api_status_error_with_status_200_on_an_error_before_the_first_chunk(
    sdk_client: Any, mock: Mock
) -> None:
    stream = sdk_client.agents.messages.create(
        AGENT, input="hi", streaming=True, extra_headers={"X-Letta-Mock": "error=llm_rate_limit"}
    )
    received, error = await drain_until_error(stream)
    assert types(received) == ["ping", "stop_reason"]
    assert received[1].stop_reason == "llm_api_error"
    assert type(error) is APIStatusError  # the generic class: the HTTP status is 200 (wire doc §7)
    assert error.status_code == 200
    assert error.body == mock.recorder.last[2].payload
    assert error.body["error_type"] == "llm_rate_limit"


def test_an_error_after_the_first_chunk_ends_the_body_without_usage_or_done(mock: Mock) -> None:
    events = mock.send("hi", controls="error=llm_timeout; error_at=mid")
    assert [(e.event, e.type) for e in events] == [
        (None, "ping"),
        (None, "reasoning_message"),
        (None, "assistant_message"),
        (None, "stop_reason"),
        ("error", "error_message"),
    ]
    assert events[3].payload["stop_reason"] == "llm_api_error"  # the stop reason keeps the classification
    error = events[4].payload
    assert (error["error_type"], error["message"]) == ("internal_error", "An error occurred during agent execution.")
    assert check_grammar(events) == "error_mid_stream"
    run = mock.run(error["run_id"])
    assert (run["status"], run["stop_reason"]) == ("failed", "llm_api_error")


async def test_the_sdk_yields_the_chunks_before_a_mid_stream_error_then_raises_with_status_200(
    sdk_client: Any, mock: Mock
) -> None:
    stream = sdk_client.agents.messages.create(
        AGENT, input="hi", streaming=True, extra_headers={"X-Letta-Mock": "error=llm_error; error_at=mid"}
    )
    received, error = await drain_until_error(stream)
    assert types(received) == ["ping", *REPLY, "stop_reason"]
    assert type(error) is APIStatusError
    assert error.status_code == 200
    assert error.body["error_type"] == "internal_error"


# -- scripted errors without streaming: HTTP errors (wire doc §5, §15.1) ----------------------------------------


@pytest.mark.parametrize(
    ("error_type", "status", "exception"),
    [
        ("llm_timeout", 504, InternalServerError),
        ("llm_rate_limit", 429, RateLimitError),
        ("llm_authentication", 401, AuthenticationError),
        ("llm_error", 500, InternalServerError),
        ("llm_empty_response", 500, InternalServerError),
        ("context_window_overflow_in_system_prompt", 400, BadRequestError),
        ("internal_error", 500, InternalServerError),
        ("stream_incomplete", 500, InternalServerError),
    ],
)
async def test_a_scripted_error_without_streaming_is_letta_s_http_error(
    error_type: str, status: int, exception: type[APIStatusError], mock: Mock
) -> None:
    async with mock.async_sdk() as client:
        with pytest.raises(exception) as raised:
            await client.agents.messages.create(
                AGENT, input="hi", extra_headers={"X-Letta-Mock": f"error={error_type}"}
            )
    assert raised.value.status_code == status
    body = raised.value.body
    if error_type.startswith("llm_"):
        assert body == {
            "error": {"type": error_type, "message": IN_BAND_ERRORS[error_type][1], "detail": body["error"]["detail"]}
        }
    elif status == 400:
        assert body["detail"].startswith(IN_BAND_ERRORS[error_type][1])
    else:
        assert body == {"detail": "An unknown error occurred"}
    assert "user_message" not in [m["message_type"] for m in mock.history()]  # nothing was stored


def test_the_sdk_sends_a_rate_limited_non_streaming_request_three_times(mock: Mock) -> None:
    client = mock.sdk(max_retries=2)
    with pytest.raises(RateLimitError):
        client.agents.messages.create(AGENT, input="hi", extra_headers={"X-Letta-Mock": "error=llm_rate_limit"})
    assert mock.calls() == {"send_message": 3}  # wire doc §16: two retries of a 429
    assert [e["response"]["status"] for e in mock.journal("send_message")] == [429, 429, 429]


async def test_a_stream_read_by_the_async_client_is_the_same_as_by_the_sync_client(mock: Mock) -> None:
    sync_events = list(mock.sdk().agents.messages.create(AGENT, input="/tool web_search", streaming=True))
    async with mock.async_sdk() as client:
        async_events = await drain(
            await call(client.agents.messages.create(AGENT, input="/tool web_search", streaming=True))
        )
    assert types(sync_events) == types(async_events)
    first, second = mock.recorder.streams
    assert [e.event for e in first] == [e.event for e in second]
