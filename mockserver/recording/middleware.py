"""``letta-mock serve --fixtures``: recorded exchanges answer in front of the synthesizing routes.

An ASGI layer inside the app (after the journal, so replayed requests are journalled, and inside CORS, so
browsers get their headers). For every request but the admin API's and CORS preflights: read the body, ask
``replay.Replayer``; a hit is stored as a turn (``turns``) and played back at its recorded pace (``playback``); a
miss answers Letta-shaped 404 naming the nearest recording, or with ``on_miss="synthesize"`` goes on to the
routes with its body intact.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.errors import HTTPError
from mockserver.journal import ADMIN_PREFIX
from mockserver.recording.library import Library
from mockserver.recording.matching import Incoming
from mockserver.recording.playback import Clock, answer_bytes, play, read_body, watch_disconnect
from mockserver.recording.replay import MISS_STATUS, Replayer, miss_body
from mockserver.recording.turns import remember
from mockserver.store import Store

__all__ = ["OnMiss", "ReplayMiddleware", "StoreSession", "send_json"]

OnMiss = Literal["error", "synthesize"]
FIXTURE_HEADER = b"x-letta-mock-fixture"  # which recording answered (a miss says "miss")
log = logging.getLogger("letta_mock")


class StoreSession:
    """Replay's memory kept in the app's store, so ``POST /_mock/reset`` starts the sequences over."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def aliases(self) -> dict[str, str]:
        return self.store.replay_aliases

    def count(self, group: str) -> int:
        return self.store.replay_count(group)

    def used(self, group: str) -> None:
        self.store.replay_used(group)

    def alias(self, real: str, placeholder: str) -> None:
        self.store.replay_alias(real, placeholder)


async def send_json(send: Send, status: int, body: Any, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": data, "more_body": False})


def incoming_of(scope: Scope, body: bytes) -> Incoming:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    query = scope.get("query_string", b"").decode("latin-1")
    return Incoming.of(scope["method"], scope["path"], query, headers, body)


class ReplayMiddleware:
    def __init__(self, app: ASGIApp, *, library: Library, speed: float = 1.0, on_miss: OnMiss = "error") -> None:
        self.app = app
        self.library = library
        self.replayer = Replayer(library)
        self.speed = speed
        self.on_miss = on_miss

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        clock = Clock(self.speed)  # offsets count from the request's arrival, as when recorded
        app = scope["app"]
        store: Store = app.state.store
        limit: int = app.state.config.max_body_bytes
        body, read = await read_body(receive, limit)
        if body is None:
            await send_json(send, 413, {"detail": f"Request body exceeds the limit of {limit} bytes"})
            return
        incoming = incoming_of(scope, body)
        session = StoreSession(store)
        hit = self.replayer.find(incoming, session)
        if hit is None:
            if self.on_miss == "synthesize":
                await self.app(scope, _replaying(read, receive), send)
                return
            near = self.replayer.near_miss(incoming, session)
            await send_json(send, MISS_STATUS, miss_body(incoming, near, self.library.sources),
                            [(FIXTURE_HEADER, b"miss")])  # fmt: skip
            return
        self.replayer.use(hit, session)
        response = hit.entry.exchange.response
        writes = answer_bytes(response, hit.rewrite(session))
        gone, watcher = watch_disconnect(receive)
        try:
            label = hit.entry.label.encode("latin-1", "replace")
            await play(send, response, writes, clock, headers=[(FIXTURE_HEADER, label)], disconnected=gone)
        finally:
            watcher.cancel()
            # Stored once it is sent (parsing a long stream would delay its first bytes), also when the client
            # left early: the server's turn happened all the same.
            try:
                remember(store, incoming.method, incoming.path, body, response.status,
                         b"".join(d for _, d in writes), response.is_stream)  # fmt: skip
            except HTTPError as refusal:  # e.g. a closed world without the recorded agent: the answer stands
                log.info("letta-mock replay: %s not kept in the store: %s", hit.entry.label, refusal.message)
            except Exception:  # the answer was sent as recorded; what it would have stored is lost, and said so
                log.exception("letta-mock replay: %s not kept in the store", hit.entry.label)


def _replaying(read: list[dict[str, Any]], receive: Receive) -> Receive:
    """A ``receive`` that hands on the messages already read, then the real ones."""
    pending = list(read)

    async def again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return again
