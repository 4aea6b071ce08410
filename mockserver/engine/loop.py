"""The agent loop of the mock: a plan (``synthesize``) becomes stored messages and the run's event log.

Every way of sending reads that one log: a non-streaming send collects it into a ``LettaResponse``, a stream
follows it, a resumed stream replays it from a ``seq_id``. So what was streamed is what history lists.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import mockserver.engine.items as items  # the module itself, not the package that re-exports it
from mockserver.catalogue import ERRORS, ErrorType
from mockserver.engine.approvals import answer_for, decisions
from mockserver.engine.emitter import Cancelled, Emitter
from mockserver.engine.items import Failure
from mockserver.engine.options import TurnOptions
from mockserver.models import (
    ApprovalRequestMessage,
    InputMessage,
    LettaPing,
    LettaResponse,
    LettaStopReason,
    LettaUsageStatistics,
    MessageCreate,
    RunStatus,
    StopReasonType,
    ToolCall,
)
from mockserver.models._base import trusted  # hot paths: built without validating again (tested both ways)
from mockserver.records import AgentRecord, RunRecord
from mockserver.scenarios import PlannedCall, TurnPlan, tool_result
from mockserver.store import Store
from mockserver.wire.ids import approval_request_id, otid_for
from mockserver.wire.sse import DONE

__all__ = ["fail_in_band", "run_turn"]

log = logging.getLogger("letta_mock")


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
    store.start_run(record)
    try:
        stop = await turn.run(messages, plan)
    except Cancelled:
        # The step-boundary shape: stop reason, usage, [DONE] (§6.6). Mid-stream cancellation is unconfirmed
        # upstream (§17); this shape is what the wire doc recommends and what both SDKs read to the end.
        for event in (LettaStopReason(stop_reason="cancelled"), turn.usage, DONE):
            store.log(record, event)
        store.end_run(record, "cancelled")
        return "cancelled"
    except Exception:
        # A bug in the mock must not leave a stream hanging: end it as Letta ends an unexpected failure.
        log.exception("letta-mock: turn of run %s failed", record.run.id)
        fail_in_band(store, record, Failure.of(ERRORS["internal_error"], record.run.id, mid=False, detail=None))
        raise
    error = turn.failure.error.model_dump(mode="json") if turn.failure else None
    status: RunStatus | None = "completed" if options.async_run and turn.failure is None else None  # §2.4
    store.end_run(record, stop, status=status, error=error)
    return stop


def fail_in_band(store: Store, record: RunRecord, failure: Failure, *, ping: bool = False) -> None:
    """End a run failed, its stream carrying the failure (after a first ping, if the stream sends pings)."""
    if ping:
        store.log(record, LettaPing(id=store.ids.new("ping"), date=store.clock.now(), run_id=record.run.id))
    for event in failure.events:
        store.log(record, event)
    store.end_run(record, failure.stop_reason, error=failure.error.model_dump(mode="json"))


class _Turn:
    """One turn while it runs: what it stores and emits, step by step."""

    def __init__(
        self, store: Store, agent: AgentRecord, record: RunRecord, conversation_id: str | None, options: TurnOptions
    ) -> None:
        self.store, self.agent, self.record, self.options = store, agent, record, options
        self.conversation_id = conversation_id
        self.run_id = record.run.id
        self.out = Emitter(store, record, options)
        # Cache figures are 0 when the provider reports none, null in token streams (wire doc §18.2).
        zero = None if options.stream_tokens else 0
        self.usage = trusted(
            LettaUsageStatistics, cached_input_tokens=zero, cache_write_tokens=zero, reasoning_tokens=zero
        )
        self.failure: Failure | None = None

    async def run(self, messages: Sequence[InputMessage], plan: TurnPlan) -> StopReasonType:
        store, options = self.store, self.options
        if options.include_pings:
            # The first chunk of every stream: a ping carrying the run id, so clients can bind to it (§6.4).
            await self.out.emit(LettaPing(id=store.ids.new("ping"), date=store.clock.now(), run_id=self.run_id))
        if plan.think_ms:
            await self.out.silence(plan.think_ms / 1000)
        if plan.error is not None and plan.error.at == "start":
            return await self.fail(ERRORS[plan.error.error_type], mid=False)
        first_step_id = store.ids.new("step")
        await self.take_inputs(messages, first_step_id)
        if plan.compaction:
            await self.compaction()
        if plan.arbitrary is not None:
            return await self.replay(plan.arbitrary)
        stop: StopReasonType = "end_turn"
        for index in range(len(plan.steps)):
            if index >= options.max_steps:
                stop = "max_steps"
                break
            if self.record.cancel_requested:
                raise Cancelled  # between steps, before the next LLM call stores anything (Letta's check)
            # The user's input is stored with the id of the step that consumed it (wire doc §18.3).
            ended = await self.step(plan, index, first_step_id if index == 0 else store.ids.new("step"))
            forced = index >= plan.ends_after
            if plan.error is not None and forced:  # error_at=mid: after the (first) step's chunks
                return await self.fail(ERRORS[plan.error.error_type], mid=True)
            if plan.stop_reason is not None and forced:
                stop = plan.stop_reason
                break
            if ended is not None:
                stop = ended
                break
        if stop == "cancelled":
            raise Cancelled
        if plan.usage is not None and not (self.agent.pending and self.agent.pending.continuation):
            # The turn's own figures, reported by the run that ends it.
            usage = self.usage.model_copy(update=plan.usage)
            if "total_tokens" not in plan.usage:
                usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
            self.usage = usage
        return await self.finish(stop)

    async def finish(self, stop: StopReasonType) -> StopReasonType:
        await self.out.emit(trusted(LettaStopReason, stop_reason=stop))
        await self.out.emit(self.usage)
        await self.out.emit(DONE)
        return stop

    async def fail(self, kind: ErrorType, *, mid: bool) -> StopReasonType:
        """Letta's in-band error (§6.5); after the first step it is the mid-stream error."""
        detail = None if kind.name == "stream_incomplete" and not mid else f"letta-mock: simulated {kind.name}"
        self.failure = Failure.of(kind, self.run_id, mid=mid, detail=detail, nulls=self.options.rules.null_error_fields)
        for event in self.failure.events:
            await self.out.emit(event)
        return self.failure.stop_reason

    def store_items(self, message_id: str, stored: list[Any], created_at: Any) -> None:
        self.store.add_message(
            self.agent, message_id, stored, conversation_id=self.conversation_id, run_id=self.run_id,
            created_at=created_at,
        )  # fmt: skip

    async def take_inputs(self, messages: Sequence[InputMessage], first_step_id: str) -> None:
        """Store what the client sent; answered tool calls then get their returns."""
        store, pending = self.store, self.agent.pending
        answered = []
        for message in messages:
            message_id = store.ids.new("message")
            now = store.clock.now()
            if isinstance(message, MessageCreate):
                otid = message.otid or store.ids.uuid4()
                item = items.input_item(
                    message, message_id=message_id, now=now, run_id=self.run_id, step_id=first_step_id, otid=otid
                )
                self.store_items(message_id, [item], now)
                continue
            given = decisions(pending, message)
            request_id = pending.request.id if pending else None
            if self.options.rules.approval_names_call and given:
                # The real server names the (first) answered tool call there, not the approval request.
                request_id = given[0].tool_call_id
            response = items.approval_response(
                given, message_id=message_id, now=now, run_id=self.run_id, otid=message.otid,
                request_id=request_id,
            )  # fmt: skip
            self.store_items(message_id, [response], now)
            answered += [answer_for(pending, answer) for answer in given]
        if answered:
            store.approvals_answered(self.agent)
        # The returns belong to the step that made the calls (Letta's).
        step_id = pending.request.step_id if pending else None
        for answer in answered:
            await self.tool_return(answer.call, answer.call_id, answer.status, answer.text, step_id, ran=answer.ran)

    async def tool_return(
        self, call: PlannedCall, call_id: str, status: Any, text: str, step_id: str | None, *, ran: bool
    ) -> None:
        message_id = self.store.ids.new("message")
        now = self.store.clock.now()
        item = items.tool_return(
            call, call_id, status, text, message_id=message_id, now=now, run_id=self.run_id, step_id=step_id, ran=ran
        )
        self.store_items(message_id, [item], now)
        # Tool returns arrive whole, also in token mode; a tool that ran is reported even if the run was cancelled
        # meanwhile (Letta stops between steps).
        await self.out.item(item, cancellable=not ran)

    async def step(self, plan: TurnPlan, index: int, step_id: str) -> StopReasonType | None:
        """Run step ``index`` of ``plan``; returns the stop reason if the turn ends here."""
        store, tokens = self.store, self.options.stream_tokens
        step = plan.steps[index]
        message_id = store.ids.new("message")
        now = store.clock.now()
        calls = [ToolCall(name=c.name, arguments=c.arguments, tool_call_id=c.call_id or self._call_id())
                 for c in step.calls]  # fmt: skip
        built = items.step_items(
            step, calls, message_id=message_id, now=now, step_id=step_id, run_id=self.run_id, tokens=tokens
        )
        waiting = [c for _, c in built.waiting]
        request, request_chunks = (None, None) if not waiting else items.approval_request(
            waiting, assistant_id=message_id, now=now, step_id=step_id, run_id=self.run_id, tokens=tokens
        )  # fmt: skip
        if request is not None and not built.served:
            # Letta stores such a step as one message, the approval's: its reasoning and text, then the request.
            self.store_items(request.id, [*items.renamed([w for w, _ in built.items], request.id), request], now)
        else:
            self.store_items(message_id, [whole for whole, _ in built.items], now)
            if request is not None:
                self.store_items(request.id, [request], now)
        prompt, completion = items.count_usage(self.usage, step, index, self.agent.item_count)
        store.add_step(self.record, items.step_record(step_id, self.record, self.agent.profile, prompt, completion))
        for whole, chunks in built.items:
            await self.out.item(whole, chunks)
        if request is not None:
            planned = {call.tool_call_id: p for p, call in built.waiting}
            store.await_approval(self.agent, request, waiting, planned=planned, continuation=plan.after(index))
            await self.out.item(request, request_chunks)
        for planned_call, call in built.served:
            if self.options.pace.tool_s:
                # The tool runs (keep-alive pings fill it) to its end: a cancel takes effect at the next step.
                await self.out.silence(self.options.pace.tool_s, cancellable=False)
            result = tool_result(planned_call)
            await self.tool_return(planned_call, call.tool_call_id, planned_call.status, result, step_id, ran=True)
        if built.waiting:
            return "requires_approval"
        return None if step.calls and not step.terminal else "end_turn"

    def _call_id(self) -> str:
        return "call_" + self.store.ids.uuid4().replace("-", "")[:24]

    async def compaction(self) -> None:
        """A context compaction inside the turn (wire doc §2.2, §17.5)."""
        store = self.store
        folded = len([i for i in self.agent.in_context if i != self.agent.system_message_id])
        now = store.clock.now()
        message_id = store.ids.new("message")
        event_id = store.ids.uuid4() if self.options.include_compaction_messages else None
        shown, summary = items.compaction_items(folded, message_id=message_id, event_id=event_id, now=now,
                                                run_id=self.run_id)  # fmt: skip
        for event in shown[:-1]:
            await self.out.item(event)
        self.store_items(message_id, [shown[-1]], now)
        store.fold_context(self.agent, message_id, summary)
        await self.out.item(shown[-1])

    async def replay(self, drawn: LettaResponse) -> StopReasonType:
        """Play a handed-over turn as this run: its items get fresh ids (so the same seed twice never collides),
        this run's id and now's date; otids are derived again from the new ids (wire doc §1.4)."""
        groups: list[list[Any]] = []
        for item in drawn.messages:
            if groups and groups[-1][0].id == item.id:
                groups[-1].append(item)
            else:
                groups.append([item])
        previous: str | None = None
        tokens = self.options.stream_tokens
        for group in groups:
            message_id = self.store.ids.new("message")
            if group[0].message_type == "approval_request_message" and previous is not None:
                message_id = approval_request_id(previous)  # the assistant message's id minus one (§1.4)
            previous = message_id
            now = self.store.clock.now()
            stored = []
            for index, item in enumerate(group):
                otid = message_id if item.message_type == "approval_request_message" else otid_for(message_id, index)
                update = {"id": message_id, "otid": otid, "date": now, "run_id": self.run_id, "seq_id": None}
                stored.append(item.model_copy(update=update))
            self.store_items(message_id, stored, now)
            for item in stored:
                await self.out.item(item, items.chunks_of(item) if tokens else None)
                if isinstance(item, ApprovalRequestMessage) and isinstance(item.tool_calls, list):
                    self.store.await_approval(self.agent, item, list(item.tool_calls))
        stop = drawn.stop_reason.stop_reason
        if stop == "requires_approval" and self.agent.pending is None:
            stop = "end_turn"  # nothing waits: a turn cannot stop for approval without a request
        self.usage = drawn.usage.model_copy(update={"run_ids": None})
        return await self.finish(stop)
