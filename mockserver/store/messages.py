"""Stored messages: adding them (to an agent's history, a conversation's and a run's), listing them as JSON,
resolving cursors. ``limit`` and the cursors count stored messages, not the items they expand into (wire doc §8)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mockserver.errors import NotFound
from mockserver.models import Message
from mockserver.paging import UNKNOWN, View
from mockserver.records import AgentRecord, PackedJson, StoredMessage
from mockserver.store.state import ZDICT_SIZE, State

__all__ = ["MessageStore"]


class MessageStore(State):
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
        # Appended everywhere it is listed from: seq only grows, so each of these stays sorted (``paging.View``).
        agent.messages.append(stored)
        agent.by_conversation.setdefault(conversation_id, []).append(stored)
        self.sequence.append(stored)
        self.by_conversation.setdefault(conversation_id, []).append(stored)
        agent.item_count += len(stored.types)
        if stored.types and stored.types[0] == "system_message":
            agent.system_count += 1
        self.messages[message_id] = stored
        if len(self.sequence) > self.pack_beyond:
            self._pack(self.sequence[-self.pack_beyond - 1])
        conversation = self.conversations.get(conversation_id) if conversation_id is not None else None
        if conversation is not None and conversation.created:
            # A conversation a client created has a context window of its own (its system message first).
            conversation.in_context.append(message_id)
            if stored.types[0] != "system_message":
                conversation.last_message_at = conversation.updated_at = created_at
        else:
            agent.in_context.append(message_id)
        run = self.runs.get(run_id) if run_id is not None else None
        if run is not None:
            run.messages.append(stored)
        return stored

    def item_json(self, rows: Iterable[tuple[StoredMessage, int]]) -> list[bytes]:
        """Each stored item's JSON, given as (stored message, item index): the bytes made when it was stored
        (listing is mostly joining them; the bytes are the record, so no listing serialises anything). A packed
        message is unpacked once for all its items."""
        parts = []
        last: StoredMessage | None = None
        unpacked: list[bytes] = []
        for stored, index in rows:
            json = stored.json
            if isinstance(json, tuple):
                parts.append(json[index])
                continue
            if stored is not last:
                last, unpacked = stored, json.unpacked()
            parts.append(unpacked[index])
        return parts

    def _pack(self, stored: StoredMessage) -> None:
        """Keep an old stored message's JSON compressed (``records.PackedJson``), against a dictionary made of the
        first items this store packs and those stored after them (typical items: their keys, types, the agent's id,
        the date's prefix)."""
        json = stored.json
        if not isinstance(json, tuple):
            return
        if self._zdict is None:
            start = self.sequence.index(stored)
            sample = [part for m in self.sequence[start : start + 8] for part in m.json]
            self._zdict = b"".join(sample)[-ZDICT_SIZE:]
        stored.json = PackedJson(json, self._zdict)

    def items_json(self, rows: Iterable[tuple[StoredMessage, int]]) -> bytes:
        """A JSON array of stored items (``item_json``)."""
        return b"[" + b",".join(self.item_json(rows)) + b"]"

    def cursor(self, message_id: str | None, view: View, not_found: str) -> int | None:
        """The sequence number of a cursor id, None for no cursor, ``UNKNOWN`` for an id that names nothing
        in ``view`` (404 instead in the closed world)."""
        if message_id is None:
            return None
        stored = self.messages.get(message_id)
        if stored is None or stored not in view:
            if self.closed_world:
                raise NotFound(not_found)
            return UNKNOWN
        return stored.seq

    def _forget_messages(self, agent: AgentRecord) -> None:
        """An agent's history is gone (the agent was deleted). The organization-wide sequences are rebuilt
        without it: a deletion is rare, a listing is not."""
        for stored in agent.messages:
            self.messages.pop(stored.id, None)
        gone = agent.id
        self.sequence[:] = [m for m in self.sequence if m.agent_id != gone]
        for conversation in agent.by_conversation:
            kept = [m for m in self.by_conversation.get(conversation, ()) if m.agent_id != gone]
            if kept:
                self.by_conversation[conversation] = kept
            else:
                self.by_conversation.pop(conversation, None)
        agent.messages.clear()
        agent.by_conversation.clear()
