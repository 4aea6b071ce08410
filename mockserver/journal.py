"""The request journal: every exchange the mock answered (bar the admin API's own), as the dashboard shows it.

Rule: the journal keeps what a person debugging a client needs to see — per exchange the request (method, path,
query, headers, JSON body), the status and content type, the response body, and for a stream every event with its
offset in ms from the request's arrival — and never more than it is sized for. It is a ring buffer of
``DEFAULT_SIZE`` exchanges (``create_app(journal_size=...)``, ``letta-mock serve --journal-size``): the oldest
exchange goes when a new one comes, so a server that runs for days stays small. ``counts`` (``GET
/_mock/calls``) count every call since the last clear, not only those still kept.

Bodies are kept up to ``BODY_LIMIT`` bytes each, a stream's event data up to ``STREAM_DATA_LIMIT`` bytes (later
events keep their offset and type, not their data) and ``STREAM_EVENT_LIMIT`` events (later ones are counted).

``JournalMiddleware`` writes it as bytes go by: an exchange is in the journal from its first byte, so the dashboard
shows a stream while it streams. The server's thread writes it; the pytest plugin reads it from the test's thread,
so the ring is guarded by a lock and readers take snapshots. Entries name their operation as the app's route does
(its ``operationId``, put in the scope under ``OPERATION``); the journal knows no table of them.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from array import array
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.bodies import SHARED, Blob
from mockserver.config import MockConfig
from mockserver.errors import ConfigurationError
from mockserver.faults import ConnectionDropped
from mockserver.wire.sse import DONE, decode

__all__ = [
    "ADMIN_PREFIX",
    "BODY_LIMIT",
    "DEFAULT_SIZE",
    "STREAM_DATA_LIMIT",
    "STREAM_EVENT_LIMIT",
    "OPERATION",
    "Entry",
    "Journal",
    "JournalMiddleware",
    "Sent",
    "answered_by",
]

ADMIN_PREFIX = "/_mock"
DEFAULT_SIZE: int = MockConfig.journal_size  # exchanges kept (the setting's default)
BODY_LIMIT = 64 * 1024  # a request or response body above this is summarised, not kept
STREAM_DATA_LIMIT = 256 * 1024  # a stream's event data kept; later events keep offset and type only
STREAM_EVENT_LIMIT = 5000  # events kept per stream; later ones are counted
_MASKED = frozenset({"authorization", "cookie"})  # shown as "<n characters>": journals get pasted into issues
_TYPE_KEY = '"message_type":"'
OPERATION = "letta_mock.operation"  # the scope key the app's route puts its operationId under


@dataclass(frozen=True, slots=True)
class Sent:
    """One event a stream sent: its offset from the request's arrival, its SSE name, its type, and the length of
    its data in the entry's kept data (``None`` past the stream's data limit: not kept)."""

    at_ms: float
    event: str | None
    type: str  # message_type; "[DONE]"; "unparsable" for data that is not a JSON object
    size: int | None


_RULE = "letta_mock.rule"


def answered_by(scope: Scope, rule: str) -> None:
    """The exchange was answered by this authored rule (``mockserver.authored``): its journal entry says so."""
    scope.setdefault("state", {})[_RULE] = rule


@dataclass(eq=False)
class Entry:
    """One exchange, filled in as it happens (``state`` is "open" until the response is over)."""

    id: int
    started_at: float  # wall clock, seconds since the epoch
    method: str
    path: str
    query: str
    headers: dict[str, str]
    operation: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # the route's path parameters
    body: Any = None  # the request's JSON (or its text, or a note that it was too big)
    status: int = 0
    content_type: str | None = None
    response_bytes: int = 0
    event_count: int = 0  # SSE: events sent
    stop_reason: str | None = None  # SSE: the (first) stop_reason event's
    rule: str | None = None  # the authored rule that answered it (``answered_by``)
    state: str = "open"  # open | done | dropped (a fault closed the connection) | failed (the mock failed)
    error: str | None = None  # what the mock failed with
    duration_ms: float | None = None
    version: int = 0  # the journal's version when this entry last changed
    response_raw: Blob = field(default_factory=Blob, repr=False)  # a non-SSE body, up to BODY_LIMIT
    stream_data: Blob = field(default_factory=Blob, repr=False)  # the kept events' data, one after another
    _t0: float = field(default_factory=time.perf_counter, repr=False)
    _pending: bytes = field(default=b"", repr=False)  # SSE bytes after the last complete event
    # The first STREAM_EVENT_LIMIT events, column by column (~24 bytes an event; ``events`` makes the rows).
    _at: array[float] = field(default_factory=lambda: array("d"), repr=False)
    _sizes: array[int] = field(default_factory=lambda: array("q"), repr=False)  # -1: its data is not kept
    _types: list[str] = field(default_factory=list, repr=False)  # interned
    _names: list[str | None] = field(default_factory=list, repr=False)

    @property
    def streamed(self) -> bool:
        return bool(self.content_type and self.content_type.startswith("text/event-stream"))

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self._t0) * 1000, 1)

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
        count = len(self._at)  # written last: the other columns are at least this long
        return [Sent(self._at[i], self._names[i], self._types[i], None if self._sizes[i] < 0 else self._sizes[i])
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
        self.stream_data.pack()
        self.response_raw.pack()

    def feed_stream(self, chunk: bytes) -> None:
        """Record the complete events in ``chunk`` (and what an earlier write left unfinished)."""
        pending = self._pending + chunk
        cut = pending.rfind(b"\n\n")
        if cut < 0:
            self._pending = pending
            return
        complete, self._pending = pending[: cut + 2], pending[cut + 2 :]
        at = self.elapsed_ms()
        for frame in decode(complete):
            self.event_count += 1
            kind = _message_type(frame.data)
            if frame.data == DONE:
                # The client may stop reading here and look at the journal before the (empty) last write: for it
                # the exchange is over. A drop after [DONE] still says "dropped".
                self.state, self.duration_ms = "done", at
            if kind == "stop_reason" and self.stop_reason is None:
                value = _parsed(frame.data.encode())
                self.stop_reason = value.get("stop_reason") if isinstance(value, dict) else None
            if len(self._at) >= STREAM_EVENT_LIMIT:
                continue
            data = frame.data.encode()
            kept = self.stream_data.size + len(data) <= STREAM_DATA_LIMIT
            if kept:
                self.stream_data.append(data)
            self._sizes.append(len(data) if kept else -1)
            self._types.append(sys.intern(kind))
            self._names.append(None if frame.event is None else sys.intern(frame.event))
            self._at.append(at)

    def summary(self) -> dict[str, Any]:
        """The journal's JSON for this exchange (``GET /_mock/journal``): the request, the response summarised."""
        response: dict[str, Any] = {
            "status": self.status,
            "content_type": self.content_type,
            "bytes": self.response_bytes,
        }
        if self.streamed:
            response["events"] = self.event_count
            response["stop_reason"] = self.stop_reason
            response["types"] = dict(Counter(self._types[: len(self._at)]))
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
            out["response"]["events_not_kept"] = self.event_count - len(self._at)
        else:
            out["response"]["body"] = self.response_body()
        return out


