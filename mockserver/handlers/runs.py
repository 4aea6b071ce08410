"""``/v1/runs/{run_id}…``: a run, its messages, its stream again (wire doc §13)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mockserver.catalogue import Texts
from mockserver.errors import BadRequest
from mockserver.handlers.common import items_response, run_id, server_fidelity, store
from mockserver.history import page_query, paged
from mockserver.http import json_response, parse_body
from mockserver.models import RetrieveStreamRequest
from mockserver.sending import resume

__all__ = ["list_messages_for_run", "retrieve_run", "retrieve_stream_for_run"]


async def retrieve_run(request: Request) -> Response:
    run = store(request).run(run_id(request)).run
    if not server_fidelity(request):
        return json_response(run)
    # The real server stores these two without a timezone and writes them with no suffix (wire doc §1.5).
    body = run.model_dump(mode="json")
    for key in ("completed_at", "callback_sent_at"):
        if body[key] is not None:
            body[key] = body[key].removesuffix("Z")
    return json_response(body)


async def list_messages_for_run(request: Request) -> Response:
    found_id = run_id(request)
    state = store(request)
    query = page_query(request, default_order="asc")
    record = state.run(found_id)
    query["types"] = record.run.request_config.include_return_message_types if record.run.request_config else None
    rows = [state.messages[i] for i in record.message_ids]
    return items_response(request, paged(state, rows, query, owner=found_id, chronological=False, reverse_items=True))


async def retrieve_stream_for_run(request: Request) -> Response:
    found_id = run_id(request)
    body = await parse_body(request, RetrieveStreamRequest, required=False)
    state = store(request)
    record = state.run(found_id)
    if server_fidelity(request) and not record.run.background:
        raise BadRequest(Texts.NOT_BACKGROUND)
    return resume(state, record, body.starting_after)
