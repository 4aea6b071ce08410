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
from mockserver.models import LettaPing
from mockserver.records import KeepAlive, RunRecord
from mockserver.store import Store

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
INTERVAL_S = 0.2
LATE_S = 0.03  # every wait wakes this much later than asked, as on a loop busy with other streams
SHORT_S = 0.02  # an interval every wait overruns (by LATE_S at least): an overloaded loop


def read_by_a_client(interval_s: float, *, pings: bool = True) -> tuple[RunRecord, Emitter]:
    """A run with a reader attached (pings are sent to readers) and the emitter of its turn."""
    store = Store(seed=1)
    record = store.new_run(store.agent(AGENT), conversation_id=None, run_type="send_message", background=False)
    store.reader_attached(record)
    return record, Emitter(store, record, TurnOptions(include_pings=pings, pace=Pace(ping_interval_s=interval_s)))


def waking_late(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait of the emitter (the test runner's own are not counted) wakes LATE_S late; the waits it asks for."""
    asked: list[float] = []
    sleep = asyncio.sleep

    async def late(delay: float) -> None:
        asked.append(delay)
        await sleep(delay + LATE_S)

    monkeypatch.setattr(
        emitter_module, "asyncio", SimpleNamespace(sleep=late, get_running_loop=asyncio.get_running_loop)
    )
    return asked


def logged_pings(record: RunRecord) -> list[LettaPing | None]:
    return [event.ping for event in record.events if isinstance(event, KeepAlive)]


async def test_a_late_wake_up_does_not_delay_the_pings_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    record, emitter = read_by_a_client(INTERVAL_S)
    asked = waking_late(monkeypatch)
    await emitter.silence(4 * INTERVAL_S)

    assert len(logged_pings(record)) == 4  # as many pings as without lateness
    assert len(asked) == 4
    assert asked[0] == pytest.approx(INTERVAL_S, abs=0.005)
    # Each later wait aims at its planned time: shortened by (at least) the lateness of the one before it.
    assert all(delay <= INTERVAL_S - LATE_S + 0.001 for delay in asked[1:])


async def test_a_wake_up_later_than_an_interval_is_not_made_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # An overloaded loop: the schedule starts again from each wake-up instead of sending the lost pings in a burst.
    record, emitter = read_by_a_client(SHORT_S)
    asked = waking_late(monkeypatch)
    await emitter.silence(4 * SHORT_S)

    assert len(logged_pings(record)) == 4
    assert asked == pytest.approx([SHORT_S] * 4, abs=0.005)  # each a whole interval from the wake-up before it


async def test_a_silence_without_pings_is_one_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    record, emitter = read_by_a_client(SHORT_S, pings=False)
    asked = waking_late(monkeypatch)
    await emitter.silence(4 * SHORT_S)

    assert logged_pings(record) == []
    assert asked == pytest.approx([4 * SHORT_S], abs=0.005)


async def test_a_logged_ping_is_read_as_the_ping_it_was_logged_as() -> None:
    record, emitter = read_by_a_client(0.001)
    await emitter.silence(0.003)

    pings = logged_pings(record)
    assert len(pings) == 3
    assert all(ping is not None and ping.run_id == record.run.id for ping in pings)
    assert len({ping.id for ping in pings if ping is not None}) == 3
    assert logged_pings(record) == pings  # a second reader gets the very same pings
