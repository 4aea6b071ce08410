"""What every handler needs: the app's store and profile, run-id checks, list answers."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from mockserver.catalogue import Texts
from mockserver.errors import BadRequest
from mockserver.journal import share_items
from mockserver.models import RUN_ID_PATTERN
from mockserver.paging import Row
from mockserver.store import Store

__all__ = ["items_response", "run_id", "server_fidelity", "store", "strict_compaction"]


def store(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


def server_fidelity(request: Request) -> bool:
    return bool(request.app.state.config.fidelity == "server")


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
