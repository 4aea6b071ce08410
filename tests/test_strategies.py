"""The strategies draw only valid values (Letta's OpenAPI document, discriminator-aware, and the official SDK in
strict mode), reach every union member and stop reason, shrink to small examples, register for ``st.from_type``,
reject bad options, and draw deterministically by seed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _sdk import parse_in_sdk
from contract import validate_against_spec
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, Unsatisfiable
from pydantic import BaseModel

import strategies
from mockserver.catalogue import run_status
from mockserver.models import (
    AGENT_ID_PATTERN,
    MESSAGE_ID_PATTERN,
    MESSAGE_TYPES,
    RUN_ID_PATTERN,
    STOP_REASONS,
    ApprovalRequestMessage,
    EventMessage,
    LettaAsyncRequest,
    LettaRequest,
    LettaStreamingRequest,
    LettaUsageStatistics,
    Message,
    SystemMessage,
    ToolCallMessage,
    UserMessage,
    message_adapter,
)
from strategies._register import OUR_STRATEGIES, SDK_TYPES, _hypothesis_setup_hook, _sdk_types
from strategies._values import otid_for

# Property tests: enough examples to meet every branch, few enough for a fast suite. No explain phase: on a
# failure it re-runs the test hundreds of times to annotate the report, which takes minutes with big values.
FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)


def drawn(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """Independent draws for seeds 0..count-1: "every member is reached" is then a fixed fact, never a flake.

    (Under ``@given`` the engine mutates earlier examples, which skews how often each branch comes up.)
    """
    return [strategies.example_for_seed(strategy, seed) for seed in range(count)]


UUID4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
AGENT_ITEMS = ("reasoning_message", "hidden_reasoning_message", "tool_call_message", "assistant_message")


def wire(model: BaseModel) -> Any:
    return model.model_dump(mode="json")


def body(request: BaseModel) -> Any:
    """What an SDK sends: only the fields that were given."""
    return request.model_dump(mode="json", exclude_unset=True)


def assert_valid_message(message: Message) -> None:
    """Spec (union and member), SDK (same class), our own parser (same value), and Letta's id rules."""
    data = wire(message)
    assert data["message_type"] == message.message_type
    validate_against_spec("LettaMessageUnion", data)
    validate_against_spec(type(message).__name__, data)
    parse_in_sdk("LettaMessageUnion", data, expected_class=type(message).__name__)
    assert message_adapter.validate_json(message.model_dump_json()) == message
    assert data["is_err"] in (None, True), "is_err is never serialised as false"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", data["date"]), "UTC, whole seconds"
    if isinstance(message, EventMessage):
        assert re.fullmatch(UUID4, message.id)
        assert message.otid is None
    else:
        assert re.fullmatch(MESSAGE_ID_PATTERN, message.id)
    if isinstance(message, ApprovalRequestMessage):
        assert message.otid == message.id
    elif message.message_type in AGENT_ITEMS:
        assert message.otid in {otid_for(message.id, index) for index in range(4)}
        assert message.step_id is not None
        assert message.step_id.startswith("step-")
    if message.run_id is not None:
        assert re.fullmatch(RUN_ID_PATTERN, message.run_id)


# --- messages ------------------------------------------------------------------------------------------------------

MESSAGE_STRATEGIES = {
    "system_message": strategies.system_messages,
    "user_message": strategies.user_messages,
    "reasoning_message": strategies.reasoning_messages,
    "hidden_reasoning_message": strategies.hidden_reasoning_messages,
    "tool_call_message": strategies.tool_call_messages,
    "tool_return_message": strategies.tool_return_messages,
    "assistant_message": strategies.assistant_messages,
    "approval_request_message": strategies.approval_request_messages,
    "approval_response_message": strategies.approval_response_messages,
    "summary_message": strategies.summary_messages,
    "event_message": strategies.event_messages,
}


def test_there_is_one_strategy_per_message_type() -> None:
    assert set(MESSAGE_STRATEGIES) == set(MESSAGE_TYPES)


