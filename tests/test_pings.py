"""Keep-alive pings keep their schedule when the event loop is busy (thousands of open streams on one process).

No durations are asserted: the waits the emitter asks for are, against a sleep that always wakes late.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from mockserver.engine import emitter as emitter_module
from mockserver.engine.emitter import Emitter
from mockserver.engine.options import Pace, TurnOptions
from mockserver.records import KeepAlive
from mockserver.store import Store

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
INTERVAL_S = 0.2
LATE_S = 0.03  # every wait wakes this much later than asked, as on a loop busy with other streams
SHORT_S = 0.02  # an interval every wait overruns (by LATE_S at least): an overloaded loop


async def test_a_late_wake_up_does_not_delay_the_pings_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(seed=1)
    record = store.new_run(store.agent(AGENT), conversation_id=None, run_type="send_message", background=False)
    store.reader_attached(record)  # pings are sent to readers
    emitter = Emitter(store, record, TurnOptions(include_pings=True, pace=Pace(ping_interval_s=INTERVAL_S)))
    asked: list[float] = []
    sleep = asyncio.sleep

    async def late(delay: float) -> None:
        asked.append(delay)
        await sleep(delay + LATE_S)

    # The emitter's sleep only (the test runner's own waits are not counted).
    monkeypatch.setattr(
        emitter_module, "asyncio", SimpleNamespace(sleep=late, get_running_loop=asyncio.get_running_loop)
    )
    await emitter.silence(4 * INTERVAL_S)

    assert sum(isinstance(event, KeepAlive) for event in record.events) == 4  # as many pings as without lateness
    assert asked[0] == pytest.approx(INTERVAL_S, abs=0.005)
    # Each later wait aims at its planned time: shortened by (at least) the lateness of the one before it.
    assert len(asked) == 4
    assert all(delay <= INTERVAL_S - LATE_S + 0.001 for delay in asked[1:])


async def test_a_wake_up_later_than_an_interval_is_not_made_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # An overloaded loop: the schedule starts again from each wake-up instead of sending the lost pings in a burst.
    store = Store(seed=1)
    record = store.new_run(store.agent(AGENT), conversation_id=None, run_type="send_message", background=False)
    store.reader_attached(record)
    emitter = Emitter(store, record, TurnOptions(include_pings=True, pace=Pace(ping_interval_s=SHORT_S)))
    asked: list[float] = []
    sleep = asyncio.sleep

    async def very_late(delay: float) -> None:
        asked.append(delay)
        await sleep(delay + LATE_S)

    namespace = SimpleNamespace(sleep=very_late, get_running_loop=asyncio.get_running_loop)
    monkeypatch.setattr(emitter_module, "asyncio", namespace)
    await emitter.silence(4 * SHORT_S)

    assert sum(isinstance(event, KeepAlive) for event in record.events) == 4
    assert asked == pytest.approx([SHORT_S] * 4, abs=0.005)  # each a whole interval from the wake-up before it


async def test_a_silence_without_pings_is_one_wait() -> None:
    store = Store(seed=1)
    record = store.new_run(store.agent(AGENT), conversation_id=None, run_type="send_message", background=False)
    store.reader_attached(record)
    emitter = Emitter(store, record, TurnOptions(include_pings=False, pace=Pace(ping_interval_s=0.001)))
    await emitter.silence(0.02)
    assert not any(isinstance(event, KeepAlive) for event in record.events)


async def test_a_logged_ping_is_read_as_the_ping_it_was_logged_as() -> None:
    store = Store(seed=1)
    record = store.new_run(store.agent(AGENT), conversation_id=None, run_type="send_message", background=False)
    store.reader_attached(record)
    emitter = Emitter(store, record, TurnOptions(include_pings=True, pace=Pace(ping_interval_s=0.001)))
    await emitter.silence(0.003)
    pings = [event.ping for event in record.events if isinstance(event, KeepAlive)]
    assert len(pings) == 3
    assert all(ping is not None and ping.run_id == record.run.id for ping in pings)
    assert len({ping.id for ping in pings if ping is not None}) == 3
    # A second reader gets the very same pings.
    assert [event.ping for event in record.events if isinstance(event, KeepAlive)] == pings
