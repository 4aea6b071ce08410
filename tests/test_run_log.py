"""A run's log as its readers see it: a write wakes whoever waits, whenever they began waiting (an Event is made
only for a reader, never per write), and keep-alive pings are spent once the run is over and nobody reads it."""

from __future__ import annotations

import asyncio

from mockserver.models import LettaStopReason
from mockserver.records import SPENT, KeepAlive, RunRecord
from mockserver.sending import follow
from mockserver.store import Store

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"


def a_run() -> tuple[Store, RunRecord]:
    store = Store(seed=1)
    return store, store.new_run(store.agent(AGENT), conversation_id=None, run_type="send_message", background=True)


def test_writes_nobody_waits_for_make_no_event() -> None:
    store, record = a_run()
    store.start_run(record)
    store.log(record, LettaStopReason(stop_reason="end_turn"))
    assert record.waiting is None
    store.end_run(record, "end_turn")
    assert record.waiting is None
    assert record.changed.is_set()  # a finished run's readers never wait


async def test_a_reader_waiting_before_the_write_wakes() -> None:
    store, record = a_run()
    store.start_run(record)
    waiting = asyncio.create_task(record.changed.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    store.log(record, LettaStopReason(stop_reason="end_turn"))
    await asyncio.wait_for(waiting, 1)
    assert record.waiting is None  # let go: the next wait sees only later writes
    assert not record.changed.is_set()


async def test_a_reader_that_took_the_event_and_waits_after_the_write_wakes() -> None:
    store, record = a_run()
    store.start_run(record)
    changed = record.changed  # taken before reading the log, as ``follow`` takes it
    store.log(record, LettaStopReason(stop_reason="end_turn"))
    await asyncio.wait_for(changed.wait(), 1)


async def test_two_readers_wait_on_one_event_and_both_wake() -> None:
    store, record = a_run()
    store.start_run(record)
    first, second = record.changed, record.changed
    assert first is second
    store.end_run(record, "end_turn")
    await asyncio.wait_for(asyncio.gather(first.wait(), second.wait()), 1)


async def test_a_follower_started_before_or_after_each_write_reads_the_whole_log() -> None:
    store, record = a_run()
    store.start_run(record)
    early = asyncio.create_task(_read(store, record))
    await asyncio.sleep(0)
    store.log(record, LettaStopReason(stop_reason="end_turn"))
    late = asyncio.create_task(_read(store, record))
    await asyncio.sleep(0)
    store.log(record, "[DONE]")
    store.end_run(record, "end_turn")
    expected = [LettaStopReason(stop_reason="end_turn"), "[DONE]"]
    assert await asyncio.wait_for(early, 1) == expected
    assert await asyncio.wait_for(late, 1) == expected
    assert await asyncio.wait_for(_read(store, record), 1) == expected  # after the end: no wait at all


async def _read(store: Store, record: RunRecord) -> list[object]:
    return [event async for event in follow(store, record, numbered=False)]


def test_pings_are_spent_when_the_run_ends_unread_and_a_log_without_pings_is_kept_as_it_is() -> None:
    store, record = a_run()
    store.start_run(record)
    ping = KeepAlive("ping-1", None, record.run.id)
    store.log(record, ping)
    store.log(record, "[DONE]")
    store.end_run(record, "end_turn")
    assert list(record.events) == [SPENT, "[DONE]"]
    assert record not in store.pinged

    store, record = a_run()
    store.start_run(record)
    store.log(record, "[DONE]")
    log = record.events
    store.end_run(record, "end_turn")
    assert record.events is log


def test_pings_a_reader_still_reads_are_spent_when_it_leaves() -> None:
    store, record = a_run()
    store.start_run(record)
    store.reader_attached(record)
    ping = KeepAlive("ping-1", None, record.run.id)
    store.log(record, ping)
    store.end_run(record, "end_turn")
    assert list(record.events) == [ping]
    store.reader_left(record)
    assert list(record.events) == [SPENT]


def test_beyond_the_bound_the_oldest_logs_are_cut_first_and_one_still_read_waits_its_turn() -> None:
    store = Store(seed=1)
    store.log_bound = 1
    agent = store.agent(AGENT)

    def ended(*, read: bool = False) -> RunRecord:
        record = store.new_run(agent, conversation_id=None, run_type="send_message", background=True)
        store.start_run(record)
        if read:
            store.reader_attached(record)
        store.log(record, LettaStopReason(stop_reason="end_turn"))
        store.end_run(record, "end_turn")
        return record

    a = ended(read=True)
    b = ended()
    assert (a.log_dropped, b.log_dropped) == (False, False)  # a is still read: it stays, b with it
    c = ended()
    assert (a.log_dropped, b.log_dropped, c.log_dropped) == (False, True, False)
    assert list(b.events) == [LettaStopReason(stop_reason="end_turn"), "[DONE]"]  # its outcome
    store.reader_left(a)
    d = ended()
    assert (a.log_dropped, c.log_dropped, d.log_dropped) == (True, True, False)
    assert list(store.logged) == [d.run.id]