@pytest.mark.parametrize("message_type", MESSAGE_TYPES)
def test_each_message_strategy_draws_valid_messages_of_its_type(message_type: str) -> None:
    @settings(FAST, max_examples=25)
    @given(MESSAGE_STRATEGIES[message_type]())
    def check(message: Message) -> None:
        assert message.message_type == message_type
        assert_valid_message(message)

    check()


def test_messages_reach_every_member_and_all_are_valid() -> None:
    seen = set()
    for message in drawn(strategies.messages(), 200):
        assert_valid_message(message)
        seen.add(message.message_type)
    assert seen == set(MESSAGE_TYPES)


def test_messages_are_valid_under_given() -> None:
    @FAST
    @given(strategies.messages())
    def check(message: Message) -> None:
        assert_valid_message(message)

    check()


def test_tool_calls_carry_json_object_arguments_and_mirror_the_first_call() -> None:
    @FAST
    @given(st.one_of(strategies.tool_call_messages(), strategies.approval_request_messages()))
    def check(message: ToolCallMessage | ApprovalRequestMessage) -> None:
        assert isinstance(message.tool_calls, list)
        assert message.tool_calls
        assert message.tool_call == message.tool_calls[0]
        for call in message.tool_calls:
            assert isinstance(json.loads(call.arguments), dict)

    check()


def test_texts_cover_unicode_edge_cases() -> None:
    texts = set(drawn(strategies.texts(), 300))
    assert "" in texts
    assert any(any(ord(c) > 0xFFFF for c in t) for t in texts), "astral characters (emoji)"
    assert any(any("\u0590" <= c <= "\u06ff" for c in t) for t in texts), "right-to-left scripts"
    assert any(any(c < " " for c in t) for t in texts), "control characters"
    assert any(len(t) >= 200 for t in texts), "long texts"


# --- stream events, responses, runs --------------------------------------------------------------------------------

STREAM_TYPES = (*(t for t in MESSAGE_TYPES if t not in ("summary_message", "event_message")), "ping", "stop_reason")
STREAM_TYPES += ("usage_statistics", "error_message")


def assert_valid_stream_event(event: Any) -> None:
    data = wire(event)
    validate_against_spec("LettaStreamingResponse", data)
    parse_in_sdk("LettaStreamingResponse", data, expected_class=type(event).__name__)


def test_stream_events_reach_every_member_and_all_are_valid() -> None:
    events = drawn(strategies.stream_events(), 300)
    for event in events:
        assert_valid_stream_event(event)
    assert {event.message_type for event in events} == set(STREAM_TYPES)
    deltas = [e for e in events if isinstance(e, ToolCallMessage | ApprovalRequestMessage) and e.tool_calls]
    assert any(not isinstance(e.tool_calls, list) for e in deltas), "token-mode chunks are stream events too"


def test_stream_events_are_valid_under_given() -> None:
    @FAST
    @given(strategies.stream_events())
    def check(event: Any) -> None:
        assert_valid_stream_event(event)

    check()


def test_stop_reasons_reach_all_thirteen_and_can_be_restricted() -> None:
    assert {event.stop_reason for event in drawn(strategies.stop_reasons(), 200)} == set(STOP_REASONS)
    restricted = drawn(strategies.stop_reasons(reasons=["cancelled", "max_steps"]), 50)
    assert {event.stop_reason for event in restricted} == {"cancelled", "max_steps"}


def test_usage_has_zero_cache_counts_in_step_mode_and_nulls_in_token_mode() -> None:
    @FAST
    @given(strategies.usage_statistics(stream_tokens=False), strategies.usage_statistics(stream_tokens=True))
    def check(step: LettaUsageStatistics, token: LettaUsageStatistics) -> None:
        assert (step.cached_input_tokens, step.cache_write_tokens, step.reasoning_tokens) == (0, 0, 0)
        assert (token.cached_input_tokens, token.cache_write_tokens, token.reasoning_tokens) == (None, None, None)
        for usage in (step, token):
            assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    check()


def assert_valid_response(response: Any) -> None:
    data = wire(response)
    validate_against_spec("LettaResponse", data)
    parse_in_sdk("LettaResponse", data)
    for message in response.messages:
        assert_valid_message(message)
        assert message.run_id == response.messages[0].run_id
    assert not any(isinstance(m, UserMessage | SystemMessage) for m in response.messages), "no user echo"
    step_ids = {m.step_id for m in response.messages}
    assert response.usage.step_count == len(step_ids)


