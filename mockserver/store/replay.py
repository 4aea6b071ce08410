"""Replayed turns (``mockserver.recording``): what a fixture answered, kept as if the mock had run it, so that
history, runs and approvals agree with what was replayed; and the replay's own bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.models import ApprovalRequestMessage, Message, Run, ToolCall
from mockserver.records import AgentRecord, PendingApproval, RunRecord
from mockserver.store.runs import RunStore

__all__ = ["ReplayStore"]


class ReplayStore(RunStore):
    def replay_count(self, group: str) -> int:
        """How many answers a group of identical recorded requests has given (sequences play in order)."""
        return self.replay_counts.get(group, 0)

    def replay_used(self, group: str) -> None:
        self.replay_counts[group] = self.replay_counts.get(group, 0) + 1

    def replay_alias(self, real: str, placeholder: str) -> None:
        """From now on the client's ``real`` value stands for ``placeholder`` in normalised fixtures."""
        self.replay_aliases[real] = placeholder

    def replayed_turn(
        self,
        agent: AgentRecord,
        *,
        conversation_id: str | None,
        run: Run,
        inputs: Sequence[tuple[str, list[Message]]],
        outputs: Sequence[tuple[str, list[Message]]],
        events: Sequence[Any] | None,
        pending: tuple[ApprovalRequestMessage, list[ToolCall]] | None,
        answered: bool,
    ) -> RunRecord:
        """The run (``events`` its whole log; None while it goes on elsewhere), the client's input and the agent's
        output as stored messages (one already stored is not stored again: a repeated answer), and what the agent
        now waits for."""
        record = self.runs.get(run.id)
        if record is None:
            record = RunRecord(live=run)
            self._keep_run(record)
        else:
            self._untrack(record)
            self._unfile(record)
            record.live, record.frozen = run, None
            self._file(record)
            self._track(record)
        if events is not None:
            record.events = list(events)
            record.finished = True
            record.log_dropped = False
            self._keep_log(record)
        agent.last_run_id = run.id
        if run.stop_reason is not None:
            agent.last_stop_reason = run.stop_reason
        for message_id, items in [*inputs, *outputs]:
            if message_id in self.messages or not items:
                continue
            self.add_message(
                agent, message_id, items, conversation_id=conversation_id, run_id=run.id, created_at=items[0].date
            )
        if answered:
            agent.pending = None
        if pending is not None:
            request, calls = pending
            agent.pending = PendingApproval(request=request, calls=calls, run_id=run.id)
        self._wake(record)
        return record
