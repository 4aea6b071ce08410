"""The default agent: the plan of one turn, decided from the input, the controls and the agent's configuration
(no randomness, no clock).

A continuation (the client answered pending tool calls) gets the reply after tools; anything else is planned by
the turn's scenario (``scenarios.SCENARIOS``), then shaped by the controls every scenario shares (a forced stop
reason, a scripted error, a thinking pause) and by the agent:

* its model's reasoning: none (gpt-4o-mini: text only), visible (``reasoning_message``) or hidden (an omitted
  ``hidden_reasoning_message``, OpenAI's reasoning models) — unless the scenario asked for reasoning itself;
* a ``response_format`` JSON schema: the reply is a JSON value valid against it;
* a legacy agent type answering with ``use_assistant_message: false``: the reply is a ``send_message`` tool call;
* its tools: asking for one by name ("call the roll_dice tool with 16 sides") calls it, with arguments valid
  against its schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace

from mockserver import catalogue
from mockserver.control import Controls
from mockserver.models import (
    ApprovalCreate,
    ClientToolSchema,
    InputMessage,
    MessageCreate,
    TextContent,
    Tool,
    ToolReturnCreate,
)
from mockserver.records import AgentProfile
from mockserver.scenarios import DEFAULT_SCENARIO, SCENARIOS, Ask, PlannedCall, PlannedError, Step, ToolSpec, TurnPlan
from mockserver.schema_values import value_for

__all__ = ["input_text", "plan_turn"]

# "Call the roll_dice tool", "use get_weather", "run the lookup": a tool the agent has, asked for by name.
_ASKED_FOR = re.compile(r"\b(?:call|use|run|invoke|execute)\s+(?:the\s+)?([A-Za-z_][\w-]*)", re.IGNORECASE)
_OWN_REASONING = ("reasoning", "hidden_reasoning")  # scenarios that decide the reasoning themselves
_ANSWERS = (ApprovalCreate, ToolReturnCreate)
_NO_PROFILE = AgentProfile()  # an agent nobody configured (never changed: plan_turn only reads it)


def input_text(messages: Sequence[InputMessage]) -> str:
    """The text of the last user message: what triggers look at and the reply quotes."""
    for message in reversed(messages):
        if isinstance(message, MessageCreate) and message.role == "user":
            if isinstance(message.content, str):
                return message.content
            return " ".join(part.text for part in message.content if isinstance(part, TextContent))
    return ""


def plan_turn(
    messages: Sequence[InputMessage],
    client_tools: Sequence[ClientToolSchema] | None,
    controls: Controls,
    *,
    profile: AgentProfile | None = None,
    tools: Sequence[Tool] = (),
    use_assistant_message: bool = True,
) -> TurnPlan:
    """The default agent's plan for one turn under ``controls``, for an agent configured by ``profile``."""
    profile = profile or _NO_PROFILE
    approved = {r.get("tool_name") for r in profile.tool_rules if r.get("type") == "requires_approval"}
    ask = _ask(messages, client_tools, controls, tools, approved)
    if controls.scenario is None and not ask.words and ask.tool is None and ask.tools:
        asked = _asked_for(ask)
        if asked is not None:
            controls = Controls(scenario="tool_call", tool=asked).over(controls)
            ask = _ask(messages, client_tools, controls, tools, approved)
    scenario = SCENARIOS[controls.scenario or DEFAULT_SCENARIO]
    if not scenario.whole_turn and _continues(messages):
        # Continuing after tool results: the returns are emitted from the answers; the agent then replies.
        # A scripted or requested reply is what the agent says then.
        reply = ask.reply or _after_tools(messages)
        plan = TurnPlan([Step(reasoning="The tool results are in; I can answer now.", text=reply)])
    else:
        plan = scenario.plan(ask)
    plan.think_ms = controls.get("think_ms", 0)
    if plan.arbitrary is not None:  # a handed-over turn brings its own ending and shapes
        return plan
    plan.stop_reason = controls.stop_reason  # type: ignore[assignment]
    if controls.error is not None:
        plan.error = PlannedError(controls.error, "mid" if controls.error_at == "mid" else "start")
    if controls.scenario not in _OWN_REASONING:
        reasoned = [_reason_as(step, profile.reasons) for step in plan.steps]
        if reasoned != plan.steps:
            plan = replace(plan, steps=reasoned)
    schema = profile.response_schema
    if schema is not None and controls.reply is None:
        reply = json.dumps(value_for(schema, text=ask.text, seed=controls.seed))
        plan = replace(plan, steps=[replace(s, text=reply) if s.text is not None else s for s in plan.steps])
    if profile.agent_type in catalogue.LEGACY_AGENT_TYPES and not use_assistant_message:
        plan = replace(plan, steps=[_reply_by_tool(step) for step in plan.steps])
    return plan


