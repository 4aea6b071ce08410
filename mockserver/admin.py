"""The admin API under ``/_mock/`` (a prefix Letta never uses) and the request journal behind it.

    GET    /_mock/                          what is here
    POST   /_mock/reset                     start over: agents, runs, scripts, journal forgotten; defaults as configured
    GET    /_mock/defaults                  controls applied to every turn
    PUT    /_mock/defaults                  {"scenario": "tool_call", "token_delay_ms": 20, ...}
    GET    /_mock/agents/{agent_id}/script  the agent's remaining scripted turns
    PUT    /_mock/agents/{agent_id}/script  {"turns": [{"scenario": "approval"}, {"reply": "Done."}]}
    GET    /_mock/journal[?operation=...]   requests with their bodies, responses summarised
    DELETE /_mock/journal
    GET    /_mock/calls                     {"send_message": 3, ...}: calls per operation, to verify

Scripts and defaults take the same keys as the ``X-Letta-Mock`` header (see ``control``). ``--no-admin`` (or
``create_app(admin=False)``) leaves these routes out.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver import appstate
from mockserver.control import KEYS, Controls, parse_controls
from mockserver.errors import ControlError, RequestInvalid
from mockserver.http import json_response, path_id
from mockserver.journal import ADMIN_PREFIX, Entry
from mockserver.store import Store

__all__ = ["ADMIN_ROUTES"]

PREFIX = ADMIN_PREFIX


async def _controls_body(request: Request) -> dict[str, Any]:
    try:
        value = json.loads(await request.body() or b"{}")
    except ValueError:
        raise RequestInvalid.single(["body"], "JSON decode error", "json_invalid") from None
    if not isinstance(value, dict):
        raise RequestInvalid.single(["body"], "Input should be an object", "dict_type")
    return value


async def index(request: Request) -> Response:
    return json_response(
        {
            "routes": [f"{', '.join(sorted(r.methods or ()))} {r.path}" for r in ADMIN_ROUTES],
            "control_keys": list(KEYS),
            "defaults": request.app.state.defaults.as_dict(),
        }
    )


async def reset(request: Request) -> Response:
    appstate.reset(request.app)
    return json_response({"reset": True})


async def defaults(request: Request) -> Response:
    if request.method == "PUT":
        request.app.state.defaults = parse_controls(await _controls_body(request), where="defaults")
    return json_response(request.app.state.defaults.as_dict())


async def script(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    store: Store = request.app.state.store
    if request.method == "PUT":
        body = await _controls_body(request)
        turns = body.get("turns")
        if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
            raise RequestInvalid.single(["body", "turns"], "Input should be a list of objects", "list_type")
        parsed: list[Controls] = []
        problems = []
        for index, turn in enumerate(turns):
            try:
                parsed.append(parse_controls(turn, where=f"turns[{index}]"))
            except ControlError as error:
                problems.append(str(error.detail))
        if problems:
            raise ControlError("; ".join(problems))
        store.set_script(agent_id, parsed)
    return json_response({"agent_id": agent_id, "turns": [c.as_dict() for c in store.scripts.get(agent_id, ())]})


async def journal(request: Request) -> Response:
    if request.method == "DELETE":
        request.app.state.journal.clear()
        return json_response([])
    return json_response(request.app.state.journal.as_json(request.query_params.get("operation")))


async def calls(request: Request) -> Response:
    entries: list[Entry] = request.app.state.journal.entries
    return json_response(dict(Counter(e.operation for e in entries if e.operation is not None)))


ADMIN_ROUTES = [
    Route(PREFIX + "/", index, methods=["GET"]),
    Route(PREFIX + "/reset", reset, methods=["POST"]),
    Route(PREFIX + "/defaults", defaults, methods=["GET", "PUT"]),
    Route(PREFIX + "/agents/{agent_id}/script", script, methods=["GET", "PUT"]),
    Route(PREFIX + "/journal", journal, methods=["GET", "DELETE"]),
    Route(PREFIX + "/calls", calls, methods=["GET"]),
]
