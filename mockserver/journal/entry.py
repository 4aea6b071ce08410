"""One exchange of the journal as it happens (``Entry``): the request as the scope gave it, read into text and JSON
when asked; the response's head and bytes; a stream's events column by column, made for a stream only."""

from __future__ import annotations

import json
import sys
import time
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.bodies import Blob
from mockserver.wire.sse import DONE, decode

__all__ = ["BODY_LIMIT", "STREAM_DATA_LIMIT", "STREAM_EVENT_LIMIT", "Entry", "Sent"]

BODY_LIMIT = 64 * 1024  # a request or response body above this is summarised, not kept
STREAM_DATA_LIMIT = 256 * 1024  # a stream's event data kept; later events keep offset and type only
STREAM_EVENT_LIMIT = 5000  # events kept per stream; later ones are counted
_MASKED = frozenset({"authorization", "cookie"})  # shown as "<n characters>": journals get pasted into issues
_TYPE_KEY = '"message_type":"'
_UNREAD: Any = object()  # an entry's request JSON not read yet from its bytes


@dataclass(frozen=True, slots=True)
class Sent:
    """One event a stream sent: its offset from the request's arrival, its SSE name, its type, and the length of
    its data in the entry's kept data (``None`` past the stream's data limit: not kept)."""

    at_ms: float
    event: str | None
    type: str  # message_type; "[DONE]"; "unparsable" for data that is not a JSON object
    size: int | None


class _Stream:
    """A stream's events, column by column (~24 bytes an event; ``Entry.events`` makes the rows): made for a stream
    only. ``at`` is written last, so the other columns are at least as long as it."""

    __slots__ = ("at", "data", "kinds", "names", "rest", "sizes")

    def __init__(self) -> None:
        self.at = array("d")
        self.sizes = array("q")  # -1: its data is not kept
        self.kinds: list[str] = []  # message types, interned
        self.names: list[str | None] = []
        self.data = Blob()  # the kept events' data, one after another
        self.rest = b""  # SSE bytes after the last complete event


_NO_STREAM = _Stream()  # what a reader of an exchange that streams nothing sees (never written)


