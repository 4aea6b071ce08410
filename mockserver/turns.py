"""Executing a turn: the agent loop of the mock.

A turn turns a plan (what the agent says, from ``synthesize``) into stored messages and the run's event log.
Every way of sending a message reads that one log: a non-streaming send collects it into a ``LettaResponse``,
a stream follows it, a resumed stream replays it from a ``seq_id``. So what was streamed is what history lists.

Order of a step's items (wire doc §2.3): reasoning, assistant text, one tool_call_message holding the server
tool calls, then an approval request for calls that wait on the client; items of one stored message share its
id and get otids 0, 1, 2… Tool results are stored messages of their own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mockserver.errors import BadRequest, Conflict
from mockserver.ids import approval_request_id, otid_for
from mockserver.models import (
    ApprovalCreate,
    ApprovalRequestMessage,
    ApprovalResponseMessage,
    ApprovalReturn,
    AssistantMessage,
    ImageContent,
    InputMessage,
    LettaPing,
    LettaStopReason,
    LettaUsageStatistics,
    MessageCreate,
    ReasoningMessage,
    StopReasonType,
    SystemMessage,
    TextContent,
    ToolCall,
    ToolCallMessage,
    ToolReturn,
    ToolReturnCreate,
    ToolReturnMessage,
    UserMessage,
)
from mockserver.store import AgentRecord, PendingApproval, RunRecord, Store
from mockserver.synthesize import PlannedCall, Step, TurnPlan, tool_result

__all__ = ["TurnOptions", "check_can_send", "run_turn"]

PENDING_APPROVAL_TEXT = (
    "CONFLICT: Cannot send a new message: The agent is waiting for approval on a tool call. "
    "Please approve or deny the pending request before continuing."
)
NOTHING_PENDING_TEXT = (
    "Cannot process approval response: No tool call is currently awaiting approval. "
    "Please send a regular message to interact with the agent."
)


@dataclass
class Answer:
    """A pending tool call answered by the client, and the result it gets."""

    call: PlannedCall
    call_id: str
    status: Literal["success", "error"]
    text: str


@dataclass
class TurnOptions:
    stream_tokens: bool = False
    include_pings: bool = False
    include_types: Sequence[str] | None = None
    max_steps: int = 50


def check_can_send(store: Store, agent: AgentRecord, messages: Sequence[InputMessage]) -> None:
    """Letta's approval rules, checked before a run exists so a refused send changes nothing.

    A plain message while a tool call waits → 409 PENDING_APPROVAL. An approval when nothing waits is 400 in the
    closed world; in the open world it names a tool call we take to exist, so the turn goes on.
    """
    answers = [m for m in messages if isinstance(m, ApprovalCreate | ToolReturnCreate)]
    if agent.pending is not None and not answers:
        raise Conflict(
            {
                "code": "PENDING_APPROVAL",
                "message": PENDING_APPROVAL_TEXT,
                "pending_request_id": agent.pending.request.id,
            }
        )
    if answers and store.closed_world:
        if agent.pending is None:
            raise BadRequest(NOTHING_PENDING_TEXT)
        known = {call.tool_call_id for call in agent.pending.calls}
        unknown = [i for i in _answered_ids(answers) if i not in known]
        if unknown:
            raise BadRequest(f"Invalid tool call IDs: {unknown}. Expected: {sorted(known)}")


def _answered_ids(answers: Sequence[ApprovalCreate | ToolReturnCreate]) -> list[str]:
    ids: list[str] = []
    for answer in answers:
        if isinstance(answer, ToolReturnCreate):
            ids += [r.tool_call_id for r in answer.tool_returns]
        else:
            ids += [a.tool_call_id for a in answer.approvals or ()]
            if answer.approval_request_id and not answer.approvals:
                ids.append(answer.approval_request_id)
    return ids


class _Turn:
    """State of one turn while it runs; ``run_turn`` is the public entry."""

    def __init__(
        self, store: Store, agent: AgentRecord, record: RunRecord, conversation_id: str | None, options: TurnOptions
    ) -> None:
        self.store, self.agent, self.record, self.options = store, agent, record, options
        self.conversation_id = conversation_id
        self.run_id = record.run.id
        self.usage = LettaUsageStatistics(cached_input_tokens=0, cache_write_tokens=0, reasoning_tokens=0)
        if options.stream_tokens:  # token streams report unknown cache figures as null (wire doc §18.2)
            self.usage = LettaUsageStatistics()
        self.wanted = set(options.include_types) if options.include_types is not None else None

    # -- emitting ----------------------------------------------------------------------------------------

    def emit(self, event: Any) -> None:
        if self.wanted is not None and getattr(event, "message_type", "") in _FILTERABLE:
            if event.message_type not in self.wanted:
                return
        self.record.append(event)

    def store_items(self, message_id: str, items: list[Any], created_at: Any) -> None:
        self.store.add_message(
            self.agent,
            message_id,
            items,
            conversation_id=self.conversation_id,
            run_id=self.run_id,
            created_at=created_at,
        )

    # -- inputs ------------------------------------------------------------------------------------------

    def store_inputs(self, messages: Sequence[InputMessage], first_step_id: str) -> list[Answer]:
        """Store what the client sent; return the tool calls it answered."""
        answered: list[Answer] = []
        for message in messages:
            message_id = self.store.ids.new("message")
            now = self.store.clock.now()
            common = {"id": message_id, "date": now, "run_id": self.run_id}
            if isinstance(message, MessageCreate):
                otid = message.otid or self.store.ids.uuid4()
                item: Any
                if message.role == "user":
                    content = message.content if isinstance(message.content, str) else _user_parts(message.content)
                    item = UserMessage(
                        **common,
                        otid=otid,
                        step_id=first_step_id,
                        name=message.name,
                        sender_id=message.sender_id,
                        content=content,
                    )
                elif message.role == "system":
                    item = SystemMessage(**common, otid=otid, content=_plain_text(message.content))
                else:
                    item = AssistantMessage(
                        **common, otid=otid, step_id=first_step_id, content=_plain_text(message.content)
                    )
                self.store_items(message_id, [item], now)
            else:
                approvals = self._approvals(message)
                first = approvals[0] if approvals else None
                item = ApprovalResponseMessage(
                    **common,
                    otid=message.otid or self.store.ids.uuid4(),
                    approvals=approvals,
                    approve=getattr(first, "approve", None) if isinstance(first, ApprovalReturn) else None,
                    approval_request_id=self.agent.pending.request.id if self.agent.pending else None,
                    reason=getattr(first, "reason", None) if isinstance(first, ApprovalReturn) else None,
                )
                self.store_items(message_id, [item], now)
                answered += [self._answer(a) for a in approvals]
        self.agent.pending = None if answered else self.agent.pending
        return answered

    def _approvals(self, message: ApprovalCreate | ToolReturnCreate) -> list[ApprovalReturn | ToolReturn]:
        if isinstance(message, ToolReturnCreate):
            return list(message.tool_returns)
        if message.approvals:
            return list(message.approvals)
        # Deprecated single-approval form: it answers every pending call.
        pending = self.agent.pending.calls if self.agent.pending else []
        return [
            ApprovalReturn(tool_call_id=call.tool_call_id, approve=bool(message.approve), reason=message.reason)
            for call in pending
        ]

    def _answer(self, answer: ApprovalReturn | ToolReturn) -> Answer:
        pending = {c.tool_call_id: c for c in self.agent.pending.calls} if self.agent.pending else {}
        call = pending.get(answer.tool_call_id)
        planned = PlannedCall(call.name if call else "tool", call.arguments if call else "{}")
        if isinstance(answer, ToolReturn):
            text = (
                answer.tool_return
                if isinstance(answer.tool_return, str)
                else json.dumps([part.model_dump(mode="json") for part in answer.tool_return])
            )
            planned.kind = "client"
            return Answer(planned, answer.tool_call_id, answer.status, text)
        if answer.approve:
            return Answer(planned, answer.tool_call_id, "success", tool_result(planned))
        reason = f" User reason: {answer.reason}" if answer.reason else ""
        return Answer(planned, answer.tool_call_id, "error", f"Error: request to call tool denied.{reason}")

    # -- steps -------------------------------------------------------------------------------------------

    def tool_return(
        self, call: PlannedCall, call_id: str, status: Literal["success", "error"], text: str, step_id: str | None
    ) -> None:
        message_id = self.store.ids.new("message")
        now = self.store.clock.now()
        result = ToolReturn(tool_return=text, status=status, tool_call_id=call_id)
        item = ToolReturnMessage(
            id=message_id,
            date=now,
            otid=otid_for(message_id, 0),
            step_id=step_id,
            run_id=self.run_id,
            # Client-tool returns carry no name (wire doc §18.9).
            name=None if call.kind == "client" else call.name,
            tool_return=text,
            status=status,
            tool_call_id=call_id,
            tool_returns=[result],
        )
        self.store_items(message_id, [item], now)
        self.emit(item)

    def step(self, step: Step, index: int) -> StopReasonType | None:
        """Run one step; returns the stop reason if the turn ends here."""
        step_id = self.store.ids.new("step")
        message_id = self.store.ids.new("message")
        now = self.store.clock.now()
        common = {"id": message_id, "date": now, "step_id": step_id, "run_id": self.run_id}
        items: list[Any] = []
        if step.reasoning is not None:
            items.append(
                ReasoningMessage(
                    **common, otid=otid_for(message_id, len(items)), source="reasoner_model", reasoning=step.reasoning
                )
            )
        if step.text is not None:
            items.append(AssistantMessage(**common, otid=otid_for(message_id, len(items)), content=step.text))
        ids = [f"call_{self.store.ids.uuid4().replace('-', '')[:24]}" for _ in step.calls]
        calls = [
            ToolCall(name=c.name, arguments=c.arguments, tool_call_id=i) for c, i in zip(step.calls, ids, strict=True)
        ]
        served = [(p, c) for p, c in zip(step.calls, calls, strict=True) if p.kind == "server"]
        waiting = [(p, c) for p, c in zip(step.calls, calls, strict=True) if p.kind != "server"]
        if served:
            items.append(
                ToolCallMessage(
                    **common,
                    otid=otid_for(message_id, len(items)),
                    tool_call=served[0][1],
                    tool_calls=[c for _, c in served],
                )
            )
        self.store_items(message_id, items, now)
        self._count(step, index)
        for item in items:
            self.emit(item)
        if waiting:
            request_id = approval_request_id(message_id)
            request = ApprovalRequestMessage(
                id=request_id,
                date=now,
                otid=request_id,
                step_id=step_id,
                run_id=self.run_id,
                tool_call=waiting[0][1],
                tool_calls=[c for _, c in waiting],
            )
            self.store_items(request_id, [request], now)
            self.emit(request)
            self.agent.pending = PendingApproval(
                request=request,
                calls=[c for _, c in waiting],
                client_tools={p.name for p, _ in waiting if p.kind == "client"},
                run_id=self.run_id,
            )
        for planned, call in served:
            self.tool_return(planned, call.tool_call_id, "success", tool_result(planned), step_id)
        if waiting:
            return "requires_approval"
        return None if step.calls else "end_turn"

    def _count(self, step: Step, index: int) -> None:
        # Plausible figures: a system prompt of ~2,000 tokens plus the history, ~4 characters a token.
        history = sum(len(m.items) for m in self.agent.messages)
        prompt = 2000 + 40 * history
        written = len(step.reasoning or "") + len(step.text or "") + sum(len(c.arguments) for c in step.calls)
        completion = 8 + written // 4
        usage = self.usage
        usage.prompt_tokens += prompt
        usage.completion_tokens += completion
        usage.total_tokens += prompt + completion
        usage.step_count = index + 1
        usage.context_tokens = prompt + completion


_FILTERABLE = {
    "system_message",
    "user_message",
    "assistant_message",
    "reasoning_message",
    "hidden_reasoning_message",
    "tool_call_message",
    "tool_return_message",
    "approval_request_message",
    "approval_response_message",
    "summary_message",
    "event_message",
}


def run_turn(
    store: Store,
    agent: AgentRecord,
    record: RunRecord,
    conversation_id: str | None,
    messages: Sequence[InputMessage],
    plan: TurnPlan,
    options: TurnOptions,
) -> StopReasonType:
    """Run a whole turn into ``record``'s log and the store; returns the stop reason."""
    turn = _Turn(store, agent, record, conversation_id, options)
    record.run.status = "running"
    if options.include_pings:
        # The first chunk of every stream: a ping carrying the run id, so clients can bind to the run.
        turn.emit(LettaPing(id=store.ids.new("ping"), date=store.clock.now(), run_id=record.run.id))
    first_step_id = store.ids.new("step")
    for answer in turn.store_inputs(messages, first_step_id):
        turn.tool_return(answer.call, answer.call_id, answer.status, answer.text, None)
    stop: StopReasonType = "end_turn"
    for index, step in enumerate(plan.steps):
        if index >= options.max_steps:
            stop = "max_steps"
            break
        ended = turn.step(step, index)
        if ended is not None:
            stop = ended
            break
    else:
        if not plan.steps:
            stop = "end_turn"
    turn.emit(LettaStopReason(stop_reason=stop))
    turn.emit(turn.usage)
    turn.emit("[DONE]")
    store.finish_run(record, "cancelled" if stop == "cancelled" else "completed", stop)
    record.finish()
    return stop


def _plain_text(content: object) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextContent))  # type: ignore[attr-defined]


def _user_parts(parts: Sequence[Any]) -> list[Any]:
    # A user message item shows text and image parts; other part kinds (tool/reasoning content) become text.
    shown: list[Any] = []
    for part in parts:
        if isinstance(part, TextContent | ImageContent):
            shown.append(part)
        else:
            shown.append(TextContent(text=json.dumps(part.model_dump(mode="json"))))
    return shown
