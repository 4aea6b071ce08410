"""The HTTP endpoints: thin handlers that validate, call the store or ``sending``, and answer in Letta's shapes.

Route table at the bottom; paths and methods are the SDKs' (wire doc §1.1).
"""

from __future__ import annotations

import re

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.errors import BadRequest, Conflict, MethodNotAllowed, NotFound, RouteInvalid
from mockserver.history import compact, in_conversation, page_query, paged, search
from mockserver.http import (
    json_response,
    parse_body,
    path_id,
)
from mockserver.models import (
    RUN_ID_PATTERN,
    AgentState,
    CancelAgentRunRequest,
    CompactionRequest,
    ConversationCompactionRequest,
    ConversationMessageRequest,
    Health,
    LettaAsyncRequest,
    LettaStreamingRequest,
    LLMConfig,
    Memory,
    Message,
    ResetMessagesRequest,
    RetrieveStreamRequest,
    SearchAllMessagesRequest,
)
from mockserver.runs import cancel_runs, run_async_turn
from mockserver.sending import input_messages, request_controls, resume, send
from mockserver.store import SYSTEM_PROMPT, AgentRecord, Store

__all__ = ["ROUTES"]

LETTA_VERSION = "0.16.8"  # the server version whose behaviour the mock follows


def _items_response(store: Store, items: list[Message]) -> Response:
    return Response(store.items_json(items), media_type="application/json")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _server_fidelity(request: Request) -> bool:
    return bool(request.app.state.config.fidelity == "server")


def _strict_compaction(request: Request) -> bool:
    # Letta's 400 when there is too little to compact; the open world answers with an unchanged count.
    return _store(request).closed_world or _server_fidelity(request)


# -- agent messages ---------------------------------------------------------------------------------------------


async def send_message(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, LettaStreamingRequest)
    if _server_fidelity(request):
        _server_route_checks(request, body)
    agent = _store(request).agent(agent_id)
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
            raise RouteInvalid(
                "Streaming options set without streaming enabled. "
                + "; ".join(reasons)
                + ". Either set streaming=true or use default values for streaming options."
            )
    elif not _looks_like_sdk(request):
        raise RouteInvalid("streaming=true is only supported for SDK v1.0+ clients.")


def _looks_like_sdk(request: Request) -> bool:
    if "x-stainless-package-version" in request.headers:
        return True
    agent = request.headers.get("user-agent")
    if agent is None:
        return True
    return re.match(r"^(@letta-ai/)?letta-client/1\.", agent) is not None


async def create_agent_message_stream(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, LettaStreamingRequest)
    agent = _store(request).agent(agent_id)
    return await send(request, agent, None, body, streaming=True, run_type="send_message_streaming")


async def create_agent_message_async(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, LettaAsyncRequest)
    store = _store(request)
    agent = store.agent(agent_id, not_found="Agent not found")
    record = store.new_run(
        agent,
        conversation_id=None,
        run_type="send_message_async",
        background=True,
        include_return_message_types=body.include_return_message_types,
        callback_url=body.callback_url,
    )
    controls = request_controls(request, agent, input_messages(body))
    answer = record.run.model_copy(deep=True)  # the run as it was created: status "created"
    task = BackgroundTask(run_async_turn, request.app, agent, record, body, controls)
    return json_response(answer, background=task)


