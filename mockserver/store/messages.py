"""Stored messages: adding them (to an agent's history, a conversation's and a run's), listing them as JSON,
resolving cursors. ``limit`` and the cursors count stored messages, not the items they expand into (wire doc §8)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import cast, overload

from mockserver.errors import NotFound
from mockserver.models import Message
from mockserver.paging import UNKNOWN, Page, Row, View
from mockserver.records import AgentRecord, StoredMessage, split
from mockserver.store.state import ZDICT_SIZE, State

__all__ = ["MessageStore", "PackedBlock", "PackedJson", "pack"]


class PackedBlock:
    """Old stored messages' JSON, compressed together (a block of consecutive ones) against a dictionary of typical
    items (``zdict``): ~0.6 KB of JSON a message becomes ~0.1 KB (the ids are most of what is left), and packing
    costs ~4 us a message, not the ~12 us of a compressor of its own. Reading a message unpacks its block (~10 us;
    a page of consecutive messages unpacks each block once), so the store packs only messages beyond its newest
    ``State.pack_beyond``: what a client pages through first stays as it is.

    A message's items are kept separated by tabs and the messages by newlines (JSON never holds either raw): its
    chunk is its items with commas for the tabs, and a packed message keeps no item offsets (``StoredMessage.ends``).
    """

    __slots__ = ("_blob", "_zdict")

    def __init__(self, messages: Iterable[Sequence[bytes]], zdict: bytes) -> None:
        # Level 1: against the dictionary it packs a message in ~3.8 us to ~86 bytes; level 6 took ~5 us for ~77.
        packer = zlib.compressobj(1, zlib.DEFLATED, -12, 8, zlib.Z_DEFAULT_STRATEGY, zdict)
        self._blob = packer.compress(b"\n".join(b"\t".join(items) for items in messages)) + packer.flush()
        self._zdict = zdict

    def unpacked(self) -> list[bytes]:
        """Each message's items, separated by tabs."""
        return zlib.decompressobj(-12, self._zdict).decompress(self._blob).split(b"\n")


class PackedJson(Sequence[bytes]):
    """A stored message's item JSON in a ``PackedBlock``: its ``length`` items are the block's ``position``th."""

    __slots__ = ("block", "length", "position")

    def __init__(self, block: PackedBlock, position: int, length: int) -> None:
        self.block = block
        self.position = position
        self.length = length

    def unpacked(self, block: list[bytes] | None = None) -> list[bytes]:
        """Its items (``block``: its block, already unpacked)."""
        kept = (self.block.unpacked() if block is None else block)[self.position]
        return kept.split(b"\t") if self.length else []

    def chunk(self, block: list[bytes] | None = None) -> bytes:
        """Its items joined by commas, as it was kept before it was packed."""
        return (self.block.unpacked() if block is None else block)[self.position].replace(b"\t", b",")

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        return self.unpacked()[index]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.unpacked())


def pack(messages: Sequence[StoredMessage], zdict: bytes) -> list[PackedJson]:
    """The messages' item JSON packed into one block: what each of them keeps instead (in order)."""
    block = PackedBlock([stored.json for stored in messages], zdict)
    return [PackedJson(block, position, len(stored.types)) for position, stored in enumerate(messages)]


_BYTES = {bytes}


