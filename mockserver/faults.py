"""The fault table: failures for client resilience tests, applied to one HTTP response — never to the run behind it.

A fault changes what one client receives (a dropped connection, a malformed event, a stall…); the run still
completes in the store, so a client that recovers (lists history, resumes a background run from its last
``seq_id``) finds everything. Faults are deterministic: they act at event positions, not at random.

Each row of ``FAULTS`` names a kind, how many numbers it takes, whether it needs a stream, and its applier:

* ``before``: acts before the response starts (it may wait, or answer with an HTTP error instead);
* ``events``: reshapes the stream's events (drops or adds some) before they are framed;
* ``frames``: acts on the framed events as they are written; frames are numbered from 1 in the order they are
  written, after ``events`` appliers ran.

Appliers run in table order. To add a fault: one row and its applier.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver import catalogue
from mockserver.errors import HTTPError, ProviderError
from mockserver.models import LettaPing, LettaStopReason
from mockserver.wire import sse

__all__ = ["FAULTS", "ConnectionDropped", "Fault", "FaultContext", "FaultKind", "before_response", "faulty_frames"]


@dataclass(frozen=True)
class Fault:
    """One fault asked for: ``kind[:arg[:attempts]]``."""

    kind: str
    arg: int | None = None
    attempts: int | None = None  # http faults: fail only the first `attempts` tries (None: every try)

    def __str__(self) -> str:
        text = self.kind if self.arg is None else f"{self.kind}:{self.arg}"
        return text if self.attempts is None else f"{text}:{self.attempts}"


@dataclass
class FaultContext:
    """What appliers need to know of the request: its settings and how to make a keep-alive ping."""

    stall_ms: int = 60_000
    ping_interval_ms: int = catalogue.KEEPALIVE_INTERVAL_MS
    retry_after: int | None = None
    attempt: int = 0  # the SDK's x-stainless-retry-count
    ping: Callable[[int | None], LettaPing] | None = None  # a new keep-alive ping carrying a seq_id


@dataclass
class Frame:
    """One framed event as it will be written: ``writes`` are separate socket writes, a float is a pause."""

    number: int  # position among written frames, from 1 (0: a frame a fault added after the numbering)
    event: Any
    writes: list[bytes | float] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return b"".join(w for w in self.writes if isinstance(w, bytes))


class ConnectionDropped(Exception):
    """Raised inside a streaming body to make the server close the connection mid-response."""


Before = Callable[[Fault, FaultContext], Awaitable[None]]
Events = Callable[[Fault, AsyncIterator[Any]], AsyncIterator[Any]]
Frames = Callable[[Fault, AsyncIterator[Frame], FaultContext], AsyncIterator[Frame]]


@dataclass(frozen=True)
class FaultKind:
    name: str
    arity: int  # how many numbers follow the name: 0, 1 (N), or 2 (http: status[:attempts], the second optional)
    help: str
    before: Before | None = None
    events: Events | None = None
    frames: Frames | None = None

    @property
    def stream_only(self) -> bool:
        return self.before is None

    @property
    def form(self) -> str:
        return {0: self.name, 1: f"{self.name}:<N>"}.get(self.arity, f"{self.name}:<status>[:<attempts>]")


# -- appliers -----------------------------------------------------------------------------------------------------

UNKNOWN_EVENT = b'data: {"message_type":"mock_unknown_event","id":"mock-unknown","detail":"not a Letta type"}\n\n'


async def _slow_first_byte(fault: Fault, context: FaultContext) -> None:
    await asyncio.sleep((fault.arg or 0) / 1000)


async def _http(fault: Fault, context: FaultContext) -> None:
    # The SDKs retry 408/409/429/5xx twice, numbering tries in x-stainless-retry-count: `attempts` lets a test
    # fail the first tries only and watch the retry succeed.
    if fault.attempts is None or context.attempt < fault.attempts:
        raise http_fault(fault.arg or 500, context.retry_after)


def http_fault(status: int, retry_after: int | None) -> HTTPError:
    """The answer of ``fault=http:<status>``: Letta's body for that status, and Retry-After if asked."""
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    provider = catalogue.provider_error(status)
    if provider is not None:
        return ProviderError(
            status, provider.name, provider.message, f"letta-mock: simulated HTTP {status}", headers=headers
        )
    error = HTTPError(f"letta-mock: simulated HTTP {status}", headers=headers)
    error.status_code = status
    return error