def test_letta_responses_are_valid_and_reach_every_stop_reason() -> None:
    responses = drawn(strategies.letta_responses(), 150)
    for response in responses:
        assert_valid_response(response)
    assert {response.stop_reason.stop_reason for response in responses} == set(STOP_REASONS)


def test_letta_responses_are_valid_under_given() -> None:
    @settings(FAST, max_examples=30)
    @given(strategies.letta_responses())
    def check(response: Any) -> None:
        assert_valid_response(response)

    check()


def test_runs_are_valid_with_consistent_status_and_stop_reason() -> None:
    @FAST
    @given(strategies.runs())
    def check(run: Any) -> None:
        data = wire(run)
        validate_against_spec("Run", data)
        parse_in_sdk("Run", data)
        assert re.fullmatch(AGENT_ID_PATTERN, run.agent_id)
        assert (run.stop_reason is None) == (run.status in ("created", "running"))
        assert (run.completed_at is None) == (run.status in ("created", "running"))
        if run.stop_reason is not None:  # as the server ends its runs (catalogue.run_status, wire doc §2.4)
            assert run.status == run_status(run.stop_reason)
        assert data["created_at"].endswith("Z")
        if run.completed_at is not None:
            assert run.completed_at >= run.created_at

    check()


@pytest.mark.parametrize("reason", ["no_tool_call", "max_tokens_exceeded"])
def test_a_drawn_run_that_stopped_so_failed_as_the_server_says(reason: str) -> None:
    run = strategies.example_for_seed(strategies.runs().filter(lambda r: r.stop_reason == reason), 0)
    assert (run.status, run_status(reason)) == ("failed", "failed")


# --- content parts and requests ------------------------------------------------------------------------------------

PARTS: list[tuple[Callable[[], st.SearchStrategy[Any]], str]] = [
    (strategies.text_contents, "TextContent"),
    (strategies.image_contents, "ImageContent"),
    (strategies.tool_call_contents, "ToolCallContent"),
    (strategies.tool_return_contents, "ToolReturnContent"),
    (strategies.reasoning_contents, "ReasoningContent"),
    (strategies.redacted_reasoning_contents, "RedactedReasoningContent"),
    (strategies.omitted_reasoning_contents, "OmittedReasoningContent"),
    (strategies.summarized_reasoning_contents, "SummarizedReasoningContent"),
    (strategies.user_content_parts, "LettaUserMessageContentUnion"),
    (strategies.message_content_parts, "LettaMessageContentUnion"),
    (strategies.tool_calls, "ToolCall"),
    (strategies.tool_call_deltas, "ToolCallDelta"),
    (strategies.tool_returns, "letta__schemas__letta_message__ToolReturn"),
    (strategies.approval_returns, "ApprovalReturn"),
]


@pytest.mark.parametrize(("factory", "schema"), PARTS, ids=[schema for _, schema in PARTS])
def test_content_parts_are_valid_in_the_spec(factory: Callable[[], st.SearchStrategy[Any]], schema: str) -> None:
    @settings(FAST, max_examples=25)
    @given(factory())
    def check(part: BaseModel) -> None:
        validate_against_spec(schema, body(part))  # `type` is always set, so it survives exclude_unset

    check()


def test_input_content_parts_are_valid_as_request_input() -> None:
    @settings(FAST, max_examples=40)
    @given(st.lists(strategies.input_content_parts(), min_size=1, max_size=3))
    def check(parts: list[BaseModel]) -> None:
        validate_against_spec("LettaRequest", {"input": [body(part) for part in parts]})

    check()


REQUESTS: list[tuple[Callable[[], st.SearchStrategy[Any]], str, type[BaseModel]]] = [
    (strategies.letta_requests, "LettaRequest", LettaRequest),
    (strategies.letta_streaming_requests, "LettaStreamingRequest", LettaStreamingRequest),
    (strategies.letta_async_requests, "LettaAsyncRequest", LettaAsyncRequest),
]


