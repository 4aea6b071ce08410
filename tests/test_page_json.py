"""A page's JSON (``Store.page_json``: each stored message's chunk joined as it is kept, when the page lists all of
its items in order) is the array of each listed item's own JSON, byte for byte: for any view, cursor, limit, order,
reversed items and type filter, whether the messages are kept as they were made or packed in blocks."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.paging import UNKNOWN, View, page_of
from mockserver.records import StoredMessage
from mockserver.store import Store
from strategies import messages

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)
AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
TYPES = ["user_message", "assistant_message", "reasoning_message", "tool_call_message", "system_message"]


@st.composite
def histories(draw: st.DrawFn) -> tuple[Store, View, list[StoredMessage], dict[str, list[bytes]]]:
    """A store, a view over messages it keeps, all but its newest few packed in blocks (or none: sizes drawn), the
    messages in the view's order, and each one's items' JSON as serialised when they were made."""
    store = Store(seed=1)
    store.pack_beyond, store.pack_block = draw(st.integers(0, 14)), draw(st.integers(1, 4))
    agent = store.agent(AGENT)  # its system message first: not in the views
    batches = draw(st.lists(st.lists(messages(), min_size=1, max_size=3), max_size=12))
    for n, items in enumerate(batches):
        store.add_message(agent, f"message-{n}", items, conversation_id=None, run_id=None, created_at=WHEN)
    stored = agent.messages[1:]
    made = {m.id: [item.model_dump_json().encode() for item in items] for m, items in zip(stored, batches, strict=True)}
    if draw(st.booleans()) and len(stored) >= 2:  # a fork: its system message, what it shares, its own
        split = draw(st.integers(1, len(stored) - 1))
        shared, own = stored[:split], stored[split:]
        return store, View(((own[:1], 0), (shared, 0), (own, 1))), [*own[:1], *shared, *own[1:]], made
    return store, View.of(stored), stored, made


cursors = st.one_of(st.none(), st.just(UNKNOWN), st.integers(0, 14))


@given(histories(), cursors, cursors, st.one_of(st.none(), st.integers(0, 14)), st.sampled_from(["asc", "desc"]),
       st.booleans(), st.booleans(), st.one_of(st.none(), st.lists(st.sampled_from(TYPES), max_size=3)))  # fmt: skip
def test_a_page_s_json_is_its_items_json_joined(history: Any, after: int | None, before: int | None,
                                                    limit: int | None, order: Any, chronological: bool,
                                                    reverse_items: bool, types: list[str] | None) -> None:  # fmt: skip
    store, view, _, made = history
    found = page_of(view, after=after, before=before, limit=limit, order=order, chronological=chronological,
                    reverse_items=reverse_items, types=types)  # fmt: skip
    expected = b"[" + b",".join(made[m.id][i] for m, i in found.rows()) + b"]"
    assert store.items_json(found) == expected == store.items_json(found.rows())
    assert b"[" + b",".join(store.page_json(found)) + b"]" == expected
    assert len(json.loads(expected)) == len(found.rows())


@given(histories())
def test_every_stored_message_gives_its_items_json_packed_or_not(history: Any) -> None:
    _, _, stored, made = history
    for message in stored:
        assert list(message.json) == made[message.id]
        assert [item.model_dump_json().encode() for item in message.items] == made[message.id]
