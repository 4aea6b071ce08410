"""What the pytest plugin builds, kept out of its module so that loading the plugin imports nothing heavy.

A test's settings (its ``letta_mock`` markers over the command line over the ini file) become ``create_app``
keywords plus scripted turns (``Setup``); the in-process clients (``LettaMockClient``, async, and
``LettaMockSyncClient``, sync: no socket) and the official SDK clients point at the mock; a failing test's report
gets the mock's journal (``journal_report``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from mockserver.app import create_app
from mockserver.calls import Call, Calls, describe
from mockserver.control import Controls, parse_controls
from mockserver.errors import ConfigurationError, ControlError
from mockserver.journal import Journal
from mockserver.store import DEFAULT_AGENT_ID

__all__ = [
    "IN_PROCESS_URL",
    "REPORT_LIMIT",
    "LettaMockClient",
    "LettaMockSyncClient",
    "Setup",
    "TestRules",
    "async_sdk_client",
    "auth_token",
    "in_process_sdk_client",
    "journal_report",
    "sdk_client",
]

REPORT_LIMIT = 50  # exchanges shown in a failing test's report (the last ones)
SDK_API_KEY = "letta-mock"
IN_PROCESS_URL = "http://letta-mock"  # the in-process clients' base URL (no socket: any name does)


@dataclass(frozen=True)
class Setup:
    """A mock as a test asked for it: ``create_app`` keywords, and the agents' scripted turns."""

    app_options: dict[str, Any] = field(default_factory=dict)
    scripts: dict[str, list[Controls]] = field(default_factory=dict)

    @classmethod
    def of(cls, keywords: dict[str, Any], scenario: str | None = None, script: Any = None) -> Setup:
        """From the settings' ``create_app`` keywords and the plugin's own fields; ``ConfigurationError`` naming
        what is wrong."""
        options = dict(keywords)
        if scenario is not None:
            try:
                merged = parse_controls(options.get("controls"), where="controls").as_dict()
                merged.update(parse_controls({"scenario": scenario}, where="scenario").as_dict())
            except ControlError as error:
                raise ConfigurationError(str(error.detail)) from None
            options["controls"] = merged
        agents = options.get("agents")
        return cls(options, _scripts(script, list(agents) if agents else [DEFAULT_AGENT_ID]))

    @property
    def agent_id(self) -> str:
        """The agent a test talks to: the first of ``agents=``, else the store's default agent."""
        agents = self.app_options.get("agents")
        return str(next(iter(agents))) if agents else DEFAULT_AGENT_ID

    def build(self) -> Starlette:
        app = create_app(**self.app_options)
        self.apply(app)
        return app

    def apply(self, app: Starlette) -> None:
        """The scripted turns, on an app as new (after ``create_app`` or a reset)."""
        for agent_id, turns in self.scripts.items():
            app.state.store.set_script(agent_id, turns)


def _scripts(script: Any, default_agents: list[str]) -> dict[str, list[Controls]]:
    """``script=[turn, ...]`` scripts the test's agents (``agents=``, else the default agent);
    ``script={agent_id: [turn, ...]}`` names them. A turn is a dict of controls or their ``k=v; ...`` text."""
    if script is None:
        return {}
    if isinstance(script, Mapping):
        targets = {str(agent): turns for agent, turns in script.items()}
    elif isinstance(script, Sequence) and not isinstance(script, str):
        targets = {agent: script for agent in default_agents}
    else:
        raise ConfigurationError(f"script must be a list of turns or {{agent_id: [turns]}}, not {script!r}")
    out: dict[str, list[Controls]] = {}
    for agent, turns in targets.items():
        if isinstance(turns, str) or not isinstance(turns, Sequence):
            raise ConfigurationError(f"script for {agent}: a list of turns, not {turns!r}")
        try:
            out[agent] = [parse_controls(turn, where=f"script[{index}]") for index, turn in enumerate(turns)]
        except ControlError as error:
            raise ConfigurationError(str(error.detail)) from None
    return out


