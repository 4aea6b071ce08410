"""The store's own mechanics that no HTTP test can see."""

from __future__ import annotations

import gc
import json

import pytest

from mockserver.models import SystemMessage, Tool
from mockserver.sources import Clock
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
        _grow(Store(seed=1, on_growth=gc.freeze, growth_every=3), 4)  # the agent's system message + 4
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_store_in_a_test_process_leaves_the_garbage_collector_alone() -> None:
    gc.unfreeze()
    _grow(Store(seed=1), 10)
    assert gc.get_freeze_count() == 0


def test_listed_json_is_each_items_own_json_and_a_second_listing_serialises_nothing_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store(seed=1)
    _grow(store, 3)
    rows = [(stored, index) for stored in store.agent(AGENT).messages for index in range(len(stored.items))]
    first = store.items_json(rows)
    assert json.loads(first) == [stored.items[index].model_dump(mode="json") for stored, index in rows]

    def fail(*args: object, **kwargs: object) -> str:
        raise AssertionError("a stored item was serialised twice")

    monkeypatch.setattr(SystemMessage, "model_dump_json", fail)
    assert store.items_json(rows) == first
    assert store.items_json([]) == b"[]"


def test_the_base_tools_made_without_validation_are_what_validation_makes() -> None:
    tools = list(Store(seed=1).tools.values())
    assert tools
    for tool in tools:
        validated = Tool.model_validate(tool.model_dump(include=tool.model_fields_set))
        assert validated.model_fields_set == tool.model_fields_set
        assert list(validated.__dict__.items()) == list(tool.__dict__.items())
        assert validated.model_dump_json() == tool.model_dump_json()
