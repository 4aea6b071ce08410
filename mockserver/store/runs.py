"""Runs: one execution of the agent loop each, with the log of every stream chunk it produced (so any reader can
replay or follow it) and its steps. The open world names a finished empty run for any id nobody started."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from mockserver import catalogue
from mockserver.catalogue import Texts
from mockserver.errors import NotFound
from mockserver.models import (
    LettaRequestConfig,
    LettaStopReason,
    LettaUsageStatistics,
    Run,
    RunStatus,
    Step,
    StopReasonType,
)
from mockserver.records import SPENT, AgentRecord, KeepAlive, RunRecord
from mockserver.store.conversations import ConversationStore
from mockserver.wire.ids import derived_uuid4
from mockserver.wire.sse import DONE

__all__ = ["RunStore"]

_RUN_ID = re.compile(r"^(job|run)-[a-fA-F0-9]{8}")


class RunStore(ConversationStore):
    def new_run(
        self,
        agent: AgentRecord,
        *,
        conversation_id: str | None,
        run_type: str,
        background: bool,
        include_return_message_types: list[Any] | None = None,
        callback_url: str | None = None,
        input_otids: tuple[str, ...] = (),
    ) -> RunRecord:
        run = Run(
            id=self.ids.new("run"),
            created_at=self.clock.now(),
            agent_id=agent.id,
            conversation_id=conversation_id,
            background=background,
            metadata={"run_type": run_type, "lettuce": None},
            request_config=LettaRequestConfig(include_return_message_types=include_return_message_types),
            callback_url=callback_url,
        )
        record = RunRecord(run=run, input_otids=input_otids)
        self.runs[run.id] = record
        agent.last_run_id = run.id
        return record

    def run(self, run_id: str) -> RunRecord:
        record = self.runs.get(run_id)
        if record is None:
            if self.closed_world or run_id in self.deleted:
                raise NotFound(Texts.run_not_found(run_id))
            record = self._synthesize_run(run_id)
        return record

    def _synthesize_run(self, run_id: str) -> RunRecord:
        # Open world: a run nobody started is a finished, empty background run of an agent derived from its id,
        # so that reading it, listing its messages and resuming its stream all succeed and agree.
        agent = self.agent(f"agent-{derived_uuid4(run_id)}")
        now = self.clock.now()
        run = Run(
            # Run.id must match the document's pattern; other ids name a run with an id derived from them.
            id=run_id if _RUN_ID.match(run_id) else f"run-{derived_uuid4(run_id)}",
            status="completed",
            created_at=now,
            completed_at=now,
            agent_id=agent.id,
            background=True,
            metadata={"run_type": "send_message", "lettuce": None},
            request_config=LettaRequestConfig(),
            stop_reason="end_turn",
        )
        events = [LettaStopReason(stop_reason="end_turn"), LettaUsageStatistics(), DONE]
        record = RunRecord(run=run, events=events, finished=True)
        self.runs[run_id] = record
        return record

    def active_runs(self, agent: AgentRecord) -> list[RunRecord]:
        return [r for r in self.runs.values() if r.run.agent_id == agent.id and r.active]

    def delete_run(self, record: RunRecord) -> None:
        self.cancel_run(record)
        self.runs.pop(record.run.id, None)
        self.deleted.add(record.run.id)

    def start_run(self, record: RunRecord, task: asyncio.Future[Any] | None = None) -> None:
        """The run is executing (``task``: the turn producing it in the background, kept referenced)."""
        record.run.status = "running"
        if task is not None:
            record.task = task

    def log(self, record: RunRecord, event: Any) -> None:
        """Append a stream chunk to the run's log and wake its readers."""
        record.events.append(event)
        self._wake(record)

    def add_step(self, record: RunRecord, step: Step) -> None:
        record.steps.append(step)

    def end_run(
        self, record: RunRecord, stop_reason: StopReasonType, *, status: RunStatus | None = None, error: Any = None
    ) -> None:
        """The one way a run ends: its status (from the stop reason unless given), stop reason, completion time,
        ``metadata.error`` when it failed with one; then the log is closed. A run already ended keeps its ending."""
        run = record.run
        if record.active:
            run.status = status or catalogue.run_status(stop_reason)
            run.stop_reason = stop_reason
            run.completed_at = self.clock.now()
            run.total_duration_ns = int((run.completed_at - run.created_at).total_seconds() * 1e9)
            if error is not None:
                run.metadata = {**(run.metadata or {}), "error": error}
            if record.steps:
                record.steps[-1] = record.steps[-1].model_copy(update={"stop_reason": stop_reason})
        agent = self.agents.get(run.agent_id)
        if agent is not None:
            agent.last_stop_reason = stop_reason
        self._close(record)

    def cancel_run(self, record: RunRecord) -> None:
        """Ask a run to stop. An active run ends cancelled; so does one stopped for approval (wire doc §9);
        other finished runs stay as they are."""
        record.cancel_requested = True
        run = record.run
        if record.active or run.stop_reason == "requires_approval":
            run.status = "cancelled"
            run.stop_reason = "cancelled"
            run.completed_at = self.clock.now()
            run.total_duration_ns = int((run.completed_at - run.created_at).total_seconds() * 1e9)
            agent = self.agents.get(run.agent_id)
            if agent is not None:
                agent.last_stop_reason = "cancelled"

    def callback_done(
        self, record: RunRecord, sent_at: datetime, *, status_code: int | None = None, error: str | None = None
    ) -> None:
        run = record.run
        run.callback_sent_at = sent_at
        run.callback_status_code = status_code
        run.callback_error = error

    def reader_attached(self, record: RunRecord) -> None:
        record.readers += 1

    def reader_left(self, record: RunRecord) -> None:
        record.readers -= 1
        self._drop_keepalives(record)

    def _close(self, record: RunRecord) -> None:
        record.finished = True
        self._drop_keepalives(record)
        self._wake(record)

    @staticmethod
    def _drop_keepalives(record: RunRecord) -> None:
        """Once a run is over and nobody reads it live, its keep-alive pings are spent: later readers skip them
        (a long silence costs ~0.9 KB a ping). Their places stay, so positions in the log stay valid."""
        if record.finished and not record.readers:
            record.events = [SPENT if isinstance(e, KeepAlive) else e for e in record.events]

    @staticmethod
    def _wake(record: RunRecord) -> None:
        # Readers wait on `changed`; swap in a fresh Event so each wait sees only later changes.
        changed, record.changed = record.changed, asyncio.Event()
        changed.set()
