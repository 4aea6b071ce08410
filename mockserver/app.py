"""``create_app``: the Starlette application — its routes (from the operations table), error handling, middleware."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Receive, Scope, Send

from mockserver.admin import admin_mount
from mockserver.appstate import install
from mockserver.auth import TokenCheck
from mockserver.catalogue import Texts
from mockserver.config import CREATED_TOOL_MS, MockConfig
from mockserver.control import parse_controls
from mockserver.errors import ConfigurationError, ControlError, HTTPError
from mockserver.faults import ConnectionDropped
from mockserver.http import json_response
from mockserver.journal import DEFAULT_SIZE, Journal, JournalMiddleware
from mockserver.operations import OPERATIONS, PREFIXES
from mockserver.store import Store

__all__ = ["create_app", "routes"]

log = logging.getLogger("letta_mock")


def create_app(
    *,
    seed: int | None = None,
    agents: Iterable[str] | None = None,
    fidelity: str = "contract",
    controls: str | dict[str, Any] | None = None,
    admin: bool = True,
    max_body_bytes: int = 8 * 1024 * 1024,
    freeze_gc: bool = False,
    journal_size: int = DEFAULT_SIZE,
    fixtures: str | Sequence[str] | None = None,
    replay_speed: float = 1.0,
    on_miss: str = "error",
    auth_token: str | None = None,
    cors_origins: Iterable[str] | None = None,
    created_tool_ms: int = CREATED_TOOL_MS,
) -> Starlette:
    """A mock Letta server as an ASGI app.

    ``seed`` makes ids and dates reproducible; ``agents`` closes the world to those agent ids (unknown ids then
    get Letta's 404s); ``fidelity="server"`` imitates the real server's quirks instead of the documented contract;
    ``controls`` are the default turn controls (``"scenario=tool_call; token_delay_ms=20"`` or a dict, see
    ``mockserver.control``); ``admin=False`` leaves out the ``/_mock/`` admin API and its dashboard;
    ``journal_size`` is how many exchanges the journal keeps (a ring buffer, ``mockserver.journal``).
    ``freeze_gc`` (for a long-running server process, as ``letta-mock serve``) keeps stored state out of full
    garbage collections.

    ``fixtures`` (paths, HAR files or curated names; see ``mockserver.recording``) are replayed in front of the
    routes, at ``replay_speed`` times their recorded pace (0: at once); a request none matches gets a 404 naming
    the nearest recording, or with ``on_miss="synthesize"`` the synthesizing agent's answer.

    ``auth_token`` makes every route, the admin API and the dashboard included, answer 401 to a caller without it
    (``mockserver.auth``); ``cors_origins`` are the origins browsers may call from (default: any).

    ``created_tool_ms`` is how long a server tool of an agent a client created runs (default 2000, Letta's sandbox
    order of time, see ``config.CREATED_TOOL_MS``): such a run can be cancelled in flight. 0 makes it instant.
    """
    config = MockConfig.build(seed=seed, agents=agents, fidelity=fidelity, max_body_bytes=max_body_bytes,
                              auth_token=auth_token, cors_origins=cors_origins,
                              created_tool_ms=created_tool_ms)  # fmt: skip
    try:
        defaults = parse_controls(controls, where="controls")
    except ControlError as error:
        raise ConfigurationError(str(error.detail)) from None
    if isinstance(journal_size, bool) or not isinstance(journal_size, int) or journal_size < 1:
        raise ConfigurationError(f"journal_size must be a whole number >= 1, not {journal_size!r}")
    app = Starlette(
        routes=[*routes(config.fidelity), *([admin_mount()] if admin else [])],
        middleware=[
            # Browser front ends call with an Authorization header; preflights are answered here, before the token
            # check (a browser sends no credentials on one).
            Middleware(
                CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["*"], allow_headers=["*"],
                max_age=600,
            ),
            Middleware(JournalMiddleware),  # a refused caller's 401 is in the journal too
            *([Middleware(TokenCheck, token=config.auth_token)] if config.auth_token is not None else []),
            *_replay(fixtures, replay_speed, on_miss),
        ],
        exception_handlers={HTTPError: _letta_error, HTTPException: _starlette_error, Exception: _unexpected},
    )
    # A long-running server keeps everything it stored; full garbage collections over it paused every request
    # for 100-400 ms (bench/profile_http.py). Stored state lives on, so the process owner moves it out of the way.
    store = Store(seed=seed, agents=config.agents, on_growth=gc.freeze if freeze_gc else None)
    install(app, config, defaults, store, Journal(journal_size))
    return app


def _replay(fixtures: str | Sequence[str] | None, speed: float, on_miss: str) -> list[Middleware]:
    """Record and replay (``mockserver.recording``): the replay layer, after the journal, before the routes."""
    if fixtures is None or (not isinstance(fixtures, str) and not fixtures):
        return []
    if not (isinstance(speed, int | float) and speed >= 0):
        raise ConfigurationError(f"replay_speed must be a number >= 0 (0: as fast as possible), not {speed!r}")
    if on_miss not in ("error", "synthesize"):
        raise ConfigurationError(f"on_miss must be 'error' or 'synthesize', not {on_miss!r}")
    from mockserver.recording.format import FixtureError
    from mockserver.recording.library import load_library
    from mockserver.recording.middleware import ReplayMiddleware

    try:
        library = load_library([fixtures] if isinstance(fixtures, str) else fixtures)
    except FixtureError as error:
        raise ConfigurationError(f"fixtures: {error}") from None
    return [Middleware(ReplayMiddleware, library=library, speed=float(speed), on_miss=on_miss)]  # type: ignore[arg-type]


def routes(fidelity: str = "contract") -> list[BaseRoute]:
    """Every operation under each of Letta's prefixes, and our OpenAPI document.

    Where a template and a literal path overlap (``/messages/{message_id}`` and ``/messages/async``), the contract
    profile lets the template name no literal sibling: ``PATCH .../messages/async`` is not the message "async"
    (its id could never fit the pattern) but a method ``/messages/async`` does not serve, a 405. Letta's server
    (``fidelity="server"``) tries the template and answers 422 for the id, as FastAPI does."""
    paths = [(prefix + path.removeprefix("/v1"), operation) for prefix in PREFIXES for operation in OPERATIONS
             for path in (operation.path, *operation.aliases)]  # fmt: skip
    every = [path for path, _ in paths]
    out: list[BaseRoute] = []
    for path, operation in paths:
        reserved = _literal_siblings(path, every) if fidelity != "server" else {}
        out.append(_Route(path, operation.handler, [operation.method], operation.operation_id, reserved))
    out.append(_Route("/openapi.json", _openapi_document, ["GET"], None, {}))
    return out


def _literal_siblings(template: str, paths: list[str]) -> dict[str, set[str]]:
    """For each path parameter of ``template``, the literal words other paths put in its place."""
    segments = template.split("/")
    out: dict[str, set[str]] = {}
    for other in paths:
        theirs = other.split("/")
        if len(theirs) != len(segments) or other == template:
            continue
        differing = [i for i, (a, b) in enumerate(zip(segments, theirs, strict=True)) if a != b]
        if len(differing) == 1:
            mine, word = segments[differing[0]], theirs[differing[0]]
            if mine.startswith("{") and not word.startswith("{"):
                out.setdefault(mine.strip("{}"), set()).add(word)
    return out


class _Route(Route):
    """A route of one method. A 405 names every method the URL is served with (Starlette's own ``Allow`` names
    only the first route it tried); a path parameter never matches the ``reserved`` words of literal siblings."""

    def __init__(
        self, path: str, endpoint: Any, methods: list[str], name: str | None, reserved: dict[str, set[str]]
    ) -> None:
        super().__init__(path, endpoint, methods=methods, name=name)
        pattern = self.path_regex.pattern
        for parameter, words in sorted(reserved.items()):
            group = f"(?P<{parameter}>"
            alternatives = "|".join(re.escape(word) for word in sorted(words))
            pattern = pattern.replace(group, f"{group}(?!(?:{alternatives})(?:/|$))")
        # Starlette's patterns end in "$", which also matches before a final newline: /v1/runs/%0A would be the
        # runs list rather than the run "\n". "\Z" ends a match at the end of the path only.
        self.path_regex = re.compile(pattern.removesuffix("$") + r"\Z")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            raise HTTPException(405, headers={"Allow": _allowed(scope)})
        await super().handle(scope, receive, send)


def _allowed(scope: Scope) -> str:
    methods: set[str] = set()
    for route in scope["router"].routes:
        if isinstance(route, Route) and route.matches(scope)[0] is not Match.NONE:
            methods.update(route.methods or ())
    return ", ".join(sorted(methods))


async def _openapi_document(request: Request) -> Response:
    from mockserver.openapi import openapi_document  # built on the first request: start-up never pays for it

    return json_response(openapi_document())


async def _letta_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPError)
    body = exc.body()
    if exc.status_code == 422 and request.app.state.config.fidelity == "server":
        body = _server_validation_body(body)
    return json_response(body, exc.status_code, headers=exc.headers)


def _server_validation_body(body: dict[str, object]) -> dict[str, object]:
    # The real server's 422: "detail" is the Python repr of the error list (wire doc §15.2).
    detail = body["detail"]
    if isinstance(detail, list):
        errors = [{**e, "loc": tuple(e["loc"])} for e in detail]
        extra = {k: v for k, v in body.items() if k != "detail"}
        return {"trace_id": "", "detail": repr(errors), **extra}
    return body


async def _starlette_error(request: Request, exc: Exception) -> Response:
    # Unknown routes and wrong methods, in FastAPI's JSON shape: {"detail": "Not Found"}.
    assert isinstance(exc, HTTPException)
    return json_response({"detail": exc.detail}, exc.status_code, headers=dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A bug in the mock. Answer as Letta does for unhandled errors, and log it loudly for the test author.
    # (A dropped connection is a fault on purpose: the response has started, nothing more is sent.)
    if not isinstance(exc, ConnectionDropped):
        log.exception("letta-mock failed on %s %s", request.method, request.url.path)
    return json_response({"detail": Texts.UNKNOWN_ERROR}, 500)
