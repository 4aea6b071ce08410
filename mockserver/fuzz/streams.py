"""Reading an event stream the way the fuzzer must: event by event as it arrives, checked on arrival, and bounded.

The rule: a stream is read until ``[DONE]`` and the end of the body, or until a bound — ``timeout`` seconds since
the response headers, or ``max_events`` events — whichever comes first; a silent server is bounded too (each read
waits only for what is left of the time). What was read is kept as a ``StreamReading``: every event with the
time it arrived and what was wrong with it, and how the reading ended. Nothing here decides what is a failure;
``checks`` does, from the reading.

Frames are cut by ``wire.sse.decode`` (the one SSE parser) as soon as their blank line arrives; events are
checked by ``contract.Contract.validate_event`` (the one validator) right then.
"""

from __future__ import annotations

import codecs
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mockserver.contract import Contract, Problem
from mockserver.wire.sse import Frame, decode

__all__ = ["Arrival", "FrameSplitter", "Outcome", "StreamBounds", "StreamReading", "read_stream"]

# How a reading ended: "done" ([DONE], then the end of the body), "eof" (the body ended without [DONE]),
# "open_after_done" (the body stayed open after [DONE]), "timeout" / "max_events" (a bound stopped it),
# "dropped" (the connection broke mid-body).
Outcome = Literal["done", "eof", "open_after_done", "timeout", "max_events", "dropped"]
CHUNK = 64 * 1024


@dataclass(frozen=True)
class StreamBounds:
    """How long and how far one stream is read."""

    timeout: float = 30.0  # seconds from the response headers to the end of the body
    max_events: int = 1000
    # After [DONE] the server must close the body; this long it may take (within ``timeout``).
    close_grace: float = 1.0


@dataclass(frozen=True)
class Arrival:
    """One event as it arrived: its frame, when (seconds after the headers), and what was wrong with it."""

    index: int
    frame: Frame
    at: float
    payload: Any = None  # the decoded JSON, None for [DONE] or data that is not JSON
    problems: tuple[Problem, ...] = ()

    @property
    def type(self) -> str:
        """``message_type`` (``"None"`` when absent), or ``[DONE]``."""
        if self.frame.done:
            return self.frame.type
        return str(self.payload.get("message_type")) if isinstance(self.payload, dict) else "None"


@dataclass
class StreamReading:
    """What the fuzzer read of one event stream."""

    bounds: StreamBounds
    arrivals: list[Arrival] = field(default_factory=list)
    content: bytearray = field(default_factory=bytearray)  # every byte read
    outcome: Outcome = "eof"
    elapsed: float = 0.0
    error: str | None = None  # why the connection broke, for "dropped"

    @property
    def finished(self) -> bool:
        """The body ended on its own (with or without [DONE]) before any bound."""
        return self.outcome in ("done", "eof", "dropped")

    @property
    def complete(self) -> bytes:
        """The bytes of the complete events (what a cut-short reading hands on)."""
        text = bytes(self.content)
        end = max(text.rfind(b"\n\n"), text.rfind(b"\r\n\r\n"), text.rfind(b"\r\r"))
        if end < 0:
            return b""
        return text[: end + (4 if text[end : end + 4] == b"\r\n\r\n" else 2)]


class FrameSplitter:
    """Bytes in, complete frames out: buffers up to the last blank line and hands the rest to ``decode``."""

    def __init__(self) -> None:
        self._text = ""
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")

    def feed(self, chunk: bytes) -> list[Frame]:
        text = self._text + self._utf8.decode(chunk)
        # A "\r" at the end may be the first half of "\r\n": keep it for the next chunk.
        held = "\r" if text.endswith("\r") else ""
        text = (text[:-1] if held else text).replace("\r\n", "\n").replace("\r", "\n")
        cut = text.rfind("\n\n")
        if cut < 0:
            self._text = text + held
            return []
        self._text = text[cut + 2 :] + held
        return decode(text[: cut + 2])


class RawBody(Protocol):
    """What the reader needs of an HTTP body (urllib3's ``HTTPResponse``)."""

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes: ...


def check_event(contract: Contract, frame: Frame) -> tuple[Any, tuple[Problem, ...]]:
    """An arriving event's JSON and its problems against the document (``message_type`` required).

    The server's compaction events and its null ``detail``/``seq_id`` in error events are admitted: the real
    server sends both and the SDKs parse them (wire doc §2.2, §17.4).
    """
    if frame.done:
        return None, ()
    try:
        payload = json.loads(frame.data)
    except json.JSONDecodeError as error:
        return None, (Problem("", f"event data is not JSON ({error}): {frame.data[:120]!r}"),)
    problems = contract.validate_event(
        payload, error_event=frame.event == "error", compaction_events=True, null_error_fields=True
    )
    return payload, tuple(problems)


def read_stream(
    raw: RawBody,
    contract: Contract,
    bounds: StreamBounds,
    *,
    set_timeout: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> StreamReading:
    """Read ``raw`` event by event within ``bounds``, checking each event against ``contract`` as it arrives.

    ``set_timeout(seconds)`` is called before each read with the time left, so a silent server cannot hold a read
    past the bound; without it a read waits as long as the connection's own read timeout.
    """
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    reading = StreamReading(bounds)
    splitter = FrameSplitter()
    start = clock()
    deadline = start + bounds.timeout
    done_at: float | None = None
    while True:
        left = deadline - clock()
        if left <= 0:
            reading.outcome = "open_after_done" if done_at is not None else "timeout"
            break
        if set_timeout is not None:
            set_timeout(left)
        try:
            chunk = raw.read1(CHUNK, decode_content=True)
        except (ReadTimeoutError, TimeoutError):
            reading.outcome = "open_after_done" if done_at is not None else "timeout"
            break
        except (ProtocolError, OSError) as error:
            reading.outcome, reading.error = "dropped", str(error)
            break
        if not chunk:
            reading.outcome = "done" if done_at is not None else "eof"
            break
        reading.content += chunk
        for frame in splitter.feed(chunk):
            payload, problems = check_event(contract, frame)
            arrival = Arrival(len(reading.arrivals), frame, clock() - start, payload, problems)
            reading.arrivals.append(arrival)
            if frame.done and done_at is None:
                done_at = clock()
                deadline = min(deadline, done_at + bounds.close_grace)
        if done_at is None and len(reading.arrivals) >= bounds.max_events:
            reading.outcome = "max_events"
            break
    reading.elapsed = clock() - start
    return reading