class _Chunks:
    """Stored messages' JSON as a page reads it: a packed block unpacked once for all its messages there."""

    __slots__ = ("_block", "_unpacked")

    def __init__(self) -> None:
        self._block: PackedBlock | None = None
        self._unpacked: list[bytes] = []

    def _packed(self, packed: object) -> tuple[PackedJson, list[bytes]]:
        assert isinstance(packed, PackedJson)
        if packed.block is not self._block:
            self._block, self._unpacked = packed.block, packed.block.unpacked()
        return packed, self._unpacked

    def chunk(self, stored: StoredMessage) -> bytes:
        """Its items joined by commas."""
        chunk = stored.chunk
        if isinstance(chunk, bytes):
            return chunk
        packed, block = self._packed(chunk)
        return packed.chunk(block)

    def items(self, stored: StoredMessage) -> Sequence[bytes]:
        """Each of its items."""
        chunk = stored.chunk
        if isinstance(chunk, bytes):
            return split(chunk, stored.ends, len(stored.types))
        packed, block = self._packed(chunk)
        return packed.unpacked(block)


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

    def item_json(self, rows: Iterable[Row]) -> list[bytes]:
        """Each stored item's JSON, given as (stored message, item index): the bytes made when it was stored
        (listing is mostly joining them; the bytes are the record, so no listing serialises anything). A packed
        block is unpacked once for all its items on the page, a stored message split once for all of its."""
        parts = []
        kept = _Chunks()
        last: StoredMessage | None = None
        items: Sequence[bytes] = ()
        for stored, index in rows:
            if stored is not last:
                last, items = stored, kept.items(stored)
            parts.append(items[index])
        return parts

    def page_json(self, page: Page) -> list[bytes]:
        """The JSON of a page's items, as fragments a comma joins into the page's array: on the usual page (each
        message's items, all in order) each message's chunk as it is kept, nothing made per item."""
        messages = page.messages
        if page.whole:
            chunks = cast("list[bytes]", [stored.chunk for stored in messages])  # unless some are packed:
            # none are in a store that never packed (its dictionary is made by the first packing) or, mostly, on a
            # page of a client's recent messages
            if self._zdict is None or set(map(type, chunks)) <= _BYTES:
                return [chunk for chunk in chunks if chunk] if b"" in chunks else chunks
        kept = _Chunks()
        known: dict[tuple[str, ...], tuple[int, ...] | None] = {}
        parts: list[bytes] = []
        for stored in messages:
            kinds = stored.types
            if kinds not in known:
                known[kinds] = None if page.whole else page.selected(kinds)
            chosen = known[kinds]
            if chosen is None:
                chunk = kept.chunk(stored)
                if chunk:
                    parts.append(chunk)
            elif chosen:
                items = kept.items(stored)
                parts.extend(items[index] for index in chosen)
        return parts

    def _pack(self, stored: StoredMessage) -> None:
        """An old stored message is packed (``pack``) with the next ones that grow old, in blocks of
        ``pack_block``, against a dictionary made of the first items this store packs (typical items: their keys,
        types, the agent's id, the date's prefix)."""
        if isinstance(stored.chunk, PackedJson) or any(m is stored for m in self._packing):
            return  # packed, or waiting (a deleted agent's history moved the others back)
        self._packing.append(stored)
        if len(self._packing) < self.pack_block:
            return
        waiting, self._packing = self._packing, []
        if self._zdict is None:
            self._zdict = b"".join(part for m in waiting for part in m.json)[-ZDICT_SIZE:]
        packed = pack(waiting, self._zdict)  # made before any message changes
        for message, json in zip(waiting, packed, strict=True):
            message.chunk, message.ends = json, ()  # a packed message's items are told apart in its block

    def listed_json(self, listed: Page | Iterable[Row]) -> list[bytes]:
        """The JSON of the items listed, as fragments a comma joins: a page's (``page_json``) or the rows'
        (``item_json``)."""
        return self.page_json(listed) if isinstance(listed, Page) else self.item_json(listed)

    def items_json(self, listed: Page | Iterable[Row]) -> bytes:
        """A JSON array of stored items (``listed_json``)."""
        return b"[" + b",".join(self.listed_json(listed)) + b"]"

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
        self._packing = [m for m in self._packing if m.agent_id != gone]
        for conversation in agent.by_conversation:
            kept = [m for m in self.by_conversation.get(conversation, ()) if m.agent_id != gone]
            if kept:
                self.by_conversation[conversation] = kept
            else:
                self.by_conversation.pop(conversation, None)
        agent.messages.clear()
        agent.by_conversation.clear()
