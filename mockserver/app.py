"""``create_app``: the Starlette application — its routes (the operations table's rows bound to their handlers),
error handling, middleware."""

from __future__ import annotations

import gc
import importlib
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from functools import cached_property
from typing import Any

from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route, Router, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.allowlists import OriginCheck
from mockserver.appstate import install
from mockserver.auth import TokenCheck
from mockserver.authored.ruleset import RuleSet
from mockserver.authored.specs import RulesInvalid
from mockserver.config import MockConfig
from mockserver.errors import ConfigurationError
from mockserver.http import ERROR_HANDLERS, json_response
from mockserver.journal import ADMIN_PREFIX, OPERATION, Journal, JournalMiddleware
from mockserver.operations import OPERATIONS, PREFIXES, Operation
from mockserver.rules import CONTRACT, Rules
from mockserver.store import Store

__all__ = ["HANDLERS", "create_app", "routes"]

_ORIGIN_OPTION = "--cors-origin {0} (in Python: cors_origins=['{0}'])"

Handler = Callable[[Request], Awaitable[Response]]


class _Handlers(Mapping[str, Handler]):
    """Each operation's handler, by operationId: the function of that name in the module its row names
    (``handlers/<module>.py``, which lists it in ``__all__``), imported when first asked for: a server starts
    without importing any handler module, and its first request imports only its own."""

    def __init__(self, operations: tuple[Operation, ...]) -> None:
        self._rows = {operation.operation_id: operation for operation in operations}

    def __getitem__(self, operation_id: str) -> Handler:
        module = importlib.import_module(f"mockserver.handlers.{self._rows[operation_id].module}")
        if operation_id not in module.__all__:
            raise RuntimeError(f"{operation_id}: {module.__name__} does not name it in __all__")
        handler: Handler = getattr(module, operation_id)
        return handler

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


HANDLERS: Mapping[str, Handler] = _Handlers(OPERATIONS)


GC_YOUNG_THRESHOLD = 20_000  # allocations between collections of the youngest generation (a serving process)


def create_app(**settings: Any) -> Starlette:
    """A mock Letta server as an ASGI app, configured by keyword: the settings of ``config.MockConfig``.

    ``seed`` makes ids and dates reproducible; ``agents`` closes the world to those agent ids (unknown ids then
    get Letta's 404s); ``fidelity="server"`` imitates the real server's quirks instead of the documented contract;
    ``controls`` are the default turn controls (``"scenario=tool_call; token_delay_ms=20"`` or a dict, see
    ``mockserver.control``); ``admin=False`` leaves out the ``/_mock/`` admin API and its dashboard;
    ``journal_size`` is how many exchanges the journal keeps (a ring buffer, ``mockserver.journal``);
    ``max_body_bytes`` bounds a request body. ``freeze_gc`` (for a long-running server process, as
    ``letta-mock serve``) keeps stored state out of full garbage collections and collects the youngest generation
    less often (both process-wide).

    ``fixtures`` (paths, HAR files or curated names; see ``mockserver.recording``) are replayed in front of the
    routes, at ``replay_speed`` times their recorded pace (0: at once); a request none matches gets a 404 naming
    the nearest recording, or with ``on_miss="synthesize"`` the synthesizing agent's answer.

    ``rules`` (``mockserver.authored``, docs/authored.md) are authored turns matched to requests: rule files (YAML or
    JSON, re-read when they change) and rules (dicts or ``MatchRule`` objects), consulted in order before synthesis;
    a send none answers is synthesized, or with ``on_miss="error"`` answered 404 naming the nearest rule. (``on_miss``
    unset: fixtures miss with an error, rules fall through to synthesis.)

    ``auth_token`` makes every route, the admin API and the dashboard included, answer 401 to a caller without it
    (``mockserver.auth``). Web pages on loopback origins (any port) may call it; ``cors_origins`` names more
    (``"*"``: any); a page of any other origin gets a 403 (``mockserver.allowlists``). ``allowed_hosts`` are the
    Host names answered besides loopback ones when the app is served on a socket (``letta-mock serve``,
    ``LiveServer``); an in-process client has no socket a web page could reach, so it is not checked.
    """
    config = MockConfig.build(**settings)
    app = Starlette(
        middleware=[
            # Browser front ends call with an Authorization header; preflights are answered here, before the token
            # check (a browser sends no credentials on one). A page not allowed is refused before the journal.
            Middleware(OriginCheck, origins=config.cors_origins, option=_ORIGIN_OPTION),
            Middleware(JournalMiddleware),  # a refused caller's 401 is in the journal too
            *([Middleware(TokenCheck, token=config.auth_token)] if config.auth_token is not None else []),
            *_replay(config.fixtures, config.replay_speed, config.on_miss or "error"),
        ],
        exception_handlers=ERROR_HANDLERS,
    )
    app.router = _Router([*routes(Rules.of_config(config)), *([_admin()] if config.admin else [])])
    # A long-running server keeps everything it stored; full garbage collections over it paused every request
    # for 100-400 ms (bench/profile_http.py). Stored state lives on, so the process owner moves it out of the way.
    store = Store(seed=config.seed, agents=config.agents, on_growth=gc.freeze if config.freeze_gc else None)
    if config.freeze_gc:
        # A request makes a few hundred short-lived objects: the youngest generation collected every 700
        # allocations was ~8 % of a send's CPU time; every 20,000 it is a fraction of that.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    install(app, config, store, Journal(config.journal_size), _rules(config.rules, config.on_miss))
    return app


