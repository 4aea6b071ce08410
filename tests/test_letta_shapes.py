"""What the real Letta 0.16.8 answers that the document leaves open, through the official SDK in strict mode: the
shapes of agents, tools, runs, steps and the context window; the listings while an approval is pending and after
a summarize or a reset; the server profile's refusals; and the token data RL clients ask for (``return_logprobs``,
``top_logprobs``, ``return_token_ids``). The real_letta tier compares all of it with the real server
(tests/test_conformance_real_letta.py); these tests pin the rules without it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from _sdk import make_letta
from contract import ContractChecker
from letta_client import BadRequestError, Letta
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.catalogue import DEFAULT_USER_ID, Texts
from mockserver.wire.tokens import words

MODEL = {"model": "openai/gpt-4o-mini", "embedding": "openai/text-embedding-3-small"}
ERASE = '''def erase_notes(topic: str) -> str:
    """Erase the notes on a topic.

    Args:
        topic: the topic
    """
    return "erased"
'''
WEATHER = ERASE.replace("erase_notes", "lookup_weather").replace("Erase the notes on", "The weather of")


@pytest.fixture(params=["contract", "server"])
def letta(request: pytest.FixtureRequest, serve: Callable[[Starlette], str]) -> Iterator[Letta]:
    fidelity = request.param
    with make_letta(serve(create_app(seed=5, fidelity=fidelity, created_tool_ms=0)), strict=True,
                    checker=ContractChecker(fidelity=fidelity)) as client:  # fmt: skip
        yield client


@pytest.fixture
def server(serve: Callable[[Starlette], str]) -> Iterator[Letta]:
    with make_letta(serve(create_app(seed=5, fidelity="server", created_tool_ms=0)), strict=True,
                    checker=ContractChecker(fidelity="server")) as client:  # fmt: skip
        yield client


def kinds(items: Any) -> list[str]:
    return [m.message_type for m in items]


# -- agents and tools --------------------------------------------------------------------------------------------


def test_an_agent_carries_letta_s_settings_and_its_relationships_only_when_asked(letta: Letta) -> None:
    tool = letta.tools.create(source_code=WEATHER, tags=["mine"])
    agent = letta.agents.create(name="a", tool_ids=[tool.id], tags=["t"], **MODEL,
                                memory_blocks=[{"label": "human", "value": "v"}])  # fmt: skip
    assert (agent.created_by_id, agent.last_updated_by_id) == (DEFAULT_USER_ID, DEFAULT_USER_ID)
    raw = agent.to_dict()  # the SDK's types leave some of Letta's keys out; they are there
    assert (raw["llm_config"]["max_tokens"], raw["llm_config"]["model_endpoint"]) == (
        16384, "https://api.openai.com/v1",
    )  # fmt: skip
    assert raw["embedding_config"]["embedding_endpoint"] == "https://api.openai.com/v1"
    settings = raw["model_settings"]
    assert (settings["provider_type"], settings["max_output_tokens"], settings["temperature"]) == ("openai", 16384, 1.0)
    assert (settings["reasoning"], settings["strict"]) == ({"reasoning_effort": "minimal"}, False)
    compaction = raw["compaction_settings"]
    assert (compaction["mode"], compaction["sliding_window_percentage"], compaction["clip_chars"]) == (
        "sliding_window", 0.3, 50000,
    )  # fmt: skip
    assert (compaction["model"], compaction["model_settings"]) == ("openai/gpt-5-mini", None)
    assert ([t.name for t in agent.tools][-1], agent.tags, [b.label for b in agent.blocks]) == (
        "lookup_weather", ["t"], ["human"],
    )  # fmt: skip
    plain = letta.agents.retrieve(agent.id)  # a 1.x SDK gets no relationships unless it asks (Letta's rule)
    assert (plain.tools, plain.blocks, plain.memory.blocks, plain.tags) == ([], [], [], [])
    full = letta.agents.retrieve(agent.id, include=["agent.tools", "agent.blocks"])
    assert ([t.name for t in full.tools][-1], [b.label for b in full.blocks], full.tags) == (
        "lookup_weather", ["human"], ["t"],
    )  # fmt: skip
    assert letta.agents.list(name="a").items[0].tools == []


def test_a_client_that_is_not_the_sdk_gets_every_relationship(serve: Callable[[Starlette], str]) -> None:
    url = serve(create_app(seed=5))
    created = httpx.post(f"{url}/v1/agents/", json={"name": "a", "tags": ["t"], **MODEL}).json()
    plain = httpx.get(f"{url}/v1/agents/{created['id']}", headers={"user-agent": "curl/8.5"}).json()
    assert plain["tags"] == ["t"]
    assert plain["tools"]


def test_tools_from_source_have_letta_s_metadata_and_an_upsert_keeps_what_it_leaves_out(letta: Letta) -> None:
    tool = letta.tools.create(source_code=WEATHER, tags=["mine"])
    assert (tool.source_type, tool.args_json_schema, tool.created_by_id) == ("json", {}, DEFAULT_USER_ID)
    assert re.fullmatch(r"[0-9a-f]{12}", tool.to_dict()["metadata_"]["tool_hash"])
    again = letta.tools.upsert(source_code=WEATHER, description="new")
    assert (again.id, again.tags, again.description) == (tool.id, ["mine"], "new")
    assert letta.tools.create(source_code=ERASE, source_type="python").source_type == "python"


def test_attach_and_detach_answer_null_and_an_approval_tool_brings_its_rule(letta: Letta) -> None:
    agent = letta.agents.create(name="a", **MODEL)
    tool = letta.tools.create(source_code=ERASE, default_requires_approval=True)
    assert letta.agents.tools.attach(tool.id, agent_id=agent.id) is None
    rules = letta.agents.retrieve(agent.id).tool_rules or []
    assert [(r.tool_name, r.type) for r in rules] == [("erase_notes", "requires_approval")]
    assert letta.agents.tools.detach(tool.id, agent_id=agent.id) is None
    assert "erase_notes" not in [t.name for t in letta.agents.tools.list(agent.id)]


def test_base_tools_have_letta_s_parameters(letta: Letta) -> None:
    agent = letta.agents.create(name="a", **MODEL)
    tools = {t.name: t for t in letta.agents.retrieve(agent.id, include=["agent.tools"]).tools}
    search = (tools["conversation_search"].json_schema or {})["parameters"]
    assert set(search["properties"]) == {"query", "roles", "limit", "start_date", "end_date"}
    assert search["required"] == []
    assert "insert_line" in (tools["memory_insert"].json_schema or {})["parameters"]["properties"]


# -- runs, steps and the context window --------------------------------------------------------------------------


def test_a_retrieved_run_has_no_duration_and_a_listed_one_has(letta: Letta) -> None:
    agent = letta.agents.create(name="a", **MODEL)
    run_id = letta.agents.messages.create(agent.id, input="hi").messages[0].run_id
    assert run_id is not None
    assert letta.runs.retrieve(run_id).total_duration_ns is None  # Letta reads one run without its metrics
    assert letta.runs.list(agent_id=agent.id).items[0].total_duration_ns is not None
    step = letta.runs.steps.list(run_id).items[0]
    assert step.model_endpoint == "https://api.openai.com/v1"
    assert step.completion_tokens_details == {"reasoning_tokens": 0}


def test_the_context_window_lists_its_messages_as_letta_stores_them(letta: Letta) -> None:
    tool = letta.tools.create(source_code=WEATHER)
    agent = letta.agents.create(name="a", tool_ids=[tool.id], **MODEL)
    letta.agents.messages.create(agent.id, input="Call the lookup_weather tool")
    window = letta.get(f"/v1/agents/{agent.id}/context", cast_to=dict)
    roles = [m["role"] for m in window["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    calling, returned = window["messages"][2], window["messages"][3]
    assert (calling["tool_calls"][0]["function"]["name"], calling["content"]) == ("lookup_weather", [])
    assert (returned["name"], returned["tool_returns"][0]["stdout"]) == ("lookup_weather", [])
    assert all(f["function"]["strict"] is None for f in window["functions_definitions"])


# -- listings and refusals ---------------------------------------------------------------------------------------


def test_a_step_that_waits_for_approval_is_one_stored_message(letta: Letta) -> None:
    tool = letta.tools.create(source_code=ERASE, default_requires_approval=True)
    agent = letta.agents.create(name="a", tool_ids=[tool.id], **MODEL)
    letta.agents.messages.create(agent.id, input="hello")
    sent = letta.agents.messages.create(agent.id, input="Call the erase_notes tool")
    assert kinds(sent.messages) == ["approval_request_message"]
    listed = letta.agents.messages.list(agent.id, limit=4)  # the request counts one stored message, as in Letta
    assert kinds(listed) == ["user_message", "assistant_message", "user_message", "approval_request_message"]
    request = sent.messages[0]
    decision = {"type": "approval", "approve": False, "tool_call_id": request.tool_call.tool_call_id, "reason": "no"}
    answered = letta.agents.messages.create(agent.id, messages=[{"type": "approval", "approvals": [decision]}])
    denied = answered.messages[0]
    assert (denied.message_type, denied.name, denied.stdout, denied.step_id) == (
        "tool_return_message", None, None, request.step_id,
    )  # fmt: skip
    response = letta.agents.messages.list(agent.id, limit=4).items[-3]
    assert (response.message_type, response.otid) == ("approval_response_message", None)


def test_reasoning_before_an_approval_request_is_listed_under_the_request_s_id(letta: Letta) -> None:
    agent_id = "agent-123e4567-e89b-42d3-8456-426614174000"  # the open world's agent reasons
    streamed = [e for e in letta.agents.messages.create(agent_id, input="/approve delete_file", streaming=True)
                if e.message_type in ("reasoning_message", "approval_request_message")]  # fmt: skip
    thought, request = streamed
    listed = letta.agents.messages.list(agent_id, limit=1).items
    assert kinds(listed) == ["reasoning_message", "approval_request_message"]
    assert listed[0].id == listed[1].id == request.id != thought.id
    assert listed[0].reasoning == thought.reasoning


def test_compaction_follows_letta_s_sliding_window_and_the_server_packs_the_summary(server: Letta) -> None:
    agent = server.agents.create(name="a", **MODEL)
    for number in range(4):
        server.agents.messages.create(agent.id, input=f"message {number}")
    result = server.agents.messages.compact(agent.id)
    assert (result.num_messages_before, result.num_messages_after) == (9, 7)
    newest = server.agents.messages.list(agent.id, limit=3)
    assert kinds(newest) == ["user_message", "assistant_message", "user_message"]
    assert '"system_alert"' in newest.items[-1].content
    assert newest.items[-1].otid is None
    server.agents.messages.reset(agent.id)
    assert kinds(server.agents.messages.list(agent.id, limit=3)) == kinds(newest)  # stored history stays
    with pytest.raises(BadRequestError) as nothing:
        server.agents.messages.compact(agent.id)
    assert nothing.value.body == {"detail": Texts.NO_SUMMARY}


def test_a_conversation_too_short_to_shrink_is_letta_s_400(server: Letta) -> None:
    agent = server.agents.create(name="a", **MODEL)
    conversation = server.conversations.create(agent_id=agent.id)
    for text in ("one", "two"):
        list(server.conversations.messages.create(conversation.id, input=text))
    with pytest.raises(BadRequestError) as refused:
        server.conversations.messages.compact(conversation.id)
    assert refused.value.body == {"detail": Texts.SUMMARIZE_FAILED}


def test_cancel_with_nothing_running_names_the_last_run_in_the_server_profile(server: Letta) -> None:
    agent = server.agents.create(name="a", **MODEL)
    run_id = server.agents.messages.create(agent.id, input="hi").messages[0].run_id
    assert server.agents.messages.cancel(agent.id) == {run_id: "cancelled"}
    assert server.runs.retrieve(str(run_id)).status == "completed"


def test_the_server_profile_refuses_search_as_a_letta_without_turbopuffer(server: Letta) -> None:
    with pytest.raises(BadRequestError) as refused:
        server.messages.search(query="x")
    assert refused.value.body == {"detail": Texts.SEARCH_NEEDS_TURBOPUFFER}


# -- log probabilities and token ids -----------------------------------------------------------------------------


def test_logprobs_are_the_last_call_s_streamed_tokens_with_top_alternatives(letta: Letta) -> None:
    agent = letta.agents.create(name="a", **MODEL)
    streamed = [e.content for e in letta.agents.messages.create(agent.id, input="tell me", streaming=True,
                                                                 stream_tokens=True)
                if e.message_type == "assistant_message"]  # fmt: skip
    answer = letta.agents.messages.create(agent.id, input="tell me", return_logprobs=True, top_logprobs=3)
    assert answer.logprobs is not None
    assert answer.turns is None
    tokens = answer.logprobs.content or []
    assert [t.token for t in tokens] == streamed == words(answer.messages[-1].content)  # type: ignore[union-attr]
    for token in tokens:
        assert token.bytes == list(token.token.encode())
        assert -2.6 < token.logprob < 0
        assert len(token.top_logprobs) == 3
        assert token.top_logprobs[0].token == token.token
        assert all(t.logprob <= token.logprob for t in token.top_logprobs)
    again = letta.agents.messages.create(agent.id, input="tell me", return_logprobs=True, top_logprobs=3)
    assert again.logprobs == answer.logprobs  # the same turn, the same figures


def test_token_ids_cover_every_generation_and_tool_result_of_the_turn(letta: Letta) -> None:
    tool = letta.tools.create(source_code=WEATHER)
    agent = letta.agents.create(name="a", tool_ids=[tool.id], **MODEL)
    answer = letta.agents.messages.create(agent.id, input="Call the lookup_weather tool", return_token_ids=True)
    assert answer.logprobs is None
    assert answer.turns is not None
    assert [t.role for t in answer.turns] == ["assistant", "tool", "assistant"]
    calling, result, reply = answer.turns
    returned = next(m for m in answer.messages if m.message_type == "tool_return_message")
    assert (result.tool_name, result.content, result.output_ids) == ("lookup_weather", returned.tool_return, None)
    assert reply.content == answer.messages[-1].content  # type: ignore[union-attr]
    for turn in (calling, reply):
        ids = turn.output_ids or []
        assert ids
        assert all(0 <= i < 100_277 for i in ids)
        assert [entry[1] for entry in turn.output_token_logprobs or []] == ids
    assert len(reply.output_ids or []) == len(words(reply.content or ""))


# -- tools and tool rules ----------------------------------------------------------------------------------------


def test_a_tool_is_the_last_function_of_its_source_and_creating_it_again_updates_it(letta: Letta) -> None:
    helper = "def helper(x: int) -> int:\n    return x\n\n\n"
    tool = letta.tools.create(source_code=helper + WEATHER)
    assert (tool.name, tool.description) == ("lookup_weather", "The weather of a topic.")
    again = letta.tools.create(source_code=WEATHER.replace("The weather of a topic.", "Weather, again."))
    assert (again.id, again.description) == (tool.id, "Weather, again.")


def test_a_schema_naming_another_function_than_the_source_is_letta_s_400(letta: Letta) -> None:
    tool = letta.tools.create(source_code=WEATHER)
    schema = {"name": "other_name", "description": "d", "parameters": {"type": "object", "properties": {}}}
    with pytest.raises(BadRequestError) as refused:
        letta.tools.update(tool.id, source_code=ERASE, json_schema=schema)
    assert refused.value.body == {"detail": Texts.tool_names_differ("other_name", ERASE)}
    renamed = letta.tools.update(tool.id, source_code=ERASE, json_schema={**schema, "name": "erase_notes"})
    assert renamed.name == "erase_notes"


def test_identical_tool_rules_are_kept_once(letta: Letta) -> None:
    rule = {"tool_name": "send_message", "type": "exit_loop"}
    agent = letta.agents.create(name="a", tool_rules=[rule, rule, rule], **MODEL)
    assert [(r.tool_name, r.type) for r in agent.tool_rules or []] == [("send_message", "exit_loop")]
    limits = [{"tool_name": "t", "type": "max_count_per_step", "max_count_limit": n} for n in (2, 2, 3)]
    updated = letta.agents.update(agent.id, tool_rules=limits)
    assert [r.max_count_limit for r in updated.tool_rules or []] == [2, 3]  # type: ignore[union-attr]
