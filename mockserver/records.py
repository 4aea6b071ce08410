"""The records the store keeps: agents, stored messages, pending approvals, runs with their event logs.

Plain data. Other modules read them; only ``Store`` methods change them (see ``store``).

A *stored message* is Letta's database row; listing expands it into one or more LettaMessage *items* that share
its id (a step's reasoning, assistant text and tool calls are one stored message).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mockserver.models import ApprovalRequestMessage, LettaPing, Message, Run, StopReasonType, ToolCall

__all__ = ["SPENT", "AgentRecord", "KeepAlive", "PendingApproval", "RunRecord", "StoredMessage"]


@dataclass(eq=False)
class StoredMessage:
    id: str
    seq: int  # global insertion order: the cursor order
    agent_id: str
    conversation_id: str | None
    run_id: str | None
    created_at: datetime
    items: list[Message]
    json: list[bytes] | None = None  # each item's JSON, made on the first listing (items never change)


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
    item_count: int = 0  # items of all its stored messages (what its prompt size is counted from)
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

    @property
    def active(self) -> bool:
        return self.run.status in ("created", "running")
