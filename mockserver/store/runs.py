"""Runs: one execution of the agent loop each, with the log of every stream chunk it produced (so any reader can
replay or follow it) and its steps. The open world names a finished empty run for any id nobody started."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar, overload

from mockserver import catalogue
from mockserver.catalogue import Texts
from mockserver.errors import NotFound
from mockserver.models import (
    LettaRequestConfig,
    LettaStopReason,
    LettaUsageStatistics,
    Run,
    RunStatus,
    StopReasonType,
)
from mockserver.models._base import trusted  # hot paths: built without validating again (tested both ways)
from mockserver.models.messages import message_adapter
from mockserver.records import (
    SPENT,
    AgentRecord,
    KeepAlive,
    RunRecord,
    StepRecord,
    StoredMessage,
    freeze,
    read_log,
    shared,
    thaw,
)
from mockserver.store.conversations import ConversationStore
from mockserver.wire.ids import derived_uuid4
from mockserver.wire.sse import DONE

__all__ = ["Outcome", "RunStore"]


def _number(record: RunRecord) -> int:
    return record.number


Key = TypeVar("Key")


def _put_in_order(index: dict[Key, dict[str, RunRecord]], key: Key, run_id: str, record: RunRecord) -> None:
    runs = index.get(key)
    if runs is None:
        index[key] = {run_id: record}
        return
    runs.pop(run_id, None)
    last = next(reversed(runs.values()), None)
    runs[run_id] = record
    if last is None or last.number < record.number:
        return  # the usual case: the newest run comes last
    ordered = sorted(runs.values(), key=_number)  # a replayed run that moved
    runs.clear()
    runs.update((r.run.id, r) for r in ordered)


def _drop(index: dict[Key, dict[str, RunRecord]], key: Key, record: RunRecord) -> None:
    runs = index.get(key)
    if runs is not None and runs.pop(record.run.id, None) is not None and not runs:
        del index[key]


_RUN_ID = re.compile(r"^(job|run)-[a-fA-F0-9]{8}")


_STOPS: dict[tuple[Any, Any], tuple[Any, ...]] = {}  # a stop reason's values (``freeze``) by its fields' values


def _frozen_stop(stop: LettaStopReason) -> tuple[Any, ...]:
    """``freeze(stop, share=True)`` without working out its key each time: a stop reason is its two fields, of a
    handful of values (~0.3 us instead of ~4, once per send beyond ``log_bound``)."""
    key = (stop.message_type, stop.stop_reason)
    frozen = _STOPS.get(key)
    if frozen is None:
        frozen = freeze(stop, share=True)
        if len(_STOPS) < 64:
            _STOPS[key] = frozen
    return frozen


class Outcome(Sequence[Any]):
    """What is left of a run's dropped log (``Store.log_bound``): its stored items but the user's input, then its
    stop reason and usage as it logged them, then ``[DONE]``. Items, stop reason and usage are made again when a
    reader asks (a resumed stream, the non-streaming answer): kept as objects they cost more than the stored
    messages they repeat, for every run beyond the bound."""

    __slots__ = ("_messages", "_stop", "_usage")

    def __init__(self, messages: Sequence[StoredMessage], stop: LettaStopReason | None,
                 usage: LettaUsageStatistics | None) -> None:  # fmt: skip
        self._messages = tuple(messages)
        self._stop = None if stop is None else _frozen_stop(stop)
        self._usage = None if usage is None else freeze(usage)

    def _rows(self) -> list[tuple[StoredMessage, int]]:
        return [(m, i) for m in self._messages for i, kind in enumerate(m.types) if kind != "user_message"]

    def _tail(self) -> list[Any]:
        stop = None if self._stop is None else thaw(LettaStopReason, self._stop)
        usage = None if self._usage is None else thaw(LettaUsageStatistics, self._usage)
        return [*(e for e in (stop, usage) if e is not None), DONE]

    def __len__(self) -> int:
        items = sum(1 for m in self._messages for kind in m.types if kind != "user_message")
        return items + (self._stop is not None) + (self._usage is not None) + 1

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        rows = self._rows()
        tail = self._tail()
        whole = len(rows) + len(tail)
        if index < 0:
            index += whole
        if not 0 <= index < whole:
            raise IndexError(index)
        if index >= len(rows):
            return tail[index - len(rows)]
        stored, item = rows[index]
        return message_adapter.validate_json(stored.json[item])

    def __iter__(self) -> Iterator[Any]:
        for stored in self._messages:  # a packed message's block unpacked once for all its items
            for kind, data in zip(stored.types, stored.json, strict=True):
                if kind != "user_message":
                    yield message_adapter.validate_json(data)
        yield from self._tail()


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
        types = include_return_message_types
        run = trusted(
            Run,
            id=self.ids.new("run"),
            created_at=self.clock.now(),
            agent_id=agent.id,
            conversation_id=conversation_id,
            background=background,
            # One metadata and request config for all runs alike (``records.shared``): kept once, frozen for free.
            metadata=shared(("metadata", run_type), lambda: {"run_type": run_type, "lettuce": None}),
            request_config=shared(
                ("request_config", None if types is None else tuple(types)),
                lambda: trusted(LettaRequestConfig, include_return_message_types=types),
            ),
            callback_url=callback_url,
        )
        record = RunRecord(live=run, input_otids=input_otids)
        self._keep_run(record)
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
        record = RunRecord(live=run, events=events, finished=True)
        self._keep_run(record, run_id)
        self._keep_log(record)
        return record

    def active_runs(self, agent: AgentRecord) -> list[RunRecord]:
        """The agent's runs still created or running, oldest first (an index the run methods keep: O(active))."""
        return sorted(self.active.get(agent.id, {}).values(), key=_number)

    def latest_run(self, agent: AgentRecord, conversation_id: str | None) -> RunRecord | None:
        """The agent's latest run in the conversation (None: the default one), if it has any."""
        runs = self.conversation_runs.get((agent.id, conversation_id))
        return next(reversed(runs.values())) if runs else None

    def run_with_otid(self, agent: AgentRecord, conversation_id: str | None, otid: str) -> RunRecord | None:
        """The conversation's latest run among those sent a message with this ``otid`` (the client's own id)."""
        runs = self.conversation_runs.get((agent.id, conversation_id), {})
        return next((r for r in reversed(runs.values()) if otid in r.input_otids), None)

    def all_active_runs(self) -> list[RunRecord]:
        """Every active run, oldest first."""
        return sorted((r for active in self.active.values() for r in active.values()), key=_number)

    def delete_run(self, record: RunRecord) -> None:
        self.cancel_run(record)
        self._untrack(record)
        self._unfile(record)
        self.runs.pop(record.run.id, None)
        self.logged.pop(record.run.id, None)
        self.pinged.discard(record)
        self.deleted.add(record.run.id)

    def start_run(self, record: RunRecord, task: asyncio.Future[Any] | None = None) -> None:
        """The run is executing (``task``: the turn producing it in the background, kept referenced)."""
        self._thaw(record).status = "running"
        if task is not None:
            record.task = task
        self._track(record)

    def log(self, record: RunRecord, event: Any) -> None:
        """Append a stream chunk to the run's log and wake its readers."""
        events = record.events
        if not isinstance(events, list):  # a dropped log's outcome (never seen logged to: kept as it was)
            events = record.events = list(events)
        events.append(event)
        if event.__class__ is KeepAlive:
            self.pinged.add(record)
        self._wake(record)

    def add_step(self, record: RunRecord, step: StepRecord) -> None:
        record.steps.append(step)

    def end_run(
        self, record: RunRecord, stop_reason: StopReasonType, *, status: RunStatus | None = None, error: Any = None
    ) -> None:
        """The one way a run ends: its status (from the stop reason unless given), stop reason, completion time,
        ``metadata.error`` when it failed with one; then the log is closed. A run already ended keeps its ending."""
        run = self._thaw(record)
        if record.active:
            run.status = status or catalogue.run_status(stop_reason)
            run.stop_reason = stop_reason
            run.completed_at = self.clock.now()
            run.total_duration_ns = int((run.completed_at - run.created_at).total_seconds() * 1e9)
            if error is not None:
                run.metadata = {**(run.metadata or {}), "error": error}
            if record.steps:
                record.steps[-1].stop_reason = stop_reason  # in place: a copy's dict costs 1 KB more, kept forever
        self._track(record)
        agent = self.agents.get(run.agent_id)
        if agent is not None:
            agent.last_stop_reason = stop_reason
        self._close(record)

    def cancel_run(self, record: RunRecord) -> None:
        """Ask a run to stop. An active run ends cancelled; so does one stopped for approval (wire doc §9);
        other finished runs stay as they are."""
        record.cancel_requested = True
        run = self._thaw(record)
        if record.active or run.stop_reason == "requires_approval":
            run.status = "cancelled"
            run.stop_reason = "cancelled"
            run.completed_at = self.clock.now()
            run.total_duration_ns = int((run.completed_at - run.created_at).total_seconds() * 1e9)
            agent = self.agents.get(run.agent_id)
            if agent is not None:
                agent.last_stop_reason = "cancelled"
            self._track(record)

    def callback_done(
        self, record: RunRecord, sent_at: datetime, *, status_code: int | None = None, error: str | None = None
    ) -> None:
        run = self._thaw(record)
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
        self._keep_log(record)
        self._wake(record)

    # -- the indexes: the runs in order, the active ones per agent, the finished ones whose logs are kept ----------

    def _keep_run(self, record: RunRecord, run_id: str | None = None) -> None:
        self._runs_kept += 1
        record.number = self._runs_kept
        self.runs[run_id or record.run.id] = record
        self._file(record)
        self._track(record)

    def _file(self, record: RunRecord) -> None:
        """In the indexes of runs by agent and by (agent, conversation), each in the order runs were kept."""
        run = record.run
        _put_in_order(self.agent_runs, run.agent_id, run.id, record)
        _put_in_order(self.conversation_runs, (run.agent_id, run.conversation_id), run.id, record)

    def _unfile(self, record: RunRecord) -> None:
        _drop(self.agent_runs, record.run.agent_id, record)
        _drop(self.conversation_runs, (record.run.agent_id, record.run.conversation_id), record)

    def _track(self, record: RunRecord) -> None:
        """After a run's status may have changed: it is in its agent's active runs exactly while it is active."""
        agent_id, run_id = record.run.agent_id, record.run.id
        if record.active:
            self.active.setdefault(agent_id, {})[run_id] = record
        else:
            self._untrack(record)

    def _untrack(self, record: RunRecord) -> None:
        active = self.active.get(record.run.agent_id)
        if active is not None and active.pop(record.run.id, None) is not None and not active:
            del self.active[record.run.agent_id]

    def _keep_log(self, record: RunRecord) -> None:
        """A finished run's log is kept whole for resumed streams, the last ``log_bound`` finished runs' logs only:
        beyond it the oldest (not one somebody still reads) is cut down to its outcome, which costs nothing the
        store does not hold anyway: the run's stored items, its stop reason, its usage, ``[DONE]``. Its token
        chunks, pings and in-band errors are gone. A resume of it streams that outcome; under server fidelity it
        answers as Letta answers for a run whose stream expired, 410 EXPIRED (wire doc §13.3, ``sending.resume``)."""
        key, logged = record.run.id, self.logged
        logged.pop(key, None)
        logged[key] = record
        for _ in range(len(logged) - self.log_bound):
            key, oldest = logged.popitem(last=False)
            if oldest.readers:  # still being read: it stays, as the newest
                logged[key] = oldest
                continue
            oldest.events = self._outcome(oldest)
            oldest.log_dropped = True
            self._freeze(oldest)

    @staticmethod
    def _freeze(record: RunRecord) -> None:
        """A run long over is kept as its values (``records.freeze``): read, it is made again."""
        if record.live is not None:
            record.frozen, record.live = freeze(record.live), None

    @staticmethod
    def _thaw(record: RunRecord) -> Run:
        """The run as an object to change: a frozen one is made again and kept as an object from then on."""
        if record.live is None:
            record.live, record.frozen = record.run, None
        return record.live

    @staticmethod
    def _outcome(record: RunRecord) -> Outcome:
        """What is left of a dropped log (``Outcome``): its stop reason and usage as it logged them."""
        _, stop, usage = read_log(record.events)
        return Outcome(record.messages, stop, usage)

    def _drop_keepalives(self, record: RunRecord) -> None:
        """Once a run is over and nobody reads it live, its keep-alive pings are spent: later readers skip them
        (a long silence costs ~0.9 KB a ping). Their places stay, so positions in the log stay valid. Only a run
        that logged pings (``pinged``) has any: the others' logs are left as they are."""
        if record.finished and not record.readers and record in self.pinged:
            self.pinged.discard(record)
            if isinstance(record.events, list):  # an Outcome has none
                record.events = [SPENT if isinstance(e, KeepAlive) else e for e in record.events]

    @staticmethod
    def _wake(record: RunRecord) -> None:
        # Readers wait on the Event they took (``RunRecord.changed``): set it and let it go, so the next wait takes
        # a fresh one and sees only later changes. No reader took one: nothing to do (no Event made per write).
        waiting = record.waiting
        if waiting is not None:
            record.waiting = None
            waiting.set()
