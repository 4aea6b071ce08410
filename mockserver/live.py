"""A mock server on a real localhost port, run by uvicorn in a background thread (for tests and tools).

The socket outlives the app behind it: ``reset`` forgets all state (or, for other settings, puts a freshly built
app behind the same port) and ``serve`` puts any app there, so a test session starts uvicorn once.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from mockserver.app import create_app
from mockserver.appstate import reset
from mockserver.serving import uvicorn_config

__all__ = ["LiveServer"]


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test runner's thread owns the signals
        pass


class _Behind:
    """The ASGI app on the socket: whichever app the live server serves now."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class LiveServer:
    """``with LiveServer() as server: server.url`` — a mock listening on 127.0.0.1 (any free port by default)."""

    def __init__(self, app: Starlette | None = None, *, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self.options = options
        self._behind = _Behind(app if app is not None else create_app(**options))
        self._server = _Server(uvicorn_config(self._behind, host=host, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="letta-mock", daemon=True)
        self.host = host
        self.port = port

    @property
    def app(self) -> Starlette:
        """The app served now."""
        return self._behind.app

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve(self, app: Starlette) -> str:
        """Serve ``app`` from now on, on the same socket; its URL."""
        self._behind.app = app
        return self.url

    def reset(self, **options: Any) -> str:
        """A mock as new, configured by ``options`` (``create_app``'s): the same app with its state forgotten, or a
        new app when the settings differ. Its URL."""
        if options == self.options:
            reset(self.app)
        else:
            self.options = options
            self._behind.app = create_app(**options)
        return self.url

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"letta-mock did not start on {self.host}:{self.port}")
            time.sleep(0.005)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType] | Any) -> None:
        self.stop()
