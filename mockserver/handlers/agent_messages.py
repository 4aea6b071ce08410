"""``/v1/agents/{agent_id}/…``: send, stream, async, cancel, reset, compact (wire doc §4-§12; the list, §8, is
``message_history``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mockserver.catalogue import Texts
from mockserver.errors import Conflict, MethodNotAllowed, RouteInvalid
from mockserver.handlers.agents import agent_state
from mockserver.handlers.common import looks_like_sdk, store
from mockserver.history import compact
from mockserver.http import json_response, parse_body, rules
from mockserver.models import (
    CancelAgentRunRequest,
    CompactionRequest,
    LettaAsyncRequest,
    LettaStreamingRequest,
    ResetMessagesRequest,
)
from mockserver.parameters import path_id
from mockserver.runs import cancel_runs
from mockserver.sending import ASYNC, SEND, STREAM, Send, answer

__all__ = [
    "cancel_message",
    "create_agent_message_async",
    "create_agent_message_stream",
    "modify_message",
    "reset_messages",
    "send_message",
    "summarize_messages",
]


async def send_message(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, LettaStreamingRequest)
    _route_checks(request, body)
    agent = store(request).agent(agent_id)
    return await answer(request, Send.of(request, agent, body, SEND, streaming=body.streaming))


def _route_checks(request: Request, body: LettaStreamingRequest) -> None:
    """The real server's checks after validation (wire doc §4 steps 3-4), in its order. The rules are asked only
    when there is something they could refuse (most sends: nothing)."""
    if not body.streaming and not (body.stream_tokens or not body.include_pings or body.background):
        return
    letta = rules(request)
    if not body.streaming and letta.streaming_options_need_streaming:
        reasons = []
        if body.stream_tokens:
            reasons.append("stream_tokens can only be true when streaming=true")
        if not body.include_pings:
            reasons.append("include_pings can only be set to false when streaming=true")
        if body.background:
            reasons.append("background can only be true when streaming=true")
        if reasons:
            raise RouteInvalid(Texts.streaming_options(reasons))
    elif body.streaming and letta.sdk_only_streaming and not looks_like_sdk(request):
        raise RouteInvalid(Texts.STREAMING_NEEDS_SDK)


async def create_agent_message_stream(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, LettaStreamingRequest)
    agent = store(request).agent(agent_id)
    return await answer(request, Send.of(request, agent, body, STREAM, streaming=True))


async def create_agent_message_async(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, LettaAsyncRequest)
    agent = store(request).agent(agent_id, not_found=Texts.AGENT_NOT_FOUND)
    return await answer(request, Send.of(request, agent, body, ASYNC))


async def cancel_message(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, CancelAgentRunRequest, required=False)
    state = store(request)
    letta = rules(request)
    if agent_id not in state.agents and letta.unknown_ids_missing:
        # Letta looks for the agent's runs, not the agent: an unknown agent has none (wire doc §9).
        raise Conflict(Texts.nothing_to_cancel(agent_id))
    agent = state.agent(agent_id)
    return json_response(cancel_runs(state, agent, body.run_ids, rules(request, created=agent.created)))


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
    return json_response(compact(state, agent, None, body, rules(request, created=agent.created)))


async def modify_message(request: Request) -> Response:
    # FastAPI checks the path first: PATCH .../messages/async names no message, a 422 as in Letta.
    path_id(request, "agent_id")
    path_id(request, "message_id")
    raise MethodNotAllowed(Texts.MESSAGE_EDITING)
