"""The one call sending makes: how the rules answer this send (``rule_answer``), before its controls are resolved.

A send is answered by the first rule that fits it. An answer to the tool calls an authored turn paused on goes on
with that turn's next steps, unless a follow-up rule (one naming ``kind``, ``tool`` or ``approve``) fits it. Else
synthesis answers (or, with ``on_miss="error"``, a 404 naming the nearest rule and why it did not fit). The answer's
controls (a ``controls`` rule's, or the turn's pacing) sit under the request's header and over everything else; its
plan replaces the scenario's. Nothing is counted until the send is accepted (``take``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request

from mockserver.authored.matching import SendView
from mockserver.authored.plan import plan_of
from mockserver.authored.ruleset import Choice, RuleSet
from mockserver.control import NO_CONTROLS, Controls, parse_controls
from mockserver.engine.approvals import decisions
from mockserver.errors import NotFound
from mockserver.journal import answered_by
from mockserver.models import ApprovalCreate, ApprovalReturn, InputMessage, LettaRequest, ToolReturn, ToolReturnCreate
from mockserver.records import AgentRecord
from mockserver.rules import Rules
from mockserver.scenarios import TurnPlan
from mockserver.store import Store
from mockserver.synthesize import input_text

__all__ = ["RuleAnswer", "RuleMiss", "rule_answer"]


class RuleMiss(NotFound):
    """404: no rule answers the send, and the rules say a miss is an error (``on_miss="error"``)."""


@dataclass
class RuleAnswer:
    name: str | None  # the rule that answers (a continued turn: its rule); None: synthesis answers
    controls: Controls
    plan: TurnPlan | None  # None: the scenarios plan the turn (under ``controls``)
    choice: Choice
    request: Request

    def take(self, controls: Controls) -> TurnPlan | None:
        """The send was accepted: the rules count it, the journal names the rule; the plan, paced by ``controls``
        (the turn's own pacing, or stronger)."""
        self.choice.use()
        if self.name is not None:
            answered_by(self.request.scope, self.name)
        if self.plan is None:
            return None
        return replace(self.plan, think_ms=controls.get("think_ms", 0))


def rule_answer(
    request: Request,
    agent: AgentRecord,
    conversation_id: str | None,
    body: LettaRequest,
    messages: Sequence[InputMessage],
    rules: Rules,
) -> RuleAnswer | None:
    """How the rules answer this send (``rules``: Letta's, for this agent); None when there are no rules and no
    paused authored turn (nothing to do)."""
    ruleset: RuleSet = request.app.state.ruleset
    paused = agent.pending.continuation if agent.pending is not None else None
    if paused is None and ruleset.empty:
        return None
    send = _send(agent, conversation_id, body, messages)
    # An answer to a paused authored turn goes on with that turn, unless a follow-up rule (one that says which
    # answers it takes) fits it: a rule matching any send does not cut the turn short.
    continues = paused is not None and send.kind != "user"
    choice = ruleset.choose(send, follow_ups=continues)
    rule = choice.rule
    if rule is not None:
        spec = rule.spec
        if spec.controls is not None:
            return RuleAnswer(spec.name, spec.controls, None, choice, request)
        turn = spec.turns[min(rule.hits, len(spec.turns) - 1)]  # in order, the last repeating
        plan = plan_of(turn, label=spec.name, tools=_server_tools(request.app.state.store, agent, rules))
        return RuleAnswer(spec.name, turn.pace, plan, choice, request)
    if continues:
        assert paused is not None
        pace = parse_controls(paused.pace) if paused.pace else NO_CONTROLS
        return RuleAnswer(paused.label, pace, paused, choice, request)
    if ruleset.on_miss == "error" and not ruleset.empty:
        raise _miss(ruleset, send)
    return RuleAnswer(None, NO_CONTROLS, None, choice, request)


def _send(
    agent: AgentRecord, conversation_id: str | None, body: LettaRequest, messages: Sequence[InputMessage]
) -> SendView:
    kind, tool, approve = "user", None, None
    answer = next((m for m in messages if isinstance(m, ApprovalCreate | ToolReturnCreate)), None)
    if answer is not None:
        given = decisions(agent.pending, answer)
        first = given[0] if given else None
        kind = "tool_return" if isinstance(answer, ToolReturnCreate) or isinstance(first, ToolReturn) else "approval"
        approve = first.approve if isinstance(first, ApprovalReturn) else None
        calls = {call.tool_call_id: call.name for call in agent.pending.calls} if agent.pending else {}
        tool = calls.get(first.tool_call_id) if first is not None else None

    def fields() -> dict[str, Any]:
        return body.model_dump(mode="json", exclude_unset=True)

    return SendView(agent.id, conversation_id, input_text(messages), kind, tool, approve, fields)


def _server_tools(store: Store, agent: AgentRecord, rules: Rules) -> list[str] | None:
    """The tools the agent has, where it may call no others (``rules.known_tools_only``); None: any."""
    if not rules.known_tools_only:
        return None
    return [store.tools[i].name or "" for i in agent.profile.tool_ids if i in store.tools]


def _miss(rules: RuleSet, send: SendView) -> RuleMiss:
    near = rules.near_miss(send)
    asked = f"a {send.kind} send to {send.conversation_id or send.agent_id}"
    if near is None:
        return RuleMiss(f"letta-mock rules: no rule answers {asked}")
    spec = near.rule.spec
    detail = (f"letta-mock rules: no rule answers {asked}; the nearest is rules[{near.index}] {spec.name!r} "
              f"({spec.source}), which does not match: {near.reason}")  # fmt: skip
    return RuleMiss(detail, near_miss={"rule": spec.name, "index": near.index, "source": spec.source,
                                       "reason": near.reason})  # fmt: skip