def _without(kind: type | str) -> Events:
    async def drop(fault: Fault, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for event in events:
            if not (event == kind if isinstance(kind, str) else isinstance(event, kind)):
                yield event

    return drop


async def _unknown_type(fault: Fault, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
    # An event of a type Letta does not have, taking position N (the event that was there comes next).
    position = 0
    async for event in events:
        position += 1
        if position == fault.arg:
            yield UNKNOWN_EVENT
            position += 1
        yield event


async def _malformed(fault: Fault, frames: AsyncIterator[Frame], context: FaultContext) -> AsyncIterator[Frame]:
    async for frame in frames:
        if frame.number == fault.arg:
            data = frame.data
            cut = data.index(b"\n\n") // 2 or 1
            frame.writes = [data[:cut] + b"\n\n"]  # the JSON ends half-way: not parseable
        yield frame


async def _split(fault: Fault, frames: AsyncIterator[Frame], context: FaultContext) -> AsyncIterator[Frame]:
    async for frame in frames:
        if frame.number == fault.arg:
            data = frame.data
            middle = len(data) // 2
            frame.writes = [data[:middle], 0.01, data[middle:]]  # a pause, so the halves travel in two segments
        yield frame


async def _duplicate_stop_reason(
    fault: Fault, frames: AsyncIterator[Frame], context: FaultContext
) -> AsyncIterator[Frame]:
    async for frame in frames:
        if isinstance(frame.event, LettaStopReason):
            frame.writes = [*frame.writes, frame.data]
        yield frame


async def _drop_after(fault: Fault, frames: AsyncIterator[Frame], context: FaultContext) -> AsyncIterator[Frame]:
    async for frame in frames:
        yield frame
        if frame.number >= (fault.arg or 0):
            raise ConnectionDropped(f"fault {fault}")


def _stall_after(pings: bool) -> Frames:
    """After frame N, silence for ``stall_ms``; with pings, one after every full ``ping_interval_ms``."""

    async def stall(fault: Fault, frames: AsyncIterator[Frame], context: FaultContext) -> AsyncIterator[Frame]:
        last_seq: int | None = None  # keep-alive pings carry the last seq_id seen (wire doc §6.4)
        async for frame in frames:
            last_seq = getattr(frame.event, "seq_id", None) or last_seq
            yield frame
            if frame.number != fault.arg:
                continue
            remaining = context.stall_ms
            interval = max(context.ping_interval_ms, 1)
            while pings and context.ping is not None and remaining >= interval:
                await asyncio.sleep(interval / 1000)
                remaining -= interval
                ping = context.ping(last_seq)
                yield Frame(0, ping, [sse.encode(ping)])
            await asyncio.sleep(remaining / 1000)

    return stall


# -- the table ----------------------------------------------------------------------------------------------------

FAULTS: Mapping[str, FaultKind] = {
    row.name: row
    for row in (
        FaultKind("slow_first_byte", 1, "wait N ms before the response starts", before=_slow_first_byte),
        FaultKind(
            "http",
            2,
            "answer HTTP <status> with Letta's body (only the first <attempts> tries, by x-stainless-retry-count)",
            before=_http,
        ),
        FaultKind("no_done", 0, "end the body without data: [DONE]", events=_without(sse.DONE)),
        FaultKind("no_stop_reason", 0, "leave out the stop_reason event", events=_without(LettaStopReason)),
        FaultKind("unknown_type", 1, "an event with an unknown message_type at position N", events=_unknown_type),
        FaultKind("malformed", 1, "the Nth event's JSON is cut short", frames=_malformed),
        FaultKind("split", 1, "the Nth event is written in two TCP writes, split inside its JSON", frames=_split),
        FaultKind("duplicate_stop_reason", 0, "the stop_reason event twice", frames=_duplicate_stop_reason),
        FaultKind(
            "stall_after",
            1,
            "after N events, stall for stall_ms with keep-alive pings",
            frames=_stall_after(pings=True),
        ),
        FaultKind(
            "silent_stall_after",
            1,
            "after N events, stall for stall_ms without pings",
            frames=_stall_after(pings=False),
        ),
        # Last, so that it acts before a stall after the same frame.
        FaultKind("drop_after", 1, "close the connection abruptly after N events", frames=_drop_after),
    )
}


# -- applying them ------------------------------------------------------------------------------------------------


async def before_response(faults: tuple[Fault, ...], context: FaultContext) -> None:
    """The faults that act before anything is sent, in table order."""
    for kind in FAULTS.values():
        if kind.before is not None:
            for fault in (f for f in faults if f.kind == kind.name):
                await kind.before(fault, context)


async def faulty_frames(
    events: AsyncIterator[Any], faults: tuple[Fault, ...], context: FaultContext
) -> AsyncIterator[bytes]:
    """SSE bytes of ``events`` with the stream faults applied."""
    chosen = [(FAULTS[fault.kind], fault) for fault in faults]
    chosen.sort(key=lambda pair: list(FAULTS).index(pair[0].name))
    for kind, fault in chosen:
        if kind.events is not None:
            events = kind.events(fault, events)
    frames = _framed(events)
    for kind, fault in chosen:
        if kind.frames is not None:
            frames = kind.frames(fault, frames, context)
    async for frame in frames:
        for write in frame.writes:
            if isinstance(write, float):
                await asyncio.sleep(write)
            else:
                yield write


async def _framed(events: AsyncIterator[Any]) -> AsyncIterator[Frame]:
    number = 0
    async for event in events:
        number += 1
        yield Frame(number, event, [event if isinstance(event, bytes) else sse.encode(event)])
