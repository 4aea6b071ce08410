"""All server state — agents, stored messages, conversations, pending approvals, runs and their logs, scripts —
and the one door to it.

Rule: state changes only through a ``Store`` method. Other modules read the records (``records``) and call
these methods; none assigns to a record. A method either fails before it changes anything or completes, so a
refused request never leaves half a turn behind. (``tests/test_architecture.py`` checks that no other module
assigns to a record.)

Open world (the default): every well-formed id names a resource, created empty on first use. Closed world
(``agents`` given): only those agents exist, and unknown agents, runs, messages and cursors are 404.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from mockserver import catalogue
from mockserver.catalogue import Texts
from mockserver.errors import NotFound
from mockserver.models import (
    ApprovalRequestMessage,
    LettaRequestConfig,
    LettaStopReason,
    LettaUsageStatistics,
    Message,
    Run,
    RunStatus,
    StopReasonType,
    SystemMessage,
    ToolCall,
)
from mockserver.paging import UNKNOWN
from mockserver.records import SPENT, AgentRecord, KeepAlive, PendingApproval, RunRecord, StoredMessage
from mockserver.sources import Clock, Ids
from mockserver.wire.ids import derived_uuid4
from mockserver.wire.sse import DONE

__all__ = ["DEFAULT_AGENT_ID", "SYSTEM_PROMPT", "UNKNOWN", "Store"]

DEFAULT_AGENT_ID = "agent-00000000-0000-4000-8000-000000000000"
_RUN_ID = re.compile(r"^(job|run)-[a-fA-F0-9]{8}")
SYSTEM_PROMPT = "You are a helpful assistant. (letta-mock default agent)"


class Store:
    """State of one mock server."""

    def __init__(
        self,
        *,
        seed: int | None = None,
        agents: Iterable[str] | None = None,
        on_growth: Callable[[], None] | None = None,
        growth_every: int = 2000,
    ) -> None:
        self.seed = seed
        self.ids = Ids(seed)
        self.clock = Clock(seed)
        self.known_agents = tuple(agents) if agents is not None else None
        self.closed_world = agents is not None
        # Called every `growth_every` stored messages: `letta-mock serve` freezes what it keeps out of the
        # garbage collector's way there (a process-wide choice, so the process owner makes it, not the store).
        self._on_growth = on_growth
        self._growth_every = growth_every
        self.agents: dict[str, AgentRecord] = {}
        self.messages: dict[str, StoredMessage] = {}
        self.runs: dict[str, RunRecord] = {}
        self.conversations: dict[str, str] = {}  # conv id -> agent id
        self.scripts: dict[str, deque[Any]] = {}  # agent id -> its next turns' controls (admin API)
        self.replay_counts: dict[str, int] = {}  # replay: answers given per recorded exchange group
        self.replay_aliases: dict[str, str] = {}  # replay: a client's ids -> placeholders of normalised fixtures
        self._seq = 0
        for agent_id in self.known_agents or ():
            self._create_agent(agent_id)

    def clear(self) -> None:
        """Forget everything, in place (the admin reset): runs still producing are told to stop first."""
        for record in self.runs.values():
            record.cancel_requested = True
        self.ids, self.clock = Ids(self.seed), Clock(self.seed)  # a seeded mock starts over as it started
        self.agents.clear()
        self.messages.clear()
        self.runs.clear()
        self.conversations.clear()
        self.scripts.clear()
        self.replay_counts.clear()
        self.replay_aliases.clear()
        self._seq = 0
        for agent_id in self.known_agents or ():
            self._create_agent(agent_id)

    # -- agents ---------------------------------------------------------------------------------------------

    def agent(self, agent_id: str, *, not_found: str | None = None) -> AgentRecord:
        """The agent, created on first use in the open world; 404 with ``not_found`` (Letta's text) otherwise."""
        record = self.agents.get(agent_id)
        if record is None:
            if self.closed_world:
                raise NotFound(not_found or Texts.agent_not_found(agent_id))
            record = self._create_agent(agent_id)
        return record

    def _create_agent(self, agent_id: str) -> AgentRecord:
        now = self.clock.now()
        system_id = self.ids.new("message")
        record = AgentRecord(id=agent_id, created_at=now, system_message_id=system_id)
        self.agents[agent_id] = record
        system = SystemMessage(id=system_id, date=now, content=SYSTEM_PROMPT)
        self.add_message(record, system_id, [system], conversation_id=None, run_id=None, created_at=now)
        return record

    def reset_context(self, agent: AgentRecord) -> None:
        """The context window starts over from the system message; stored history stays (wire doc §11)."""
        agent.in_context = [agent.system_message_id]
        agent.summary = None
        agent.pending = None

    def fold_context(self, agent: AgentRecord, summary_id: str, summary: str, kept: Sequence[str] = ()) -> None:
        """After a compaction: the context is the system message, the stored summary, then what was kept."""
        agent.in_context = [agent.system_message_id, summary_id, *kept]
        agent.summary = summary

    def conversation_agent(self, conversation_id: str, agent_id: str | None) -> tuple[AgentRecord, str | None]:
        """Resolve a conversation path id to (agent, conversation id to store; None = default conversation)."""
        if conversation_id == "default":
            return self.agent(agent_id or DEFAULT_AGENT_ID), None
        if conversation_id.startswith("agent-"):  # deprecated form: the agent's default conversation
            return self.agent(conversation_id), None
        owner = self.conversations.get(conversation_id)
        if owner is None:
            if self.closed_world:
                raise NotFound(Texts.conversation_not_found(conversation_id))
            # Open world: a conversation nobody created belongs to an agent derived from its id (or the given one).
            owner = agent_id or f"agent-{derived_uuid4(conversation_id)}"
            self.conversations[conversation_id] = owner
        return self.agent(owner), conversation_id

    # -- approvals ------------------------------------------------------------------------------------------

    def await_approval(self, agent: AgentRecord, request: ApprovalRequestMessage, calls: list[ToolCall]) -> None:
        assert request.run_id is not None
        agent.pending = PendingApproval(request=request, calls=calls, run_id=request.run_id)

    def approvals_answered(self, agent: AgentRecord) -> None:
        agent.pending = None

    # -- messages -------------------------------------------------------------------------------------------

    def add_message(
        self,
        agent: AgentRecord,
        message_id: str,
        items: list[Message],
        *,
        conversation_id: str | None,
        run_id: str | None,
        created_at: datetime,
    ) -> StoredMessage:
        self._seq += 1
        if self._on_growth is not None and self._seq % self._growth_every == 0:
            self._on_growth()
        stored = StoredMessage(message_id, self._seq, agent.id, conversation_id, run_id, created_at, items)
        agent.messages.append(stored)
        agent.item_count += len(items)
        agent.in_context.append(message_id)
        self.messages[message_id] = stored
        if run_id is not None and run_id in self.runs:
            self.runs[run_id].message_ids.append(message_id)
        return stored

    def items_json(self, rows: Iterable[tuple[StoredMessage, int]]) -> bytes:
        """A JSON array of stored items, given as (stored message, item index). Each item is serialised once:
        listing is mostly serialisation (bench/profile_http.py), and a stored item never changes (streams send
        copies)."""
        parts = []
        for stored, index in rows:
            if stored.json is None:
                stored.json = [item.model_dump_json().encode() for item in stored.items]
            parts.append(stored.json[index])
        return b"[" + b",".join(parts) + b"]"

    def cursor(self, message_id: str | None, belongs: Callable[[StoredMessage], bool], not_found: str) -> int | None:
        """The sequence number of a cursor id, None for no cursor, ``UNKNOWN`` for an id that names nothing
        here (404 instead in the closed world)."""
        if message_id is None:
            return None
        stored = self.messages.get(message_id)
        if stored is None or not belongs(stored):
            if self.closed_world:
                raise NotFound(not_found)
            return UNKNOWN
        return stored.seq

    def all_messages(self) -> list[StoredMessage]:
        return sorted(self.messages.values(), key=lambda m: m.seq)

    # -- scripts --------------------------------------------------------------------------------------------

    def set_script(self, agent_id: str, turns: Iterable[Any]) -> None:
        self.scripts[agent_id] = deque(turns)

    def next_scripted(self, agent_id: str) -> Any | None:
        """The agent's next scripted turn, without using it up (see ``use_scripted``)."""
        script = self.scripts.get(agent_id)
        return script[0] if script else None

    def use_scripted(self, agent_id: str) -> None:
        script = self.scripts.get(agent_id)
        if script:
            script.popleft()

    # -- runs -----------------------------------------------------------------------------------------------

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
            if self.closed_world:
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

    def start_run(self, record: RunRecord, task: asyncio.Future[Any] | None = None) -> None:
        """The run is executing (``task``: the turn producing it in the background, kept referenced)."""
        record.run.status = "running"
        if task is not None:
            record.task = task

    def log(self, record: RunRecord, event: Any) -> None:
        """Append a stream chunk to the run's log and wake its readers."""
        record.events.append(event)
        self._wake(record)

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

    # -- replay (mockserver.recording) ----------------------------------------------------------------------

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
        """A turn a fixture answered, kept as if the mock had run it, so that history, runs and approvals agree
        with what was replayed: the run (``events`` its whole log; None while it goes on elsewhere), the
        client's input and the agent's output as stored messages (one already stored is not stored again: a
        repeated answer), and what the agent now waits for."""
        record = self.runs.get(run.id)
        if record is None:
            record = RunRecord(run=run)
            self.runs[run.id] = record
        else:
            record.run = run
        if events is not None:
            record.events = list(events)
            record.finished = True
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
