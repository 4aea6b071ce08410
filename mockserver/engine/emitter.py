"""Writing a turn's events into its run's log: filtering, pacing, keep-alive pings, cancellation.

With all delays zero (the default) emitting never awaits, so a turn runs atomically; with pacing it waits
between events, fills long silences with keep-alive pings, and checks for cancellation before each event.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from mockserver.engine.options import TurnOptions
from mockserver.models import MESSAGE_TYPES
from mockserver.records import KeepAlive, RunRecord
from mockserver.store import Store

__all__ = ["Cancelled", "Emitter"]

_FILTERABLE = frozenset(MESSAGE_TYPES)  # include_return_message_types filters these; never pings, stop, usage


class Cancelled(Exception):
    """Raised inside a paced turn when its run was cancelled; unwinds to the cancellation ending."""


class Emitter:
    def __init__(self, store: Store, record: RunRecord, options: TurnOptions) -> None:
        self.store, self.record, self.options = store, record, options
        self.pace = options.pace
        self.random = random.Random(options.pace.seed) if options.pace.jitter_s else None
        self.wanted = set(options.include_types) if options.include_types is not None else None
        self.sent_agent_chunk = False
        self.idle_ms = 0  # milliseconds since the last chunk, for keep-alive pings

    async def emit(self, event: Any, delay: float = 0.0, *, cancellable: bool = True) -> None:
        if self.wanted is not None and getattr(event, "message_type", "") in _FILTERABLE:
            if event.message_type not in self.wanted:
                return
        if delay > 0:
            await self.silence(delay + (self.random.uniform(0, self.pace.jitter_s) if self.random else 0.0))
        if self.record.cancel_requested and cancellable:
            raise Cancelled
        self.store.log(self.record, event)
        self.idle_ms = 0

    async def silence(self, seconds: float, *, cancellable: bool = True) -> None:
        """Wait ``seconds``, sending a keep-alive ping after every ping interval without a chunk (§6.4).

        Counted in whole milliseconds, so a silence of 60 ms with a 20 ms interval gives exactly three pings. A
        silence that is not ``cancellable`` (a tool running) lasts whatever happens to the run meanwhile.

        Each wait aims at its planned time, not at a fixed length from whenever the last one woke up: on a busy event
        loop (thousands of open streams) a ping a little late is not followed by later ones. A wake-up later than a
        whole interval is not made up: the schedule starts again from it, so an overloaded server sends its pings
        further apart (and gets through its backlog) rather than in bursts that keep it overloaded.
        """
        remaining = round(seconds * 1000)
        interval = max(round(self.pace.ping_interval_s * 1000), 1)
        loop = asyncio.get_running_loop()
        due = loop.time()  # when the waits planned so far end
        while remaining > 0:
            step = min(remaining, interval - self.idle_ms) if self.options.include_pings else remaining
            due += step / 1000
            await asyncio.sleep(max(due - loop.time(), 0.0))
            if loop.time() - due > interval / 1000:
                due = loop.time()  # too late to make up: the schedule starts again from here
            remaining -= step
            self.idle_ms += step
            if self.record.cancel_requested and cancellable:
                raise Cancelled
            if self.options.include_pings and self.idle_ms >= interval:
                self.idle_ms = 0
                if self.record.readers:  # a ping with nobody waiting would only cost memory and time
                    ids, clock = self.store.ids, self.store.clock
                    self.store.log(self.record, KeepAlive(ids.new("ping"), clock.now(), self.record.run.id))

    async def item(self, whole: Any, chunks: list[Any] | None = None, *, cancellable: bool = True) -> None:
        """An agent item: whole in step mode; in token mode one event per chunk (``chunks`` of the item)."""
        first = not self.sent_agent_chunk
        self.sent_agent_chunk = True
        delay = self.pace.first_event_s if first else self.pace.token_s
        if not self.options.stream_tokens or chunks is None:
            await self.emit(whole, delay, cancellable=cancellable)
            return
        for index, chunk in enumerate(chunks):
            await self.emit(chunk, delay if index == 0 else self.pace.token_s)
