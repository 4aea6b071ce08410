"""A synchronous httpx transport for an ASGI app in this process — the official SDK's ``Letta(http_client=...)`` on
the mock without a socket, as respx users expect of a mock.

httpx's own ``ASGITransport`` is async only, and it hands a response over only once the app has finished it, so a
stream would arrive whole at its end (and one that never ends, never). Here the app runs on an event loop of its
own in a background thread (one per transport, started on first use, stopped by ``close``), and a request waits in
the caller's thread:

* for the response's head, then returns it; its body is read chunk by chunk as the app sends it (a queue of one
  chunk between the two threads), so an SSE stream arrives event by event and its pace is the app's;
* up to the request's read timeout (httpx's ``timeout``) for the head and for each chunk: ``httpx.ReadTimeout``;
* closing a response before its end cancels what the app was still sending, as a client that hangs up does.

The app's own failures are answered as it answers them (the mock: Letta's 500, logged on ``letta_mock``); one that
escapes before any answer is a bare 500, as ``ASGITransport(raise_app_exceptions=False)`` gives it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
from starlette.types import ASGIApp, Message

__all__ = ["InProcessTransport"]

_numbers = itertools.count(1)


class InProcessTransport(httpx.BaseTransport):
    """``httpx.Client(transport=InProcessTransport(app))``: requests answered by ``app`` in this process."""

    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.app = app
        self.client = client
        self.thread_name = f"letta-mock-in-process-{next(_numbers)}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name=self.thread_name, daemon=True)
                self._thread.start()
                self._loop = loop
            return self._loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        loop = self._running_loop()
        exchange = _Exchange(self.app, _scope(request, self.client), request.read())
        task = asyncio.run_coroutine_threadsafe(exchange.run(), loop)
        timeout = _read_timeout(request)
        try:
            status, headers = exchange.head.result(timeout)
        except concurrent.futures.TimeoutError:
            task.cancel()
            raise httpx.ReadTimeout("letta-mock in process: no answer within the read timeout",
                                    request=request) from None  # fmt: skip
        return httpx.Response(status, headers=headers, stream=_Body(exchange, loop, task, request, timeout))

    def close(self) -> None:
        """Stop the app's event loop (what it still runs is cancelled) and its thread."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return

        async def stop() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for pending in tasks:
                pending.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        asyncio.run_coroutine_threadsafe(stop(), loop)
        thread.join(timeout=10)
        loop.close()


class _Exchange:
    """One request on the app's loop: its head handed to the caller's thread, its body through a queue of one."""

    def __init__(self, app: ASGIApp, scope: dict[str, Any], body: bytes) -> None:
        self.app = app
        self.scope = scope
        self.body: bytes | None = body
        self.head: concurrent.futures.Future[tuple[int, list[tuple[bytes, bytes]]]] = concurrent.futures.Future()
        # Made here, bound to the app's loop when first used there. A chunk of None: the body's end.
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=1)
        self.over = asyncio.Event()  # the response is over, or the client hung up
        self.ended = False

    async def run(self) -> None:
        try:
            await self.app(self.scope, self._receive, self._send)
        except Exception:  # the app answered it already (Starlette re-raises after its 500), or could not
            pass
        finally:
            if not self.head.done():
                self.head.set_result((500, []))
            self.over.set()
        if not self.ended:  # the app stopped before the body's end: the client has what it sent
            await self.chunks.put(None)

    async def _receive(self) -> Message:
        if self.body is not None:
            body, self.body = self.body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await self.over.wait()  # the client is there until the response is over (or it closed it)
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.head.set_result((message["status"], list(message.get("headers", []))))
        elif message["type"] == "http.response.body":
            if message.get("body"):
                await self.chunks.put(bytes(message["body"]))
            if not message.get("more_body", False):
                await self.chunks.put(None)
                # Only then: the app may stop as soon as its client is gone, cancelling a put still waiting.
                self.ended = True
                self.over.set()


class _Body(httpx.SyncByteStream):
    def __init__(
        self,
        exchange: _Exchange,
        loop: asyncio.AbstractEventLoop,
        task: concurrent.futures.Future[None],
        request: httpx.Request,
        timeout: float | None,
    ) -> None:
        self.exchange = exchange
        self.loop = loop
        self.task = task
        self.request = request
        self.timeout = timeout

    def __iter__(self) -> Iterator[bytes]:
        chunks = self.exchange.chunks
        while True:
            waiting = asyncio.run_coroutine_threadsafe(chunks.get(), self.loop)
            try:
                chunk = waiting.result(self.timeout)
            except concurrent.futures.TimeoutError:
                waiting.cancel()
                self.close()
                raise httpx.ReadTimeout("letta-mock in process: no data within the read timeout",
                                        request=self.request) from None  # fmt: skip
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        """The client hung up: what the app still sends is cancelled."""
        if not self.task.done():
            self.task.cancel()


def _scope(request: httpx.Request, client: tuple[str, int]) -> dict[str, Any]:
    url = request.url
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": unquote(url.path),
        "raw_path": url.raw_path.split(b"?")[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(key.lower(), value) for key, value in request.headers.raw],
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        "client": client,
    }


def _read_timeout(request: httpx.Request) -> float | None:
    timeout: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeout.get("read")
