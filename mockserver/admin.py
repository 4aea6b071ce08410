"""The admin API under ``/_mock/`` (a prefix Letta never uses): the dashboard, scripts, defaults, the journal.

    GET    /_mock/                          the dashboard to a browser (Accept: text/html), else what is here (JSON)
    POST   /_mock/reset                     start over: agents, runs, scripts, journal forgotten; defaults as configured
    GET    /_mock/defaults                  controls applied to every turn
    PUT    /_mock/defaults                  {"scenario": "tool_call", "token_delay_ms": 20, ...}
    GET    /_mock/agents                    the agents the mock knows, with their state
    GET    /_mock/agents/{agent_id}/messages  the agent's history: every stored item, oldest first (last ?limit=)
    GET    /_mock/agents/{agent_id}/script  the agent's remaining scripted turns
    PUT    /_mock/agents/{agent_id}/script  {"turns": [{"scenario": "approval"}, {"reply": "Done."}]}
    GET    /_mock/journal[?operation=...]   the exchanges kept, requests with their bodies, responses summarised
    DELETE /_mock/journal
    GET    /_mock/journal/changes?since=V   exchanges changed after journal version V (the dashboard polls this)
    GET    /_mock/journal/{id}              one exchange in full: headers, response body, each stream event timed
    GET    /_mock/calls                     {"send_message": 3, ...}: calls per operation since the last clear
    GET|PUT|POST|DELETE /_mock/rules        authored turns and request-matched rules (``authored.routes``)

Scripts and defaults take the same keys as the ``X-Letta-Mock`` header (see ``control``). Reading never creates
anything (the open world's agents appear when a Letta route uses them). Everything here is one mounted app
(``admin_mount``), so one layer can wrap all of it; ``--no-admin`` (``create_app(admin=False)``) leaves it out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp

from mockserver import appstate
from mockserver.authored.routes import rules_route
from mockserver.catalogue import IN_BAND_ERRORS, LETTA_VERSION
from mockserver.control import KEYS, Controls, parse_controls
from mockserver.dashboard import DASHBOARD_ROUTES, dashboard_page, wants_page
from mockserver.errors import ControlError, NotFound, RequestInvalid
from mockserver.faults import FAULTS
from mockserver.http import json_response
from mockserver.journal import ADMIN_PREFIX, Journal
from mockserver.models import STOP_REASONS
from mockserver.parameters import Integer, Text, path_id
from mockserver.records import AgentRecord, StoredMessage
from mockserver.scenarios import SCENARIOS
from mockserver.store import Store
from mockserver.version import __version__

__all__ = ["ADMIN_ROUTES", "admin_mount"]

PREFIX = ADMIN_PREFIX
HISTORY_LIMIT = 500  # items the dashboard's history view reads by default
_HISTORY = Integer(name="limit", description="The last items of the history shown.", default=HISTORY_LIMIT)
_SINCE = Integer(name="since", description="The journal version the page has seen.", default=0)
_OPERATION = Text(name="operation", description="Only the exchanges of this operation.")


async def _controls_body(request: Request) -> dict[str, Any]:
    try:
        value = json.loads(await request.body() or b"{}")
    except ValueError:
        raise RequestInvalid.single(["body"], "JSON decode error", "json_invalid") from None
    if not isinstance(value, dict):
        raise RequestInvalid.single(["body"], "Input should be an object", "dict_type")
    return value


async def index(request: Request) -> Response:
    state = request.app.state
    if wants_page(request):
        # The page comes with what it shows first (this index, the journal, the agents), so its first paint is the
        # journal as it is, not "No requests yet" until its first poll returns.
        first = {"index": _index(state), "changes": _changes(state.journal, 0), "agents": _agents(state.store)}
        return dashboard_page(first)
    return json_response(_index(state))


def _index(state: State) -> dict[str, Any]:
    journal: Journal = state.journal
    return {
        "version": __version__,
        "letta_version": LETTA_VERSION,
        "routes": [f"{', '.join(sorted(r.methods or ()))} {PREFIX}{r.path}" for r in ADMIN_ROUTES],
        "config": {
            "seed": state.config.seed,
            "fidelity": state.config.fidelity,
            "agents": list(state.config.agents) if state.config.agents is not None else None,
            "journal_size": journal.size,
        },
        "defaults": state.defaults.as_dict(),
        "configured_defaults": state.configured_defaults.as_dict(),
        "journal": {"kept": len(journal), "version": journal.version, "epoch": journal.epoch},
        # The tables, so a page (or a tool) offers exactly what the server accepts.
        "control_keys": list(KEYS),
        "controls": [_control_row(key) for key in KEYS],
        "scenarios": [{"name": s.name, "help": s.help} for s in SCENARIOS.values()],
        "faults": [{"form": kind.form, "help": kind.help} for kind in FAULTS.values()],
        "stop_reasons": list(STOP_REASONS),
        "errors": list(IN_BAND_ERRORS),
    }


def _control_row(key: str) -> dict[str, Any]:
    """How the dashboard offers a control key (``control.KEYS``): its table's values, else a number or text field."""
    row: dict[str, Any] = {"key": key, "help": KEYS[key].help, "group": KEYS[key].group}
    choices = KEYS[key].choices
    if choices is not None:
        row.update(kind="choice", choices=list(choices))
    else:
        try:  # a key that takes a number takes 0
            parse_controls({key: 0})
            row["kind"] = "number"
        except ControlError:
            row["kind"] = "text"
    return row


