"""A mock server on a real localhost port, run by uvicorn in a background thread (for tests and tools).

The socket outlives the app behind it: ``reset`` forgets all state (or, for other settings, puts a freshly built
app behind the same port) and ``serve`` puts any app there, so a test session starts uvicorn once. A reset runs on
the server's own event loop, so it never races a turn still streaming from the previous test.

The mock answers its own failures with Letta's 500 and logs them on the ``letta_mock`` logger; the server keeps
those records (``errors``), and ``check()`` raises them in the caller's thread — pytest-httpserver's
``check_assertions`` for a mock whose handlers are not yours.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from mockserver.app import create_app
from mockserver.appstate import reset
from mockserver.serving import uvicorn_config

__all__ = ["ErrorCapture", "LiveServer", "MockServerError"]

_numbers = itertools.count(1)
RESET_TIMEOUT_S = 10
_HOST_OPTION = "allowed_hosts=['{0}'] (pytest: --letta-mock-allowed-hosts {0})"


class MockServerError(AssertionError):
    """The mock failed while answering a request; the first failure's exception is the ``__cause__``."""


class ErrorCapture(logging.Handler):
    """Keeps the ``letta_mock`` logger's errors (the mock's own failures), only those of the named threads when
    any are named: a test's failures are its own thread's and its server's, not a late one of another server."""

    def __init__(self, *thread_names: str) -> None:
        super().__init__(logging.ERROR)
        self.threads = set(thread_names)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def watch(self, thread_name: str) -> None:
        self.threads.add(thread_name)

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            self.records.append(record)

    def kept(self) -> list[logging.LogRecord]:
        """The errors kept so far of the watched threads, still kept."""
        with self._lock_records:
            return [r for r in self.records if not self.threads or r.threadName in self.threads]

    def take(self) -> list[logging.LogRecord]:
        """The errors kept so far of the watched threads (all threads when none is named); all are forgotten."""
        with self._lock_records:
            records, self.records = self.records, []
        return [r for r in records if not self.threads or r.threadName in self.threads]

    def install(self) -> ErrorCapture:
        logging.getLogger("letta_mock").addHandler(self)
        return self

    def uninstall(self) -> None:
        logging.getLogger("letta_mock").removeHandler(self)

    def check(self) -> None:
        """Raise ``MockServerError`` for the errors kept so far (and forget them)."""
        __tracebackhide__ = True  # pytest: the report starts at the caller
        records = self.take()
        if records:
            raise failure(records)


def failure(records: list[logging.LogRecord], after: BaseException | None = None) -> MockServerError:
    """One error naming every failure the mock logged, caused by the first one's exception."""
    formatter = logging.Formatter()
    parts = []
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + formatter.formatException(record.exc_info)
        parts.append(text)
    head = f"letta-mock failed {len(records)} time(s) while answering this test's requests (it answered 500)"
    if after is not None:
        head += f"; the test then failed with {type(after).__name__}: {after}"
    error = MockServerError(head + ":\n\n" + "\n\n".join(parts))
    first = next((r.exc_info[1] for r in records if r.exc_info and r.exc_info[1] is not None), None)
    error.__cause__ = first
    return error


class _Server(uvicorn.Server):
    loop: asyncio.AbstractEventLoop | None = None

    def install_signal_handlers(self) -> None:  # the test runner's thread owns the signals
        pass

    async def serve(self, sockets: Any = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)


class _Behind:
    """The ASGI app on the socket: whichever app the live server serves now."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class LiveServer:
    """``with LiveServer() as server: server.url`` — a mock listening on 127.0.0.1 (any free port by default).

    It answers the loopback Host names and ``allowed_hosts`` (``["*"]``: any; default: the app's own
    ``allowed_hosts`` setting), and web pages on loopback origins and the app's ``cors_origins``
    (``mockserver.allowlists``)."""

    def __init__(
        self,
        app: Starlette | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allowed_hosts: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        self.options: dict[str, Any] | None = options
        self._behind = _Behind(app if app is not None else create_app(**options))
        if allowed_hosts is None:  # the setting of the app it starts with (it acts on the socket, not the app)
            config = getattr(getattr(self._behind.app, "state", None), "config", None)  # any ASGI app may be served
            allowed_hosts = config.allowed_hosts if config is not None else None
        # Like every server letta-mock runs, it answers only Host names it knows (mockserver.allowlists).
        config = uvicorn_config(self._behind, host=host, port=port, log_level="warning", allowed_hosts=allowed_hosts,
                                option=_HOST_OPTION)  # fmt: skip
        self._server = _Server(config)
        name = f"letta-mock-{next(_numbers)}"
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)
        self._errors = ErrorCapture(name)
        self.host = host
        self.port = port

    @property
    def app(self) -> Starlette:
        """The app served now."""
        return self._behind.app

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def errors(self) -> list[logging.LogRecord]:
        """What the mock logged as its own failures since the last ``check``/``reset`` (records of ``letta_mock``)."""
        return self._errors.kept()

    @property
    def thread_name(self) -> str:
        """The thread the server answers on (its failures are logged there)."""
        return self._thread.name

    def forget_errors(self) -> None:
        self._errors.take()

    def check(self) -> None:
        """Raise ``MockServerError`` if the mock failed while answering since the last check or reset."""
        self._errors.check()

    def serve(self, app: Starlette) -> str:
        """Serve ``app`` from now on, on the same socket; its URL. (A later ``reset`` builds a new mock.)"""
        self.options = None
        self._behind.app = app
        return self.url

    def reset(self, **options: Any) -> str:
        """A mock as new, configured by ``options`` (``create_app``'s): the same app with its state forgotten, or a
        new app when the settings differ. Failures kept from before are forgotten too. Its URL."""
        self._errors.take()
        if options == self.options:
            self._on_loop(reset, self.app)
        else:
            self.options = options
            self._behind.app = create_app(**options)
        return self.url

    def _on_loop(self, function: Any, *args: Any) -> None:
        """Run ``function(*args)`` on the server's event loop (where requests touch the state), and wait for it."""
        loop = self._server.loop
        if loop is None or not self._thread.is_alive():
            function(*args)
            return

        async def call() -> None:
            function(*args)

        asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=RESET_TIMEOUT_S)

    def start(self) -> LiveServer:
        self._errors.install()
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._errors.uninstall()
                raise RuntimeError(f"letta-mock did not start on {self.host}:{self.port}")
            time.sleep(0.005)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._errors.uninstall()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType] | Any) -> None:
        self.stop()
