"""All server state: agents, their stored messages, conversations and runs, and Letta's pagination over them.

Rule: every state change goes through a ``Store`` method, and a method either fails before it changes anything
or completes, so a rejected request never leaves half a turn behind.

A *stored message* is Letta's database row; listing expands it into one or more LettaMessage *items* that share
its id (a step's reasoning, assistant text and tool calls are one stored message). ``limit`` and the cursors
count stored messages, not items (wire doc §8).
"""

from __future__ import annotations

import asyncio
import gc
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mockserver.control import Controls
from mockserver.errors import NotFound
from mockserver.ids import Clock, Ids, derived_uuid4
from mockserver.models import (
    ApprovalRequestMessage,
    LettaPing,
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

__all__ = ["AgentRecord", "PendingApproval", "RunRecord", "Store", "StoredMessage", "page"]

Order = Literal["asc", "desc"]
DEFAULT_AGENT_ID = "agent-00000000-0000-4000-8000-000000000000"
_RUN_ID = re.compile(r"^(job|run)-[a-fA-F0-9]{8}")
UNKNOWN = -1  # a cursor naming no message: the page is empty (open world)
SYSTEM_PROMPT = "You are a helpful assistant. (letta-mock default agent)"


@dataclass(eq=False)
class StoredMessage:
    id: str
    seq: int  # global insertion order: the cursor order
    agent_id: str
    conversation_id: str | None
    run_id: str | None
    created_at: datetime
    items: list[Message]


@dataclass
class PendingApproval:
    """Tool calls the agent is waiting on (for a decision, or for a client tool's result)."""

    request: ApprovalRequestMessage
    calls: list[ToolCall]
    run_id: str


@dataclass
class KeepAlive:
    """A keep-alive ping in a run's log. Unlike every other chunk it takes no ``seq_id`` of its own: it carries
    the last one (wire doc §6.4), and a resumed stream skips those sent before its ``starting_after``."""

    ping: LettaPing | None  # None once spent


SPENT = KeepAlive(None)


@dataclass
class AgentRecord:
    id: str
    created_at: datetime
    system_message_id: str
    messages: list[StoredMessage] = field(default_factory=list)
    in_context: list[str] = field(default_factory=list)  # stored ids in the context window, system first
    summary: str | None = None
    pending: PendingApproval | None = None
    last_run_id: str | None = None
    last_stop_reason: StopReasonType | None = None


@dataclass
class RunRecord:
    """A run and the log of every stream chunk it produced, so any reader can replay or follow it."""

    run: Run
    events: list[Any] = field(default_factory=list)  # stream events in order; "[DONE]" is the string
    message_ids: list[str] = field(default_factory=list)  # stored messages of this run, in order
    finished: bool = False
    cancel_requested: bool = False
    task: asyncio.Future[Any] | None = None  # the turn producing a paced stream, kept referenced
    readers: int = 0  # live SSE readers: keep-alive pings are only made for someone waiting
    input_otids: tuple[str, ...] = ()  # otids the client gave its messages: a retry with the same ones re-attaches
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def append(self, event: Any) -> None:
        self.events.append(event)
        self._wake()

    def finish(self) -> None:
        self.finished = True
        self.drop_keepalives()
        self._wake()

    def drop_keepalives(self) -> None:
        """Once a run is over and nobody reads it live, its keep-alive pings are spent: later readers skip them
        (a long silence costs ~0.9 KB a ping). Their places stay, so positions in the log stay valid."""
        if self.finished and not self.readers:
            self.events = [SPENT if isinstance(e, KeepAlive) else e for e in self.events]

    def _wake(self) -> None:
        # Readers wait on `changed`; swap in a fresh Event so each wait sees only later changes.
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()


class Store:
    """State of one mock server.

    Open world (the default): every well-formed id names a resource, created empty on first use. Closed world
    (``agents`` given): only those agents exist, and unknown agents, runs, messages and cursors are 404.
    """

    def __init__(
        self, *, ids: Ids, clock: Clock, agents: Iterable[str] | None = None, freeze_gc_every: int | None = None
    ) -> None:
        self.ids = ids
        self.freeze_gc_every = freeze_gc_every
        self.clock = clock
        self.closed_world = agents is not None
        self.agents: dict[str, AgentRecord] = {}
        self.messages: dict[str, StoredMessage] = {}
        self.runs: dict[str, RunRecord] = {}
        self.conversations: dict[str, str] = {}  # conv id -> agent id
        self.scripts: dict[str, deque[Controls]] = {}  # agent id -> its next turns (admin API)
        self._item_json: dict[int, bytes] = {}  # id(stored item) -> its JSON; stored items never change
        self._seq = 0
        for agent_id in agents or ():
            self._create_agent(agent_id)

    # -- agents ---------------------------------------------------------------------------------------------

    def agent(self, agent_id: str, *, not_found: str | None = None) -> AgentRecord:
        """The agent, created on first use in the open world; 404 with ``not_found`` (Letta's text) otherwise."""
        record = self.agents.get(agent_id)
        if record is None:
            if self.closed_world:
                raise NotFound(not_found or f"Agent with ID {agent_id} not found")
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

    def conversation_agent(self, conversation_id: str, agent_id: str | None) -> tuple[AgentRecord, str | None]:
        """Resolve a conversation path id to (agent, conversation id to store; None = default conversation)."""
        if conversation_id == "default":
            return self.agent(agent_id or DEFAULT_AGENT_ID), None
        if conversation_id.startswith("agent-"):  # deprecated form: the agent's default conversation
            return self.agent(conversation_id), None
        owner = self.conversations.get(conversation_id)
        if owner is None:
            if self.closed_world:
                raise NotFound(f"Conversation with id {conversation_id} not found")
            # Open world: a conversation nobody created belongs to an agent derived from its id (or the given one).
            owner = agent_id or f"agent-{derived_uuid4(conversation_id)}"
            self.conversations[conversation_id] = owner
        return self.agent(owner), conversation_id

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
        if self.freeze_gc_every and self._seq % self.freeze_gc_every == 0:
            # A long-running server keeps everything it stored; full garbage collections over it paused every
            # request for 100-400 ms (bench/profile_http.py). Stored state lives on, so move it out of their way.
            gc.freeze()
        stored = StoredMessage(message_id, self._seq, agent.id, conversation_id, run_id, created_at, items)
        agent.messages.append(stored)
        agent.in_context.append(message_id)
        self.messages[message_id] = stored
        if run_id is not None and run_id in self.runs:
            self.runs[run_id].message_ids.append(message_id)
        return stored

    def items_json(self, items: Sequence[Message]) -> bytes:
        """A JSON array of stored items. Each item is serialised once: listing is mostly serialisation
        (bench/profile_http.py), and a stored item is never modified (streams send copies)."""
        cache = self._item_json
        parts = []
        for item in items:
            key = id(item)
            data = cache.get(key)
            if data is None:
                data = cache[key] = item.model_dump_json().encode()
            parts.append(data)
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
        record = RunRecord(run=run)
        self.runs[run.id] = record
        agent.last_run_id = run.id
        return record

    def run(self, run_id: str) -> RunRecord:
        record = self.runs.get(run_id)
        if record is None:
            if self.closed_world:
                raise NotFound(f"Run not found with id='{run_id}'")
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
        record = RunRecord(run=run, events=[LettaStopReason(stop_reason="end_turn"), LettaUsageStatistics(), "[DONE]"])
        record.finished = True
        self.runs[run_id] = record
        return record

    def finish_run(self, record: RunRecord, status: RunStatus, stop_reason: StopReasonType | None) -> None:
        run = record.run
        if run.status not in ("completed", "failed", "cancelled"):
            run.status = status
            run.stop_reason = stop_reason
            run.completed_at = self.clock.now()
            run.total_duration_ns = int((run.completed_at - run.created_at).total_seconds() * 1e9)
        agent = self.agents.get(run.agent_id)
        if agent is not None and stop_reason is not None:
            agent.last_stop_reason = stop_reason

    def active_runs(self, agent: AgentRecord) -> list[RunRecord]:
        return [r for r in self.runs.values() if r.run.agent_id == agent.id and r.run.status in ("created", "running")]

    # -- whole-store operations -----------------------------------------------------------------------------

    def all_messages(self) -> list[StoredMessage]:
        return sorted(self.messages.values(), key=lambda m: m.seq)


def page(
    stored: Sequence[StoredMessage],
    *,
    after: int | None,
    before: int | None,
    limit: int | None,
    order: Order,
    chronological: bool,
    reverse_items: bool = False,
    types: Sequence[str] | None = None,
) -> list[Message]:
    """Letta's cursor pagination over stored messages (already in sequence order).

    ``after``/``before`` are sequence numbers from ``Store.cursor``; ``order`` picks whether the newest or the
    oldest ``limit`` stored messages are taken. ``chronological`` returns them oldest first whatever ``order``
    says (agent history, wire doc §8); otherwise they come in ``order``, and ``reverse_items`` also reverses the
    items of each stored message when descending (runs do, §13.2; conversations do not, §14).
    """
    if UNKNOWN in (after, before):
        return []
    rows = [m for m in stored if (after is None or m.seq > after) and (before is None or m.seq < before)]
    count = max(limit if limit is not None else 100, 0)
    rows = (rows[-count:] if count else []) if order == "desc" else rows[:count]
    if order == "desc" and not chronological:
        items = [item for m in reversed(rows) for item in (reversed(m.items) if reverse_items else m.items)]
    else:
        items = [item for m in rows for item in m.items]
    if types is not None:
        wanted = set(types)
        items = [item for item in items if item.message_type in wanted]
    return items