@pytest.mark.parametrize(("factory", "schema", "model"), REQUESTS, ids=[schema for _, schema, _ in REQUESTS])
def test_request_bodies_are_valid_and_accepted_as_the_server_would(
    factory: Callable[[], st.SearchStrategy[Any]], schema: str, model: type[BaseModel]
) -> None:
    @settings(FAST, max_examples=40)
    @given(factory())
    def check(request: Any) -> None:
        sent = body(request)
        validate_against_spec(schema, sent)
        assert body(model.model_validate_json(json.dumps(sent))) == sent  # strict parse of the JSON body
        # The real server's own rules (wire doc §3, §4): exactly one input, never an empty message list, and
        # streaming options only with streaming.
        assert ("input" in sent) != ("messages" in sent)
        assert sent.get("messages", [None]) != []
        if not sent.get("streaming", False):
            assert not {"stream_tokens", "include_pings", "background"} & set(sent)

    check()


@pytest.mark.parametrize(
    ("factory", "schema"),
    [
        (strategies.message_creates, "MessageCreate"),
        (strategies.approval_creates, "ApprovalCreate"),
        (strategies.tool_return_creates, "ToolReturnCreate"),
        (strategies.client_tools, "ClientToolSchema"),
    ],
)
def test_request_items_are_valid_in_the_spec(factory: Callable[[], st.SearchStrategy[Any]], schema: str) -> None:
    @settings(FAST, max_examples=30)
    @given(factory())
    def check(item: BaseModel) -> None:
        validate_against_spec(schema, body(item))

    check()


def test_the_spec_check_is_discriminator_aware() -> None:
    # The helper itself must fail on what plain JSON Schema lets through, or the tests above prove nothing.
    no_type = {"id": "message-x", "date": "2025-06-01T12:00:05+00:00", "content": "hi"}
    with pytest.raises(AssertionError, match="message_type"):
        validate_against_spec("LettaMessageUnion", no_type)
    with pytest.raises(AssertionError, match="message_type"):
        validate_against_spec("AssistantMessage", no_type)
    tool_return_part = {"type": "tool_return", "tool_call_id": "call_1", "content": "42", "is_error": False}
    with pytest.raises(AssertionError):  # the spec's mapping sends "tool_return" to ToolCallContent
        validate_against_spec("MessageCreate", {"role": "user", "content": [tool_return_part]})
    with pytest.raises(AssertionError, match="date-time"):
        validate_against_spec("AssistantMessage", {**no_type, "message_type": "assistant_message", "date": "today"})


# --- shrinking -----------------------------------------------------------------------------------------------------


# Generation and shrinking only: the explain phase re-runs the test many times to annotate the report.
SHRINK = settings(database=None, derandomize=True, phases=[Phase.generate, Phase.shrink])


def test_a_property_failing_on_tool_calls_shrinks_to_a_minimal_tool_call_message() -> None:
    message = find(strategies.messages(), lambda m: m.message_type == "tool_call_message", settings=SHRINK)
    assert isinstance(message, ToolCallMessage)
    assert isinstance(message.tool_calls, list)
    assert len(message.tool_calls) == 1
    assert message.tool_calls[0].name == "web_search"
    assert message.tool_calls[0].arguments == "{}"
    assert (message.run_id, message.is_err, message.seq_id) == (None, None, None)
    assert message.otid == otid_for(message.id, 0)


def test_a_property_failing_on_non_ascii_text_shrinks_to_a_short_text_and_a_plain_envelope() -> None:
    message = find(
        strategies.assistant_messages(),
        lambda m: isinstance(m.content, str) and not m.content.isascii(),
        settings=SHRINK,
    )
    assert isinstance(message.content, str)
    assert len(message.content) <= 30
    assert (message.run_id, message.is_err, message.seq_id) == (None, None, None)


def test_a_property_failing_on_tool_calls_in_a_stream_shrinks_to_a_short_transcript() -> None:
    events = find(
        strategies.sse_transcripts(), lambda t: any(isinstance(e, ToolCallMessage) for e in t), settings=SHRINK
    )
    assert len(events) <= 6, events  # a tool step (call, return), maybe the reply, stop reason, usage, [DONE]


