"""The support bot's tests, written against letta-mock with its pytest plugin: the marker chooses what the agent
does, ``letta_mock_client`` is the official SDK on the mock, ``letta_mock_journal`` says what the bot sent."""

from __future__ import annotations

import pytest
from support_bot import BotError, SupportBot


@pytest.mark.letta_mock(scenario="reply", controls="reply=Have you tried turning it off and on again?")
def test_the_bot_returns_the_agents_answer(letta_mock_client, letta_mock_agent_id, letta_mock_journal):
    reply = SupportBot(letta_mock_client, letta_mock_agent_id).ask("My router is down")
    assert reply.text == "Have you tried turning it off and on again?"
    assert reply.stop_reason == "end_turn"
    letta_mock_journal.assert_called_once_with("send_message", input="My router is down", streaming=True)


@pytest.mark.letta_mock(scenario="tool_call")
def test_the_bot_reports_the_tools_the_agent_used(letta_mock_client, letta_mock_agent_id):
    reply = SupportBot(letta_mock_client, letta_mock_agent_id).ask("Is there an outage?")
    assert len(reply.tools) == 1
    assert reply.tools[0].startswith("web_search -> ")
    assert reply.thoughts  # the agent reasoned before and after the tool
    assert reply.text


@pytest.mark.letta_mock(script=[{"scenario": "approval", "tool": "refund_order"}])
def test_an_approved_tool_runs_and_the_bot_sends_the_approval(
    letta_mock_client, letta_mock_agent_id, letta_mock_journal
):
    asked = []
    bot = SupportBot(letta_mock_client, letta_mock_agent_id, approve=lambda name, args: asked.append(name) or True)
    reply = bot.ask("Refund order 42")
    assert asked == ["refund_order"]
    assert reply.tools[0].startswith("refund_order -> ")
    assert reply.stop_reason == "end_turn"
    approval = letta_mock_journal.of("send_message").last.request.json["messages"][0]
    assert approval["type"] == "approval"
    assert approval["approvals"][0]["approve"] is True


@pytest.mark.letta_mock(script=[{"scenario": "approval", "tool": "delete_account"}])
def test_a_denied_tool_never_runs(letta_mock_client, letta_mock_agent_id, letta_mock_journal):
    reply = SupportBot(letta_mock_client, letta_mock_agent_id).ask("Delete my account")
    assert reply.denied == ["delete_account"]
    assert all(not tool.startswith("delete_account -> ok") for tool in reply.tools)
    approval = letta_mock_journal.last.request.json["messages"][0]["approvals"][0]
    assert approval["approve"] is False
    assert approval["reason"] == "not allowed by the support policy"


@pytest.mark.letta_mock(controls="error=llm_rate_limit")
def test_an_llm_failure_in_the_stream_becomes_a_bot_error(letta_mock_client, letta_mock_agent_id):
    with pytest.raises(BotError, match="Rate limit exceeded"):
        SupportBot(letta_mock_client, letta_mock_agent_id).ask("Hello?")


@pytest.mark.letta_mock(controls="stop_reason=max_steps")
def test_a_turn_cut_short_is_an_error(letta_mock_client, letta_mock_agent_id):
    with pytest.raises(BotError, match="max_steps"):
        SupportBot(letta_mock_client, letta_mock_agent_id).ask("Hello?")


@pytest.mark.letta_mock(scenario="reply", seed=1)
def test_the_transcript_reads_every_page(letta_mock_client, letta_mock_agent_id, letta_mock_journal):
    bot = SupportBot(letta_mock_client, letta_mock_agent_id)
    for question in ("one", "two", "three", "four"):
        bot.ask(question)
    lines = bot.transcript()
    assert [line for line in lines if line.startswith("user:")] == [
        "user: one",
        "user: two",
        "user: three",
        "user: four",
    ]
    assert letta_mock_journal.of("list_messages").count > 1  # it paginated
