"""``JournalMiddleware``: every non-admin exchange written into the app's journal as its bytes go by, each message
recorded before it is passed on."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.bodies import PACK_ABOVE, SHARED
from mockserver.faults import ConnectionDropped
from mockserver.journal.entry import BODY_LIMIT, Entry
from mockserver.journal.ring import Journal

__all__ = ["ADMIN_PREFIX", "OPERATION", "JournalMiddleware", "admin_path", "answered_by"]

ADMIN_PREFIX = "/_mock"
OPERATION = "letta_mock.operation"  # the scope key the app's route puts its operationId under
_RULE = "letta_mock.rule"


def answered_by(scope: Scope, rule: str) -> None:
    """The exchange was answered by this authored rule (``mockserver.authored``): its journal entry says so."""
    scope.setdefault("state", {})[_RULE] = rule


def admin_path(path: str) -> bool:
    return path.startswith(ADMIN_PREFIX) and (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"))


class JournalMiddleware:
    """Records every non-admin request as it happens: the request, then the response's head and bytes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._journal: tuple[Any, Journal] | None = None  # the app last seen (``scope["app"]``) and its journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or admin_path(path := scope["path"]):
            await self.app(scope, receive, send)  # a lifespan, a preflight, the admin API: not an exchange of Letta's
            return
        app, seen = scope["app"], self._journal
        journal = seen[1] if seen is not None and seen[0] is app else self._look_up(app)
        # The scope's facts as they are, read when a reader asks (no layer changes the request's header list).
        entry = journal.admit(scope["method"], path, scope.get("query_string", b""), scope["headers"])
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
            exchange.close()

    def _look_up(self, app: Any) -> Journal:
        journal: Journal = app.state.journal  # Starlette's ``State`` looks it up in Python: once an app, not a request
        self._journal = (app, journal)
        return journal


class _Exchange:
    """One exchange's ``receive`` and ``send`` as the app sees them: each message recorded in its ``entry``.

    The entry's version grows when a reader should look again: when it opens, when the request's body has come, at
    a stream's head and each of its writes, before a response's last write (which says it is done), and at the end
    if something changed after that (a failure, a drop). A plain response's head goes out with no change of version:
    its body follows at once, and the version changes before that is sent."""

    __slots__ = ("_receive", "_send", "chunks", "entry", "journal", "over", "scope", "size", "streamed", "uncounted")

    def __init__(self, journal: Journal, entry: Entry, scope: Scope, receive: Receive, send: Send) -> None:
        self.journal, self.entry, self.scope, self._receive, self._send = journal, entry, scope, receive, send
        self.chunks: list[bytes] | None = None  # the request body (up to BODY_LIMIT) while it comes
        self.size = 0
        self.streamed = self.over = False  # over: the last write is recorded (and the version changed for it)
        self.uncounted: str | None = None  # the operation, from the response's head until a version change

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            body = message.get("body", b"")
            self.size += len(body)
            chunks = self.chunks = [] if self.chunks is None else self.chunks
            if self.size <= BODY_LIMIT:
                chunks.append(body)
            if not message.get("more_body", False):
                self.entry.received(chunks[0] if len(chunks) == 1 else b"".join(chunks), self.size)
                self.chunks = None
                self.journal.touch(self.entry)
        return message

    async def send(self, message: Message) -> None:
        # Recorded before it is sent: whoever received these bytes can read them in the journal.
        entry = self.entry
        kind = message["type"]
        if kind == "http.response.body":
            body = message.get("body", b"")
            size = entry.response_bytes = entry.response_bytes + len(body)
            if self.streamed:
                entry.feed_stream(body)
            elif size <= BODY_LIMIT:
                shared = self.scope.get("state", {}).get(SHARED)  # a listing: the store's item JSON (share_items)
                if shared is None:
                    entry.response_raw.append(body)
                else:
                    entry.response_raw.share(shared, size)
            if not message.get("more_body", False):
                entry.state, entry.ended_at = "done", perf_counter()
                self.over = True
            self.journal.touch(entry, self.uncounted)
            self.uncounted = None
        elif kind == "http.response.start":
            entry.status = message["status"]
            for key, value in message.get("headers", ()):
                if key == b"content-type":
                    entry.content_type = value.decode("latin-1")
            self.streamed = entry.streamed  # read once: every write of the body asks
            self.route()
            if self.streamed:
                self.journal.touch(entry, self.uncounted)
                self.uncounted = None
        else:
            self.journal.touch(entry)
        await self._send(message)

    def route(self) -> None:
        # The router put the matched route's path parameters into the scope, and the route its operation's name.
        scope, entry = self.scope, self.entry
        self.uncounted = scope.get(OPERATION)
        entry.path_params = scope.get("path_params")
        entry.rule = scope.get("state", {}).get(_RULE)

    def close(self) -> None:
        """The exchange is over (answered, failed or dropped): what is left is recorded, the kept bytes packed."""
        entry = self.entry
        changed = not self.over or entry.state != "done"  # no last write, or a failure or a drop after it
        if not self.over:  # failed or dropped, maybe before the head: the route is read (again) now
            self.route()
        rule = self.scope.get("state", {}).get(_RULE)  # a rule may name itself as its stream goes
        if rule != entry.rule:
            entry.rule, changed = rule, True
        if self.chunks:  # the app stopped reading before the end
            entry.received(b"".join(self.chunks), self.size)
            changed = True
        if entry.ended_at is None:
            entry.ended_at, changed = perf_counter(), True
        if entry.state == "open":
            entry.state, changed = "done", True
        if self.streamed or entry.response_bytes > PACK_ABOVE:  # a small plain body has nothing to compress
            entry.pack()
        if changed or self.uncounted is not None:
            self.journal.touch(entry, self.uncounted)
