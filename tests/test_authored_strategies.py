"""``strategies.authored_turns()``: every drawn turn is valid, and — the recipe of docs/authored.md — a property test
installs a drawn turn as a rule and runs the official client against the live mock: every response and stream
event is valid against Letta's document (tests/contract.py checks each), paused turns go on once answered, and
what streamed is what the turn says and what history lists."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from _sdk import make_letta
from contract import ContractChecker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from letta_client import APIStatusError, Letta
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.authored.format import read_rules
from strategies import authored_turns

SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW)
@given(authored_turns())
def test_every_drawn_turn_is_valid(turn: dict[str, Any]) -> None:
    (rule,) = read_rules([{"turn": turn}]).rules
    assert len(rule.turns) == 1


@pytest.fixture(scope="module")
def app() -> Starlette:
    return create_app()


@pytest.fixture
def client(serve: Callable[[Starlette], str], app: Starlette, checker: ContractChecker) -> Iterator[tuple[Letta, str]]:
    url = serve(app)
    with make_letta(url, strict=True, checker=checker) as sdk:
        yield sdk, url


def said_texts(turn: dict[str, Any]) -> list[str]:
    return [step["text"] for step in turn["steps"] if "text" in step]


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
@given(turn=authored_turns(), streaming=st.booleans(), stream_tokens=st.booleans())
def test_a_drawn_turn_installed_as_a_rule_plays_valid_over_the_wire(
    client: tuple[Letta, str], turn: dict[str, Any], streaming: bool, stream_tokens: bool
) -> None:
    sdk, url = client
    streaming = streaming or "error" in turn  # not streamed, an error is Letta's HTTP error (a 5xx for most types)
    assert httpx.put(f"{url}/_mock/rules", json={"rules": [{"name": "drawn", "turn": turn}]}).status_code == 200
    agent = f"agent-{uuid.uuid4()}"
    texts: list[str] = []
    failed = False
    tools = [{"name": call["name"], "parameters": {"type": "object"}} for step in turn["steps"]
             for call in step.get("tool_calls", ()) if call.get("kind") == "client"]  # fmt: skip
    body: dict[str, Any] = {"input": "go", "client_tools": tools or None}
    pauses = [any(c.get("kind") in ("approval", "client") for c in s.get("tool_calls", ())) for s in turn["steps"]]
    answered = sum(pauses) - (1 if pauses and pauses[-1] else 0)  # the last step's wait ends the turn
    for sent in range(answered + 1):  # a paused turn goes on once each earlier wait is answered
        events: list[Any] = []
        try:
            if streaming:
                events.extend(sdk.agents.messages.create(agent, streaming=True, stream_tokens=stream_tokens, **body))
            else:
                answer = sdk.agents.messages.create(agent, **body)
                events += [*answer.messages, answer.stop_reason]
        except APIStatusError:  # an in-band error: the events before it stay
            failed = True
        items = [e for e in events if e.message_type not in ("ping", "stop_reason", "usage_statistics")]
        texts += _joined(items)
        stop = next((e.stop_reason for e in events if e.message_type == "stop_reason"), None)
        if failed or stop != "requires_approval" or sent == answered:
            break
        answers = [_answer(call_id, name, tools) for call_id, name in _waiting(items).items()]
        approvals = [a for a in answers if a["type"] == "approval"]
        returns = [a for a in answers if a["type"] == "tool"]
        body = {"messages": [{"type": "approval", "approvals": approvals + returns}]}
    assert failed == ("error" in turn)
    if "error" not in turn:
        assert texts == said_texts(turn)
        assert stop == turn.get("stop_reason", "requires_approval" if stop == "requires_approval" else "end_turn")
    history = [m for m in sdk.agents.messages.list(agent) if m.message_type == "assistant_message"]
    assert [m.content for m in history] == texts


def _joined(items: list[Any]) -> list[str]:
    """Assistant texts, token chunks of one message joined."""
    out: list[tuple[str, str]] = []
    for item in items:
        if item.message_type == "assistant_message":
            if out and out[-1][0] == item.id:
                out[-1] = (item.id, out[-1][1] + item.content)
            else:
                out.append((item.id, item.content))
    return [text for _, text in out]


def _waiting(items: list[Any]) -> dict[str, str]:
    """The calls an approval request waits on, by id: a list of calls, or token-streamed deltas (§6.3)."""
    found: dict[str, str] = {}
    for item in items:
        if item.message_type == "approval_request_message":
            for call in item.tool_calls if isinstance(item.tool_calls, list) else [item.tool_calls]:
                found[call.tool_call_id] = found.get(call.tool_call_id) or call.name or ""
    return found


def _answer(call_id: str, name: str, tools: list[dict[str, Any]]) -> dict[str, Any]:
    if any(tool["name"] == name for tool in tools):
        return {"type": "tool", "tool_call_id": call_id, "tool_return": "done", "status": "success"}
    return {"type": "approval", "tool_call_id": call_id, "approve": True}
