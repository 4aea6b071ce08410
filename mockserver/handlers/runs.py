"""``/v1/runs/{run_id}…``: a run, its messages, its stream again (wire doc §13)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response

from mockserver import catalogue
from mockserver.catalogue import Texts
from mockserver.errors import BadRequest
from mockserver.handlers.common import id_page, items_response, run_id, store
from mockserver.history import page_query, paged, run_history
from mockserver.http import json_response, parse_body, rules
from mockserver.models import RetrieveStreamRequest, Step, UsageStatistics
from mockserver.parameters import (
    ACTIVE,
    AFTER_RUNS,
    AFTER_STEPS,
    AGENT_ID_QUERY,
    AGENT_IDS,
    BACKGROUND,
    BEFORE_RUNS,
    BEFORE_STEPS,
    CONVERSATION_ID_QUERY,
    LIMIT_RUNS,
    LIMIT_STEPS,
    ORDER_ASC,
    ORDER_BY,
    ORDER_RUNS,
    ORDER_STEPS,
    STATUSES,
    STOP_REASON,
)
from mockserver.records import RunRecord
from mockserver.sending import resume

__all__ = [
    "delete_run",
    "list_active_runs",
    "list_messages_for_run",
    "list_runs",
    "list_steps_for_run",
    "retrieve_run",
    "retrieve_stream_for_run",
    "retrieve_usage_for_run",
]


async def retrieve_run(request: Request) -> Response:
    # Letta reads one run without its metrics: its total_duration_ns is null here (the listings carry it).
    return json_response(_run_json(request, store(request).run(run_id(request)), duration=False))


def _run_json(request: Request, record: RunRecord, *, duration: bool = True) -> dict[str, object]:
    body = record.run.model_dump(mode="json")
    if not duration:
        body["total_duration_ns"] = None
    if rules(request).naive_run_dates:
        # The real server stores these two without a timezone and writes them with no suffix (wire doc §1.5).
        for key in ("completed_at", "callback_sent_at"):
            if body[key] is not None:
                body[key] = body[key].removesuffix("Z")
    return body


async def list_messages_for_run(request: Request) -> Response:
    found_id = run_id(request)
    state = store(request)
    query = page_query(request, ORDER_ASC)
    record = state.run(found_id)
    query["types"] = record.run.request_config.include_return_message_types if record.run.request_config else None
    view = run_history(record)
    return items_response(request, paged(state, view, query, owner=found_id, chronological=False, reverse_items=True))


async def retrieve_stream_for_run(request: Request) -> Response:
    found_id = run_id(request)
    body = await parse_body(request, RetrieveStreamRequest, required=False)
    state = store(request)
    record = state.run(found_id)
    letta = rules(request)
    if letta.background_only_resume and not record.run.background:
        raise BadRequest(Texts.NOT_BACKGROUND)
    return resume(state, record, body.starting_after, expire=letta.expiring_streams)


async def list_runs(request: Request) -> Response:
    """Runs, newest first by default, filtered by agent, conversation, status, stop reason, background, active.
    One agent's runs are read from its index, and only as far as the page needs (a front end polls this)."""
    state = store(request)
    agent_id = AGENT_ID_QUERY.read(request)
    agents = {*AGENT_IDS.read(request), *([agent_id] if agent_id is not None else [])}
    statuses = set(STATUSES.read(request))
    background = BACKGROUND.read(request)
    active = ACTIVE.read(request)
    order = ORDER_RUNS.read(request)
    ORDER_BY.read(request)
    source = state.agent_runs.get(next(iter(agents)), {}) if len(agents) == 1 else state.runs
    runs: Iterable[RunRecord] = reversed(source.values()) if order == "desc" else source.values()
    if len(agents) > 1:
        runs = (r for r in runs if r.value("agent_id") in agents)
    conversation = CONVERSATION_ID_QUERY.read(request)
    if conversation is not None:
        runs = (r for r in runs if r.value("conversation_id") == conversation)
    if statuses:
        runs = (r for r in runs if r.value("status") in statuses)
    stop_reason = STOP_REASON.read(request)
    if stop_reason is not None:
        runs = (r for r in runs if r.value("stop_reason") == stop_reason)
    if background is not None:
        runs = (r for r in runs if r.value("background") == background)
    if active:
        runs = (r for r in runs if r.active)
    page = id_page(request, runs, lambda r: r.value("id"), limit=LIMIT_RUNS, before=BEFORE_RUNS, after=AFTER_RUNS)
    return json_response([_run_json(request, r) for r in page])


async def list_active_runs(request: Request) -> Response:
    state = store(request)
    agent_id = AGENT_ID_QUERY.read(request)
    background = BACKGROUND.read(request)
    runs = [
        r for r in state.all_active_runs()
        if (agent_id is None or r.run.agent_id == agent_id) and (background is None or r.run.background == background)
    ]  # fmt: skip
    return json_response([_run_json(request, r) for r in runs])


async def retrieve_usage_for_run(request: Request) -> Response:
    record = store(request).run(run_id(request))
    steps = record.steps
    usage = UsageStatistics(
        completion_tokens=sum(s.completion_tokens or 0 for s in steps),
        prompt_tokens=sum(s.prompt_tokens or 0 for s in steps),
        total_tokens=sum(s.total_tokens or 0 for s in steps),
    )
    return json_response(usage)


async def list_steps_for_run(request: Request) -> Response:
    record = store(request).run(run_id(request))
    steps = list(record.steps)
    if ORDER_STEPS.read(request) == "desc":
        steps.reverse()
    ORDER_BY.read(request)
    page = id_page(request, steps, lambda s: s.id, limit=LIMIT_STEPS, before=BEFORE_STEPS, after=AFTER_STEPS)
    return json_response([_step_json(request, s.model()) for s in page])


def _step_json(request: Request, step: Step) -> dict[str, object]:
    body = step.model_dump(mode="json")
    if not rules(request).steps_name_organization:
        return body
    # The real server also sends the step's organization, which its document's Step does not allow.
    keys = list(body)
    at = keys.index("origin") + 1
    return {**{k: body[k] for k in keys[:at]}, "organization_id": catalogue.DEFAULT_ORG_ID,
            **{k: body[k] for k in keys[at:]}}  # fmt: skip


async def delete_run(request: Request) -> Response:
    state = store(request)
    state.delete_run(state.run(run_id(request)))
    return json_response(None)
