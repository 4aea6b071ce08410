"""Fixtures of the streaming tests: ``pytest_plugins = ["_stream_fixtures"]`` in a test module loads them.

``mock`` serves a fresh app per test from the plugin's session server (``letta_mock_server``);
``sdk_client`` is each of the four official clients (sync/async, loose/strict), checked (see ``_streaming``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from _streaming import Mock

from mockserver.live import LiveServer


@pytest.fixture
def mock(letta_mock_server: LiveServer) -> Iterator[Mock]:
    helper = Mock(letta_mock_server)
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