def _admin() -> Mount:
    """``/_mock/``: the admin API and the dashboard (``admin.admin_mount``), imported on the first request there."""
    loaded: list[ASGIApp] = []

    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        if not loaded:
            from mockserver.admin import admin_mount

            loaded.append(admin_mount().app)
        await loaded[0](scope, receive, send)

    return Mount(ADMIN_PREFIX, app=admin)


def _rules(given: tuple[Any, ...], on_miss: str | None) -> RuleSet:
    """Authored turns (``mockserver.authored``): the rules given, read and checked now (a bad one fails the app)."""
    try:
        return RuleSet(list(given), on_miss="error" if on_miss == "error" else "synthesize")
    except RulesInvalid as error:
        raise ConfigurationError(str(error)) from None


def _replay(fixtures: tuple[str, ...] | None, speed: float, on_miss: str) -> list[Middleware]:
    """Record and replay (``mockserver.recording``): the replay layer, after the journal, before the routes."""
    if fixtures is None:
        return []
    if not (isinstance(speed, int | float) and speed >= 0):
        raise ConfigurationError(f"replay_speed must be a number >= 0 (0: as fast as possible), not {speed!r}")
    from mockserver.recording.format import FixtureError
    from mockserver.recording.library import load_library
    from mockserver.recording.middleware import ReplayMiddleware

    try:
        library = load_library(list(fixtures))
    except FixtureError as error:
        raise ConfigurationError(f"fixtures: {error}") from None
    return [Middleware(ReplayMiddleware, library=library, speed=float(speed), on_miss=on_miss)]  # type: ignore[arg-type]


def routes(rules: Rules = CONTRACT) -> list[BaseRoute]:
    """Every operation under each of Letta's prefixes, and our OpenAPI document.

    Where a template and a literal path overlap (``/messages/{message_id}`` and ``/messages/async``), the contract
    profile lets the template name no literal sibling: ``PATCH .../messages/async`` is not the message "async"
    (its id could never fit the pattern) but a method ``/messages/async`` does not serve, a 405. Letta's server
    (``rules.templates_take_literals``) tries the template and answers 422 for the id, as FastAPI does."""
    paths = [(prefix + path.removeprefix("/v1"), operation) for prefix in PREFIXES for operation in OPERATIONS
             for path in (operation.path, *operation.aliases)]  # fmt: skip
    every = None if rules.templates_take_literals else [path.split("/") for path, _ in paths]  # split once
    out: list[BaseRoute] = [
        _Route(path, None, operation.method, operation.operation_id, every) for path, operation in paths
    ]
    out.append(_Route("/openapi.json", _openapi_document, "GET", "_openapi_document", None))
    return out


def _literal_siblings(segments: list[str], paths: list[list[str]]) -> dict[str, set[str]]:
    """For each path parameter of a template (its ``segments``), the literal words other paths (theirs) put in its
    place."""
    out: dict[str, set[str]] = {}
    for theirs in paths:
        if len(theirs) != len(segments) or theirs == segments:
            continue
        differing = [i for i, (a, b) in enumerate(zip(segments, theirs, strict=True)) if a != b]
        if len(differing) == 1:
            mine, word = segments[differing[0]], theirs[differing[0]]
            if mine.startswith("{") and not word.startswith("{"):
                out.setdefault(mine.strip("{}"), set()).add(word)
    return out


