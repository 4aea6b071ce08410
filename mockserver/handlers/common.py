"""What every handler needs: the app's store, run-id checks, list answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from mockserver.bodies import share_items
from mockserver.catalogue import Texts
from mockserver.errors import BadRequest
from mockserver.http import query_int, rules
from mockserver.models import RUN_ID_PATTERN
from mockserver.paging import Row, resource_page
from mockserver.store import Store

__all__ = ["id_page", "items_response", "run_id", "store"]

Resource = TypeVar("Resource")


def store(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


def items_response(request: Request, rows: list[Row]) -> Response:
    body = share_items(request.scope, store(request).item_json(rows))  # the journal keeps the items, not a copy
    return Response(body, media_type="application/json")


def run_id(request: Request) -> str:
    value: str = request.path_params["run_id"]
    # The spec puts no pattern on run ids; the real server checks the strict form (wire doc §13.1).
    if rules(request).strict_run_ids and not re.match(RUN_ID_PATTERN, value):
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
