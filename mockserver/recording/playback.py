"""Writing a recorded answer back onto the wire, in its own time.

Rules (docs/fixtures.md, "Timing"):

* offsets count from the moment the request arrived, as they did when it was recorded; ``speed`` divides them
  (2 = twice as fast), and ``speed=0`` writes everything at once;
* the status and headers go out at the recorded ``at_ms``; a JSON body at ``done_at_ms``;
* a stream is written chunk by chunk, each one ASGI message (so one HTTP chunk) with the recorded bytes at its
  recorded offset: the client sees the same boundaries, comments, pings and framing;
* a stream recorded as ``dropped`` ends where its bytes end, by dropping the connection (``ConnectionDropped``, as
  the ``drop_after`` fault does); a client that goes away stops the writing.

Uses only the ASGI interface, so the recorder replays with it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Send

from mockserver.faults import ConnectionDropped
from mockserver.recording.format import RecordedResponse
from mockserver.recording.normalise import resplit

__all__ = ["Clock", "answer_bytes", "play", "read_body", "watch_disconnect"]

Rewrite = Callable[[str], str]
_WAKE_UP_S = 0.001


class Clock:
    """Offsets from the request's arrival, scaled by ``speed``."""

    def __init__(self, speed: float) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.start = loop.time()
        self.speed = speed

    async def until(self, at_ms: float | None, disconnected: asyncio.Event | None = None) -> None:
        if not self.speed or not at_ms:
            return
        # The event loop wakes a timer up to a millisecond late (epoll rounds its timeout up to the next one);
        # aiming that much early centres the error on the recorded offset.
        delay = self.start + at_ms / 1000 / self.speed - self._loop.time() - _WAKE_UP_S
        if delay <= 0:
            return
        if disconnected is None:
            await asyncio.sleep(delay)
            return
        try:
            await asyncio.wait_for(disconnected.wait(), delay)
        except asyncio.TimeoutError:
            pass


async def read_body(receive: Receive, limit: int) -> tuple[bytes | None, list[dict[str, Any]]]:
    """The whole request body (None when it is over ``limit``) and the messages read, to hand on unchanged."""
    parts: list[bytes] = []
    size = 0
    messages: list[dict[str, Any]] = []
    while True:
        message = dict(await receive())
        messages.append(message)
        if message["type"] != "http.request":
            break
        body = message.get("body", b"")
        size += len(body)
        if size <= limit:
            parts.append(body)
        if not message.get("more_body", False):
            break
    return (b"".join(parts) if size <= limit else None), messages


def watch_disconnect(receive: Receive) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """An event set when the client goes away (read once the request body is in)."""
    gone = asyncio.Event()

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                return

    return gone, asyncio.ensure_future(watch())


def answer_bytes(response: RecordedResponse, rewrite: Rewrite | None) -> list[tuple[float, bytes]]:
    """The writes of an answer, (at_ms, bytes), with ``rewrite`` applied across chunk boundaries."""
    if response.stream is not None:
        timed = response.stream.timed()
    else:
        timed = [(response.done_at_ms or response.at_ms, response.body_bytes())]
    if rewrite is None or not timed:
        return timed
    data = [chunk for _, chunk in timed]
    joined = b"".join(data).decode("utf-8", "surrogateescape")
    rewritten = rewrite(joined)
    if rewritten == joined:
        return timed
    parts = resplit(data, rewritten)
    if len(parts) == len(timed):
        return [(at, part) for (at, _), part in zip(timed, parts, strict=True)]
    return [(timed[-1][0], b"".join(parts))]


async def play(
    send: Send,
    response: RecordedResponse,
    writes: list[tuple[float, bytes]],
    clock: Clock,
    *,
    headers: list[tuple[bytes, bytes]],
    disconnected: asyncio.Event | None = None,
) -> None:
    """Write ``response`` (its ``writes`` from ``answer_bytes``) at its recorded times."""
    await clock.until(response.at_ms, disconnected)
    stream = response.stream is not None
    out = [(k.encode().lower(), v.encode("latin-1")) for k, v in response.headers.items()
           if k.lower() not in ("content-length", "transfer-encoding", "connection")]  # fmt: skip
    if not stream:
        out.append((b"content-length", str(sum(len(data) for _, data in writes)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": [*out, *headers]})
    for at_ms, data in writes:
        await clock.until(at_ms, disconnected)
        if disconnected is not None and disconnected.is_set():
            return
        await send({"type": "http.response.body", "body": data, "more_body": stream})
    if not stream:
        if not writes:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if response.stream is not None and response.stream.end == "dropped":
        raise ConnectionDropped("the recorded stream ended with a dropped connection")
    await send({"type": "http.response.body", "body": b"", "more_body": False})
