"""Agents, tools, conversations and runs: what real client code creates before it sends messages.

Every test drives the official SDK (sync and async, loose and strict: ``any_letta``), whose every response the
contract hook has checked against Letta's OpenAPI document. Resources a client creates follow Letta's rules; ids
nobody created keep the open world (``test_the_open_world_*``).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import httpx
import jsonschema_rs
import pytest
from _sdk import AGENT, call, drain, every_item
from letta_client import APIStatusError, BadRequestError, ConflictError, NotFoundError, UnprocessableEntityError

MODEL = "openai/gpt-4o-mini"


def roll_dice(num_sides: int, times: int = 1) -> str:
    """Roll a die.

    Args:
        num_sides: How many sides the die has.
        times: How many times to roll it.
    """
    return "4"


ROLL_DICE = inspect.getsource(roll_dice)


async def new_agent(client: Any, **fields: Any) -> Any:
    return await call(client.agents.create(**{"name": "probe", "model": MODEL, **fields}))


async def new_tool(client: Any, source: str = ROLL_DICE) -> Any:
    return await call(client.tools.upsert(source_code=source))


# -- agents -------------------------------------------------------------------------------------------------------


async def test_a_created_agent_is_as_configured_and_starts_with_a_system_message(any_letta: Any) -> None:
    agent = await new_agent(
        any_letta, memory_blocks=[{"label": "human", "value": "Test user"}], tags=["t1"], description="d"
    )
    assert (agent.name, agent.model, agent.llm_config.handle, agent.tags) == ("probe", MODEL, MODEL, ["t1"])
    assert (agent.llm_config.model, agent.llm_config.context_window) == ("gpt-4o-mini", 128000)
    assert [b.label for b in agent.blocks] == ["human"]
    assert agent.memory.blocks[0].value == "Test user"
    assert {t.name for t in agent.tools} >= {"conversation_search", "memory_insert", "memory_replace"}
    assert len(agent.message_ids) == 1
    history = await every_item(any_letta.agents.messages.list(agent.id))
    assert [m.message_type for m in history] == ["system_message"]
    system = history[0]
    assert system.id == agent.message_ids[0]
    for line in ("<memory_metadata>", f"- AGENT_ID: {agent.id}", "- CONVERSATION_ID: default", "Test user"):
        assert line in system.content


async def test_an_agent_is_retrieved_listed_counted_and_modified(any_letta: Any) -> None:
    agent = await new_agent(any_letta, name="first", tags=["a", "b"])
    await new_agent(any_letta, name="second", tags=["b"])
    assert (await call(any_letta.agents.retrieve(agent.id))).id == agent.id
    assert [a.name for a in await every_item(any_letta.agents.list(name="first"))] == ["first"]
    assert {a.name for a in await every_item(any_letta.agents.list(tags=["b"]))} == {"first", "second"}
    assert [a.name for a in await every_item(any_letta.agents.list(tags=["a", "b"], match_all_tags=True))] == ["first"]
    names = [a.name for a in await every_item(any_letta.agents.list(order="asc"))]
    assert names == ["first", "second"]  # the SDK walks the pages with `after` until an empty one
    changed = await call(any_letta.agents.update(agent.id, name="renamed", description="new", tags=None))
    assert (changed.name, changed.description, changed.tags) == ("renamed", "new", ["a", "b"])  # null leaves it


async def test_a_deleted_agent_is_gone_with_its_history_and_runs(any_letta: Any) -> None:
    agent = await new_agent(any_letta)
    response = await call(any_letta.agents.messages.create(agent.id, input="hi"))
    run_id = response.messages[0].run_id
    await call(any_letta.agents.delete(agent.id))
    for attempt in (
        lambda: any_letta.agents.retrieve(agent.id),
        lambda: any_letta.agents.messages.list(agent.id),
        lambda: any_letta.agents.messages.create(agent.id, input="again"),
        lambda: any_letta.agents.delete(agent.id),
        lambda: any_letta.runs.retrieve(run_id),
    ):
        with pytest.raises(NotFoundError):
            await every_item(await call(attempt()))


async def test_a_non_reasoning_model_answers_without_reasoning_and_a_reasoning_one_with(any_letta: Any) -> None:
    plain = await new_agent(any_letta)
    assert [m.message_type for m in (await call(any_letta.agents.messages.create(plain.id, input="hi"))).messages] == [
        "assistant_message"
    ]
    thinker = await new_agent(any_letta, model="openai/o3-mini")
    sent = await call(any_letta.agents.messages.create(thinker.id, input="hi"))
    assert [m.message_type for m in sent.messages] == ["hidden_reasoning_message", "assistant_message"]
    asked = await call(
        any_letta.agents.messages.create(plain.id, input="hi", extra_headers={"X-Letta-Mock": "scenario=reasoning"})
    )
    assert [m.message_type for m in asked.messages] == ["reasoning_message", "assistant_message"]  # a control wins


async def test_a_response_format_json_schema_makes_the_reply_valid_json(any_letta: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "sides": {"type": "integer", "minimum": 2}},
        "required": ["city", "sides"],
    }
    agent = await new_agent(any_letta, response_format={"type": "json_schema", "json_schema": {"schema": schema}})
    first = await call(any_letta.agents.messages.create(agent.id, input="a die with 20 sides"))
    value = json.loads(first.messages[-1].content)
    assert jsonschema_rs.validator_for(schema).is_valid(value)
    assert value["sides"] == 20  # a number the user wrote
    again = await call(any_letta.agents.messages.create(agent.id, input="a die with 20 sides"))
    assert json.loads(again.messages[-1].content) == value  # deterministic


async def test_a_legacy_agent_without_assistant_messages_replies_by_send_message(any_letta: Any) -> None:
    agent = await new_agent(any_letta, agent_type="memgpt_v2_agent")
    sent = await call(any_letta.agents.messages.create(agent.id, input="hi", use_assistant_message=False))
    assert [m.message_type for m in sent.messages] == ["tool_call_message", "tool_return_message"]
    assert sent.messages[0].tool_call.name == "send_message"
    assert json.loads(sent.messages[0].tool_call.arguments) == {"message": "You said: hi"}
    assert sent.stop_reason.stop_reason == "end_turn"
    plain = await call(any_letta.agents.messages.create(agent.id, input="hi"))
    assert [m.message_type for m in plain.messages] == ["assistant_message"]


async def test_letta_refuses_both_or_neither_input_and_messages_for_a_created_agent(any_letta: Any) -> None:
    agent = await new_agent(any_letta)
    for fields in ({"input": "a", "messages": [{"role": "user", "content": "b"}]}, {}):
        with pytest.raises(UnprocessableEntityError):
            await call(any_letta.agents.messages.create(agent.id, **fields))
    with pytest.raises(BadRequestError):  # an approval with nothing pending
        await call(any_letta.agents.messages.create(agent.id, messages=[{"type": "approval", "approve": True}]))
    assert await every_item(any_letta.agents.messages.list(agent.id))  # nothing stored by the refusals
    assert [m.message_type for m in await every_item(any_letta.agents.messages.list(agent.id))] == ["system_message"]


# -- tools --------------------------------------------------------------------------------------------------------


async def test_a_tool_is_derived_from_its_source_without_running_it(any_letta: Any) -> None:
    tool = await new_tool(any_letta)
    assert (tool.name, tool.description) == ("roll_dice", "Roll a die.")
    assert tool.json_schema["parameters"] == {
        "type": "object",
        "properties": {
            "num_sides": {"type": "integer", "description": "How many sides the die has."},
            "times": {"type": "integer", "description": "How many times to roll it."},
        },
        "required": ["num_sides"],
    }
    again = await call(any_letta.tools.upsert(source_code=ROLL_DICE, description="changed"))
    assert (again.id, again.description) == (tool.id, "changed")  # upsert by name
    assert [t.id for t in await every_item(any_letta.tools.list(name="roll_dice"))] == [tool.id]
    assert (await call(any_letta.tools.retrieve(tool.id))).name == "roll_dice"
    modified = await call(any_letta.tools.update(tool.id, tags=["dice"]))
    assert modified.tags == ["dice"]
    await call(any_letta.tools.delete(tool.id))
    with pytest.raises(NotFoundError):
        await call(any_letta.tools.retrieve(tool.id))


async def test_bad_tools_are_refused_in_letta_s_shapes(any_letta: Any) -> None:
    with pytest.raises(BadRequestError, match="Failed to derive json schema"):
        await call(any_letta.tools.create(source_code="def broken(:\n    pass\n"))
    with pytest.raises(UnprocessableEntityError):
        await call(any_letta.tools.create(source_code=ROLL_DICE, json_schema={"name": 5}))
    assert await every_item(any_letta.tools.list(name="broken")) == []


async def test_an_attached_tool_is_called_with_arguments_valid_against_its_schema(any_letta: Any) -> None:
    tool = await new_tool(any_letta)
    agent = await new_agent(any_letta, tool_ids=[tool.id], include_base_tools=False)
    assert [t.name for t in agent.tools] == ["roll_dice"]
    events = await drain(
        any_letta.agents.messages.create(agent.id, input="Call the roll_dice tool with 16 sides", streaming=True)
    )
    assert [e.message_type for e in events] == [
        "ping", "tool_call_message", "tool_return_message", "assistant_message", "stop_reason", "usage_statistics",
    ]  # fmt: skip
    call_event = events[1]
    assert (call_event.tool_call.name, json.loads(call_event.tool_call.arguments)) == ("roll_dice", {"num_sides": 16})
    assert events[2].tool_call_id == call_event.tool_call.tool_call_id
    assert events[2].name == "roll_dice"
    assert await call(any_letta.agents.tools.detach(tool.id, agent_id=agent.id)) is None  # Letta answers null
    assert (await call(any_letta.agents.retrieve(agent.id, include=["agent.tools"]))).tools == []
    later = await call(any_letta.agents.messages.create(agent.id, input="Call the roll_dice tool"))
    assert [m.message_type for m in later.messages] == ["assistant_message"]  # no tool to call any more


async def test_a_tool_that_requires_approval_waits_for_it(any_letta: Any) -> None:
    tool = await new_tool(any_letta)
    agent = await new_agent(
        any_letta, tool_ids=[tool.id], tool_rules=[{"type": "requires_approval", "tool_name": "roll_dice"}]
    )
    sent = await call(any_letta.agents.messages.create(agent.id, input="use roll_dice please"))
    assert sent.stop_reason.stop_reason == "requires_approval"
    request = sent.messages[-1]
    assert request.message_type == "approval_request_message"
    assert (await call(any_letta.agents.retrieve(agent.id))).pending_approval is None  # only when asked for
    waiting = await call(any_letta.agents.retrieve(agent.id, include=["agent.pending_approval"]))
    assert waiting.pending_approval.id == request.id
    with pytest.raises(ConflictError):
        await call(any_letta.agents.messages.create(agent.id, input="something else"))
    denial = {"type": "approval", "tool_call_id": request.tool_call.tool_call_id, "approve": False,
              "reason": "the code is 7408"}  # fmt: skip
    answered = await call(any_letta.agents.messages.create(agent.id, messages=[{"type": "approval",
                                                                                "approvals": [denial]}]))  # fmt: skip
    reply = [m for m in answered.messages if m.message_type == "assistant_message"][-1]
    assert "the code is 7408" in reply.content  # the agent read the reason it was given


# -- conversations ------------------------------------------------------------------------------------------------


async def test_a_conversation_has_its_own_system_message_and_last_message_time(any_letta: Any) -> None:
    agent = await new_agent(any_letta)
    conversation = await call(any_letta.conversations.create(agent_id=agent.id, summary="first"))
    assert (conversation.agent_id, conversation.summary, conversation.last_message_at) == (agent.id, "first", None)
    assert conversation.in_context_message_ids == []  # Letta lists a conversation's context only when retrieved
    retrieved = await call(any_letta.conversations.retrieve(conversation.id))
    assert len(retrieved.in_context_message_ids) == 1
    first = await every_item(any_letta.conversations.messages.list(conversation.id))
    assert [m.message_type for m in first] == ["system_message"]
    assert f"- CONVERSATION_ID: {conversation.id}" in first[0].content
    await drain(any_letta.conversations.messages.create(conversation.id, input="hello"))
    seen = await call(any_letta.conversations.retrieve(conversation.id))
    assert seen.last_message_at is not None
    assert len(seen.in_context_message_ids) == 3
    listed = await call(any_letta.conversations.messages.list(conversation.id))
    assert [m.message_type for m in listed.items] == ["assistant_message", "user_message", "system_message"]
    assert [c.id for c in await call(any_letta.conversations.list(agent_id=agent.id))] == [conversation.id]
    default = await every_item(any_letta.agents.messages.list(agent.id, conversation_id="default"))
    assert [m.message_type for m in default] == ["system_message"]  # the conversation kept to itself


async def test_recompiling_shows_the_agent_s_current_memory_and_a_dry_run_stores_nothing(any_letta: Any) -> None:
    agent = await new_agent(any_letta, memory_blocks=[{"label": "human", "value": "The user is a test user."}])
    conversation = await call(any_letta.conversations.create(agent_id=agent.id))
    await call(any_letta.agents.blocks.update("human", agent_id=agent.id, value="The user likes MARKER_42."))
    dry = await call(any_letta.conversations.recompile(conversation.id, dry_run=True))
    assert "MARKER_42" in dry
    first = (await call(any_letta.conversations.messages.list(conversation.id, order="asc"))).items[0]
    assert "MARKER_42" not in first.content  # not stored
    assert "MARKER_42" in await call(any_letta.conversations.recompile(conversation.id))
    stored = (await call(any_letta.conversations.messages.list(conversation.id, order="asc"))).items[0]
    assert "MARKER_42" in stored.content
    # The agent's own ("default") conversation, the agent named in the body as Letta's SDK sends it.
    assert "MARKER_42" in await call(any_letta.conversations.recompile("default", agent_id=agent.id))


async def test_a_conversation_is_updated_forked_cancelled_and_deleted(any_letta: Any) -> None:
    agent = await new_agent(any_letta)
    conversation = await call(any_letta.conversations.create(agent_id=agent.id))
    await drain(any_letta.conversations.messages.create(conversation.id, input="hello"))
    assert (await call(any_letta.conversations.update(conversation.id, summary="renamed"))).summary == "renamed"
    fork = await call(any_letta.conversations.fork(conversation.id))
    # First pages only: walking a conversation newest first, the SDK's `after` cursor asks for newer messages again
    # (the real server does the same, wire doc §14).
    forked = (await call(any_letta.conversations.messages.list(fork.id))).items
    parent = (await call(any_letta.conversations.messages.list(conversation.id))).items
    shared = [m.id for m in parent if m.message_type != "system_message"]
    assert [m.id for m in forked if m.message_type != "system_message"] == shared
    with pytest.raises(ConflictError):  # nothing runs in it
        await call(any_letta.conversations.cancel(conversation.id))
    with pytest.raises(BadRequestError, match="No active runs found"):
        await drain(any_letta.conversations.messages.stream(conversation.id))
    await call(any_letta.conversations.delete(fork.id))
    for attempt in (lambda: any_letta.conversations.retrieve(fork.id), lambda: any_letta.conversations.delete(fork.id)):
        with pytest.raises(NotFoundError):
            await call(attempt())


async def test_compacting_an_empty_created_conversation_is_letta_s_400(any_letta: Any) -> None:
    agent = await new_agent(any_letta)
    conversation = await call(any_letta.conversations.create(agent_id=agent.id))
    with pytest.raises(BadRequestError, match="Summarization failed"):
        await call(any_letta.conversations.messages.compact(conversation.id))


# -- runs ---------------------------------------------------------------------------------------------------------


async def test_runs_are_listed_with_their_usage_and_steps(any_letta: Any) -> None:
    tool = await new_tool(any_letta)
    agent = await new_agent(any_letta, tool_ids=[tool.id])
    await call(any_letta.agents.messages.create(agent.id, input="hi"))
    sent = await call(any_letta.agents.messages.create(agent.id, input="call roll_dice"))
    runs = await every_item(any_letta.runs.list(agent_id=agent.id))
    assert next(r.id for r in runs) == sent.messages[0].run_id  # newest first
    assert len(runs) == 2
    assert {r.status for r in runs} == {"completed"}
    assert await every_item(any_letta.runs.list(agent_id=agent.id, active=True)) == []
    steps = await every_item(any_letta.runs.steps.list(sent.messages[0].run_id, order="asc"))
    assert [s.id for s in steps] == list(dict.fromkeys(m.step_id for m in sent.messages))
    usage = await call(any_letta.runs.usage.retrieve(sent.messages[0].run_id))
    assert usage.total_tokens == sent.usage.total_tokens == sum(s.total_tokens for s in steps)
    assert steps[-1].stop_reason == "end_turn"
    assert steps[0].model_handle == MODEL


# -- the open world keeps working ---------------------------------------------------------------------------------


async def test_the_open_world_still_names_an_agent_and_a_tool_for_any_well_formed_id(any_letta: Any) -> None:
    agent = await call(any_letta.agents.retrieve(AGENT))
    assert agent.id == AGENT
    assert [m.message_type for m in (await call(any_letta.agents.messages.create(AGENT, input="hi"))).messages] == [
        "reasoning_message",
        "assistant_message",
    ]
    tool = await call(any_letta.tools.retrieve("tool-123e4567-e89b-42d3-8456-426614174000"))
    assert tool.id == "tool-123e4567-e89b-42d3-8456-426614174000"
    # Both input and messages: the document allows it, so an agent nobody created accepts it.
    both = await call(any_letta.agents.messages.create(AGENT, input="a", messages=[{"role": "user", "content": "b"}]))
    assert both.stop_reason.stop_reason == "end_turn"


async def test_the_closed_world_knows_only_its_agents(client_for: Any) -> None:
    from mockserver import create_app

    client = client_for(create_app(agents=[AGENT]))
    assert (await client.get(f"/v1/agents/{AGENT}")).status_code == 200
    missing = await client.get("/v1/agents/agent-00000000-0000-4000-8000-000000000001")
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "Agent with ID agent-00000000-0000-4000-8000-000000000001 not found"},
    )
    tool = await client.get("/v1/tools/tool-123e4567-e89b-42d3-8456-426614174000")
    assert tool.status_code == 404


async def test_bad_resource_requests_get_letta_s_422(asgi_client: httpx.AsyncClient) -> None:
    cases = [
        ("POST", "/v1/agents/", {"name": 5}, ["body", "name"]),
        ("POST", "/v1/agents/", {"memory_blocks": [{"label": "x"}]}, ["body", "memory_blocks", 0, "value"]),
        ("PATCH", f"/v1/agents/{AGENT}", {"tags": "x"}, ["body", "tags"]),
        ("PUT", "/v1/tools/", {}, ["body", "source_code"]),
        ("GET", "/v1/tools/tool-1", None, ["path", "tool_id"]),
        ("POST", "/v1/conversations/", {}, ["query", "agent_id"]),
        ("GET", "/v1/conversations/default", None, ["path", "conversation_id"]),
    ]
    for method, path, body, loc in cases:
        response = await asgi_client.request(method, path, json=body)
        assert response.status_code == 422, (method, path, response.text)
        assert response.json()["detail"][0]["loc"] == loc


# -- an end-to-end client -----------------------------------------------------------------------------------------


def test_a_small_client_creates_an_agent_with_a_tool_streams_a_call_lists_and_deletes(base_url: str) -> None:
    """The shortest real program: what a user writes on day one, unchanged, against the mock."""
    from letta_client import Letta

    client = Letta(base_url=base_url, api_key="anything", _strict_response_validation=True)
    tool = client.tools.upsert(source_code=ROLL_DICE)
    agent = client.agents.create(name="dice", model=MODEL, tool_ids=[tool.id])
    rendered = []
    for event in client.agents.messages.create(agent.id, input="Call the roll_dice tool with 6 sides", streaming=True):
        if event.message_type == "tool_call_message":
            rendered.append(f"call {event.tool_call.name}({event.tool_call.arguments})")
        elif event.message_type == "tool_return_message":
            rendered.append(f"return {event.tool_return[:20]}")
        elif event.message_type == "assistant_message":
            rendered.append("says " + event.content[:18])
    assert rendered[0] == 'call roll_dice({"num_sides": 6})'
    assert rendered[1].startswith("return ")
    assert rendered[2].startswith("says roll_dice returned")
    history = [m.message_type for m in client.agents.messages.list(agent.id, order="asc")]
    assert history == ["system_message", "user_message", "tool_call_message", "tool_return_message",
                       "assistant_message"]  # fmt: skip
    client.agents.delete(agent.id)
    with pytest.raises(APIStatusError):
        client.agents.retrieve(agent.id)
