"""pytest plugin (entry point ``pytest11``): a mock Letta server for your tests. See docs/pytest.md.

Fixtures (every name starts with ``letta_mock``):

* ``letta_mock_app``: a fresh mock ASGI app for the test, configured by its ``letta_mock`` marker and options.
* ``letta_mock``: an ``httpx.AsyncClient`` on that app in-process (no sockets), with ``.calls``.
* ``letta_mock_server``: one live server on 127.0.0.1 per session (per pytest-xdist worker), uvicorn in a thread.
* ``letta_mock_url``: its URL, the mock reset and configured for this test.
* ``letta_mock_client`` / ``letta_mock_async_client``: the official SDK clients on ``letta_mock_url``, strict.
* ``letta_mock_journal``: this test's calls (``mockserver.calls.Calls``), respx-style assertions.
* ``letta_mock_agent_id``: the agent id a test talks to (the first of ``agents=``, else the default agent).
* ``letta_mock_errors``: the mock's own failures captured during this test (the plugin raises them at its end).

Settings, strongest first: ``@pytest.mark.letta_mock(...)`` (the closest marker's fields win), the command line
(``--letta-mock-seed 7``), the ini file (``letta_mock_seed = 7``). ``SETTINGS`` is the one table of them: a row is
a marker field, an option and an ini key, and names the ``create_app`` keyword it sets.

Record and replay: ``fixtures="approval_round_trip"`` replays recorded exchanges in front of the mock;
``record="once", upstream=URL`` gives the test a cassette of its own (``mockserver.recording.cassettes``;
``--letta-mock-record-mode`` overrides ``record``).

Nothing heavy is imported when the plugin loads (``pytest --help`` stays fast): the fixtures import what they use.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from mockserver.calls import Calls
    from mockserver.live import ErrorCapture, LiveServer
    from mockserver.testing import LettaMockClient, Setup

__all__ = [
    "SETTINGS",
    "letta_mock",
    "letta_mock_agent_id",
    "letta_mock_app",
    "letta_mock_async_client",
    "letta_mock_client",
    "letta_mock_errors",
    "letta_mock_journal",
    "letta_mock_server",
    "letta_mock_url",
]


def _words(text: str) -> list[str]:
    return text.replace(",", " ").split()


@dataclass(frozen=True)
class Setting:
    name: str  # the marker field; --letta-mock-<name> on the command line; letta_mock_<name> in the ini file
    help: str
    parse: Callable[[str], Any] | None = None  # from command-line or ini text; None: a marker field only
    keyword: str | None = None  # the create_app keyword it sets; None: the plugin applies it itself


SETTINGS: tuple[Setting, ...] = (
    Setting("seed", "make ids and dates reproducible", int, "seed"),
    Setting("fidelity", "'contract' (default) or 'server' (the real server's quirks)", str, "fidelity"),
    Setting("agents", "close the world to these agent ids (space or comma separated)", _words, "agents"),
    Setting("controls", "default turn controls, e.g. 'scenario=tool_call; token_delay_ms=20'", str, "controls"),
    Setting("scenario", "default scenario of every turn (over controls)", str),
    Setting("journal_size", "exchanges the journal keeps", int, "journal_size"),
    Setting("auth_token", "answer only callers with this bearer token (the clients send it)", str, "auth_token"),
    Setting("created_tool_ms", "how long a server tool of an agent a client created runs (default 2000; 0: instant)",
            int, "created_tool_ms"),
    Setting("script", "scripted turns: [turn, ...] for the test's agents, or {agent_id: [turn, ...]}"),
    # Record and replay (mockserver.recording): fixtures in front of the mock, or a cassette instead of it.
    Setting("fixtures", "replay recorded exchanges: fixture files, directories or curated names", _words, "fixtures"),
    Setting("replay_speed", "replayed timing: 1 as recorded, 0 at once", float, "replay_speed"),
    Setting("on_miss", "a request no fixture matches: 'error' (a 404) or 'synthesize'", str, "on_miss"),
    Setting("record", "this test's cassette: record mode once, new_episodes, all or none"),
    Setting("upstream", "the real Letta server a cassette records from (else $LETTA_MOCK_UPSTREAM)", str),
    Setting("cassette", "the cassette's directory, relative to the test module"),
    Setting("normalise", "record placeholders for ids and dates in the cassette"),
)
_FIELDS = {setting.name for setting in SETTINGS}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("letta-mock", "letta-mock: a mock Letta server (fixtures letta_mock*)")
    for setting in SETTINGS:
        if setting.parse is None:
            continue
        flag = "--letta-mock-" + setting.name.replace("_", "-")
        group.addoption(flag, dest=f"letta_mock_{setting.name}", default=None, metavar="VALUE", help=setting.help)
        parser.addini(f"letta_mock_{setting.name}", f"letta-mock: {setting.help}", default=None)
    group.addoption(
        "--letta-mock-port", dest="letta_mock_port", type=int, default=None, metavar="PORT",
        help="port of the live server (default: any free port); worker gwN of pytest-xdist uses PORT+N",
    )  # fmt: skip
    parser.addini("letta_mock_port", "letta-mock: port of the live server (default: any free port)", default=None)
    from mockserver.recording.cassettes import add_option

    add_option(parser)  # --letta-mock-record-mode
    group.addoption(
        "--letta-mock-no-report", dest="letta_mock_no_report", action="store_true", default=False,
        help="leave the mock's journal out of failing tests' reports",
    )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    fields = ", ".join(f"{s.name}=..." for s in SETTINGS)
    config.addinivalue_line("markers", f"letta_mock({fields}): configure this test's letta-mock (docs/pytest.md)")


# -- settings -----------------------------------------------------------------------------------------------------


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(f"letta_mock_{name}", default=None)
    if value in (None, ""):
        value = config.getini(f"letta_mock_{name}")
    return None if value in (None, "", []) else value


def _values(request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """This test's settings (markers, closest wins field by field, over the command line over the ini file), and
    those its markers set."""
    values: dict[str, Any] = {}
    marked: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = _option(request.config, setting.name) if setting.parse is not None else None
        if raw is not None:
            try:
                values[setting.name] = setting.parse(raw) if isinstance(raw, str) else raw  # type: ignore[misc]
            except ValueError:
                pytest.fail(f"letta-mock: --letta-mock-{setting.name} {raw!r}: {setting.help}", pytrace=False)
    for marker in reversed(list(request.node.iter_markers("letta_mock"))):
        if marker.args:
            pytest.fail("@pytest.mark.letta_mock takes keyword fields only, e.g. letta_mock(seed=7)", pytrace=False)
        unknown = sorted(set(marker.kwargs) - _FIELDS)
        if unknown:
            pytest.fail(f"@pytest.mark.letta_mock: unknown field(s) {', '.join(unknown)} "
                        f"(known: {', '.join(s.name for s in SETTINGS)})", pytrace=False)  # fmt: skip
        marked.update(marker.kwargs)
    values.update(marked)
    return values, marked


def _setup(request: pytest.FixtureRequest) -> Setup:
    """This test's mock as its settings ask for it."""
    from mockserver.errors import ConfigurationError
    from mockserver.testing import Setup

    values, _ = _values(request)
    keywords = {s.keyword: values[s.name] for s in SETTINGS if s.keyword is not None and s.name in values}
    try:
        return Setup.of(keywords, scenario=values.get("scenario"), script=values.get("script"))
    except ConfigurationError as error:
        pytest.fail(f"letta-mock: {error}", pytrace=False)


