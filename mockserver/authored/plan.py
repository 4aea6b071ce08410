"""An authored turn as a plan like any scenario's (``scenarios.TurnPlan``): the engine streams, stores and pauses it
as it does every turn, so token chunking, pings, pacing, faults, filters, background runs and resumes all apply."""

from __future__ import annotations

from collections.abc import Sequence

from mockserver.authored.format import CallSpec, StepSpec, TurnSpec
from mockserver.catalogue import Texts
from mockserver.scenarios import PlannedCall, PlannedError, Step, TurnPlan

__all__ = ["plan_of"]


def plan_of(turn: TurnSpec, *, label: str, tools: Sequence[str] | None) -> TurnPlan:
    """The plan of ``turn``. ``tools``: the server tools of an agent a client created, whose calls of any other
    tool return Letta's error (the turn goes on, as Letta's does); None in the open world, where any name goes."""
    steps = [_step(step, tools) for step in turn.steps]
    error = PlannedError(turn.error.type, turn.error.at) if turn.error is not None else None
    return TurnPlan(
        steps, stop_reason=turn.stop_reason, error=error,  # type: ignore[arg-type]
        ends_after=max(len(steps) - 1, 0), usage=dict(turn.usage) if turn.usage is not None else None, label=label,
        pace=turn.pace.as_dict() or None,
    )  # fmt: skip


def _step(step: StepSpec, tools: Sequence[str] | None) -> Step:
    calls = [_call(call, tools) for call in step.calls]
    return Step(reasoning=step.reasoning, text=step.text, calls=calls, hidden_reasoning=step.hidden_reasoning)


def _call(call: CallSpec, tools: Sequence[str] | None) -> PlannedCall:
    if call.kind == "server" and tools is not None and call.name not in tools:
        return PlannedCall(call.name, call.arguments, call.kind, returns=Texts.unknown_tool(call.name, list(tools)),
                           status="error", call_id=call.id)  # fmt: skip
    return PlannedCall(
        call.name, call.arguments, call.kind, returns=call.returns, status=call.status,
        stdout=list(call.stdout) if call.stdout is not None else None,
        stderr=list(call.stderr) if call.stderr is not None else None, call_id=call.id,
    )  # fmt: skip