class TestRules:
    """A test's run-time rules on a mock app (``mockserver.authored``): added, replaced, cleared; their hits."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, app: Callable[[], Starlette]) -> None:
        self._app = app

    def add(self, *rules: Any) -> None:
        """More rules (dicts or ``MatchRule`` objects), after those added before; all or none."""
        self._app().state.ruleset.extend(list(rules), source="test")

    def replace(self, *rules: Any) -> None:
        self._app().state.ruleset.replace(list(rules), source="test")

    def clear(self) -> None:
        self._app().state.ruleset.replace([])

    @property
    def hits(self) -> dict[str, int]:
        """Each rule's hits by name (every rule in force: the test's, then the configured ones)."""
        return {rule["name"]: rule["hits"] for rule in self.as_json()["rules"]}

    def as_json(self) -> dict[str, Any]:
        """What ``GET /_mock/rules`` answers."""
        listing: dict[str, Any] = self._app().state.ruleset.as_json()
        return listing


class LettaMockClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` on the mock app in-process (no sockets), with the journal as ``calls``.

    The mock's own failures reach the client as Letta's 500 (as over a socket); the plugin raises them at the end
    of the test."""

    def __init__(self, app: Starlette, **kwargs: Any) -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        token = auth_token(app)
        if token is not None:
            kwargs["headers"] = {"authorization": f"Bearer {token}", **kwargs.get("headers", {})}
        super().__init__(transport=transport, base_url=IN_PROCESS_URL, **kwargs)
        self.app = app

    @property
    def calls(self) -> Calls:
        app = self.app
        return Calls(lambda: app.state.journal)


class LettaMockSyncClient(httpx.Client):
    """A synchronous ``httpx.Client`` on a mock app in this process (no socket, no port), with the journal as
    ``calls``: what to give the official SDK as its ``http_client``, as respx users do::

        with LettaMockSyncClient(create_app()) as http:
            client = Letta(base_url="http://letta-mock", api_key="test", http_client=http)

    Streams arrive event by event as the app sends them (``mockserver.inprocess``); the app runs on an event loop
    of the client's own, so a run it started goes on between requests until the client is closed. The mock's own
    failures reach the client as Letta's 500, logged on ``letta_mock`` from ``thread_name``."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        from mockserver.inprocess import InProcessTransport

        self._in_process = InProcessTransport(app)
        token = auth_token(app)
        if token is not None:
            kwargs["headers"] = {"authorization": f"Bearer {token}", **kwargs.get("headers", {})}
        super().__init__(transport=self._in_process, base_url=IN_PROCESS_URL, **kwargs)
        self.app = app

    @property
    def thread_name(self) -> str:
        """The thread the app answers on (its failures are logged there)."""
        return self._in_process.thread_name

    @property
    def calls(self) -> Calls:
        app = self.app
        return Calls(lambda: app.state.journal)


def in_process_sdk_client(app: Any, api_key: str | None = None) -> Any:
    """The official ``letta_client.Letta`` on a mock app in this process (or on a ``LettaMockSyncClient`` of one),
    validating every response strictly; closing it closes the in-process client."""
    from letta_client import Letta

    http = app if isinstance(app, LettaMockSyncClient) else LettaMockSyncClient(app)
    return Letta(base_url=IN_PROCESS_URL, api_key=api_key or auth_token(http.app) or SDK_API_KEY, http_client=http,
                 _strict_response_validation=True)  # fmt: skip


def auth_token(app: Any) -> str | None:
    """The token a mock app answers to (``create_app(auth_token=...)``), None for any caller or another app."""
    config = getattr(getattr(app, "state", None), "config", None)
    token: str | None = getattr(config, "auth_token", None)
    return token


def sdk_client(url: str, api_key: str | None = None) -> Any:
    """The official sync client on ``url``, validating every response strictly."""
    from letta_client import Letta

    return Letta(base_url=url, api_key=api_key or SDK_API_KEY, _strict_response_validation=True)


def async_sdk_client(url: str, api_key: str | None = None) -> Any:
    """The official async client on ``url``, validating strictly. It keeps no idle connection, so it can be made
    and dropped outside any event loop (the fixture works under pytest-asyncio and anyio alike)."""
    from letta_client import AsyncLetta, DefaultAsyncHttpxClient

    http = DefaultAsyncHttpxClient(limits=httpx.Limits(max_keepalive_connections=0))
    return AsyncLetta(base_url=url, api_key=api_key or SDK_API_KEY, _strict_response_validation=True,
                      http_client=http)  # fmt: skip


def journal_report(journals: Sequence[Journal]) -> str:
    """A failing test's section: what the mock received and answered, one line per exchange, the last
    ``REPORT_LIMIT`` of them."""
    lines: list[str] = []
    for journal in journals:
        entries = journal.entries
        if len(entries) > REPORT_LIMIT:
            lines.append(f"... {len(entries) - REPORT_LIMIT} earlier exchange(s) not shown")
        lines += [describe(Call.of(entry)) for entry in entries[-REPORT_LIMIT:]]
    return "\n".join(lines) if lines else "the mock received no request"
