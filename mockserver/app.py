"""``create_app``: the Starlette application, its error handling and its middleware."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response

from mockserver.config import MockConfig
from mockserver.errors import HTTPError
from mockserver.http import json_response
from mockserver.ids import Clock, Ids
from mockserver.routes import ROUTES
from mockserver.store import Store

__all__ = ["create_app"]

log = logging.getLogger("letta_mock")


def create_app(
    *,
    seed: int | None = None,
    agents: Iterable[str] | None = None,
    fidelity: str = "contract",
    max_body_bytes: int = 8 * 1024 * 1024,
) -> Starlette:
    """A mock Letta server as an ASGI app.

    ``seed`` makes ids and dates reproducible; ``agents`` closes the world to those agent ids (unknown ids then
    get Letta's 404s); ``fidelity="server"`` imitates the real server's quirks instead of the documented contract.
    """
    config = MockConfig.build(seed=seed, agents=agents, fidelity=fidelity, max_body_bytes=max_body_bytes)
    app = Starlette(
        routes=ROUTES,
        middleware=[
            # Browser front ends call from any origin with an Authorization header; preflights included.
            Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"], max_age=600),
        ],
        exception_handlers={HTTPError: _letta_error, HTTPException: _starlette_error, Exception: _unexpected},
    )
    app.state.config = config
    app.state.store = Store(ids=Ids(seed), clock=Clock(seed), agents=config.agents)
    return app


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
        return {"trace_id": "", "detail": repr(errors)}
    return body


async def _starlette_error(request: Request, exc: Exception) -> Response:
    # Unknown routes and wrong methods, in FastAPI's JSON shape: {"detail": "Not Found"}.
    assert isinstance(exc, HTTPException)
    return json_response({"detail": exc.detail}, exc.status_code, headers=dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A bug in the mock. Answer as Letta does for unhandled errors, and log it loudly for the test author.
    log.exception("letta-mock failed on %s %s", request.method, request.url.path)
    return json_response({"detail": "An unknown error occurred"}, 500)