class Entry:
    """One exchange, filled in as it happens (``state`` is "open" until the response is over).

    The request is kept as the scope gave it (header list, query bytes, body bytes, path parameters) and read into
    text, JSON and masks when a reader asks: most exchanges are never read before the ring drops them."""

    __slots__ = (
        "_body", "_body_raw", "_body_size", "_headers", "_query", "_stream", "_t0", "content_type", "ended_at",
        "error", "event_count", "id", "method", "operation", "path", "path_params", "response_bytes", "response_raw",
        "rule", "started_at", "state", "status", "stop_reason", "version",
    )  # fmt: skip

    def __init__(
        self, id: int, started_at: float, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.id = id
        self.started_at = started_at  # wall clock, seconds since the epoch
        self.method, self.path, self._query, self._headers = method, path, query, headers
        self.operation: str | None = None
        self.path_params: Mapping[str, Any] | None = None  # the route's, as the router put them (``params``)
        self._body_raw: bytes | None = None  # the request's bytes (up to BODY_LIMIT) once it has been received
        self._body_size = 0
        self._body: Any = _UNREAD  # the request's JSON, read from ``_body_raw`` on the first ask
        self.status = 0
        self.content_type: str | None = None
        self.response_bytes = 0
        self.event_count = 0  # SSE: events sent
        self.stop_reason: str | None = None  # SSE: the (first) stop_reason event's
        self.rule: str | None = None  # the authored rule that answered it (``answered_by``)
        self.state = "open"  # open | done | dropped (a fault closed the connection) | failed (the mock failed)
        self.error: str | None = None  # what the mock failed with
        self.ended_at: float | None = None  # ``time.perf_counter()`` when it was over (``duration_ms``)
        self.version = 0  # the journal's version when this entry last changed
        self.response_raw = Blob()  # a non-SSE body, up to BODY_LIMIT
        self._stream = _NO_STREAM
        self._t0 = time.perf_counter()

    def __repr__(self) -> str:
        return f"<Entry {self.id} {self.method} {self.path} {self.state} {self.status}>"

    # -- the request, read from what the scope gave -----------------------------------------------------------

    @property
    def query(self) -> str:
        return self._query.decode("latin-1")

    @property
    def headers(self) -> dict[str, str]:
        """The request's headers; ``authorization`` and ``cookie`` as "<n characters>"."""
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in self._headers}
        for key in _MASKED & headers.keys():
            headers[key] = f"<{len(headers[key])} characters>"
        return headers

    @property
    def params(self) -> dict[str, str]:
        """The route's path parameters."""
        return {} if self.path_params is None else {k: str(v) for k, v in self.path_params.items()}

    @property
    def body(self) -> Any:
        """The request's JSON (or its text, or a note that it was too big); ``None`` before it has come."""
        if self._body is _UNREAD:
            raw = self._body_raw
            if raw is None:
                return None
            self._body = _body(raw, self._body_size)  # read once: every reader gets the same object
        return self._body

    @body.setter
    def body(self, value: Any) -> None:
        self._body = value

    def received(self, raw: bytes, size: int) -> None:
        """The request's body has come (``raw``: its first BODY_LIMIT bytes of ``size``)."""
        self._body_size, self._body_raw = size, raw

    # -- the response -----------------------------------------------------------------------------------------

    @property
    def streamed(self) -> bool:
        return bool(self.content_type and self.content_type.startswith("text/event-stream"))

    @property
    def stream_data(self) -> Blob:
        """The kept events' data, one after another."""
        return self._stream.data

    @property
    def duration_ms(self) -> float | None:
        """From the request's arrival to the response's end (to ``[DONE]`` for a stream); ``None`` while open."""
        return None if self.ended_at is None else self._offset_ms(self.ended_at)

    def _offset_ms(self, when: float) -> float:
        """``when`` (``time.perf_counter()``) in ms from the request's arrival, as the journal shows offsets."""
        return round((when - self._t0) * 1000, 1)

    def response_body(self) -> Any:
        """The response's JSON (or text); ``None`` for a stream or an empty body."""
        if self.streamed or not self.response_raw.size:
            return None
        if self.response_bytes > BODY_LIMIT:
            return {"_letta_mock": f"body of {self.response_bytes} bytes not kept"}
        return _parsed(self.response_raw.read())

    @property
    def events(self) -> list[Sent]:
        """The stream's events kept, in order (SSE: the first ``STREAM_EVENT_LIMIT``)."""
        s = self._stream
        count = len(s.at)  # written last: the other columns are at least this long
        return [Sent(s.at[i], s.names[i], s.kinds[i], None if s.sizes[i] < 0 else s.sizes[i])
                for i in range(count)]  # fmt: skip

    def event_texts(self) -> list[str | None]:
        """Each kept event's data text, in order (``None`` for those past the data limit)."""
        data, at = self.stream_data.read(), 0
        texts: list[str | None] = []
        for sent in self.events:
            if sent.size is None or at + sent.size > len(data):  # not kept (or written after the read)
                texts.append(None)
                continue
            texts.append(data[at : at + sent.size].decode("utf-8", "replace"))
            at += sent.size
        return texts

    def pack(self) -> None:
        """The exchange is over: its kept bytes are compressed."""
        if self._stream is not _NO_STREAM:
            self._stream.data.pack()
        self.response_raw.pack()

    def feed_stream(self, chunk: bytes) -> None:
        """Record the complete events in ``chunk`` (and what an earlier write left unfinished)."""
        s = self._stream
        if s is _NO_STREAM:
            s = self._stream = _Stream()
        pending = s.rest + chunk
        cut = pending.rfind(b"\n\n")
        if cut < 0:
            s.rest = pending
            return
        complete, s.rest = pending[: cut + 2], pending[cut + 2 :]
        now = time.perf_counter()
        at = self._offset_ms(now)
        for frame in decode(complete):
            self.event_count += 1
            kind = _message_type(frame.data)
            if frame.data == DONE:
                # The client may stop reading here and look at the journal before the (empty) last write: for it
                # the exchange is over. A drop after [DONE] still says "dropped".
                self.state, self.ended_at = "done", now
            if kind == "stop_reason" and self.stop_reason is None:
                value = _parsed(frame.data.encode())
                self.stop_reason = value.get("stop_reason") if isinstance(value, dict) else None
            if len(s.at) >= STREAM_EVENT_LIMIT:
                continue
            data = frame.data.encode()
            kept = s.data.size + len(data) <= STREAM_DATA_LIMIT
            if kept:
                s.data.append(data)
            s.sizes.append(len(data) if kept else -1)
            s.kinds.append(sys.intern(kind))
            s.names.append(None if frame.event is None else sys.intern(frame.event))
            s.at.append(at)

    def summary(self) -> dict[str, Any]:
        """The journal's JSON for this exchange (``GET /_mock/journal``): the request, the response summarised."""
        response: dict[str, Any] = {
            "status": self.status,
            "content_type": self.content_type,
            "bytes": self.response_bytes,
        }
        if self.streamed:
            s = self._stream
            response["events"] = self.event_count
            response["stop_reason"] = self.stop_reason
            response["types"] = dict(Counter(s.kinds[: len(s.at)]))
        if self.error is not None:
            response["error"] = self.error
        return {
            "id": self.id,
            "started_at": self.started_at,
            "duration_ms": self.duration_ms,
            "state": self.state,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "operation": self.operation,
            "rule": self.rule,
            "params": self.params,
            "body": self.body,
            "response": response,
        }

    def detail(self) -> dict[str, Any]:
        """The summary with the request's headers, the response body and, for a stream, every event kept."""
        out = self.summary()
        out["headers"] = self.headers
        if self.streamed:
            out["response"]["stream"] = [
                {"at_ms": sent.at_ms, "event": sent.event, "message_type": sent.type,
                 "data": None if text is None else (DONE if sent.type == DONE else _parsed(text.encode()))}
                for sent, text in zip(self.events, self.event_texts(), strict=False)  # texts: read after
            ]  # fmt: skip
            out["response"]["events_not_kept"] = self.event_count - len(self._stream.at)
        else:
            out["response"]["body"] = self.response_body()
        return out


def _message_type(data: str) -> str:
    """An event's ``message_type`` without parsing it whole (the mock's JSON is compact: ``"message_type":"x"``)."""
    if data == DONE:
        return DONE
    start = data.find(_TYPE_KEY)
    if start >= 0:
        start += len(_TYPE_KEY)
        end = data.find('"', start)
        if end > start:
            return data[start:end]
    value = _parsed(data.encode())
    return str(value.get("message_type")) if isinstance(value, dict) else "unparsable"


def _body(raw: bytes, size: int) -> Any:
    if size > BODY_LIMIT:
        return {"_letta_mock": f"body of {size} bytes not kept"}
    if not raw:
        return None
    return _parsed(raw)


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # not JSON (or nested past Python's limit)
        return raw.decode("utf-8", "replace")
