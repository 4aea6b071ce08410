"""Executing a turn: the agent loop of the mock.

A turn turns a plan (from ``synthesize``) into stored messages and the run's event log. Every way of sending a
message reads that one log: a non-streaming send collects it into a ``LettaResponse``, a stream follows it, a
resumed stream replays it from a ``seq_id``. So what was streamed is what history lists.

Order of a step's items (wire doc §2.3): hidden/visible reasoning, assistant text, one tool_call_message with
the server tool calls, then an approval request for calls that wait on the client; items of one stored message
share its id and get otids 0, 1, 2… Tool results are stored messages of their own. In token mode (§6.3) each
item is sent as chunks that repeat its id and otid and carry only the new fragment.

With all delays zero (the default) a turn never awaits, so it runs atomically; with pacing it yields between
events and checks for cancellation before each one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mockserver.errors import BadRequest, Conflict
from mockserver.ids import approval_request_id, otid_for
from mockserver.models import (
    ApprovalCreate,
    ApprovalRequestMessage,
    ApprovalResponseMessage,
    ApprovalReturn,
    AssistantMessage,
    CompactionStats,
    EventMessage,
    HiddenReasoningMessage,
    ImageContent,
    InputMessage,
    LettaErrorMessage,
    LettaPing,
    LettaResponse,
    LettaStopReason,
    LettaUsageStatistics,
    MessageCreate,
    ReasoningMessage,
    StopReasonType,
    SummaryMessage,
    SystemMessage,
    TextContent,
    ToolCall,
    ToolCallDelta,
    ToolCallMessage,
    ToolReturn,
    ToolReturnCreate,
    ToolReturnMessage,
    UserMessage,
)
from mockserver.store import AgentRecord, KeepAlive, PendingApproval, RunRecord, Store
from mockserver.synthesize import PlannedCall, Step, TurnPlan, tool_result

__all__ = ["ERRORS", "Pace", "TurnOptions", "check_can_send", "run_turn"]

log = logging.getLogger("letta_mock")

PENDING_APPROVAL_TEXT = (
    "CONFLICT: Cannot send a new message: The agent is waiting for approval on a tool call. "
    "Please approve or deny the pending request before continuing."
)
NOTHING_PENDING_TEXT = (
    "Cannot process approval response: No tool call is currently awaiting approval. "
    "Please send a regular message to interact with the agent."
)

# Letta's error types: (stop reason, message) of the in-band error before the first chunk (wire doc §6.5a).
ERRORS: dict[str, tuple[StopReasonType, str]] = {
    "llm_timeout": ("llm_api_error", "The LLM request timed out. Please try again."),
    "llm_rate_limit": (
        "llm_api_error",
        "Rate limit exceeded for LLM model provider. Please wait before making another request.",
    ),
    "llm_authentication": ("llm_api_error", "Authentication failed with the LLM model provider."),
    "llm_empty_response": ("invalid_llm_response", "LLM returned an empty response."),
    "llm_error": ("llm_api_error", "An error occurred with the LLM request."),
    "context_window_overflow_in_system_prompt": (
        "context_window_overflow_in_system_prompt",
        "Compaction failed because the system prompt is too large for the context window.",
    ),
    "internal_error": ("error", "An unknown error occurred with the LLM streaming request."),
    "stream_incomplete": ("error", "Stream ended unexpectedly without a terminal event."),
}
# Stop reasons of a run that finished normally; any other ends the run "failed" (wire doc §2.4).
_COMPLETED = {"end_turn", "max_steps", "tool_rule", "requires_approval"}
_FILTERABLE = {
    "system_message", "user_message", "assistant_message", "reasoning_message", "hidden_reasoning_message",
    "tool_call_message", "tool_return_message", "approval_request_message", "approval_response_message",
    "summary_message", "event_message",
}  # fmt: skip


@dataclass
class Pace:
    """Timing of a stream. All zero by default, so test suites stay fast (``letta-mock serve --pace realistic``
    sets front-end timings through the controls)."""

    first_event_s: float = 0.0
    token_s: float = 0.0
    jitter_s: float = 0.0
    ping_interval_s: float = 20.0  # Letta's keep-alive interval (wire doc §6.4)
    seed: int | None = None


@dataclass
class TurnOptions:
    stream_tokens: bool = False
    include_pings: bool = False
    include_types: Sequence[str] | None = None
    include_compaction_messages: bool = False
    max_steps: int = 50
    pace: Pace = field(default_factory=Pace)


@dataclass
class Answer:
    """A pending tool call answered by the client, and the result it gets."""

    call: PlannedCall
    call_id: str
    status: Literal["success", "error"]
    text: str


class _Cancelled(Exception):
    """Raised inside a paced turn when the run was cancelled; unwinds to the cancellation ending."""


def check_can_send(store: Store, agent: AgentRecord, messages: Sequence[InputMessage]) -> None:
    """Letta's approval rules, checked before a run exists so a refused send changes nothing.

    A plain message while a tool call waits → 409 PENDING_APPROVAL; an answer naming calls the agent is not
    waiting for → 400. An approval when nothing waits is 400 in the closed world; in the open world it names a
    tool call we take to exist, so the turn goes on.
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
    if answers and agent.pending is None and store.closed_world:
        raise BadRequest(NOTHING_PENDING_TEXT)
    if answers and agent.pending is not None:
        # The agent knows what it waits for, so an answer to another call is the client's mistake (any world).
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
    return ids


