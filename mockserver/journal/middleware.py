"""``JournalMiddleware``: every non-admin exchange written into the app's journal as its bytes go by, each message
recorded before it is passed on."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.bodies import SHARED
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
        # The scope's facts as they are (a copy of its header list: a layer may change the list it is given).
        entry = journal.admit(scope["method"], scope["path"], scope.get("query_string", b""),
                              list(scope.get("headers", ())))  # fmt: skip
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


class _Exchange:
    """One exchange's ``receive`` and ``send`` as the app sees them: each message recorded in its ``entry``.

    The entry's version grows when a reader should look again: when it opens, when the request's body has come, at
    a stream's head and each of its writes, before a response's last write (which says it is done), and at the end
    if something changed after that (a failure, a drop). A plain response's head goes out with no change of version:
    its body follows at once, and the version changes before that is sent."""

    __slots__ = ("_receive", "_send", "chunks", "entry", "journal", "over", "routed", "scope", "size", "streamed",
                 "uncounted")  # fmt: skip

    def __init__(self, journal: Journal, entry: Entry, scope: Scope, receive: Receive, send: Send) -> None:
        self.journal, self.entry, self.scope = journal, entry, scope
        self._receive, self._send = receive, send
        self.chunks: list[bytes] = []  # the request body, up to BODY_LIMIT
        self.size = 0
        self.routed = self.streamed = False
        self.over = False  # the last write is recorded (and the version changed for it)
        self.uncounted: str | None = None  # the operation, until a version change counts it

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            body = message.get("body", b"")
            self.size += len(body)
            if self.size <= BODY_LIMIT:
                self.chunks.append(body)
            if not message.get("more_body", False):
                self.entry.received(self._request_bytes(), self.size)
                self.chunks = []
                self.touch()
        return message

    async def send(self, message: Message) -> None:
        # Recorded before it is sent: whoever received these bytes can read them in the journal.
        entry = self.entry
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            entry.response_bytes += len(body)
            if self.streamed:
                entry.feed_stream(body)
            elif entry.response_bytes <= BODY_LIMIT:
                shared = self.scope.get("state", {}).get(SHARED)  # a listing: the store's item JSON (share_items)
                if shared is not None:
                    entry.response_raw.share(shared, entry.response_bytes)
                else:
                    entry.response_raw.append(body)
            if not message.get("more_body", False):
                entry.state, entry.duration_ms = "done", entry.elapsed_ms()
                self.over = True
            self.touch()
        elif message["type"] == "http.response.start":
            entry.status = message["status"]
            for key, value in message.get("headers", ()):
                if key == b"content-type":
                    entry.content_type = value.decode("latin-1")
                    self.streamed = entry.streamed
            self.route()
            if self.streamed:
                self.touch()
        else:
            self.touch()
        await self._send(message)

    def touch(self) -> None:
        self.journal.touch(self.entry, self.uncounted)
        self.uncounted = None

    def route(self) -> None:
        # The router put the matched route's path parameters into the scope, and the route its operation's name.
        scope, entry = self.scope, self.entry
        self.routed = True
        self.uncounted = scope.get(OPERATION)
        entry.path_params = scope.get("path_params")
        entry.rule = scope.get("state", {}).get(_RULE)

    def close(self) -> None:
        """The exchange is over (answered, failed or dropped): what is left is recorded, the kept bytes packed."""
        entry = self.entry
        changed = not self.over or entry.state != "done"  # no last write, or a failure or a drop after it
        if not self.routed:
            self.route()
            changed = True
        rule = self.scope.get("state", {}).get(_RULE)  # a rule may name itself as its stream goes
        if rule != entry.rule:
            entry.rule, changed = rule, True
        if self.chunks:  # the app stopped reading before the end (a whole body empties the list)
            entry.received(self._request_bytes(), self.size)
            changed = True
        if entry.duration_ms is None:
            entry.duration_ms, changed = entry.elapsed_ms(), True
        if entry.state == "open":
            entry.state, changed = "done", True
        entry.pack()
        if changed or self.uncounted is not None:
            self.touch()

    def _request_bytes(self) -> bytes:
        chunks = self.chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