async def list_messages(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    store = _store(request)
    query = page_query(request)
    agent = store.agent(agent_id, not_found="Agent not found")
    conversation = request.query_params.get("conversation_id")
    rows = [m for m in agent.messages if in_conversation(m, conversation)]
    items = paged(store, rows, query, owner=agent_id, chronological=True)
    return _items_response(store, items)


async def cancel_message(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, CancelAgentRunRequest, required=False)
    store = _store(request)
    if agent_id not in store.agents and store.closed_world:
        # Letta looks for the agent's runs, not the agent: an unknown agent has none (wire doc §9).
        raise Conflict(f"CONFLICT: No active runs to cancel for agent {agent_id}")
    agent = store.agent(agent_id)
    return json_response(cancel_runs(store, agent, body.run_ids, server_fidelity=_server_fidelity(request)))


async def reset_messages(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    await parse_body(request, ResetMessagesRequest, required=False)
    store = _store(request)
    agent = store.agent(agent_id, not_found=f"Agent not found with id='{agent_id}'")
    # Stored history stays listable; only the context window starts over (wire doc §11, §18.7).
    agent.in_context = [agent.system_message_id]
    agent.summary = None
    agent.pending = None
    return json_response(agent_state(store, agent))


def agent_state(store: Store, agent: AgentRecord) -> AgentState:
    return AgentState(
        id=agent.id,
        name="mock-agent",
        system=SYSTEM_PROMPT,
        llm_config=LLMConfig(
            model="mock-1", model_endpoint_type="openai", context_window=128000, handle="letta-mock/mock-1"
        ),
        memory=Memory(blocks=[]),
        blocks=[],
        tools=[],
        sources=[],
        tags=[],
        message_ids=list(agent.in_context),
        created_at=agent.created_at,
        updated_at=store.clock.now(),
    )


async def summarize_messages(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    body = await parse_body(request, CompactionRequest, required=False, nullable=True)
    store = _store(request)
    agent = store.agent(agent_id)
    return json_response(compact(_store(request), agent, None, body, strict=_strict_compaction(request)))


async def edit_message(request: Request) -> Response:
    raise MethodNotAllowed(
        "Message editing is no longer supported. Messages are immutable as they may be shared across multiple "
        "conversations via forking."
    )


async def method_not_allowed(request: Request) -> Response:
    raise MethodNotAllowed("Method Not Allowed")


# -- conversations ----------------------------------------------------------------------------------------------


async def send_conversation_message(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    body = await parse_body(request, ConversationMessageRequest)
    agent, stored_conversation = _store(request).conversation_agent(conversation_id, body.agent_id)
    return await send(
        request, agent, stored_conversation, body, streaming=body.streaming, run_type="send_conversation_message"
    )


async def list_conversation_messages(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    store = _store(request)
    query = page_query(request)
    agent, stored_conversation = store.conversation_agent(conversation_id, request.query_params.get("agent_id"))
    rows = [m for m in agent.messages if m.conversation_id == stored_conversation]
    # A conv-… conversation lists in the requested order; the default conversation behaves like agent history.
    # A conv-… conversation also ignores cursors it does not know (wire doc §14).
    items = paged(store, rows, query, owner=agent.id, chronological=stored_conversation is None,
        ignore_unknown_cursors=stored_conversation is not None,
    )  # fmt: skip
    return _items_response(store, items)


async def retrieve_conversation_stream(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    body = await parse_body(request, RetrieveStreamRequest, required=False)
    store = _store(request)
    agent, stored_conversation = store.conversation_agent(conversation_id, body.agent_id)
    if body.run_id is not None:  # a given run wins; otherwise the conversation's latest
        return resume(store.run(body.run_id), body.starting_after)
    runs = [
        r for r in store.runs.values() if r.run.agent_id == agent.id and r.run.conversation_id == stored_conversation
    ]
    record = runs[-1] if runs else store.run(store.ids.new("run"))
    return resume(record, body.starting_after)


async def compact_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    body = await parse_body(request, ConversationCompactionRequest, required=False, nullable=True)
    agent, stored_conversation = _store(request).conversation_agent(conversation_id, body.agent_id)
    return json_response(compact(_store(request), agent, stored_conversation, body, strict=_strict_compaction(request)))


# -- runs -----------------------------------------------------------------------------------------------------------


def _run_id(request: Request) -> str:
    run_id: str = request.path_params["run_id"]
    store = _store(request)
    # The spec puts no pattern on run ids; the real server checks the strict form (wire doc §13.1).
    if (store.closed_world or _server_fidelity(request)) and not re.match(RUN_ID_PATTERN, run_id):
        raise BadRequest(f"INVALID_ARGUMENT: Invalid run ID format: {run_id}. Expected format: 'run-<uuid4>'")
    return run_id


async def retrieve_run(request: Request) -> Response:
    run = _store(request).run(_run_id(request)).run
    if not _server_fidelity(request):
        return json_response(run)
    # The real server stores these two without a timezone and writes them with no suffix (wire doc §1.5).
    body = run.model_dump(mode="json")
    for key in ("completed_at", "callback_sent_at"):
        if body[key] is not None:
            body[key] = body[key].removesuffix("Z")
    return json_response(body)


async def list_messages_for_run(request: Request) -> Response:
    run_id = _run_id(request)
    store = _store(request)
    query = page_query(request, default_order="asc")
    record = store.run(run_id)
    query["types"] = record.run.request_config.include_return_message_types if record.run.request_config else None
    rows = [store.messages[i] for i in record.message_ids]
    items = paged(store, rows, query, owner=run_id, chronological=False, reverse_items=True)
    return _items_response(store, items)


async def retrieve_stream_for_run(request: Request) -> Response:
    run_id = _run_id(request)
    body = await parse_body(request, RetrieveStreamRequest, required=False)
    record = _store(request).run(run_id)
    if _server_fidelity(request) and not record.run.background:
        raise BadRequest("INVALID_ARGUMENT: Run was not created in background mode, so it cannot be retrieved.")
    return resume(record, body.starting_after)


# -- all messages ---------------------------------------------------------------------------------------------------


async def list_all_messages(request: Request) -> Response:
    store = _store(request)
    query = page_query(request)
    conversation = request.query_params.get("conversation_id")
    rows = [m for m in store.all_messages() if in_conversation(m, conversation)]
    items = paged(store, rows, query, owner="the organization", chronological=True)
    return _items_response(store, items)


async def retrieve_message(request: Request) -> Response:
    message_id = path_id(request, "message_id")
    store = _store(request)
    stored = store.messages.get(message_id)
    if stored is None:
        if store.closed_world:
            raise NotFound(f"Message with id {message_id} not found.")
        return json_response([])  # open world: an id nobody stored names an empty message
    return json_response([item.model_dump(mode="json") for item in stored.items])


async def search_all_messages(request: Request) -> Response:
    body = await parse_body(request, SearchAllMessagesRequest)
    return json_response([r.model_dump(mode="json") for r in search(_store(request), body)])


# -- service --------------------------------------------------------------------------------------------------------


async def check_health(request: Request) -> Response:
    return json_response(Health(version=LETTA_VERSION, status="ok"))


async def openapi_document(request: Request) -> Response:
    from mockserver.openapi import openapi_document as build

    return json_response(build())


def _routes(prefix: str) -> list[Route]:
    agent = prefix + "/agents/{agent_id}"
    conversation = prefix + "/conversations/{conversation_id}"
    run = prefix + "/runs/{run_id}"
    return [
        Route(agent + "/messages", send_message, methods=["POST"]),
        Route(agent + "/messages", list_messages, methods=["GET"]),
        Route(agent + "/messages/stream", create_agent_message_stream, methods=["POST"]),
        Route(agent + "/messages/cancel", cancel_message, methods=["POST"]),
        Route(agent + "/messages/async", create_agent_message_async, methods=["POST"]),
        Route(agent + "/messages/{message_id}", edit_message, methods=["PATCH"]),
        Route(agent + "/messages/{message_id}", method_not_allowed, methods=["GET"]),
        Route(agent + "/reset-messages", reset_messages, methods=["PATCH"]),
        Route(agent + "/summarize", summarize_messages, methods=["POST"]),
        Route(conversation + "/messages", send_conversation_message, methods=["POST"]),
        Route(conversation + "/messages", list_conversation_messages, methods=["GET"]),
        Route(conversation + "/stream", retrieve_conversation_stream, methods=["POST"]),
        Route(conversation + "/compact", compact_conversation, methods=["POST"]),
        Route(run, retrieve_run, methods=["GET"]),
        Route(run + "/messages", list_messages_for_run, methods=["GET"]),
        Route(run + "/stream", retrieve_stream_for_run, methods=["POST"]),
        Route(prefix + "/messages/", list_all_messages, methods=["GET"]),
        Route(prefix + "/messages", list_all_messages, methods=["GET"]),
        Route(prefix + "/messages/search", search_all_messages, methods=["POST"]),
        Route(prefix + "/messages/{message_id}", retrieve_message, methods=["GET"]),
        Route(prefix + "/health/", check_health, methods=["GET"]),
        Route(prefix + "/health", check_health, methods=["GET"]),
    ]


# Letta mounts the same routers under /latest as well (wire doc §1.1).
ROUTES: list[Route] = [*_routes("/v1"), *_routes("/latest"), Route("/openapi.json", openapi_document, methods=["GET"])]
