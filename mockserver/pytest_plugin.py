"""pytest plugin (entry point ``pytest11``): a running letta-mock for your tests.

Fixtures (every name starts with ``letta_mock``):

* ``letta_mock_app``: a fresh mock ASGI app per test, configured by the ``letta_mock`` marker.
* ``letta_mock``: an ``httpx.AsyncClient`` talking to that app in-process (no sockets).
* ``letta_mock_server``: one live server on 127.0.0.1 for the session (uvicorn in a thread).
* ``letta_mock_url``: its URL, the mock reset and configured by this test's marker —
  point ``Letta(base_url=letta_mock_url)`` or a browser at it.

Marker: ``@pytest.mark.letta_mock(seed=7, agents=[...], fidelity="server", controls="scenario=tool_call")``;
``fixtures="approval_round_trip"`` replays recorded exchanges, ``record="once", upstream=URL`` a per-test cassette
(``mockserver.recording.cassettes``; ``--letta-mock-record-mode`` overrides ``record``).
Heavy imports happen inside the fixtures, so loading the plugin keeps ``pytest --help`` fast.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

    from mockserver.live import LiveServer

__all__ = ["letta_mock", "letta_mock_app", "letta_mock_server", "letta_mock_url"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "letta_mock(seed=None, agents=None, fidelity='contract', controls=None, fixtures=None, replay_speed=1, "
        "on_miss='error', record=None, upstream=None): configure the letta_mock fixtures",
    )


# -- record and replay (mockserver.recording.cassettes) ---------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    from mockserver.recording.cassettes import add_option

    add_option(parser)


# -------------------------------------------------------------------------------------------------------------


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("letta_mock")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def letta_mock_app(request: pytest.FixtureRequest) -> Starlette:
    from mockserver.app import create_app
    from mockserver.recording.cassettes import cassette_app, wants_cassette  # record and replay

    options = _options(request)
    if wants_cassette(options):  # record and replay: the test's cassette
        return cassette_app(request, options)  # type: ignore[return-value]
    return create_app(**options)


@pytest.fixture
async def letta_mock(letta_mock_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    import httpx

    transport = httpx.ASGITransport(app=letta_mock_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://letta-mock") as client:
        yield client


@pytest.fixture(scope="session")
def letta_mock_server() -> Iterator[LiveServer]:
    from mockserver.live import LiveServer

    with LiveServer() as server:
        yield server


@pytest.fixture
def letta_mock_url(letta_mock_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[str]:
    from mockserver.recording.cassettes import serve_cassette, wants_cassette  # record and replay

    options = _options(request)
    if wants_cassette(options):  # record and replay: the test's cassette on the same socket
        with serve_cassette(letta_mock_server, request, options, afterwards=letta_mock_server.app) as url:
            yield url
    else:
        # The same socket for the session; per test, the mock as new and configured by this test's marker.
        yield letta_mock_server.reset(**options)
