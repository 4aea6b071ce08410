"""What a session sent and what came back: an httpx transport that keeps each exchange as the client reads it.

The body is kept as the client reads it (a stream's events as they arrive), so what is compared is exactly what
the SDK saw. Exchanges are named by the session step that made them and by Letta's operation (the operations
table's path templates, matched in the table's order, as the mock's router does).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

import httpx

__all__ = ["Exchange", "Recorder", "operation_of"]


@dataclass
class Exchange:
    step: str
    method: str
    path: str
    operation: str
    status: int = 0
    content_type: str = ""
    body: bytearray = field(default_factory=bytearray)


@cache
def _templates() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    from mockserver.operations import OPERATIONS

    out = []
    for operation in OPERATIONS:
        for path in (operation.path, *operation.aliases):
            pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path))
            out.append((operation.method, re.compile(f"^{pattern}$"), operation.operation_id))
    return tuple(out)


def operation_of(method: str, path: str) -> str:
    """Letta's operationId of a request, or ``METHOD path`` when the operations table has none."""
    for verb, pattern, operation_id in _templates():
        if verb == method and pattern.match(path):
            return operation_id
    return f"{method} {path}"


class _Tee(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, into: bytearray) -> None:
        self.inner, self.into = inner, into

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            self.into += chunk
            yield chunk

    def close(self) -> None:
        self.inner.close()


class Recorder(httpx.BaseTransport):
    """Wraps a transport; every exchange while ``step`` is set is kept in ``exchanges``, in order."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.exchanges: list[Exchange] = []
        self.step: str | None = None  # None: not recorded (waiting, cleaning up)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self.inner.handle_request(request)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            # A kept-alive connection the server closed after its last answer (Letta does after a 500): once more,
            # on a new connection. The server never answered the first try, so nothing is lost.
            response = self.inner.handle_request(request)
        if self.step is None:
            return response
        path = request.url.path
        exchange = Exchange(self.step, request.method, path, operation_of(request.method, path))
        exchange.status = response.status_code
        exchange.content_type = response.headers.get("content-type", "")
        self.exchanges.append(exchange)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _Tee(response.stream, exchange.body)
        return response

    def close(self) -> None:
        self.inner.close()