class _Route(Route):
    """A route of one method, named by its operationId (which it puts in the scope for the journal, ``OPERATION``).
    A 405 names every method the URL is served with (Starlette's own ``Allow`` names only the first route it tried);
    a path parameter never matches the literal words its siblings among ``paths`` put in its place (None: it may).
    Without an ``endpoint``, the route's is its operation's handler (``HANDLERS[name]``), imported when the route is
    first matched or asked for. Its pattern is compiled when first used: a server starts without compiling any."""

    _handler: Handler | None

    def __init__(
        self, path: str, endpoint: Handler | None, method: str, name: str, paths: list[list[str]] | None
    ) -> None:
        # What Route.__init__ sets for an endpoint function, but the pattern (``path_regex``, ``_compiled``).
        self.path, self.name, self.include_in_schema = path, name, True
        self.endpoint = endpoint
        self.app = _respond(endpoint or self._first_request)
        self.methods = {method, "HEAD"} if method == "GET" else {method}
        self._paths = paths

    @cached_property
    def parameters(self) -> tuple[tuple[int, str, frozenset[str]], ...]:
        """Each path parameter: its segment's index, its name, the words it may not be (``_literal_siblings``)."""
        reserved = self._reserved
        return tuple((at, s[1:-1], frozenset(reserved.get(s[1:-1], ()))) for at, s in
                     enumerate(self.path.split("/")) if s.startswith("{"))  # fmt: skip

    @cached_property
    def _reserved(self) -> dict[str, set[str]]:
        """Each path parameter's words it may not be (``_literal_siblings``), found once."""
        return {} if self._paths is None else _literal_siblings(self.path.split("/"), self._paths)

    @cached_property
    def _compiled(self) -> tuple[re.Pattern[str], str, dict[str, Any]]:
        regex, path_format, convertors = compile_path(self.path)
        pattern = regex.pattern
        for parameter, words in sorted(self._reserved.items()):
            group = f"(?P<{parameter}>"
            alternatives = "|".join(re.escape(word) for word in sorted(words))
            pattern = pattern.replace(group, f"{group}(?!(?:{alternatives})(?:/|$))")
        # Starlette's patterns end in "$", which also matches before a final newline: /v1/runs/%0A would be the
        # runs list rather than the run "\n". "\Z" ends a match at the end of the path only.
        return re.compile(pattern.removesuffix("$") + r"\Z"), path_format, convertors

    @property
    def path_regex(self) -> re.Pattern[str]:  # type: ignore[override]
        return self._compiled[0]

    @property
    def path_format(self) -> str:  # type: ignore[override]
        return self._compiled[1]

    @property
    def param_convertors(self) -> dict[str, Any]:  # type: ignore[override]
        return self._compiled[2]

    @property
    def endpoint(self) -> Handler:
        handler = self._handler
        if handler is None:
            handler = self._handler = HANDLERS[self.name]
            self.app = _respond(handler)  # from now on the route calls its handler directly
        return handler

    @endpoint.setter
    def endpoint(self, handler: Handler | None) -> None:
        self._handler = handler

    async def _first_request(self, request: Request) -> Response:
        return await self.endpoint(request)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[OPERATION] = self.name
        if self.methods and scope["method"] not in self.methods:
            raise HTTPException(405, headers={"Allow": _allowed(scope)})
        await self.app(scope, receive, send)