class Journal:
    """The last ``size`` exchanges, newest last; ``version`` grows with every change (the dashboard polls it)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ConfigurationError(f"journal size must be at least 1, not {size}")
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=size)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._next_id = 1
        self.version = 0
        self.epoch = 0  # grows with every clear: a reader that saw another epoch starts over

    # -- writing (the middleware) ---------------------------------------------------------------------------

    def open(self, method: str, path: str, query: str, headers: dict[str, str]) -> Entry:
        with self._lock:
            self.version += 1
            entry = Entry(self._next_id, time.time(), method, path, query, headers, version=self.version)
            self._next_id += 1
            self._entries.append(entry)
        return entry

    def touch(self, entry: Entry) -> None:
        with self._lock:
            self.version += 1
            entry.version = self.version

    def named(self, entry: Entry, operation: str | None) -> None:
        """The entry's operation is known: counted in ``counts`` once."""
        if entry.operation is None and operation is not None:
            entry.operation = operation
            with self._lock:
                self._counts[operation] += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
            self._next_id = 1  # numbered from 1 again: a test's (or a session's) first exchange is #1
            self.version += 1
            self.epoch += 1

    # -- reading --------------------------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """A snapshot of the exchanges kept, oldest first."""
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, entry_id: int) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def since(self, version: int) -> list[Entry]:
        """The exchanges that changed after ``version``, oldest first."""
        return [e for e in self.entries if e.version > version]

    def as_json(self, operation: str | None = None) -> list[dict[str, Any]]:
        return [e.summary() for e in self.entries if operation is None or e.operation == operation]


def admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


class JournalMiddleware:
    """Records every non-admin request as it happens: the request, then the response's head and bytes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or admin_path(scope["path"]) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        journal: Journal = scope["app"].state.journal
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers", [])}
        for key in _MASKED & headers.keys():
            headers[key] = f"<{len(headers[key])} characters>"
        query = scope.get("query_string", b"").decode("latin-1")
        entry = journal.open(scope["method"], scope["path"], query, headers)
        exchange = _Exchange(journal, entry, scope, receive, send)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except ConnectionDropped:
            entry.state = "dropped"
            raise
        except Exception as error:
            # The mock failed: Starlette's outermost middleware answers 500 after this one has given up.
            entry.state, entry.error = "failed", f"{type(error).__name__}: {error}"
            entry.status = entry.status or 500
            raise
        finally:
            _route(journal, entry, scope)
            if entry.body is None and exchange.chunks:
                entry.body = _body(b"".join(exchange.chunks), exchange.size)
            if entry.duration_ms is None:
                entry.duration_ms = entry.elapsed_ms()
            if entry.state == "open":
                entry.state = "done"
            entry.pack()
            journal.touch(entry)


class _Exchange:
    """One exchange's ``receive`` and ``send`` as the app sees them: each message recorded in its ``entry``."""

    __slots__ = ("_receive", "_send", "chunks", "entry", "journal", "scope", "size")

    def __init__(self, journal: Journal, entry: Entry, scope: Scope, receive: Receive, send: Send) -> None:
        self.journal, self.entry, self.scope = journal, entry, scope
        self._receive, self._send = receive, send
        self.chunks: list[bytes] = []  # the request body, up to BODY_LIMIT
        self.size = 0

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            body = message.get("body", b"")
            self.size += len(body)
            if self.size <= BODY_LIMIT:
                self.chunks.append(body)
            if not message.get("more_body", False):
                self.entry.body = _body(b"".join(self.chunks), self.size)
                self.journal.touch(self.entry)
        return message

    async def send(self, message: Message) -> None:
        # Recorded before it is sent: whoever received these bytes can read them in the journal.
        entry = self.entry
        if message["type"] == "http.response.start":
            entry.status = message["status"]
            for key, value in message.get("headers", []):
                if key == b"content-type":
                    entry.content_type = value.decode("latin-1")
            _route(self.journal, entry, self.scope)
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            entry.response_bytes += len(body)
            shared = self.scope.get("state", {}).get(SHARED)  # a listing: the store's item JSON (share_items)
            if entry.streamed:
                entry.feed_stream(body)
            elif shared is not None and entry.response_bytes <= BODY_LIMIT:
                entry.response_raw.share(shared, entry.response_bytes)
            elif entry.response_raw.size + len(body) <= BODY_LIMIT:
                entry.response_raw.append(body)
            if not message.get("more_body", False):
                entry.state, entry.duration_ms = "done", entry.elapsed_ms()
        self.journal.touch(entry)
        await self._send(message)


def _route(journal: Journal, entry: Entry, scope: Scope) -> None:
    # The router put the matched route's path parameters into the scope, and the route its operation's name.
    journal.named(entry, scope.get(OPERATION))
    entry.params = {k: str(v) for k, v in scope.get("path_params", {}).items()}
    entry.rule = scope.get("state", {}).get(_RULE)


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
