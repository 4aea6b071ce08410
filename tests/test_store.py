"""The store's own mechanics that no HTTP test can see."""

from __future__ import annotations

import gc

from mockserver.ids import Clock, Ids
from mockserver.models import SystemMessage
from mockserver.store import Store

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"


def _grow(store: Store, count: int) -> None:
    agent = store.agent(AGENT)
    clock = Clock(1)
    for _ in range(count):
        message_id = store.ids.new("message")
        item = SystemMessage(id=message_id, date=clock.now(), content="x")
        store.add_message(agent, message_id, [item], conversation_id=None, run_id=None, created_at=clock.now())


def test_a_long_running_store_moves_what_it_keeps_out_of_full_collections() -> None:
    gc.unfreeze()
    try:
        _grow(Store(ids=Ids(1), clock=Clock(1), freeze_gc_every=3), 4)  # the agent's system message + 4
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_store_in_a_test_process_leaves_the_garbage_collector_alone() -> None:
    gc.unfreeze()
    _grow(Store(ids=Ids(1), clock=Clock(1)), 10)
    assert gc.get_freeze_count() == 0


def test_listed_json_is_each_items_own_json_and_serialising_twice_gives_the_same_bytes() -> None:
    import json

    store = Store(ids=Ids(1), clock=Clock(1))
    _grow(store, 3)
    items = [item for stored in store.agent(AGENT).messages for item in stored.items]
    first = store.items_json(items)
    assert json.loads(first) == [item.model_dump(mode="json") for item in items]
    assert store.items_json(items) == first
    assert store.items_json([]) == b"[]"
