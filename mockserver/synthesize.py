"""The default agent: what it says and which tools it calls, decided deterministically from input and controls.

No randomness and no clock: the same input and controls give the same plan. Tools are called only when asked
for (a scenario, or a trigger phrase such as ``/tool weather``), so a client that merely *offers* tools is never
left with a pending approval.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from mockserver.control import ControlError, Controls
from mockserver.models import (
    ApprovalCreate,
    ClientToolSchema,
    InputMessage,
    LettaResponse,
    MessageCreate,
    StopReasonType,
    TextContent,
    ToolReturnCreate,
)

__all__ = ["PlannedCall", "PlannedError", "Step", "TurnPlan", "input_text", "plan_turn", "tool_result"]

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
    hidden_reasoning: bool = False  # an OpenAI reasoning model's omitted reasoning, sent first


@dataclass
class PlannedError:
    error_type: str
    at: Literal["start", "mid"] = "start"


@dataclass
class TurnPlan:
    steps: list[Step]
    stop_reason: StopReasonType | None = None  # forced: the turn ends with it after the first step
    error: PlannedError | None = None
    compaction: bool = False  # a context compaction happens before the first step
    think_ms: int = 0  # silence before the first step (keep-alive pings fill it)
    arbitrary: LettaResponse | None = None  # scenario "arbitrary": a turn drawn by seed from the strategies


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

_LOREM = (
    "Letta agents keep their memory between turns so every reply can build on what came before and the "
    "conversation stays coherent across sessions while tools extend what the agent can do"
).split()


def plan_turn(
    messages: Sequence[InputMessage], client_tools: Sequence[ClientToolSchema] | None, controls: Controls
) -> TurnPlan:
    """The default agent's plan for one turn under ``controls``."""
    if controls.scenario == "arbitrary":
        return TurnPlan(steps=[], arbitrary=_arbitrary_turn(controls), think_ms=controls.get("think_ms", 0))
    plan = TurnPlan(steps=_steps(messages, client_tools, controls))
    plan.stop_reason = controls.stop_reason  # type: ignore[assignment]
    if controls.error is not None:
        plan.error = PlannedError(controls.error, "mid" if controls.error_at == "mid" else "start")
    plan.compaction = controls.scenario == "compaction"
    plan.think_ms = controls.get("think_ms", 0)
    return plan


# Stop reasons of a turn that ends normally: the default of "arbitrary" (errors come from `error=`).
_NORMAL_ENDINGS = ("end_turn", "max_steps", "tool_rule", "requires_approval")


def _arbitrary_turn(controls: Controls) -> LettaResponse:
    """Any valid turn the Hypothesis strategies can draw, the same one for the same ``seed``."""
    try:
        from strategies import example_for_seed, letta_responses
    except ImportError:  # Hypothesis is an optional dependency
        raise ControlError(
            "scenario=arbitrary draws turns with Hypothesis: pip install 'letta-mock[strategies]'"
        ) from None
    reasons = (controls.stop_reason,) if controls.stop_reason else _NORMAL_ENDINGS
    return example_for_seed(letta_responses(stop_reasons=reasons), controls.get("seed", 0))


def _steps(
    messages: Sequence[InputMessage], client_tools: Sequence[ClientToolSchema] | None, controls: Controls
) -> list[Step]:
    if any(isinstance(m, ApprovalCreate | ToolReturnCreate) for m in messages):
        # Continuing after tool results: the returns are emitted from the answers; the agent then replies.
        return [Step(reasoning="The tool results are in; I can answer now.", text=_after_tools(messages))]
    text = input_text(messages)
    words = text.strip().split(" ", 2)
    is_trigger = bool(words and words[0].startswith("/"))
    offered = [tool.name for tool in client_tools or ()]
    scenario = controls.scenario or "reasoning"
    if scenario in ("tool_call", "approval", "client_tool"):
        name, arguments = _name_and_arguments(words[1:] if is_trigger else [], controls.tool)
        if scenario == "client_tool":
            name = (
                controls.tool
                or (words[1] if is_trigger and len(words) > 1 else None)
                or (offered[0] if offered else "get_location")
            )
        default_kind: CallKind = {"tool_call": "server", "approval": "approval", "client_tool": "client"}[scenario]  # type: ignore[assignment]
        kind: CallKind = "client" if name in offered else default_kind
        name = name or {"server": "web_search", "approval": "delete_file", "client": "get_location"}[kind]
        return _tool_steps([PlannedCall(name, arguments, kind)], controls)
    if scenario == "multi_step":
        count = controls.get("steps", 2)
        steps = [Step(reasoning=f"Step {i + 1}: I need more information.", calls=[_search(i)]) for i in range(count)]
        return [*steps, Step(reasoning="I have what I need.", text=controls.reply or f"Done after {count} tool calls.")]
    if scenario == "long":
        count = controls.get("tokens", 300)
        reply = " ".join(_LOREM[i % len(_LOREM)] for i in range(count))
        return [Step(reasoning="This needs a long answer.", text=controls.reply or reply)]
    reply = controls.reply or _echo(text)
    if scenario == "reply":
        return [Step(text=reply)]
    if scenario == "hidden_reasoning":
        return [Step(hidden_reasoning=True, text=reply)]
    return [Step(reasoning=_thought(text), text=reply)]


def _thought(text: str) -> str:
    if not text:
        return "No new input; I will greet the user."
    snippet = text if len(text) <= 80 else text[:77] + "..."
    return f'The user wrote "{snippet}". I will answer directly.'


def _echo(text: str) -> str:
    return f"You said: {text}" if text else "Hello! How can I help you today?"


def _tool_steps(calls: list[PlannedCall], controls: Controls) -> list[Step]:
    names = ", ".join(call.name for call in calls)
    first = Step(reasoning=f"I should call {names}.", calls=calls)
    if any(call.kind != "server" for call in calls):
        return [first]  # the turn stops for approval; the reply comes with the continuation
    return [
        first,
        Step(reasoning="I have the result.", text=controls.reply or f"{names} returned: {tool_result(calls[0])}"),
    ]


def _search(index: int) -> PlannedCall:
    return PlannedCall("web_search", json.dumps({"query": f"step {index + 1}"}))


def _name_and_arguments(words: list[str], tool: str | None) -> tuple[str, str]:
    name = tool or (words[0] if words else "")
    raw = words[1].strip() if len(words) > 1 else ""
    value: object = {}
    if raw:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = {"input": raw}
        if not isinstance(value, dict):
            value = {"input": value}
    return name, json.dumps(value)


def _after_tools(messages: Sequence[InputMessage]) -> str:
    for message in messages:
        if isinstance(message, ApprovalCreate):
            decisions = [getattr(a, "approve", True) for a in message.approvals or ()]
            if message.approve is False or False in decisions:
                return "Understood, I did not run that tool."
    return "The tool finished; here is the result."
