"""Letta's approval rules: who may send while tool calls wait, and what the client's answers mean (§5, §6.9)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from mockserver.catalogue import Texts
from mockserver.errors import BadRequest, Conflict
from mockserver.models import ApprovalCreate, ApprovalReturn, InputMessage, ToolReturn, ToolReturnCreate
from mockserver.records import AgentRecord, PendingApproval
from mockserver.rules import Rules
from mockserver.scenarios import PlannedCall, tool_result

__all__ = ["Answer", "answer_for", "check_can_send", "decisions"]


@dataclass
class Answer:
    """A pending tool call answered by the client, and the result it gets."""

    call: PlannedCall
    call_id: str
    status: Literal["success", "error"]
    text: str
    ran: bool = False  # the server ran the tool (an approved call): its return names it, with stdout and stderr


def check_can_send(agent: AgentRecord, messages: Sequence[InputMessage], rules: Rules) -> None:
    """Refuse what Letta refuses, before a run exists, so a refused send changes nothing.

    A plain message while a tool call waits → 409 PENDING_APPROVAL; an answer naming calls the agent is not
    waiting for → 400. An approval when nothing waits is 400 where ``rules.strict_approvals``; in the open world
    it names a tool call we take to exist, so the turn goes on.
    """
    answers = [m for m in messages if isinstance(m, ApprovalCreate | ToolReturnCreate)]
    if agent.pending is not None and not answers:
        pending_id = agent.pending.request.id
        detail = {"code": "PENDING_APPROVAL", "message": Texts.PENDING_APPROVAL, "pending_request_id": pending_id}
        raise Conflict(detail)
    if answers and agent.pending is None and rules.strict_approvals:
        raise BadRequest(Texts.NOTHING_PENDING)
    if answers and agent.pending is not None:
        # The agent knows what it waits for, so an answer to another call is the client's mistake (any world).
        known = {call.tool_call_id for call in agent.pending.calls}
        unknown = [i for i in _answered_ids(answers) if i not in known]
        if unknown:
            raise BadRequest(Texts.invalid_tool_call_ids(unknown, sorted(known)))


def _answered_ids(answers: Sequence[ApprovalCreate | ToolReturnCreate]) -> list[str]:
    ids: list[str] = []
    for answer in answers:
        if isinstance(answer, ToolReturnCreate):
            ids += [r.tool_call_id for r in answer.tool_returns]
        else:
            ids += [a.tool_call_id for a in answer.approvals or ()]
    return ids


def decisions(
    pending: PendingApproval | None, message: ApprovalCreate | ToolReturnCreate
) -> list[ApprovalReturn | ToolReturn]:
    """The client's answers, one per call: tool returns, decisions, or the deprecated single decision, which
    answers every pending call."""
    if isinstance(message, ToolReturnCreate):
        return list(message.tool_returns)
    if message.approvals:
        return list(message.approvals)
    calls = pending.calls if pending else []
    return [
        ApprovalReturn(tool_call_id=call.tool_call_id, approve=bool(message.approve), reason=message.reason)
        for call in calls
    ]


def answer_for(pending: PendingApproval | None, answer: ApprovalReturn | ToolReturn) -> Answer:
    """What an answered call returns: the client's result, the tool's result when approved (what the plan said it
    returns, if it did), a denial text."""
    known = {c.tool_call_id: c for c in pending.calls} if pending else {}
    call = known.get(answer.tool_call_id)
    planned = pending.planned.get(answer.tool_call_id) if pending else None
    if planned is None:
        planned = PlannedCall(call.name if call else "tool", call.arguments if call else "{}")
    if isinstance(answer, ToolReturn):
        text = answer.tool_return
        if not isinstance(text, str):
            text = json.dumps([part.model_dump(mode="json") for part in text])
        client = replace(planned, kind="client", stdout=None, stderr=None)
        return Answer(client, answer.tool_call_id, answer.status, text)
    if answer.approve:
        return Answer(planned, answer.tool_call_id, planned.status, tool_result(planned), ran=True)
    reason = f" User reason: {answer.reason}" if answer.reason else ""
    denied = replace(planned, stdout=None, stderr=None)
    return Answer(denied, answer.tool_call_id, "error", f"Error: request to call tool denied.{reason}")
