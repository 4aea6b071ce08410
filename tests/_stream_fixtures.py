"""Fixtures of the streaming tests: ``pytest_plugins = ["_stream_fixtures"]`` in a test module loads them.

``stream_server`` is one uvicorn server for the session; ``mock`` serves a fresh app from it per test;
``sdk_client`` is each of the four official clients (sync/async, loose/strict), checked (see ``_streaming``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from _streaming import Mock, Switch

from mockserver.live import LiveServer


@pytest.fixture(scope="session")
def stream_server() -> Iterator[tuple[LiveServer, Switch]]:
    switch = Switch()
    with LiveServer(app=switch) as server:  # type: ignore[arg-type]  # any ASGI app serves
        yield server, switch


@pytest.fixture
def mock(stream_server: tuple[LiveServer, Switch]) -> Iterator[Mock]:
    server, switch = stream_server
    helper = Mock(server, switch)
    yield helper
    helper.close()


@pytest.fixture(params=["sync-loose", "sync-strict", "async-loose", "async-strict"])
async def sdk_client(request: pytest.FixtureRequest, mock: Mock) -> AsyncIterator[Any]:
    """Each of the four official clients, checked; drive it with ``drain`` so one test covers all four."""
    kind, mode = request.param.split("-")
    if kind == "sync":
        yield mock.sdk(strict=mode == "strict")
    else:
        async with mock.async_sdk(strict=mode == "strict") as client:
            yield client