def _continues(messages: Sequence[InputMessage]) -> bool:
    """The client answers tool calls (approvals, tool returns)."""
    for message in messages:
        if isinstance(message, _ANSWERS):
            return True
    return False


def _ask(
    messages: Sequence[InputMessage],
    client_tools: Sequence[ClientToolSchema] | None,
    controls: Controls,
    tools: Sequence[Tool],
    approved: set[str | None],
) -> Ask:
    text = input_text(messages)
    words = text.strip().split(" ", 2)
    is_trigger = bool(words and words[0].startswith("/"))
    offered: tuple[str, ...] = ()
    specs: tuple[ToolSpec, ...] = ()
    if client_tools or tools:  # most sends offer none and the agent has none
        offered = tuple(tool.name for tool in client_tools or ())
        specs = (
            *(ToolSpec(t.name, t.parameters or {}) for t in client_tools or ()),
            *(_spec(tool, tool.name in approved) for tool in tools if tool.name),
        )
    return Ask(
        text=text,
        words=tuple(words[1:]) if is_trigger else (),
        offered=offered,
        tools=specs,
        tool=controls.tool,
        reply=controls.reply,
        steps=controls.steps,
        tokens=controls.tokens,
        seed=controls.seed,
        stop_reason=controls.stop_reason,
    )


def _spec(tool: Tool, by_rule: bool) -> ToolSpec:
    """A tool's spec; it needs approval by the agent's tool rules or its own default (§6.9)."""
    parameters = (tool.json_schema or {}).get("parameters") or {}
    return ToolSpec(tool.name or "", parameters, needs_approval=by_rule or bool(tool.default_requires_approval))


def _asked_for(ask: Ask) -> str | None:
    """A tool the agent has (or the request offers) that the text asks for by name."""
    known = {spec.name for spec in ask.tools} - {catalogue.ASSISTANT_MESSAGE_TOOL}
    for match in _ASKED_FOR.finditer(ask.text):
        if match.group(1) in known:
            return match.group(1)
    return None


def _reason_as(step: Step, mode: catalogue.Reasoning) -> Step:
    """The step reasoning as the agent's model does: not at all, visibly, or hidden (omitted)."""
    if mode == "none":
        return replace(step, reasoning=None, hidden_reasoning=False)
    if mode == "hidden" and step.reasoning is not None:
        return replace(step, reasoning=None, hidden_reasoning=True)
    return step


def _reply_by_tool(step: Step) -> Step:
    """A legacy agent's reply is a call of its send_message tool, shown as such without use_assistant_message."""
    if step.text is None or step.calls:
        return step
    call = PlannedCall(catalogue.ASSISTANT_MESSAGE_TOOL, json.dumps({"message": step.text}))
    return replace(step, calls=[call], text=None, terminal=True)


def _after_tools(messages: Sequence[InputMessage]) -> str:
    for message in messages:
        if isinstance(message, ApprovalCreate):
            denied = [a for a in message.approvals or () if getattr(a, "approve", True) is False]
            if message.approve is False or denied:
                # A model reads the reason it is given; the agent says it took it in.
                reasons = [r for r in (message.reason, *(getattr(a, "reason", None) for a in denied)) if r]
                return "Understood, I did not run that tool." + "".join(f" Noted: {r}" for r in reasons)
    return "The tool finished; here is the result."
