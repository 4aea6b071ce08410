"""The official letta-client drives all 17 messages operations against the mock: sync and async, loose and strict.

Every response these tests receive has already been validated against Letta's OpenAPI document by the clients'
response hook (tests/contract.py); the tests here check what the SDK hands to user code. Streams are always read
through the SDK to the end.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from _sdk import AGENT, call, drain, every_item
from contract import ContractChecker
from letta_client import Letta
from letta_client.types import AgentState
from letta_client.types.agents import LettaResponse, Run
from letta_client.types.conversations import CompactionResponse

# Values the SDK's generated tests use (letta-python tests/api_resources, 1.12 signatures).
COMPACTION_SETTINGS: dict[str, Any] = {
    "clip_chars": 0,
    "mode": "all",
    "model": "model",
    "model_settings": {
        "max_output_tokens": 0,
        "parallel_tool_calls": True,
        "provider_type": "openai",
        "reasoning": {"reasoning_effort": "none"},
        "response_format": {"type": "text"},
        "strict": True,
        "temperature": 0,
    },
    "prompt": "prompt",
    "prompt_acknowledgement": True,
    "sliding_window_percentage": 0,
}
CLIENT_TOOLS = [{"name": "name", "description": "description", "parameters": {"foo": "bar"}}]
CLIENT_SKILLS = [{"description": "description", "location": "location", "name": "name"}]
INPUT_MESSAGES = [
    {
        "content": [{"text": "text", "signature": "signature", "type": "text"}],
        "role": "user",
        "batch_item_id": "batch_item_id",
        "group_id": "group_id",
        "name": "name",
        "otid": "otid",
        "sender_id": "sender_id",
        "type": "message",
    }
]
SEND_PARAMS: dict[str, Any] = {
    "assistant_message_tool_kwarg": "assistant_message_tool_kwarg",
    "assistant_message_tool_name": "assistant_message_tool_name",
    "client_skills": CLIENT_SKILLS,
    "client_tools": CLIENT_TOOLS,
    "enable_thinking": "enable_thinking",
    "include_compaction_messages": True,
    "include_return_message_types": ["system_message"],
    "input": "string",
    "max_steps": 0,
    "messages": INPUT_MESSAGES,
    "override_model": "override_model",
    "override_system": "override_system",
    "return_logprobs": True,
    "return_token_ids": True,
    "top_logprobs": 0,
    "use_assistant_message": True,
}
STREAMING_PARAMS: dict[str, Any] = {"background": True, "include_pings": True, "stream_tokens": True}
RESUME_PARAMS: dict[str, Any] = {"batch_size": 0, "include_pings": True, "poll_interval": 0, "starting_after": 0}
SEARCH_DATE = datetime.fromisoformat("2019-12-27T18:11:19.117+00:00")

MESSAGE_TYPES = {
    "system_message",
    "user_message",
    "assistant_message",
    "reasoning_message",
    "hidden_reasoning_message",
    "tool_call_message",
    "tool_return_message",
    "approval_request_message",
    "approval_response_message",
}


def kinds(events: list[Any]) -> list[str]:
    return [event.message_type for event in events]


def assert_turn_stream(events: list[Any], *, ping: bool = True) -> None:
    """Letta's stream order (wire doc §6.2): ping, the agent's messages, stop_reason, usage; [DONE] ends it."""
    types = kinds(events)
    assert types[:1] == (["ping"] if ping else types[:1])
    assert types[-2:] == ["stop_reason", "usage_statistics"]
    middle = types[1 if ping else 0 : -2]
    assert middle, f"no messages between the ping and the stop reason: {types}"
    assert set(middle) <= MESSAGE_TYPES, types


# -- the 17 operations, each through all four clients -----------------------------------------------------------


async def test_create_answers_with_the_agents_reply_as_a_letta_response(any_letta: Any) -> None:
    response = await call(any_letta.agents.messages.create(agent_id=AGENT, input="hello there"))
    assert isinstance(response, LettaResponse)
    assert kinds(response.messages) == ["reasoning_message", "assistant_message"]
    assert response.messages[-1].content == "You said: hello there"
    assert response.stop_reason.stop_reason == "end_turn"
    assert response.usage.step_count == 1


async def test_create_with_streaming_true_streams_ping_messages_stop_reason_and_usage(any_letta: Any) -> None:
    events = await drain(any_letta.agents.messages.create(agent_id=AGENT, input="hello", streaming=True))
    assert_turn_stream(events)
    assert kinds(events)[1:-2] == ["reasoning_message", "assistant_message"]
    assert events[-2].stop_reason == "end_turn"
    assert events[0].run_id == events[1].run_id


async def test_the_deprecated_stream_method_warns_and_streams_a_whole_turn(any_letta: Any) -> None:
    with pytest.warns(DeprecationWarning, match="deprecated"):
        pending = any_letta.agents.messages.stream(agent_id=AGENT, input="hello")
    events = await drain(pending)
    assert_turn_stream(events)


async def test_list_returns_what_was_sent_and_the_reply(any_letta: Any) -> None:
    await call(any_letta.agents.messages.create(agent_id=AGENT, input="remember this"))
    items = await every_item(any_letta.agents.messages.list(agent_id=AGENT))
    assert kinds(items) == ["system_message", "user_message", "reasoning_message", "assistant_message"]
    assert items[1].content == "remember this"


async def test_cancel_names_the_cancelled_runs(any_letta: Any) -> None:
    run = await call(any_letta.agents.messages.create_async(agent_id=AGENT, input="slow work"))
    answer = await call(any_letta.agents.messages.cancel(agent_id=AGENT, run_ids=[run.id]))
    assert answer == {run.id: "cancelled"}


async def test_create_async_returns_a_created_run_of_the_agent(any_letta: Any) -> None:
    run = await call(any_letta.agents.messages.create_async(agent_id=AGENT, input="later"))
    assert isinstance(run, Run)
    assert run.status == "created"
    assert run.agent_id == AGENT
    assert run.id.startswith("run-")


async def test_reset_returns_the_agent_state(any_letta: Any) -> None:
    state = await call(any_letta.agents.messages.reset(agent_id=AGENT))
    assert isinstance(state, AgentState)
    assert state.id == AGENT


async def test_compact_returns_the_summary_and_message_counts(any_letta: Any) -> None:
    for text in ("one", "two", "three", "four"):  # fewer cannot shrink Letta's sliding window
        await call(any_letta.agents.messages.create(agent_id=AGENT, input=text))
    result = await call(any_letta.agents.messages.compact(agent_id=AGENT))
    assert isinstance(result, CompactionResponse)
    assert result.num_messages_after < result.num_messages_before
    assert result.summary


async def test_conversation_create_streams_a_whole_turn(any_letta: Any) -> None:
    events = await drain(any_letta.conversations.messages.create(conversation_id="default", agent_id=AGENT, input="hi"))
    assert_turn_stream(events)


async def test_conversation_list_returns_the_conversations_messages(any_letta: Any) -> None:
    await drain(any_letta.conversations.messages.create(conversation_id="default", agent_id=AGENT, input="in a chat"))
    items = await every_item(any_letta.conversations.messages.list(conversation_id="default", agent_id=AGENT))
    assert "user_message" in kinds(items)
    assert kinds(items)[-1] == "assistant_message"


async def test_conversation_stream_replays_the_latest_run(any_letta: Any) -> None:
    sent = await drain(
        any_letta.conversations.messages.create(conversation_id="default", agent_id=AGENT, input="hi", background=True)
    )
    resumed = await drain(any_letta.conversations.messages.stream(conversation_id="default", agent_id=AGENT))
    assert kinds(resumed) == kinds(sent)
    assert [event.seq_id for event in resumed if event.message_type in MESSAGE_TYPES | {"ping"}] == [1, 2, 3]


async def test_conversation_compact_returns_the_summary_and_message_counts(any_letta: Any) -> None:
    for text in ("one", "two", "three", "four"):
        await drain(any_letta.conversations.messages.create(conversation_id="default", agent_id=AGENT, input=text))
    result = await call(any_letta.conversations.messages.compact(conversation_id="default", agent_id=AGENT))
    assert isinstance(result, CompactionResponse)
    assert result.num_messages_after < result.num_messages_before


async def test_run_messages_list_returns_the_runs_input_and_output(any_letta: Any) -> None:
    response = await call(any_letta.agents.messages.create(agent_id=AGENT, input="for the run"))
    run_id = response.messages[0].run_id
    items = await every_item(any_letta.runs.messages.list(run_id=run_id))
    assert kinds(items) == ["user_message", "reasoning_message", "assistant_message"]
    assert {item.run_id for item in items} == {run_id}


async def test_run_stream_replays_a_background_stream_with_sequence_ids_from_one(any_letta: Any) -> None:
    sent = await drain(any_letta.agents.messages.create(agent_id=AGENT, input="hi", streaming=True, background=True))
    resumed = await drain(any_letta.runs.messages.stream(path_run_id=sent[0].run_id))
    assert_turn_stream(resumed)
    assert kinds(resumed) == kinds(sent)
    assert [event.seq_id for event in resumed[:-2]] == [1, 2, 3]


async def test_run_stream_starting_after_skips_what_the_client_already_has(any_letta: Any) -> None:
    sent = await drain(any_letta.agents.messages.create(agent_id=AGENT, input="hi", streaming=True, background=True))
    resumed = await drain(any_letta.runs.messages.stream(path_run_id=sent[0].run_id, starting_after=3))
    assert kinds(resumed) == ["stop_reason", "usage_statistics"]


async def test_messages_list_returns_a_plain_list_of_every_agents_messages(any_letta: Any) -> None:
    await call(any_letta.agents.messages.create(agent_id=AGENT, input="first agent"))
    other = "agent-00000000-0000-4000-8000-000000000001"
    await call(any_letta.agents.messages.create(agent_id=other, input="second agent"))
    items = await call(any_letta.messages.list())
    assert isinstance(items, list)
    texts = [item.content for item in items if item.message_type == "user_message"]
    assert texts == ["first agent", "second agent"]


async def test_messages_retrieve_returns_every_item_of_the_stored_message(any_letta: Any) -> None:
    response = await call(any_letta.agents.messages.create(agent_id=AGENT, input="hi"))
    items = await call(any_letta.messages.retrieve(response.messages[0].id))
    assert isinstance(items, list)
    assert kinds(items) == ["reasoning_message", "assistant_message"]
    assert {item.id for item in items} == {response.messages[0].id}


async def test_messages_search_finds_messages_by_text(any_letta: Any) -> None:
    await call(any_letta.agents.messages.create(agent_id=AGENT, input="the zebra is striped"))
    await call(any_letta.agents.messages.create(agent_id=AGENT, input="the lion is not"))
    results = await call(any_letta.messages.search(query="zebra"))
    assert isinstance(results, list)
    assert results
    assert all("zebra" in (getattr(r, "content", None) or getattr(r, "reasoning", "")) for r in results)
    assert {r.message_type for r in results} <= {"user_message", "assistant_message", "reasoning_message"}


async def test_runs_retrieve_returns_the_finished_run(any_letta: Any) -> None:
    response = await call(any_letta.agents.messages.create(agent_id=AGENT, input="hi"))
    run = await call(any_letta.runs.retrieve(response.messages[0].run_id))
    assert isinstance(run, Run)
    assert run.status == "completed"
    assert run.stop_reason == "end_turn"
    assert run.agent_id == AGENT


# -- the SDK's generated tests, with their literal values ------------------------------------------------------

GeneratedCall = Callable[[Any], Any]

# (id, how to read the result, call). "stream" calls are read to the end; "page" calls are auto-paginated.
GENERATED: list[tuple[str, str, GeneratedCall]] = [
    ("agents.messages.create", "json", lambda c: c.agents.messages.create(agent_id=AGENT)),
    (
        "agents.messages.create with all params",
        "json",
        lambda c: c.agents.messages.create(agent_id=AGENT, **SEND_PARAMS, **STREAMING_PARAMS, streaming=False),
    ),
    ("agents.messages.create streaming", "stream", lambda c: c.agents.messages.create(agent_id=AGENT, streaming=True)),
    (
        "agents.messages.create streaming with all params",
        "stream",
        lambda c: c.agents.messages.create(agent_id=AGENT, **SEND_PARAMS, **STREAMING_PARAMS, streaming=True),
    ),
    ("agents.messages.list", "page", lambda c: c.agents.messages.list(agent_id=AGENT)),
    (
        "agents.messages.list with all params",
        "page",
        lambda c: c.agents.messages.list(
            agent_id=AGENT,
            after="after",
            assistant_message_tool_kwarg="assistant_message_tool_kwarg",
            assistant_message_tool_name="assistant_message_tool_name",
            before="before",
            conversation_id="conversation_id",
            group_id="group_id",
            include_err=True,
            include_return_message_types=["system_message"],
            limit=0,
            order="asc",
            order_by="created_at",
            use_assistant_message=True,
        ),
    ),
    ("agents.messages.cancel", "json", lambda c: c.agents.messages.cancel(agent_id=AGENT)),
    (
        "agents.messages.cancel with all params",
        "json",
        lambda c: c.agents.messages.cancel(agent_id=AGENT, run_ids=["string"]),
    ),
    ("agents.messages.compact", "json", lambda c: c.agents.messages.compact(agent_id=AGENT)),
    (
        "agents.messages.compact with all params",
        "json",
        lambda c: c.agents.messages.compact(agent_id=AGENT, compaction_settings=COMPACTION_SETTINGS),
    ),
    ("agents.messages.create_async", "json", lambda c: c.agents.messages.create_async(agent_id=AGENT)),
    (
        "agents.messages.create_async with all params",
        "json",
        lambda c: c.agents.messages.create_async(agent_id=AGENT, **SEND_PARAMS, callback_url="callback_url"),
    ),
    ("agents.messages.reset", "json", lambda c: c.agents.messages.reset(agent_id=AGENT)),
    (
        "agents.messages.reset with all params",
        "json",
        lambda c: c.agents.messages.reset(agent_id=AGENT, add_default_initial_messages=True),
    ),
    ("agents.messages.stream", "deprecated stream", lambda c: c.agents.messages.stream(agent_id=AGENT)),
    (
        "agents.messages.stream with all params",
        "deprecated stream",
        lambda c: c.agents.messages.stream(agent_id=AGENT, **SEND_PARAMS, **STREAMING_PARAMS, streaming=True),
    ),
    ("conversations.messages.create", "stream", lambda c: c.conversations.messages.create(conversation_id="default")),
    (
        "conversations.messages.create with all params",
        "stream",
        lambda c: c.conversations.messages.create(
            conversation_id="default", agent_id="agent_id", **SEND_PARAMS, **STREAMING_PARAMS, streaming=True
        ),
    ),
    ("conversations.messages.list", "page", lambda c: c.conversations.messages.list(conversation_id="default")),
    (
        "conversations.messages.list with all params",
        "page",
        lambda c: c.conversations.messages.list(
            conversation_id="default",
            after="after",
            agent_id="agent_id",
            before="before",
            group_id="group_id",
            include_err=True,
            include_return_message_types=["system_message"],
            limit=0,
            order="asc",
            order_by="created_at",
        ),
    ),
    ("conversations.messages.compact", "json", lambda c: c.conversations.messages.compact(conversation_id="default")),
    (
        "conversations.messages.compact with all params",
        "json",
        lambda c: c.conversations.messages.compact(
            conversation_id="default", agent_id="agent_id", compaction_settings=COMPACTION_SETTINGS
        ),
    ),
    ("conversations.messages.stream", "stream", lambda c: c.conversations.messages.stream(conversation_id="default")),
    (
        "conversations.messages.stream with all params",
        "stream",
        lambda c: c.conversations.messages.stream(
            conversation_id="default", agent_id="agent_id", otid="otid", run_id="run_id", **RESUME_PARAMS
        ),
    ),
    ("runs.messages.list", "page", lambda c: c.runs.messages.list(run_id="run_id")),
    (
        "runs.messages.list with all params",
        "page",
        lambda c: c.runs.messages.list(
            run_id="run_id", after="after", before="before", limit=0, order="asc", order_by="created_at"
        ),
    ),
    ("runs.messages.stream", "stream", lambda c: c.runs.messages.stream(path_run_id="run_id")),
    (
        "runs.messages.stream with all params",
        "stream",
        lambda c: c.runs.messages.stream(
            path_run_id="run_id", agent_id="agent_id", otid="otid", body_run_id="run_id", **RESUME_PARAMS
        ),
    ),
    ("messages.list", "json", lambda c: c.messages.list()),
    (
        "messages.list with all params",
        "json",
        lambda c: c.messages.list(
            after="after",
            before="before",
            conversation_id="conversation_id",
            include_return_message_types=["system_message"],
            limit=0,
            order="asc",
        ),
    ),
    ("messages.retrieve", "json", lambda c: c.messages.retrieve("message-123e4567-e89b-42d3-8456-426614174000")),
    ("messages.search", "json", lambda c: c.messages.search(query="query")),
    (
        "messages.search with all params",
        "json",
        lambda c: c.messages.search(
            query="query",
            agent_id="agent_id",
            conversation_id="conversation_id",
            end_date=SEARCH_DATE,
            limit=1,
            search_mode="vector",
            start_date=SEARCH_DATE,
        ),
    ),
    ("runs.retrieve", "json", lambda c: c.runs.retrieve("run_id")),
]


@pytest.mark.parametrize(("read", "operation"), [pytest.param(r, o, id=i) for i, r, o in GENERATED])
async def test_every_generated_sdk_test_call_succeeds(
    any_letta: Any, checker: ContractChecker, read: str, operation: GeneratedCall
) -> None:
    seen: list[httpx.Response] = []
    checker.on_response = seen.append
    if read == "deprecated stream":
        with pytest.warns(DeprecationWarning, match="deprecated"):
            pending = operation(any_letta)
        events = await drain(pending)
    elif read == "stream":
        events = await drain(operation(any_letta))
    elif read == "page":
        events = await every_item(operation(any_letta))
    else:
        events = [await call(operation(any_letta))]
    assert seen  # the contract hook saw (and accepted) every response
    assert all(200 <= response.status_code < 300 for response in seen)
    if read.endswith("stream"):
        assert kinds(events)[-2:] == ["stop_reason", "usage_statistics"]
        assert seen[-1].text.endswith("data: [DONE]\n\n")


async def test_a_minimal_send_is_a_whole_turn_of_the_default_agent(any_letta: Any) -> None:
    # The generated test sends {}: the default profile answers it as a turn with no new input.
    response = await call(any_letta.agents.messages.create(agent_id=AGENT))
    assert response.stop_reason.stop_reason == "end_turn"
    assert kinds(response.messages)[-1] == "assistant_message"


def test_the_contract_hook_checks_every_response_the_sdk_receives(letta: Any, checker: ContractChecker) -> None:
    letta.agents.messages.create(agent_id=AGENT, input="hi")
    list(letta.agents.messages.list(agent_id=AGENT))  # one page with items, then the empty page that ends it
    list(letta.agents.messages.create(agent_id=AGENT, input="hi", streaming=True))
    assert checker.checked == 4


# -- the stream on the wire, as Letta writes it (wire doc §0 rules 1-2, §1.5, §2.1, §6.2) -------------------------

COMMON_KEYS = ["id", "date", "name", "message_type", "otid", "sender_id", "step_id", "is_err", "seq_id", "run_id"]
USAGE_KEYS = [
    "message_type",
    "completion_tokens",
    "prompt_tokens",
    "total_tokens",
    "step_count",
    "run_ids",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "context_tokens",
]
STREAMS: list[tuple[str, str, dict[str, Any]]] = [
    ("agent send with streaming", f"/v1/agents/{AGENT}/messages", {"input": "hi", "streaming": True}),
    ("deprecated agent stream", f"/v1/agents/{AGENT}/messages/stream", {"input": "hi"}),
    ("conversation send", "/v1/conversations/default/messages", {"input": "hi", "agent_id": AGENT}),
]


@pytest.mark.parametrize(("path", "body"), [pytest.param(p, b, id=i) for i, p, b in STREAMS])
async def test_a_stream_is_framed_and_ordered_exactly_as_letta_writes_it(
    asgi_client: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    response = await asgi_client.post(path, json=body)
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    blocks = response.text.split("\n\n")
    assert blocks[-1] == ""  # every event, the last included, ends with a blank line
    assert blocks[-2] == "data: [DONE]"
    assert blocks[-4] == 'data: {"message_type":"stop_reason","stop_reason":"end_turn"}'
    events = [json.loads(block.removeprefix("data: ")) for block in blocks[:-2]]
    assert all(block.startswith("data: {") for block in blocks[:-2])
    assert list(events[-1]) == USAGE_KEYS
    ping, *items = events[:-2]
    assert list(ping) == COMMON_KEYS
    assert ping["id"].startswith("ping-")
    assert ping["run_id"].startswith("run-")
    for item in [ping, *items]:
        assert list(item)[: len(COMMON_KEYS)] == COMMON_KEYS
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", item["date"])
        assert item["seq_id"] is None  # a foreground stream does not number its events
        assert item["run_id"] == ping["run_id"]


async def test_a_background_stream_numbers_every_chunk_from_one(asgi_client: httpx.AsyncClient) -> None:
    body = {"input": "hi", "streaming": True, "background": True}
    response = await asgi_client.post(f"/v1/agents/{AGENT}/messages", json=body)
    events = [json.loads(b.removeprefix("data: ")) for b in response.text.split("\n\n")[:-2]]
    numbered = [event["seq_id"] for event in events if "seq_id" in event]
    assert numbered == list(range(1, len(numbered) + 1))


# -- turn shapes and Letta's id rules (wire doc §1.4, §2.3, §5, §6.9, §18.3, §18.9) ----------------------------


def uuid_of(message_id: str) -> uuid.UUID:
    return uuid.UUID(message_id.split("-", 1)[1])


def test_items_of_one_stored_message_share_its_id_and_number_their_otids(letta: Letta) -> None:
    response = letta.agents.messages.create(agent_id=AGENT, input="hi")
    reasoning, reply = response.messages
    assert reasoning.id == reply.id
    base = uuid_of(reasoning.id).int & ~0x7F
    assert [uuid.UUID(m.otid).int for m in (reasoning, reply)] == [base, base | 1]


def test_a_stored_user_message_carries_the_step_id_of_the_step_that_answered_it(letta: Letta) -> None:
    response = letta.agents.messages.create(agent_id=AGENT, input="hi")
    user = list(letta.agents.messages.list(agent_id=AGENT))[-3]
    assert user.message_type == "user_message"
    assert user.step_id == response.messages[0].step_id


def test_a_tool_needing_approval_ends_the_stream_with_requires_approval(letta: Letta) -> None:
    events = list(letta.agents.messages.create(agent_id=AGENT, input="/approve delete_file", streaming=True))
    assert kinds(events) == [
        "ping",
        "reasoning_message",
        "approval_request_message",
        "stop_reason",
        "usage_statistics",
    ]
    reasoning, request = events[1], events[2]
    assert events[3].stop_reason == "requires_approval"
    assert request.tool_call.name == "delete_file"
    # The request's id is the step's message id minus one, and its otid is its own id.
    assert uuid_of(request.id).int == uuid_of(reasoning.id).int - 1
    assert request.otid == request.id


def test_a_server_tool_call_is_followed_by_its_return_and_the_reply(letta: Letta) -> None:
    response = letta.agents.messages.create(agent_id=AGENT, input='/tool web_search {"query": "letta"}')
    assert kinds(response.messages) == [
        "reasoning_message",
        "tool_call_message",
        "tool_return_message",
        "reasoning_message",
        "assistant_message",
    ]
    call, result = response.messages[1], response.messages[2]
    assert call.tool_call.name == "web_search"
    assert json.loads(call.tool_call.arguments) == {"query": "letta"}
    assert (result.tool_call_id, result.status, result.name) == (call.tool_call.tool_call_id, "success", "web_search")


def test_a_client_tool_call_waits_for_the_clients_result_and_then_continues(letta: Letta) -> None:
    tools = [{"name": "get_time", "description": "the time", "parameters": {"type": "object"}}]
    waiting = letta.agents.messages.create(agent_id=AGENT, input="/tool get_time", client_tools=tools)
    assert waiting.stop_reason.stop_reason == "requires_approval"
    request = waiting.messages[-1]
    assert request.message_type == "approval_request_message"
    call_id = request.tool_call.tool_call_id
    tool_return = {"type": "tool", "tool_call_id": call_id, "tool_return": "12:00", "status": "success"}
    answer = letta.agents.messages.create(
        agent_id=AGENT, messages=[{"type": "approval", "approvals": [tool_return]}], client_tools=tools
    )
    assert kinds(answer.messages)[0] == "tool_return_message"
    assert answer.messages[0].tool_call_id == call_id
    assert answer.messages[0].tool_return == "12:00"
    assert answer.messages[0].name is None  # a client tool's return carries no name (wire doc §18.9)
    assert answer.stop_reason.stop_reason == "end_turn"


def test_running_out_of_steps_stops_with_max_steps_and_still_answers_200(letta: Letta) -> None:
    response = letta.agents.messages.create(agent_id=AGENT, input="/steps 3", max_steps=2)
    assert response.stop_reason.stop_reason == "max_steps"
    assert response.usage.step_count == 2
    assert "assistant_message" not in kinds(response.messages)


def test_include_return_message_types_filters_a_send_but_not_pings_or_the_ending(letta: Letta) -> None:
    events = list(
        letta.agents.messages.create(
            agent_id=AGENT, input="hi", streaming=True, include_return_message_types=["assistant_message"]
        )
    )
    assert kinds(events) == ["ping", "assistant_message", "stop_reason", "usage_statistics"]


def test_token_streaming_sends_fragments_that_share_the_stored_messages_id_and_otid(letta: Letta) -> None:
    events = list(
        letta.agents.messages.create(
            agent_id=AGENT, input="tell me something longer", streaming=True, stream_tokens=True
        )
    )
    chunks = [e for e in events if e.message_type == "assistant_message"]
    assert len(chunks) > 1
    assert len({(c.id, c.otid) for c in chunks}) == 1
    stored = list(letta.agents.messages.list(agent_id=AGENT))[-1]
    assert stored.message_type == "assistant_message"
    assert (stored.id, stored.otid) == (chunks[0].id, chunks[0].otid)
    assert "".join(c.content for c in chunks) == stored.content


def test_usage_reports_cache_figures_as_zero_unless_tokens_are_streamed(letta: Letta) -> None:
    # Wire doc §18.2: 0 when the provider reports nothing, null with stream_tokens.
    usage = letta.agents.messages.create(agent_id=AGENT, input="hi").usage
    assert (usage.cached_input_tokens, usage.cache_write_tokens, usage.reasoning_tokens) == (0, 0, 0)
    streamed = list(letta.agents.messages.create(agent_id=AGENT, input="hi", streaming=True, stream_tokens=True))
    last = streamed[-1]
    assert (last.cached_input_tokens, last.cache_write_tokens, last.reasoning_tokens) == (None, None, None)