def _built(setup: Setup, build: Callable[[], Any]) -> Any:
    from mockserver.errors import ConfigurationError

    try:
        return build()
    except ConfigurationError as error:
        pytest.fail(f"letta-mock: {error}", pytrace=False)


# -- fixtures -----------------------------------------------------------------------------------------------------


def _cassette(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    """The test's cassette settings, when its markers ask for one: the marker's fields, ``upstream`` from anywhere."""
    from mockserver.recording.cassettes import wants_cassette

    values, marked = _values(request)
    if not wants_cassette(marked):
        return None
    return {**marked, **({"upstream": values["upstream"]} if "upstream" in values else {})}


@pytest.fixture
def letta_mock_app(request: pytest.FixtureRequest) -> Starlette:
    """A fresh mock app for this test (in-process; nothing listens); a cassette, when the marker asks for one."""
    cassette = _cassette(request)
    if cassette is not None:
        from mockserver.recording.cassettes import cassette_app

        return cassette_app(request, cassette)  # type: ignore[return-value]
    setup = _setup(request)
    app: Starlette = _built(setup, setup.build)
    return app


@pytest.fixture
def letta_mock(letta_mock_app: Starlette) -> LettaMockClient:
    """An ``httpx.AsyncClient`` on ``letta_mock_app`` in-process; ``.calls`` is its journal. A plain fixture, so it
    works under pytest-asyncio (any mode) and anyio alike; it holds no connection, so it needs no closing."""
    from mockserver.testing import LettaMockClient

    return LettaMockClient(letta_mock_app)


@pytest.fixture(scope="session")
def letta_mock_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """One live mock per session on 127.0.0.1 — per process, so each pytest-xdist worker has its own."""
    from mockserver.live import LiveServer

    port = _option(request.config, "port")
    port = int(port) if port is not None else 0
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if port and worker.startswith("gw") and worker[2:].isdigit():
        port += int(worker[2:])
    with LiveServer(port=port) as server:
        yield server


@pytest.fixture
def letta_mock_url(letta_mock_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """The live mock's URL, the mock reset (state, scripts, journal, failures) and configured for this test; or the
    test's cassette served on the same socket, the mock behind it again afterwards."""
    cassette = _cassette(request)
    if cassette is not None:
        from mockserver.recording.cassettes import serve_cassette

        with serve_cassette(letta_mock_server, request, cassette, afterwards=letta_mock_server.app) as served:
            yield served
        return
    setup = _setup(request)
    url: str = _built(setup, lambda: letta_mock_server.reset(**setup.app_options))
    setup.apply(letta_mock_server.app)
    yield url


@pytest.fixture
def letta_mock_agent_id(request: pytest.FixtureRequest) -> str:
    """The agent this test talks to: the first of the marker's ``agents=``, else the default agent (the one
    ``script=[...]`` scripts)."""
    return _setup(request).agent_id


@pytest.fixture
def letta_mock_client(letta_mock_url: str, letta_mock_server: LiveServer) -> Iterator[Any]:
    """The official ``letta_client.Letta`` on the live mock, with ``_strict_response_validation=True`` (and the
    mock's auth token as its ``api_key``, when it has one)."""
    from mockserver.testing import sdk_client

    with _sdk(sdk_client, letta_mock_url, letta_mock_server) as client:
        yield client


@pytest.fixture
def letta_mock_async_client(letta_mock_url: str, letta_mock_server: LiveServer) -> Any:
    """The official ``letta_client.AsyncLetta`` on the live mock, strict. A plain fixture keeping no idle
    connection, so any asyncio test can use it (pytest-asyncio in any mode, anyio)."""
    from mockserver.testing import async_sdk_client

    return _sdk(async_sdk_client, letta_mock_url, letta_mock_server)


def _sdk(make: Callable[[str, str | None], Any], url: str, server: LiveServer) -> Any:
    from mockserver.testing import auth_token

    try:
        return make(url, auth_token(server.app))
    except ImportError as error:
        pytest.fail(f"letta_mock_client needs the official SDK: pip install letta-client ({error})", pytrace=False)


@pytest.fixture
def letta_mock_journal(request: pytest.FixtureRequest) -> Calls:
    """This test's calls: the in-process app's when the test uses ``letta_mock_app``, else the live server's."""
    from mockserver.calls import Calls

    if "letta_mock_app" in request.fixturenames:
        app = request.getfixturevalue("letta_mock_app")
        return Calls(lambda: app.state.journal)
    request.getfixturevalue("letta_mock_url")
    server: LiveServer = request.getfixturevalue("letta_mock_server")
    return Calls(lambda: server.app.state.journal)


@pytest.fixture
def letta_mock_errors(request: pytest.FixtureRequest) -> ErrorCapture:
    """The mock's failures so far in this test (logged on ``letta_mock``). The plugin raises them when the test
    ends; a test that provokes one on purpose takes it: ``letta_mock_errors.take()``."""
    capture: ErrorCapture = request.node.stash[_CAPTURE]
    return capture


# -- hooks: the mock's failures raised in the test, its journal in a failing test's report ----------------------

_CAPTURE = pytest.StashKey["ErrorCapture"]()


def _uses_mock(item: pytest.Item) -> bool:
    return any(name.startswith("letta_mock") for name in getattr(item, "fixturenames", ()))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    if _uses_mock(item):
        from mockserver.live import ErrorCapture

        item.stash[_CAPTURE] = ErrorCapture(threading.current_thread().name).install()  # in-process apps run here
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    capture = item.stash.get(_CAPTURE, None)
    server = getattr(item, "funcargs", {}).get("letta_mock_server")
    if capture is not None and server is not None:
        capture.watch(server.thread_name)  # and the live server's thread; no other's late failure
    try:
        result = yield
    except Exception as failed:  # not pytest's skip/xfail outcomes
        records = capture.take() if capture is not None else []
        if records:
            from mockserver.live import failure

            error = failure(records, after=failed)  # names the test's failure; caused by the mock's first one
            raise error from error.__cause__
        raise
    if capture is not None:
        capture.check()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        capture = item.stash.get(_CAPTURE, None)
        if capture is not None:
            capture.uninstall()
            server = getattr(item, "funcargs", {}).get("letta_mock_server")
            if server is not None:
                server.forget_errors()  # reported by this test's capture already


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when == "call" and report.failed and not item.config.getoption("letta_mock_no_report", False):
        journals = _journals(item)
        if journals:
            from mockserver.testing import journal_report

            report.sections.append(("letta-mock journal (this test's exchanges)", journal_report(journals)))
    return report


def _journals(item: pytest.Item) -> list[Any]:
    funcargs = getattr(item, "funcargs", {})
    apps = []
    if "letta_mock_app" in funcargs:
        apps.append(funcargs["letta_mock_app"])
    if "letta_mock_server" in funcargs:
        apps.append(funcargs["letta_mock_server"].app)
    # A cassette (a recorder, not a mock) keeps no journal.
    return [app.state.journal for app in apps if hasattr(getattr(app, "state", None), "journal")]
