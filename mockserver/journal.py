"""The request journal: every request the mock answered (bar the admin API's own), with a summary of its answer.

``GET /_mock/journal`` reads it; ``JournalMiddleware`` writes it. An entry names its operation by the
operations table's ``operationId``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.operations import OPERATIONS

__all__ = ["ADMIN_PREFIX", "Entry", "Journal", "JournalMiddleware"]

ADMIN_PREFIX = "/_mock"
_BODY_LIMIT = 64 * 1024  # bodies above this are summarised in the journal, not kept
_OPERATION_IDS = {operation.handler: operation.operation_id for operation in OPERATIONS}


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
    event_count: int = 0  # SSE: events sent
    last_byte: bytes = b""


@dataclass
class Journal:
    entries: list[Entry] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def clear(self) -> None:
        self.entries.clear()

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
                    **({"events": e.event_count} if e.content_type and "event-stream" in e.content_type else {}),
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
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX) or scope["method"] == "OPTIONS":
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
                entry.event_count += joined.count(b"\n\n")
                entry.response_bytes += len(body)
                entry.last_byte = body[-1:] or entry.last_byte
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        finally:
            # The router put the matched handler into the scope; the operations table names it.
            entry.operation = _OPERATION_IDS.get(scope.get("endpoint"))  # type: ignore[arg-type]
            entry.body = _body(b"".join(chunks), size)
            scope["app"].state.journal.add(entry)


def _body(raw: bytes, size: int) -> Any:
    if size > _BODY_LIMIT:
        return {"_letta_mock": f"body of {size} bytes not kept"}
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # not JSON (or nested past Python's limit)
        return raw.decode("utf-8", "replace")
