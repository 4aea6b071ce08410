"""What every handler needs: the app's store and profile, run-id checks, list answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from mockserver.catalogue import Texts
from mockserver.errors import BadRequest
from mockserver.http import query_int
from mockserver.journal import share_items
from mockserver.models import RUN_ID_PATTERN
from mockserver.paging import Row, resource_page
from mockserver.store import Store

__all__ = ["id_page", "items_response", "looks_like_sdk", "run_id", "server_fidelity", "store", "strict_compaction"]

Resource = TypeVar("Resource")


def store(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


def server_fidelity(request: Request) -> bool:
    return bool(request.app.state.config.fidelity == "server")


def looks_like_sdk(request: Request) -> bool:
    """Letta's "is this a 1.x SDK" test (wire doc §4): the Stainless version header, no user agent at all, or the
    SDK's own user agent."""
    if "x-stainless-package-version" in request.headers:
        return True
    agent = request.headers.get("user-agent")
    if agent is None:
        return True
    return re.match(r"^(@letta-ai/)?letta-client/1\.", agent) is not None


def strict_compaction(request: Request) -> bool:
    # Letta's 400 when there is too little to compact; the open world answers with an unchanged count.
    return store(request).closed_world or server_fidelity(request)


def items_response(request: Request, rows: list[Row]) -> Response:
    body = share_items(request.scope, store(request).item_json(rows))  # the journal keeps the items, not a copy
    return Response(body, media_type="application/json")


def run_id(request: Request) -> str:
    value: str = request.path_params["run_id"]
    # The spec puts no pattern on run ids; the real server checks the strict form (wire doc §13.1).
    if (store(request).closed_world or server_fidelity(request)) and not re.match(RUN_ID_PATTERN, value):
        raise BadRequest(Texts.bad_run_id(value))
    return value


def id_page(request: Request, items: Iterable[Resource], key: Callable[[Resource], str], *, limit: int,
            maximum: int | None = None) -> list[Resource]:  # fmt: skip
    """The page of a resource listing (agents, tools, runs, steps) the request's ``after``, ``before`` and ``limit``
    (default ``limit``, at most ``maximum``, then at least 1) ask for."""
    bounds = {} if maximum is None else {"minimum": 1, "maximum": maximum}
    count = query_int(request, "limit", limit, **bounds) or 0
    params = request.query_params
    return resource_page(items, key, after=params.get("after"), before=params.get("before"), limit=count)