def _respond(handler: Handler) -> ASGIApp:
    """Starlette's ``request_response`` without its own exception handling: an exception a handler raises goes to
    the app's ``ExceptionMiddleware``, which the router sits right inside of and which holds the same handlers (its
    ``wrap_app_handling_exceptions``; the same ``Request`` scope, the same "response already started" check)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handler(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


class _Router(Router):
    """Starlette's router, which tries every route's pattern in order (123 of them), with a table built on the first
    request that names the few routes a path can match (``_Table``); the router's own rules then decide among
    those exactly as among all (the first full match, else the first partial one: a 405). A path the table has no
    route for (an unknown path, a slash too many or too few, the admin mount's) goes the general way, so 404s,
    redirects and mounts answer as they always did."""

    _table: _Table | None = None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            table = self._table
            if table is None or not table.serves(self.routes):
                table = self._table = _Table(self.routes)
            found = table.find(scope)
            if found is not None:
                route, child_scope = found
                if "router" not in scope:
                    scope["router"] = self
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await super().app(scope, receive, send)


class _Node:
    """A segment trie: the literal segments that may follow, the path parameter that may, and the routes that end
    here (their indexes in the router's order: all of them, and by method)."""

    __slots__ = ("by_method", "ending", "literal", "parameter")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.parameter: _Node | None = None
        self.ending: list[int] = []
        self.by_method: dict[str, list[int]] = {}


_PARAMETER = re.compile(r"\{[a-zA-Z_][a-zA-Z0-9_]*\}")  # a plain parameter: Starlette's "str" convertor


class _Table:
    """Which of ``routes`` a path may match, found segment by segment: a superset of those whose pattern matches
    (a parameter stands for any non-empty segment), each then checked with its own ``matches``. In the table: the
    app's routes (``_Route``: their methods known) with plain segments; a path whose first segment is another
    route's (a mount's) is not looked up here at all."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.routes = list(routes)
        self.root = _Node()
        self.others: dict[str, int] = {}  # first segments of the routes not in the table (a mount's: "_mock")
        for index, route in enumerate(self.routes):
            segments = route.path.split("/") if isinstance(route, _Route) else []
            if not isinstance(route, _Route) or not route.methods or any(_unplain(s) for s in segments):
                first = str(getattr(route, "path", "")).split("/")[1:2] or [""]
                self.others[first[0]] = index
                continue
            node = self.root
            for segment in segments:
                if segment.startswith("{"):
                    node.parameter = node = node.parameter or _Node()
                else:
                    node = node.literal.setdefault(segment, _Node())
            node.ending.append(index)
            for method in route.methods or ():
                node.by_method.setdefault(method, []).append(index)
        if any(first == "" or "{" in first for first in self.others):  # one that may match any path: no table
            self.root = _Node()

    def serves(self, routes: list[BaseRoute]) -> bool:
        """The router's routes are still the ones the table was built from (a test may replace the admin mount)."""
        if len(routes) != len(self.routes):
            return False
        for index in self.others.values():  # a loop, not all(...): asked on every request
            if routes[index] is not self.routes[index]:
                return False
        return True

    def find(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The route Starlette's router would take for ``scope``, and its child scope: the first (in the router's
        order) that matches path and method, else the first that matches the path (a 405); None: not in the table."""
        segments = get_route_path(scope).split("/")
        if len(segments) < 2 or segments[1] in self.others:
            return None
        ends: list[_Node] = []
        _walk(self.root, segments, 0, ends)
        if not ends:
            return None
        method = scope["method"]
        full = ends[0].by_method.get(method, ()) if len(ends) == 1 else sorted(
            i for end in ends for i in end.by_method.get(method, ()))  # fmt: skip
        for index in full:  # only a route serving the method can match fully, and the first that does wins
            found = self._match(index, segments, scope)
            if found is not None:
                return found
        for index in sorted(i for end in ends for i in end.ending):  # none did: the first to match the path
            found = self._match(index, segments, scope)
            if found is not None:
                return found
        return None

    def _match(self, index: int, segments: list[str], scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """``Route.matches`` for a route whose literal segments ``segments`` are known to have (``_walk``): its
        parameters read from their segments, refused as its pattern refuses them (a sibling's word, ``_words``)."""
        route = self.routes[index]
        assert isinstance(route, _Route)
        last = len(segments) - 1
        params: dict[str, Any] = {}
        for at, name, words in route.parameters:
            value = segments[at]
            if words and (value in words or (at == last and value[-1:] == "\n" and value[:-1] in words)):
                return None  # the lookahead: a word, then "/" or the end ("$": before a final newline too)
            params[name] = value
        child_scope = {"endpoint": route.endpoint, "path_params": {**scope.get("path_params", {}), **params}}
        return route, child_scope


def _unplain(segment: str) -> bool:
    """Neither literal nor a plain parameter (one within other text, or with a convertor: ``{n:int}``)."""
    return "{" in segment and not _PARAMETER.fullmatch(segment)


def _walk(node: _Node, segments: list[str], at: int, out: list[_Node]) -> None:
    """The nodes where ``segments`` (from ``at``) end: by literal segments, or any non-empty one for a parameter."""
    while at < len(segments):
        segment = segments[at]
        at += 1
        if node.parameter is not None and segment:
            literal = node.literal.get(segment)
            if literal is not None:  # both ways: the literal route and the template may each match
                _walk(literal, segments, at, out)
            node = node.parameter
            continue
        found = node.literal.get(segment)
        if found is None:
            return
        node = found
    if node.ending:
        out.append(node)


def _allowed(scope: Scope) -> str:
    methods: set[str] = set()
    for route in scope["router"].routes:
        if isinstance(route, Route) and route.matches(scope)[0] is not Match.NONE:
            methods.update(route.methods or ())
    return ", ".join(sorted(methods))


async def _openapi_document(request: Request) -> Response:
    from mockserver.openapi import openapi_document  # built on the first request: start-up never pays for it

    return json_response(openapi_document())
