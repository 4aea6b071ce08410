"""The default agent: what it says and which tools it calls, decided deterministically from the input.

No randomness and no clock: the same input gives the same plan. Tools are called only when the user asks with
a trigger phrase, so a client that merely *offers* tools is never left with a pending approval:

    /tool NAME [JSON]     call tool NAME with the JSON arguments (a client tool if the request offers NAME,
                          which stops the turn for the client's result; otherwise a server tool that returns)
    /approve [NAME]       call a tool that needs approval (default name: ``delete_file``)
    /steps N              N tool-calling steps before the reply (exercises ``max_steps``)

Anything else gets reasoning plus a reply quoting the input.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from mockserver.models import (
    ApprovalCreate,
    ClientToolSchema,
    InputMessage,
    MessageCreate,
    TextContent,
    ToolReturnCreate,
)

__all__ = ["PlannedCall", "Step", "TurnPlan", "input_text", "plan_reply", "tool_result"]

CallKind = Literal["server", "approval", "client"]


@dataclass
class PlannedCall:
    name: str
    arguments: str  # JSON text, as the model would produce it
    kind: CallKind = "server"


@dataclass
class Step:
    """One LLM call: optional reasoning, optional text, and the tool calls it makes."""

    reasoning: str | None = None
    text: str | None = None
    calls: list[PlannedCall] = field(default_factory=list)


@dataclass
class TurnPlan:
    steps: list[Step]


def input_text(messages: Sequence[InputMessage]) -> str:
    """The text of the last user message: what triggers look at and the reply quotes."""
    for message in reversed(messages):
        if isinstance(message, MessageCreate) and message.role == "user":
            if isinstance(message.content, str):
                return message.content
            return " ".join(part.text for part in message.content if isinstance(part, TextContent))
    return ""


def tool_result(call: PlannedCall) -> str:
    """What a server tool returns: fixed text for the documented example tools, an echo otherwise."""
    if call.name in _CANNED_RESULTS:
        return _CANNED_RESULTS[call.name]
    return json.dumps({"tool": call.name, "arguments": json.loads(call.arguments or "{}"), "status": "ok"})


_CANNED_RESULTS = {
    "weather": "Sunny, 24 C",
    "get_weather": "Sunny, 24 C",
    "web_search": "Top result: Letta is a platform for stateful agents.",
    "delete_file": "Deleted.",
}


def plan_reply(messages: Sequence[InputMessage], client_tools: Sequence[ClientToolSchema] | None) -> TurnPlan:
    """The default agent's plan for one turn."""
    if any(isinstance(m, ApprovalCreate | ToolReturnCreate) for m in messages):
        # Continuing after tool results: the caller emits the returns; the agent then answers.
        return TurnPlan([Step(reasoning="The tool results are in; I can answer now.", text=_after_tools(messages))])
    text = input_text(messages)
    command, _, rest = text.strip().partition(" ")
    offered = {tool.name for tool in client_tools or ()}
    if command == "/tool":
        name, arguments = _name_and_arguments(rest, default="web_search")
        kind: CallKind = "client" if name in offered else "server"
        return _tool_plan([PlannedCall(name, arguments, kind)])
    if command == "/approve":
        name, arguments = _name_and_arguments(rest, default="delete_file")
        return _tool_plan([PlannedCall(name, arguments, "client" if name in offered else "approval")])
    if command == "/steps":
        count = int(rest) if rest.strip().isdigit() else 2
        steps = [
            Step(reasoning=f"Step {i + 1}: I need more information.", calls=[_search_call(i)]) for i in range(count)
        ]
        return TurnPlan([*steps, Step(reasoning="I have what I need.", text=f"Done after {count} tool calls.")])
    if not text:
        return TurnPlan(
            [Step(reasoning="No new input; I will greet the user.", text="Hello! How can I help you today?")]
        )
    snippet = text if len(text) <= 80 else text[:77] + "..."
    return TurnPlan([Step(reasoning=f'The user wrote "{snippet}". I will answer directly.', text=f"You said: {text}")])


def _tool_plan(calls: list[PlannedCall]) -> TurnPlan:
    names = ", ".join(call.name for call in calls)
    first = Step(reasoning=f"I should call {names}.", calls=calls)
    if any(call.kind != "server" for call in calls):
        return TurnPlan([first])  # the turn stops for approval; the reply comes with the continuation
    return TurnPlan([first, Step(reasoning="I have the result.", text=f"{names} returned: {tool_result(calls[0])}")])


def _search_call(index: int) -> PlannedCall:
    return PlannedCall("web_search", json.dumps({"query": f"step {index + 1}"}))


def _name_and_arguments(rest: str, *, default: str) -> tuple[str, str]:
    name, _, raw = rest.strip().partition(" ")
    name = name or default
    raw = raw.strip()
    if raw:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = {"input": " ".join(shlex.split(raw)) if raw.count('"') % 2 == 0 else raw}
        if not isinstance(value, dict):
            value = {"input": value}
    else:
        value = {}
    return name, json.dumps(value)


def _after_tools(messages: Sequence[InputMessage]) -> str:
    denied = [
        approval
        for message in messages
        if isinstance(message, ApprovalCreate)
        for approval in message.approvals or ()
        if getattr(approval, "approve", True) is False
    ]
    if denied or any(isinstance(m, ApprovalCreate) and m.approve is False for m in messages):
        return "Understood, I did not run that tool."
    return "The tool finished; here is the result."
