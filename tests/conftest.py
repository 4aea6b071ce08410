"""Fixtures: the mock in-process and on a real port, and the official SDK clients pointed at it.

Every client made here validates every response it receives against Letta's OpenAPI document (tests/contract.py),
so a test that only calls the SDK still proves the bodies and stream events are in the contract.

One uvicorn server runs for the whole session (the pytest plugin's ``letta_mock_server``); each test puts a fresh
app behind it (``serve``), because state matters in almost every test and starting uvicorn per test costs ~0.2 s
(most of it the shutdown poll).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _local import ROOT
from _sdk import make_async_letta, make_letta
from contract import FULL_SPEC_PATH, ContractChecker
from letta_client import AsyncLetta, Letta
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.live import LiveServer

pytest_plugins = ["_real_letta"]


@pytest.fixture(autouse=True, scope="session")
def _caches_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What the commands under test keep in ``$XDG_CACHE_HOME`` (letta-mock fuzz's failures, for --replay) goes to
    the session's temporary directory, not the user's ~/.cache."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """The default tier runs on a worker per core (``-n auto`` in addopts). The real_letta tier runs in one process:
    its tests share one real server, which the session's ``real_letta_url`` starts and stops."""
    selected = str(config.option.markexpr or "")
    return 0 if "real_letta" in selected.replace("not real_letta", "") else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `shared`: what compares the repository with ../shared (CI runs these with LETTA_MOCK_REQUIRE_SHARED=1).
    for item in items:
        if "beside_repository" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared)
    _unique_node_ids(items)


def _unique_node_ids(items: list[pytest.Item]) -> None:
    """schemathesis 4.32's ``@schema.parametrize()`` names each operation's item ``test[METHOD /path]``, but under
    pytest 9 every one of them has the test's own node id. pytest-xdist schedules by node id, so it would run one
    operation of each such test and count the rest as never collected: each item gets its name's id back."""
    counts = Counter(item.nodeid for item in items)
    for item in items:
        original = getattr(item, "originalname", item.name)
        if counts[item.nodeid] > 1 and item.name.startswith(f"{original}[") and item.name.endswith("]"):
            item._id = item._id.with_params(item.name[len(original) + 1 : -1])  # type: ignore[attr-defined]
    repeated = [nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1]
    assert not repeated, f"tests with the same node id: {repeated}"


@pytest.fixture(scope="session")
def beside_repository() -> Callable[[str, str], Path]:
    """``beside_repository("shared/...", what)``: a file beside the repository, which CI has and a fresh clone does
    not. Where it is absent the test skips saying so; with ``LETTA_MOCK_REQUIRE_SHARED=1`` (.ci/run) it fails."""

    def find(relative: str, what: str) -> Path:
        path = ROOT.parent / relative
        if not path.is_file():
            why = f"{what} is not beside the repository ({path})"
            if os.environ.get("LETTA_MOCK_REQUIRE_SHARED") == "1":
                pytest.fail(f"{why}, and LETTA_MOCK_REQUIRE_SHARED=1")
            pytest.skip(why)
        return path

    return find


@pytest.fixture(scope="session")
def letta_full_spec(beside_repository: Callable[[str, str], Path]) -> Path:
    """Letta's full OpenAPI document (the tests validate against its facts, tests/spec)."""
    path = beside_repository("shared/spec/letta-openapi.json", "Letta's full OpenAPI document")
    assert path == FULL_SPEC_PATH
    return path


@pytest.fixture
def app() -> Starlette:
    # Created agents' tools run at once here (their realistic 2 s is tests/test_cancel_in_flight.py's subject).
    return create_app(seed=1, created_tool_ms=0)


@pytest.fixture
def serve(letta_mock_server: LiveServer) -> Callable[[Starlette], str]:
    """``serve(app)`` puts ``app`` behind the plugin's live server and returns its base URL."""
    return letta_mock_server.serve


@pytest.fixture
def base_url(serve: Callable[[Starlette], str], app: Starlette) -> str:
    """The live URL of this test's ``app``."""
    return serve(app)


@pytest.fixture
def checker() -> ContractChecker:
    return ContractChecker()


@pytest.fixture
async def asgi_client(app: Starlette, checker: ContractChecker) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to ``app`` in-process; every response is checked against the contract."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        event_hooks={"response": [checker.async_hook]},
    ) as client:
        yield client


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """``client_for(app, fidelity=...)``: a checked in-process client for an app built in the test."""
    clients: list[httpx.AsyncClient] = []

    def make(app: Starlette, *, fidelity: str = "contract") -> httpx.AsyncClient:
        checker = ContractChecker(fidelity=fidelity)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            event_hooks={"response": [checker.async_hook]},
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture(params=[False, True], ids=["loose", "strict"])
def letta(request: pytest.FixtureRequest, base_url: str, checker: ContractChecker) -> Iterator[Letta]:
    with make_letta(base_url, strict=request.param, checker=checker) as client:
        yield client


@pytest.fixture(params=[False, True], ids=["loose", "strict"])
async def async_letta(
    request: pytest.FixtureRequest, base_url: str, checker: ContractChecker
) -> AsyncIterator[AsyncLetta]:
    async with make_async_letta(base_url, strict=request.param, checker=checker) as client:
        yield client


@pytest.fixture(params=["sync-loose", "sync-strict", "async-loose", "async-strict"])
async def any_letta(request: pytest.FixtureRequest, base_url: str, checker: ContractChecker) -> AsyncIterator[Any]:
    """Each of the four SDK clients; drive it with ``_sdk.call``/``drain``/``every_item`` so one test covers all."""
    kind, mode = request.param.split("-")
    if kind == "sync":
        with make_letta(base_url, strict=mode == "strict", checker=checker) as client:
            yield client
    else:
        async with make_async_letta(base_url, strict=mode == "strict", checker=checker) as async_client:
            yield async_client