async def reset(request: Request) -> Response:
    appstate.reset(request.app)
    return json_response({"reset": True})


async def defaults(request: Request) -> Response:
    if request.method == "PUT":
        request.app.state.defaults = parse_controls(await _controls_body(request), where="defaults")
    return json_response(request.app.state.defaults.as_dict())


def _agent_summary(store: Store, agent: AgentRecord) -> dict[str, Any]:
    pending = agent.pending
    return {
        "id": agent.id,
        "created_at": agent.created_at.isoformat(),
        "items": agent.item_count,
        "stored_messages": len(agent.messages),
        "in_context": len(agent.in_context),
        "pending_approval": None
        if pending is None
        else {"run_id": pending.run_id, "tools": [call.name for call in pending.calls]},
        "last_run_id": agent.last_run_id,
        "last_stop_reason": agent.last_stop_reason,
        "active_runs": len(store.active_runs(agent)),
        "scripted_turns": len(store.scripts.get(agent.id, ())),
        "conversations": sorted(c for c, record in store.conversations.items() if record.agent_id == agent.id),
        "name": agent.profile.name,
        "model": agent.profile.model,
        "created": agent.created,
    }


async def agents(request: Request) -> Response:
    return json_response(_agents(request.app.state.store))


def _agents(store: Store) -> list[dict[str, Any]]:
    return [_agent_summary(store, agent) for agent in list(store.agents.values())]


async def agent_messages(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    store: Store = request.app.state.store
    agent = store.agents.get(agent_id)
    if agent is None:  # looking never creates: the open world's agents appear when a Letta route uses them
        raise NotFound(f"Agent {agent_id} has not been used")
    limit = _HISTORY.read(request) or HISTORY_LIMIT  # 0: the default
    rows: list[tuple[StoredMessage, int]] = []  # the last `limit` items, read from the end (history can be long)
    for stored in reversed(agent.messages):
        if len(rows) >= limit:
            break
        rows.extend((stored, index) for index in reversed(range(len(stored.types))))
    rows = rows[:limit][::-1]
    return Response(store.items_json(rows), media_type="application/json")


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
    return json_response(request.app.state.journal.as_json(_OPERATION.read(request)))


async def journal_changes(request: Request) -> Response:
    return json_response(_changes(request.app.state.journal, _SINCE.read(request)))


def _changes(journal: Journal, since: int) -> dict[str, Any]:
    version = journal.version  # read first: a change made while answering shows up in the next poll
    return {
        "epoch": journal.epoch,
        "version": version,
        "size": journal.size,
        "ids": [e.id for e in journal.entries],  # kept now: the rest left the ring (or were cleared)
        "changed": [e.summary() for e in journal.since(since)],
    }


async def exchange(request: Request) -> Response:
    entry = request.app.state.journal.get(request.path_params["exchange_id"])
    if entry is None:
        raise NotFound("Exchange not in the journal (it may have left the ring buffer)")
    return json_response(entry.detail())


async def calls(request: Request) -> Response:
    return json_response(request.app.state.journal.counts())


ADMIN_ROUTES: list[Route] = [
    Route("/", index, methods=["GET"]),
    Route("/reset", reset, methods=["POST"]),
    Route("/defaults", defaults, methods=["GET", "PUT"]),
    Route("/agents", agents, methods=["GET"]),
    Route("/agents/{agent_id}/messages", agent_messages, methods=["GET"]),
    Route("/agents/{agent_id}/script", script, methods=["GET", "PUT"]),
    Route("/journal", journal, methods=["GET", "DELETE"]),
    Route("/journal/changes", journal_changes, methods=["GET"]),
    Route("/journal/{exchange_id:int}", exchange, methods=["GET"]),
    Route("/calls", calls, methods=["GET"]),
    Route("/rules", rules_route, methods=["GET", "PUT", "POST", "DELETE"]),
]


def admin_mount(wrap: Callable[[ASGIApp], ASGIApp] | None = None) -> Mount:
    """Everything under ``/_mock/`` — the admin API and the dashboard — as one mounted app. ``wrap`` (e.g. a token
    check) wraps all of it at once, so no admin or dashboard route can be reached around it."""
    router: ASGIApp = Router([*ADMIN_ROUTES, *DASHBOARD_ROUTES])
    return Mount(PREFIX, app=wrap(router) if wrap is not None else router)