class _Turn:
    """State of one turn while it runs; ``run_turn`` is the public entry."""

    def __init__(
        self, store: Store, agent: AgentRecord, record: RunRecord, conversation_id: str | None, options: TurnOptions
    ) -> None:
        self.store, self.agent, self.record, self.options = store, agent, record, options
        self.conversation_id = conversation_id
        self.run_id = record.run.id
        self.pace = options.pace
        self.random = random.Random(options.pace.seed) if options.pace.jitter_s else None
        # Cache figures are 0 when the provider reports none, null in token streams (wire doc §18.2).
        zero = None if options.stream_tokens else 0
        self.usage = LettaUsageStatistics(cached_input_tokens=zero, cache_write_tokens=zero, reasoning_tokens=zero)
        self.wanted = set(options.include_types) if options.include_types is not None else None
        self.sent_agent_chunk = False
        self.idle_ms = 0  # milliseconds since the last chunk, for keep-alive pings

    # -- emitting -------------------------------------------------------------------------------------------

    async def emit(self, event: Any, delay: float = 0.0) -> None:
        if self.wanted is not None and getattr(event, "message_type", "") in _FILTERABLE:
            if event.message_type not in self.wanted:
                return
        if delay > 0:
            await self.silence(delay + (self.random.uniform(0, self.pace.jitter_s) if self.random else 0.0))
        if self.record.cancel_requested:
            raise _Cancelled
        self.record.append(event)
        self.idle_ms = 0

    async def silence(self, seconds: float) -> None:
        """Wait ``seconds``, sending a keep-alive ping after every ping interval without a chunk (§6.4).

        Counted in whole milliseconds, so a silence of 60 ms with a 20 ms interval gives exactly three pings.
        """
        remaining = round(seconds * 1000)
        interval = max(round(self.pace.ping_interval_s * 1000), 1)
        while remaining > 0:
            step = min(remaining, interval - self.idle_ms) if self.options.include_pings else remaining
            await asyncio.sleep(step / 1000)
            remaining -= step
            self.idle_ms += step
            if self.record.cancel_requested:
                raise _Cancelled
            if self.options.include_pings and self.idle_ms >= interval:
                self.idle_ms = 0
                if self.record.readers:  # a ping with nobody waiting would only cost memory and time
                    ping = LettaPing(id=self.store.ids.new("ping"), date=self.store.clock.now(), run_id=self.run_id)
                    self.record.append(KeepAlive(ping))

    async def send_item(self, item: Any, fragments: list[Any] | None = None) -> None:
        """A whole item in step mode; in token mode one chunk per fragment (``fragments`` of the item)."""
        first = not self.sent_agent_chunk
        self.sent_agent_chunk = True
        delay = self.pace.first_event_s if first else self.pace.token_s
        if not self.options.stream_tokens or fragments is None:
            await self.emit(item, delay)
            return
        for index, fragment in enumerate(fragments):
            await self.emit(fragment, delay if index == 0 else self.pace.token_s)

    def store_items(self, message_id: str, items: list[Any], created_at: Any) -> None:
        self.store.add_message(
            self.agent, message_id, items, conversation_id=self.conversation_id, run_id=self.run_id,
            created_at=created_at,
        )  # fmt: skip

    # -- inputs ---------------------------------------------------------------------------------------------

    def store_inputs(self, messages: Sequence[InputMessage], first_step_id: str) -> list[Answer]:
        """Store what the client sent; return the tool calls it answered."""
        answered: list[Answer] = []
        for message in messages:
            message_id = self.store.ids.new("message")
            now = self.store.clock.now()
            common = {"id": message_id, "date": now, "run_id": self.run_id}
            item: Any
            if isinstance(message, MessageCreate):
                otid = message.otid or self.store.ids.uuid4()
                if message.role == "user":
                    content = message.content if isinstance(message.content, str) else _user_parts(message.content)
                    item = UserMessage(
                        **common, otid=otid, step_id=first_step_id, name=message.name, sender_id=message.sender_id,
                        content=content,
                    )  # fmt: skip
                elif message.role == "system":
                    item = SystemMessage(**common, otid=otid, content=_plain_text(message.content))
                else:
                    item = AssistantMessage(
                        **common, otid=otid, step_id=first_step_id, content=_plain_text(message.content)
                    )
                self.store_items(message_id, [item], now)
                continue
            approvals = self._approvals(message)
            first = approvals[0] if approvals and isinstance(approvals[0], ApprovalReturn) else None
            item = ApprovalResponseMessage(
                **common, otid=message.otid or self.store.ids.uuid4(), approvals=approvals,
                approve=first.approve if first else None, reason=first.reason if first else None,
                approval_request_id=self.agent.pending.request.id if self.agent.pending else None,
            )  # fmt: skip
            self.store_items(message_id, [item], now)
            answered += [self._answer(a) for a in approvals]
        if answered:
            self.agent.pending = None
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
            text = answer.tool_return
            if not isinstance(text, str):
                text = json.dumps([part.model_dump(mode="json") for part in text])
            planned.kind = "client"
            return Answer(planned, answer.tool_call_id, answer.status, text)
        if answer.approve:
            return Answer(planned, answer.tool_call_id, "success", tool_result(planned))
        reason = f" User reason: {answer.reason}" if answer.reason else ""
        return Answer(planned, answer.tool_call_id, "error", f"Error: request to call tool denied.{reason}")

    # -- steps ----------------------------------------------------------------------------------------------

    async def tool_return(
        self, call: PlannedCall, call_id: str, status: Literal["success", "error"], text: str, step_id: str | None
    ) -> None:
        message_id = self.store.ids.new("message")
        now = self.store.clock.now()
        item = ToolReturnMessage(
            id=message_id, date=now, otid=otid_for(message_id, 0), step_id=step_id, run_id=self.run_id,
            name=None if call.kind == "client" else call.name,  # client-tool returns carry no name (§18.9)
            tool_return=text, status=status, tool_call_id=call_id,
            tool_returns=[ToolReturn(tool_return=text, status=status, tool_call_id=call_id)],
        )  # fmt: skip
        self.store_items(message_id, [item], now)
        await self.send_item(item)  # tool returns arrive whole, also in token mode

    async def step(self, step: Step, index: int, step_id: str) -> StopReasonType | None:
        """Run one step; returns the stop reason if the turn ends here."""
        message_id = self.store.ids.new("message")
        now = self.store.clock.now()
        common = {"id": message_id, "date": now, "step_id": step_id, "run_id": self.run_id}
        items: list[tuple[Any, list[Any] | None]] = []  # (whole item, its token chunks)

        def otid() -> str:
            return otid_for(message_id, len(items))

        if step.hidden_reasoning:
            items.append((HiddenReasoningMessage(**common, otid=otid(), state="omitted"), None))
        if step.reasoning is not None:
            thought = ReasoningMessage(**common, otid=otid(), source="reasoner_model", reasoning=step.reasoning)
            items.append((thought, self._chunks(thought, "reasoning", step.reasoning)))
        if step.text is not None:
            reply = AssistantMessage(**common, otid=otid(), content=step.text)
            items.append((reply, self._chunks(reply, "content", step.text)))
        calls = [ToolCall(name=c.name, arguments=c.arguments, tool_call_id=self._call_id()) for c in step.calls]
        served = [(p, c) for p, c in zip(step.calls, calls, strict=True) if p.kind == "server"]
        waiting = [(p, c) for p, c in zip(step.calls, calls, strict=True) if p.kind != "server"]
        if served:
            calling = ToolCallMessage(**common, otid=otid(), tool_call=served[0][1], tool_calls=[c for _, c in served])
            items.append(
                (calling, _call_chunks(calling, [c for _, c in served]) if self.options.stream_tokens else None)
            )
        self.store_items(message_id, [whole for whole, _ in items], now)
        self._count(step, index)
        for whole, chunks in items:
            await self.send_item(whole, chunks)
        if waiting:
            request_id = approval_request_id(message_id)
            request = ApprovalRequestMessage(
                id=request_id, date=now, otid=request_id, step_id=step_id, run_id=self.run_id,
                tool_call=waiting[0][1], tool_calls=[c for _, c in waiting],
            )  # fmt: skip
            self.store_items(request_id, [request], now)
            self.agent.pending = PendingApproval(request=request, calls=[c for _, c in waiting], run_id=self.run_id)
            await self.send_item(
                request, _call_chunks(request, [c for _, c in waiting]) if self.options.stream_tokens else None
            )
        for planned, call in served:
            await self.tool_return(planned, call.tool_call_id, "success", tool_result(planned), step_id)
        if waiting:
            return "requires_approval"
        return None if step.calls else "end_turn"

    def _chunks(self, item: Any, field: str, text: str) -> list[Any] | None:
        """Token-mode chunks of a text item (only built when tokens stream: they cost a copy each)."""
        if not self.options.stream_tokens:
            return None
        return [item.model_copy(update={field: fragment}) for fragment in _fragments(text)]

    def _item_chunks(self, item: Any) -> list[Any] | None:
        """Token-mode chunks of any agent item: text fields by fragment, tool calls by delta, the rest whole."""
        if isinstance(item, ReasoningMessage):
            return self._chunks(item, "reasoning", item.reasoning)
        if isinstance(item, AssistantMessage) and isinstance(item.content, str):
            return self._chunks(item, "content", item.content)
        if isinstance(item, ToolCallMessage | ApprovalRequestMessage) and isinstance(item.tool_calls, list):
            return _call_chunks(item, item.tool_calls) if self.options.stream_tokens else None
        return None

    def _call_id(self) -> str:
        return "call_" + self.store.ids.uuid4().replace("-", "")[:24]

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

    async def compaction(self) -> None:
        """A context compaction inside the turn (wire doc §2.2, §17.5)."""
        folded = [i for i in self.agent.in_context if i != self.agent.system_message_id]
        summary = f"The conversation so far ({len(folded)} messages) was summarized to fit the context window."
        now = self.store.clock.now()
        message_id = self.store.ids.new("message")
        stats = CompactionStats(
            trigger="post_step_context_check", context_tokens_before=2000 + 40 * len(folded), context_tokens_after=2100,
            context_window=128000, messages_count_before=len(folded) + 1, messages_count_after=2,
        )  # fmt: skip
        if self.options.include_compaction_messages:
            event = EventMessage(
                id=self.store.ids.uuid4(), date=now, run_id=self.run_id, event_type="compaction",
                event_data={"trigger": "post_step_context_check", "context_token_estimate": 2000 + 40 * len(folded),
                            "context_window": 128000},
            )  # fmt: skip
            await self.send_item(event)
            item: Any = SummaryMessage(id=message_id, date=now, otid=otid_for(message_id, 0), run_id=self.run_id,
                                       summary=summary, compaction_stats=stats)  # fmt: skip
        else:
            # Letta still shows the compaction, as a user message carrying the packed summary (§17.5).
            packed = json.dumps({"type": "system_alert", "message": summary})
            item = UserMessage(
                id=message_id, date=now, otid=otid_for(message_id, 0), run_id=self.run_id, content=packed
            )
        self.store_items(message_id, [item], now)
        self.agent.in_context = [self.agent.system_message_id, message_id]
        self.agent.summary = summary
        await self.send_item(item)

    async def replay(self, drawn: LettaResponse) -> StopReasonType:
        """Play a drawn turn as this run: its items get fresh ids (so the same seed twice never collides), this
        run's id and now's date; otids are derived again from the new ids (wire doc §1.4)."""
        groups: list[list[Any]] = []
        for item in drawn.messages:
            if groups and groups[-1][0].id == item.id:
                groups[-1].append(item)
            else:
                groups.append([item])
        previous: str | None = None
        for group in groups:
            message_id = self.store.ids.new("message")
            if group[0].message_type == "approval_request_message" and previous is not None:
                message_id = approval_request_id(previous)  # the assistant message's id minus one (§1.4)
            previous = message_id
            now = self.store.clock.now()
            items = []
            for index, item in enumerate(group):
                otid = message_id if item.message_type == "approval_request_message" else otid_for(message_id, index)
                update = {"id": message_id, "otid": otid, "date": now, "run_id": self.run_id, "seq_id": None}
                items.append(item.model_copy(update=update))
            self.store_items(message_id, items, now)
            for item in items:
                await self.send_item(item, self._item_chunks(item))
                if isinstance(item, ApprovalRequestMessage) and isinstance(item.tool_calls, list):
                    self.agent.pending = PendingApproval(request=item, calls=list(item.tool_calls), run_id=self.run_id)
        stop = drawn.stop_reason.stop_reason
        if stop == "requires_approval" and self.agent.pending is None:
            stop = "end_turn"  # nothing waits: a turn cannot stop for approval without a request
        self.usage = drawn.usage.model_copy(update={"run_ids": None})
        await self.emit(LettaStopReason(stop_reason=stop))
        await self.emit(self.usage)
        await self.emit("[DONE]")
        return stop

    async def fail(self, error_type: str, *, mid: bool) -> StopReasonType:
        """Letta's in-band error: stop reason, then ``event: error`` (§6.5). Mid-stream errors are internal."""
        stop, message = ERRORS[error_type]
        await self.emit(LettaStopReason(stop_reason=stop))
        detail = f"letta-mock: simulated {error_type}"
        if mid:
            error = LettaErrorMessage(
                run_id=self.run_id, error_type="internal_error", message="An error occurred during agent execution.",
                detail=detail,
            )  # fmt: skip
        else:
            error = LettaErrorMessage(
                run_id=self.run_id, error_type=error_type, message=message,
                detail=None if error_type == "stream_incomplete" else detail,
            )  # fmt: skip
        await self.emit(error)
        if not mid:
            await self.emit("[DONE]")  # errors before the first agent chunk still end with [DONE] (§6.6)
        return stop