# --- bad options ---------------------------------------------------------------------------------------------------

BAD_OPTIONS: list[tuple[str, Callable[[], st.SearchStrategy[Any]]]] = [
    ("unknown stop reason", lambda: strategies.stop_reasons(reasons=["done"])),
    ("no stop reasons", lambda: strategies.stop_reasons(reasons=[])),
    ("a string, not a list", lambda: strategies.stop_reasons(reasons="end_turn")),
    ("non-bool stream_tokens", lambda: strategies.sse_transcripts(stream_tokens="yes")),  # type: ignore[arg-type]
    ("non-bool include_pings", lambda: strategies.sse_transcripts(include_pings=1)),  # type: ignore[arg-type]
    ("non-bool background", lambda: strategies.sse_transcripts(background="no")),  # type: ignore[arg-type]
    ("zero max_steps", lambda: strategies.sse_transcripts(max_steps=0)),
    ("bool max_steps", lambda: strategies.letta_responses(max_steps=True)),
    ("unknown transcript stop reason", lambda: strategies.sse_transcripts(stop_reasons=["stop"])),
    ("unknown fault", lambda: strategies.faulty_sse_transcripts(faults=["flaky"])),
    ("no faults", lambda: strategies.faulty_sse_transcripts(faults=[])),
    ("non-bool usage mode", lambda: strategies.usage_statistics(stream_tokens=0)),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("make", [make for _, make in BAD_OPTIONS], ids=[name for name, _ in BAD_OPTIONS])
def test_bad_options_raise_invalid_argument(make: Callable[[], st.SearchStrategy[Any]]) -> None:
    with pytest.raises(InvalidArgument):
        strategies.example_for_seed(make(), 0)  # raised when the strategy is made or, at the latest, drawn


# --- registration --------------------------------------------------------------------------------------------------


RESOURCE_MODULES = {"mockserver.models.agents", "mockserver.models.tools", "mockserver.models.conversations"}


def test_every_model_we_generate_is_registered_for_from_type() -> None:
    from mockserver import models

    generated = {getattr(models, name) for name in models.__all__ if isinstance(getattr(models, name), type)}
    never_generated = {
        models.RequestModel,
        models.WireModel,
        *(t for t in generated if t.__module__ == "mockserver.models.responses" and t not in OUR_STRATEGIES),
        *(t for t in generated if t.__module__ == "mockserver.models.requests" and t not in OUR_STRATEGIES),
        # The resources around the messages API (agents, tools, conversations): no strategies, like the other
        # non-message responses and requests (AgentState lived in `responses` until agents got a module).
        *(t for t in generated if t.__module__ in RESOURCE_MODULES and t not in OUR_STRATEGIES),
        models.SummarizedReasoningContentPart,
    }
    assert generated - never_generated <= set(OUR_STRATEGIES), "a model without a strategy"


@pytest.mark.parametrize("model", list(OUR_STRATEGIES), ids=lambda t: t.__name__)
def test_from_type_draws_our_models(model: type[BaseModel]) -> None:
    _hypothesis_setup_hook()

    @settings(FAST, max_examples=5)
    @given(st.from_type(model))
    def check(value: BaseModel) -> None:
        assert isinstance(value, model)

    check()


# The lines the project's pyproject.toml declares (`[project.entry-points.hypothesis]`), as an installed
# distribution would carry them.
ENTRY_POINT = "[hypothesis]\nletta_mock = mockserver.hypothesis_hook:setup\n"
_AFTER_IMPORTING_HYPOTHESIS = """
import sys
import hypothesis.strategies as st
assert "strategies" in sys.modules, "the entry point did not run"
from mockserver.models import ToolCallMessage
from letta_client.types.agents import AssistantMessage
from hypothesis.strategies._internal.types import _global_type_lookup
assert ToolCallMessage in _global_type_lookup and AssistantMessage in _global_type_lookup
"""


def test_importing_hypothesis_registers_our_types_through_the_entry_point(tmp_path: Path) -> None:
    dist_info = tmp_path / "letta_mock_entry_point-0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: letta-mock-entry-point\nVersion: 0\n")
    (dist_info / "entry_points.txt").write_text(ENTRY_POINT)
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    environment = {key: value for key, value in os.environ.items() if key != "HYPOTHESIS_NO_PLUGINS"}
    subprocess.run(
        [sys.executable, "-c", _AFTER_IMPORTING_HYPOTHESIS], check=True, env={**environment, "PYTHONPATH": path}
    )


