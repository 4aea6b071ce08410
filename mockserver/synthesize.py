"""The default agent: the plan of one turn, decided from the input and the controls (no randomness, no clock).

A continuation (the client answered pending tool calls) gets the reply after tools; anything else is planned by
the turn's scenario (``scenarios.SCENARIOS``), then shaped by the controls every scenario shares: a forced stop
reason, a scripted error, a thinking pause.
"""

from __future__ import annotations

from collections.abc import Sequence

from mockserver.control import Controls
from mockserver.models import (
    ApprovalCreate,
    ClientToolSchema,
    InputMessage,
    MessageCreate,
    TextContent,
    ToolReturnCreate,
)
from mockserver.scenarios import DEFAULT_SCENARIO, SCENARIOS, Ask, PlannedError, Step, TurnPlan

__all__ = ["input_text", "plan_turn"]


def input_text(messages: Sequence[InputMessage]) -> str:
    """The text of the last user message: what triggers look at and the reply quotes."""
    for message in reversed(messages):
        if isinstance(message, MessageCreate) and message.role == "user":
            if isinstance(message.content, str):
                return message.content
            return " ".join(part.text for part in message.content if isinstance(part, TextContent))
    return ""


def plan_turn(
    messages: Sequence[InputMessage], client_tools: Sequence[ClientToolSchema] | None, controls: Controls
) -> TurnPlan:
    """The default agent's plan for one turn under ``controls``."""
    scenario = SCENARIOS[controls.scenario or DEFAULT_SCENARIO]
    if not scenario.whole_turn and any(isinstance(m, ApprovalCreate | ToolReturnCreate) for m in messages):
        # Continuing after tool results: the returns are emitted from the answers; the agent then replies.
        plan = TurnPlan([Step(reasoning="The tool results are in; I can answer now.", text=_after_tools(messages))])
    else:
        plan = scenario.plan(_ask(messages, client_tools, controls))
    plan.think_ms = controls.get("think_ms", 0)
    if plan.arbitrary is None:  # a handed-over turn brings its own ending
        plan.stop_reason = controls.stop_reason  # type: ignore[assignment]
        if controls.error is not None:
            plan.error = PlannedError(controls.error, "mid" if controls.error_at == "mid" else "start")
    return plan


def _ask(messages: Sequence[InputMessage], client_tools: Sequence[ClientToolSchema] | None, controls: Controls) -> Ask:
    text = input_text(messages)
    words = text.strip().split(" ", 2)
    is_trigger = bool(words and words[0].startswith("/"))
    return Ask(
        text=text,
        words=tuple(words[1:]) if is_trigger else (),
        offered=tuple(tool.name for tool in client_tools or ()),
        tool=controls.tool,
        reply=controls.reply,
        steps=controls.steps,
        tokens=controls.tokens,
        seed=controls.seed,
        stop_reason=controls.stop_reason,
    )


def _after_tools(messages: Sequence[InputMessage]) -> str:
    for message in messages:
        if isinstance(message, ApprovalCreate):
            decisions = [getattr(a, "approve", True) for a in message.approvals or ()]
            if message.approve is False or False in decisions:
                return "Understood, I did not run that tool."
    return "The tool finished; here is the result."
