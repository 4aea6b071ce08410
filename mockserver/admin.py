"""The admin API under ``/_mock/`` (a prefix Letta never uses) and the request journal behind it.

    GET    /_mock/                          what is here
    POST   /_mock/reset                     forget all state: agents, runs, scripts, journal
    GET    /_mock/defaults                  controls applied to every turn
    PUT    /_mock/defaults                  {"scenario": "tool_call", "token_delay_ms": 20, ...}
    GET    /_mock/agents/{agent_id}/script  the agent's remaining scripted turns
    PUT    /_mock/agents/{agent_id}/script  {"turns": [{"scenario": "approval"}, {"reply": "Done."}]}
    GET    /_mock/journal[?operation=...]   requests with their bodies, responses summarised
    DELETE /_mock/journal
    GET    /_mock/calls                     {"send_message": 3, ...}: calls per operation, to verify

Scripts and defaults take the same keys as the ``X-Letta-Mock`` header (see ``control``). ``--no-admin`` (or
``create_app(admin=False)``) leaves these routes out.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.control import KNOWN_KEYS, ControlError, Controls, parse_controls
from mockserver.errors import RequestInvalid
from mockserver.http import json_response, path_id
from mockserver.ids import Clock, Ids
from mockserver.store import Store

__all__ = ["ADMIN_ROUTES", "Journal", "JournalMiddleware"]

PREFIX = "/_mock"
_BODY_LIMIT = 64 * 1024  # bodies above this are summarised in the journal, not kept


@dataclass
class Entry:
    method: str
    path: str
    query: str
    operation: str | None
    body: Any
    status: int = 0
    content_type: str | None = None
    response_bytes: int = 0
    events: int = 0  # SSE: events sent
    last_byte: bytes = b""


@dataclass
class Journal:
    entries: list[Entry] = field(default_factory=list)

    def as_json(self, operation: str | None = None) -> list[dict[str, Any]]:
        return [
            {
                "method": e.method,
                "path": e.path,
                "query": e.query,
                "operation": e.operation,
                "body": e.body,
                "response": {
                    "status": e.status,
                    "content_type": e.content_type,
                    "bytes": e.response_bytes,
                    **({"events": e.events} if e.content_type and "event-stream" in e.content_type else {}),
                },
            }
            for e in self.entries
            if operation is None or e.operation == operation
        ]


class JournalMiddleware:
    """Records every non-admin request: method, path, query, JSON body, and a summary of the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PREFIX) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0

        async def receiving() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size <= _BODY_LIMIT:
                    chunks.append(message.get("body", b""))
            return message

        entry = Entry(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"), None, None)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
                for key, value in message.get("headers", []):
                    if key == b"content-type":
                        entry.content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                # Count event terminators (a blank line; compact JSON has no raw newline), also across writes.
                joined = b"\n" + body if entry.response_bytes and entry.last_byte == b"\n" else body
                entry.events += joined.count(b"\n\n")
                entry.response_bytes += len(body)
                entry.last_byte = body[-1:] or entry.last_byte
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        finally:
            # The router put the matched endpoint into the scope; its name is the operation id.
            entry.operation = getattr(scope.get("endpoint"), "__name__", None)
            entry.body = _body(b"".join(chunks), size)
            scope["app"].state.journal.entries.append(entry)


def _body(raw: bytes, size: int) -> Any:
    if size > _BODY_LIMIT:
        return {"_letta_mock": f"body of {size} bytes not kept"}
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # not JSON (or nested past Python's limit)
        return raw.decode("utf-8", "replace")


async def _controls_body(request: Request) -> dict[str, Any]:
    try:
        value = json.loads(await request.body() or b"{}")
    except ValueError:
        raise RequestInvalid.single(["body"], "JSON decode error", "json_invalid") from None
    if not isinstance(value, dict):
        raise RequestInvalid.single(["body"], "Input should be an object", "dict_type")
    return value


async def index(request: Request) -> Response:
    return json_response(
        {
            "routes": [f"{', '.join(sorted(r.methods or ()))} {r.path}" for r in ADMIN_ROUTES],
            "control_keys": list(KNOWN_KEYS),
            "defaults": request.app.state.defaults.as_dict(),
        }
    )


async def reset(request: Request) -> Response:
    state = request.app.state
    seed = state.config.seed
    state.store = Store(
        ids=Ids(seed), clock=Clock(seed), agents=state.config.agents, freeze_gc_every=state.store.freeze_gc_every
    )
    state.journal = Journal()
    return json_response({"reset": True})


async def defaults(request: Request) -> Response:
    if request.method == "PUT":
        request.app.state.defaults = parse_controls(await _controls_body(request), where="defaults")
    return json_response(request.app.state.defaults.as_dict())


async def script(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    store: Store = request.app.state.store
    if request.method == "PUT":
        body = await _controls_body(request)
        turns = body.get("turns")
        if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
            raise RequestInvalid.single(["body", "turns"], "Input should be a list of objects", "list_type")
        parsed: list[Controls] = []
        problems = []
        for index, turn in enumerate(turns):
            try:
                parsed.append(parse_controls(turn, where=f"turns[{index}]"))
            except ControlError as error:
                problems.append(str(error.detail))
        if problems:
            raise ControlError("; ".join(problems))
        store.scripts[agent_id] = deque(parsed)
    return json_response({"agent_id": agent_id, "turns": [c.as_dict() for c in store.scripts.get(agent_id, ())]})


async def journal(request: Request) -> Response:
    if request.method == "DELETE":
        request.app.state.journal = Journal()
        return json_response([])
    return json_response(request.app.state.journal.as_json(request.query_params.get("operation")))


async def calls(request: Request) -> Response:
    entries: list[Entry] = request.app.state.journal.entries
    return json_response(dict(Counter(e.operation for e in entries if e.operation is not None)))


ADMIN_ROUTES = [
    Route(PREFIX + "/", index, methods=["GET"]),
    Route(PREFIX + "/reset", reset, methods=["POST"]),
    Route(PREFIX + "/defaults", defaults, methods=["GET", "PUT"]),
    Route(PREFIX + "/agents/{agent_id}/script", script, methods=["GET", "PUT"]),
    Route(PREFIX + "/journal", journal, methods=["GET", "DELETE"]),
    Route(PREFIX + "/calls", calls, methods=["GET"]),
]
