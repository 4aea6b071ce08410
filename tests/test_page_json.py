"""A page's JSON (``Store.page_json``: each stored message's chunk joined as it is kept, when the page lists all of
its items in order) is the array of each listed item's own JSON, byte for byte: for any view, cursor, limit, order,
reversed items and type filter, whether the messages are kept as they were made or packed in blocks; and over HTTP
every listing answers, and the journal keeps, what the per-item path (``Store.item_json``) gives."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import create_app
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


# -- over HTTP: every listing answers, and the journal keeps, what the per-item path gives ------------------------


async def _listings(app: Any) -> list[tuple[str, int, bytes, Any]]:
    """A mix of sends, then every kind of message listing (agent, conversation, run, organization, one message,
    cursors, orders, type filters): each answer's status and bytes, and its journal entry's response as JSON."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        agent = (await client.post("/v1/agents", json={"name": "pages"})).json()["id"]
        conversation = (await client.post("/v1/conversations", params={"agent_id": agent}, json={})).json()["id"]
        for n, scenario in enumerate(["reply", "reasoning", "tool_call", "multi_step", "hidden_reasoning", "long"]):
            await client.post(f"/v1/agents/{agent}/messages", json={"input": f"hello {n}"},
                              headers={"X-Letta-Mock": f"scenario={scenario}; tool_ms=0"})  # fmt: skip
            await client.post(f"/v1/conversations/{conversation}/messages", json={"input": "hi", "streaming": False},
                              headers={"X-Letta-Mock": "scenario=multi_step; tool_ms=0"})  # fmt: skip
        ids = [m["id"] for m in (await client.get(f"/v1/agents/{agent}/messages?limit=1000&order=asc")).json()]
        runs = [r["id"] for r in (await client.get(f"/v1/runs/?agent_id={agent}&limit=1000")).json()]
        queries = [
            "",
            "?limit=10",
            "?order=asc",
            "?limit=4&order=desc",
            f"?after={ids[len(ids) // 2]}",
            f"?before={ids[-3]}&order=asc",
            "?include_return_message_types=assistant_message",
            "?include_return_message_types=reasoning_message&include_return_message_types=tool_call_message",
        ]
        paths = [f"{base}{query}" for base in (f"/v1/agents/{agent}/messages", "/v1/messages/",
                 f"/v1/conversations/{conversation}/messages") for query in queries]  # fmt: skip
        paths += [f"/v1/runs/{run}/messages{query}" for run in runs for query in ("", "?order=desc", "?limit=2")]
        paths += [f"/v1/messages/{message_id}" for message_id in ids[:8]]
        answers = []
        for path in paths:
            answer = await client.get(path)
            entry = (await client.get("/_mock/journal")).json()[-1]
            kept = (await client.get(f"/_mock/journal/{entry['id']}")).json()["response"]
            answers.append((path.replace(agent, "A").replace(conversation, "C"), answer.status_code, answer.content,
                            kept))  # fmt: skip
        return answers


@pytest.mark.parametrize("pack_beyond", [10_000, 0, 5])
async def test_every_listing_answers_and_journals_what_the_per_item_path_gives(
    pack_beyond: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def app() -> Any:
        made = create_app(seed=3)
        made.state.store.pack_beyond, made.state.store.pack_block = pack_beyond, 3
        return made

    joined = await _listings(app())
    monkeypatch.setattr(Store, "page_json", lambda store, page: store.item_json(page.rows()))
    per_item = await _listings(app())
    assert len(joined) > 50
    assert all(status == 200 for _, status, _, _ in joined)
    assert joined == per_item
    for _, _, body, kept in joined:
        assert kept["body"] == json.loads(body)
