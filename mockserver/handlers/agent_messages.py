"""``/v1/agents/{agent_id}/…``: send, stream, async, list, cancel, reset, compact (wire doc §4-§12)."""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from mockserver.catalogue import Texts
from mockserver.engine import check_can_send
from mockserver.errors import Conflict, HTTPError, MethodNotAllowed, RouteInvalid
from mockserver.handlers.agents import agent_state
from mockserver.handlers.common import items_response, looks_like_sdk, server_fidelity, store, strict_compaction
from mockserver.history import agent_history, compact, page_query, paged
from mockserver.http import json_response, parse_body, path_id
from mockserver.models import (
    CancelAgentRunRequest,
    CompactionRequest,
    LettaAsyncRequest,
    LettaStreamingRequest,
    ResetMessagesRequest,
)
from mockserver.runs import cancel_runs, run_async_turn
from mockserver.sending import input_messages, request_controls, send

__all__ = [
    "cancel_message",
    "create_agent_message_async",
    "create_agent_message_stream",
    "edit_message",
    "list_messages",
    "reset_messages",
    "send_message",
    "summarize_messages",
]


async def send_message(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, LettaStreamingRequest)
    if server_fidelity(request):
        _server_route_checks(request, body)
    agent = store(request).agent(agent_id)
    return await send(request, agent, None, body, streaming=body.streaming, run_type="send_message")


def _server_route_checks(request: Request, body: LettaStreamingRequest) -> None:
    """The real server's checks after validation (wire doc §4 steps 3-4), in its order."""
    if not body.streaming:
        reasons = []
        if body.stream_tokens:
            reasons.append("stream_tokens can only be true when streaming=true")
        if not body.include_pings:
            reasons.append("include_pings can only be set to false when streaming=true")
        if body.background:
            reasons.append("background can only be true when streaming=true")
        if reasons:
            raise RouteInvalid(Texts.streaming_options(reasons))
    elif not looks_like_sdk(request):
        raise RouteInvalid(Texts.STREAMING_NEEDS_SDK)


async def create_agent_message_stream(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, LettaStreamingRequest)
    agent = store(request).agent(agent_id)
    return await send(request, agent, None, body, streaming=True, run_type="send_message_streaming")


async def create_agent_message_async(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, LettaAsyncRequest)
    state = store(request)
    agent = state.agent(agent_id, not_found=Texts.AGENT_NOT_FOUND)
    messages = input_messages(body)
    controls = request_controls(request, agent, messages)
    try:
        check_can_send(agent, messages, closed_world=state.closed_world or agent.created)
        refusal = None
        state.use_scripted(agent.id)
    except HTTPError as error:
        refusal = error.message
    record = state.new_run(
        agent,
        conversation_id=None,
        run_type="send_message_async",
        background=True,
        include_return_message_types=body.include_return_message_types,
        callback_url=body.callback_url,
    )
    answer = record.run.model_copy(deep=True)  # the run as it was created: status "created"
    task = BackgroundTask(run_async_turn, request.app, agent, record, body, messages, controls, refusal)
    return json_response(answer, background=task)


async def list_messages(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    state = store(request)
    query = page_query(request)
    agent = state.agent(agent_id, not_found=Texts.AGENT_NOT_FOUND)
    view = agent_history(agent, request.query_params.get("conversation_id"))
    return items_response(request, paged(state, view, query, owner=agent_id, chronological=True))


async def cancel_message(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, CancelAgentRunRequest, required=False)
    state = store(request)
    if agent_id not in state.agents and state.closed_world:
        # Letta looks for the agent's runs, not the agent: an unknown agent has none (wire doc §9).
        raise Conflict(Texts.nothing_to_cancel(agent_id))
    agent = state.agent(agent_id)
    return json_response(cancel_runs(state, agent, body.run_ids, server_fidelity=server_fidelity(request)))


async def reset_messages(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    await parse_body(request, ResetMessagesRequest)  # required, as Letta's document says (the SDKs send {})
    state = store(request)
    agent = state.agent(agent_id, not_found=Texts.agent_not_found_reset(agent_id))
    state.reset_context(agent)
    return json_response(agent_state(state, agent))


async def summarize_messages(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, CompactionRequest, required=False, nullable=True)
    state = store(request)
    agent = state.agent(agent_id)
    packed = server_fidelity(request)
    strict = strict_compaction(request) or agent.created
    return json_response(compact(state, agent, None, body, strict=strict, packed=packed))


async def edit_message(request: Request) -> Response:
    # FastAPI checks the path first: PATCH .../messages/async names no message, a 422 as in Letta.
    path_id(request, "agent_id")
    path_id(request, "message_id")
    raise MethodNotAllowed(Texts.MESSAGE_EDITING)