async def run_turn(
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
    try:
        stop = await _loop(turn, messages, plan)
    except _Cancelled:
        # The step-boundary shape: stop reason, usage, [DONE] (§6.6). Mid-stream cancellation is unconfirmed
        # upstream (§17); this shape is what the wire doc recommends and what both SDKs read to the end.
        stop = "cancelled"
        for event in (LettaStopReason(stop_reason="cancelled"), turn.usage, "[DONE]"):
            record.append(event)
    except Exception:
        # A bug in the mock must not leave a stream hanging: end it as Letta ends an unexpected failure.
        log.exception("letta-mock: turn of run %s failed", record.run.id)
        stop = "error"
        message = "An unknown error occurred with the LLM streaming request."
        record.append(LettaStopReason(stop_reason="error"))
        record.append(LettaErrorMessage(run_id=record.run.id, error_type="internal_error", message=message))
        record.append("[DONE]")
        store.finish_run(record, "failed", "error")
        record.finish()
        raise
    status = "cancelled" if stop == "cancelled" else ("completed" if stop in _COMPLETED else "failed")
    store.finish_run(record, status, stop)  # type: ignore[arg-type]
    if status == "failed" and plan.error is not None:
        record.run.metadata = {**(record.run.metadata or {}), "error": _last_error(record)}
    record.finish()
    return stop


async def _loop(turn: _Turn, messages: Sequence[InputMessage], plan: TurnPlan) -> StopReasonType:
    store, options = turn.store, turn.options
    if options.include_pings:
        # The first chunk of every stream: a ping carrying the run id, so clients can bind to the run (§6.4).
        await turn.emit(LettaPing(id=store.ids.new("ping"), date=store.clock.now(), run_id=turn.run_id))
    if plan.think_ms:
        await turn.silence(plan.think_ms / 1000)
    if plan.error is not None and plan.error.at == "start":
        return await turn.fail(plan.error.error_type, mid=False)
    first_step_id = store.ids.new("step")
    for answer in turn.store_inputs(messages, first_step_id):
        await turn.tool_return(answer.call, answer.call_id, answer.status, answer.text, None)
    if plan.compaction:
        await turn.compaction()
    if plan.arbitrary is not None:
        return await turn.replay(plan.arbitrary)
    stop: StopReasonType = "end_turn"
    for index, step in enumerate(plan.steps):
        if index >= options.max_steps:
            stop = "max_steps"
            break
        # The user's input is stored with the id of the step that consumed it (wire doc §18.3).
        ended = await turn.step(step, index, first_step_id if index == 0 else store.ids.new("step"))
        if plan.error is not None:  # error_at=mid: after the first step's chunks
            return await turn.fail(plan.error.error_type, mid=True)
        if plan.stop_reason is not None:
            stop = plan.stop_reason
            break
        if ended is not None:
            stop = ended
            break
    if stop == "cancelled":
        raise _Cancelled
    await turn.emit(LettaStopReason(stop_reason=stop))
    await turn.emit(turn.usage)
    await turn.emit("[DONE]")
    return stop


def _last_error(record: RunRecord) -> Any:
    for event in reversed(record.events):
        if isinstance(event, LettaErrorMessage):
            return event.model_dump(mode="json")
    return None


def _fragments(text: str) -> list[str]:
    """Token-sized pieces: each word with the space before it, as providers stream them."""
    return re.findall(r"\s*\S+", text) or [text]


def _call_chunks(item: ToolCallMessage | ApprovalRequestMessage, calls: list[ToolCall]) -> list[Any]:
    """Token-mode tool calls: ``ToolCallDelta`` objects (not arrays) in both fields, null keys kept (§18.1).

    The first chunk of a call names it; the rest carry argument fragments that concatenate to its JSON.
    """
    chunks: list[Any] = []
    for call in calls:
        deltas = [ToolCallDelta(name=call.name, arguments=None, tool_call_id=call.tool_call_id)]
        text = call.arguments
        deltas += [
            ToolCallDelta(name=None, arguments=text[i : i + 12], tool_call_id=call.tool_call_id)
            for i in range(0, len(text), 12)
        ]
        chunks += [item.model_copy(update={"tool_call": d, "tool_calls": d}) for d in deltas]
    return chunks


def _plain_text(content: object) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextContent))  # type: ignore[attr-defined]


def _user_parts(parts: Sequence[Any]) -> list[Any]:
    # A user message item shows text and image parts; other part kinds (tool/reasoning content) become text.
    return [
        part
        if isinstance(part, TextContent | ImageContent)
        else TextContent(text=json.dumps(part.model_dump(mode="json")))
        for part in parts
    ]