def test_the_sdk_types_are_all_found() -> None:
    assert len(_sdk_types()) == len(SDK_TYPES), "a letta-client type listed in SDK_TYPES no longer exists"


@pytest.mark.parametrize("sdk_type", list(_sdk_types()), ids=lambda t: f"{t.__module__}.{t.__name__}")
def test_from_type_draws_the_sdks_types(sdk_type: type[BaseModel]) -> None:
    strategies.register_type_strategies()

    @settings(FAST, max_examples=5)
    @given(st.from_type(sdk_type))
    def check(value: BaseModel) -> None:
        assert type(value) is sdk_type
        assert type(sdk_type.model_validate(value.model_dump(mode="json"))) is sdk_type

    check()


# --- seeded draws --------------------------------------------------------------------------------------------------


def test_example_for_seed_gives_the_same_value_for_the_same_seed() -> None:
    for seed in range(5):
        first = strategies.example_for_seed(strategies.sse_transcripts(), seed)
        again = strategies.example_for_seed(strategies.sse_transcripts(), seed)
        assert strategies.encode_transcript(first) == strategies.encode_transcript(again)
    drawn = {wire(strategies.example_for_seed(strategies.messages(), seed))["id"] for seed in range(20)}
    assert len(drawn) > 15, "different seeds give different values"


def _vandalise(value: Any) -> None:
    if isinstance(value, dict):
        for item in list(value.values()):
            _vandalise(item)
        value["vandalised"] = True
    elif isinstance(value, list):
        for item in value:
            _vandalise(item)
        value.append("vandalised")


def test_mutating_a_drawn_value_does_not_change_later_draws() -> None:
    # Values come partly from tables; a test that mutates what it was given must not poison the next examples.
    contents = strategies.tool_call_contents()
    before = [wire(strategies.example_for_seed(contents, seed)) for seed in range(30)]
    for seed in range(30):
        _vandalise(strategies.example_for_seed(contents, seed).input)
    assert [wire(strategies.example_for_seed(contents, seed)) for seed in range(30)] == before


def test_example_for_seed_retries_rejected_draws_and_gives_up_with_unsatisfiable() -> None:
    assert strategies.example_for_seed(st.integers(0, 9).filter(lambda n: n == 7), 3) == 7
    with pytest.raises(Unsatisfiable):
        strategies.example_for_seed(st.nothing(), 0, max_attempts=5)


_IN_ANOTHER_PROCESS = """
import sys, strategies
seed = int(sys.argv[1])
sys.stdout.buffer.write(strategies.encode_transcript(strategies.example_for_seed(strategies.sse_transcripts(), seed)))
"""


def test_example_for_seed_does_not_depend_on_the_process() -> None:
    # Another interpreter, another hash seed and fewer imported modules: same bytes.
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    for seed in (3, 11):
        expected = strategies.encode_transcript(strategies.example_for_seed(strategies.sse_transcripts(), seed))
        other = subprocess.run(
            [sys.executable, "-c", _IN_ANOTHER_PROCESS, str(seed)], capture_output=True, check=True, env=environment
        )
        assert other.stdout == expected


def test_the_big_strategies_pass_hypothesis_health_checks_with_default_settings() -> None:
    # Users draw these with plain @given: no health check (too slow, too large, filtered too much) may trip.
    @settings(database=None, deadline=None)
    @given(strategies.sse_transcripts(), strategies.letta_responses(), strategies.letta_streaming_requests())
    def check(events: list[Any], response: Any, request: Any) -> None:
        pass

    check()


# --- public API ----------------------------------------------------------------------------------------------------


def test_the_public_api_is_exactly_all() -> None:
    public = {
        name
        for name, value in vars(strategies).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(strategies.__all__)
    assert len(strategies.__all__) == len(set(strategies.__all__))
