"""The HTTP endpoints: thin handlers that validate, call the store or ``sending``, and answer in Letta's shapes.

Route table at the bottom; paths and methods are the SDKs' (wire doc §1.1).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.errors import BadRequest, Conflict, HTTPError, NotFound, RouteInvalid
from mockserver.http import (
    json_response,
    parse_body,
    path_id,
    query_bool,
    query_choice,
    query_int,
    query_list,
)
from mockserver.models import (
    RUN_ID_PATTERN,
    AgentState,
    AssistantMessageListResult,
    CancelAgentRunRequest,
    CompactionRequest,
    CompactionResponse,
    ConversationCompactionRequest,
    ConversationMessageRequest,
    Health,
    LettaAsyncRequest,
    LettaStreamingRequest,
    LLMConfig,
    Memory,
    ReasoningMessageListResult,
    ResetMessagesRequest,
    RetrieveStreamRequest,
    SearchAllMessagesRequest,
    SummaryMessage,
    SystemMessageListResult,
    TextContent,
    UserMessageListResult,
)
from mockserver.runs import cancel_runs, run_async_turn
from mockserver.sending import input_messages, request_controls, resume, send
from mockserver.store import SYSTEM_PROMPT, AgentRecord, Store, StoredMessage, page

__all__ = ["ROUTES"]

LETTA_VERSION = "0.16.8"  # the server version whose behaviour the mock follows


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _server_fidelity(request: Request) -> bool:
    return bool(request.app.state.config.fidelity == "server")


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
    query = _page_query(request)
    agent = store.agent(agent_id, not_found="Agent not found")
    conversation = request.query_params.get("conversation_id")
    rows = [m for m in agent.messages if _in_conversation(m, conversation)]
    items = _paged(request, store, rows, query, scope=f"agent '{agent_id}'", chronological=True)
    return json_response([item.model_dump(mode="json") for item in items])


def _in_conversation(message: StoredMessage, conversation: str | None) -> bool:
    if conversation is None:
        return True
    if conversation == "default":
        return message.conversation_id is None
    return message.conversation_id == conversation


def _page_query(request: Request, default_order: str = "desc") -> dict[str, Any]:
    query_choice(request, "order_by", ("created_at",), "created_at")
    query_bool(request, "include_err", None)
    query_bool(request, "use_assistant_message", True)
    return {
        "before": request.query_params.get("before") or None,
        "after": request.query_params.get("after") or None,
        "limit": query_int(request, "limit", 100),
        "order": query_choice(request, "order", ("asc", "desc"), default_order),
        "types": query_list(request, "include_return_message_types"),
    }


def _paged(
    request: Request,
    store: Store,
    rows: list[StoredMessage],
    query: dict[str, Any],
    *,
    scope: str,
    chronological: bool,
    reverse_items: bool = False,
    ignore_unknown_cursors: bool = False,
) -> list[Any]:
    members = {id(m) for m in rows}

    def belongs(stored: StoredMessage) -> bool:
        return id(stored) in members

    def cursor(name: str) -> int | None:
        value = query[name]
        if (
            ignore_unknown_cursors
            and value is not None
            and not (value in store.messages and belongs(store.messages[value]))
        ):
            return None
        owner = scope.split("'")[1] if "'" in scope else scope
        return store.cursor(value, belongs, f"No message found with id '{value}' for agent '{owner}'.")

    return page(
        rows,
        after=cursor("after"),
        before=cursor("before"),
        limit=query["limit"],
        order=query["order"],
        chronological=chronological,
        reverse_items=reverse_items,
        types=query["types"],
    )


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
    return json_response(compact(request, agent, None, body))


def compact(
    request: Request, agent: AgentRecord, conversation_id: str | None, body: CompactionRequest
) -> CompactionResponse:
    """Replace the older part of the context window with a summary message (stored history is kept)."""
    store = _store(request)
    context = [i for i in agent.in_context if i != agent.system_message_id and _not_summary(store, i)]
    before = len(agent.in_context)
    mode = body.compaction_settings.mode if body.compaction_settings else "sliding_window"
    keep = 0 if mode in ("all", "self_compact_all") else len(context) // 3
    folded = context[: len(context) - keep]
    if not folded:
        if agent.summary is None and (store.closed_world or _server_fidelity(request)):
            raise BadRequest(
                "Summarization failed to reduce the number of messages. You may not have enough messages to "
                "compact or need to use a different CompactionSettings (e.g. using `all` mode)."
            )
        # Nothing to fold: Letta answers with the summary it has and an unchanged count.
        return CompactionResponse(summary=agent.summary or "", num_messages_before=before, num_messages_after=before)
    summary = f"Summary of {len(folded)} earlier messages: " + "; ".join(_texts(store, folded))[:400]
    message_id = store.ids.new("message")
    now = store.clock.now()
    store.add_message(
        agent,
        message_id,
        [SummaryMessage(id=message_id, date=now, summary=summary)],
        conversation_id=conversation_id,
        run_id=None,
        created_at=now,
    )
    agent.in_context = (
        [agent.system_message_id, message_id, *context[len(context) - keep :]]
        if keep
        else [
            agent.system_message_id,
            message_id,
        ]
    )
    agent.summary = summary
    return CompactionResponse(summary=summary, num_messages_before=before, num_messages_after=len(agent.in_context))


def _not_summary(store: Store, message_id: str) -> bool:
    stored = store.messages.get(message_id)
    return stored is None or stored.items[0].message_type != "summary_message"


def _texts(store: Store, message_ids: list[str]) -> list[str]:
    texts: list[str] = []
    for message_id in message_ids:
        for item in store.messages[message_id].items:
            text = _item_text(item)
            if text:
                texts.append(f"{item.message_type.removesuffix('_message')}: {text}")
    return texts


def _item_text(item: Any) -> str:
    for field in ("content", "reasoning", "tool_return", "summary"):
        value = getattr(item, field, None)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return " ".join(p.text for p in value if isinstance(p, TextContent))
    return ""


async def edit_message(request: Request) -> Response:
    raise HTTPError405(
        "Message editing is no longer supported. Messages are immutable as they may be shared across multiple "
        "conversations via forking."
    )


class HTTPError405(HTTPError):
    status_code = 405


async def method_not_allowed(request: Request) -> Response:
    raise HTTPError405("Method Not Allowed")


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
    query = _page_query(request)
    agent, stored_conversation = store.conversation_agent(conversation_id, request.query_params.get("agent_id"))
    rows = [m for m in agent.messages if m.conversation_id == stored_conversation]
    # A conv-… conversation lists in the requested order; the default conversation behaves like agent history.
    # A conv-… conversation also ignores cursors it does not know (wire doc §14).
    items = _paged(
        request, store, rows, query, scope=f"agent '{agent.id}'", chronological=stored_conversation is None,
        ignore_unknown_cursors=stored_conversation is not None,
    )  # fmt: skip
    return json_response([item.model_dump(mode="json") for item in items])


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
    return json_response(compact(request, agent, stored_conversation, body))


# -- runs -----------------------------------------------------------------------------------------------------------


def _run_id(request: Request) -> str:
    run_id: str = request.path_params["run_id"]
    store = _store(request)
    # The spec puts no pattern on run ids; the real server checks the strict form (wire doc §13.1).
    if (store.closed_world or _server_fidelity(request)) and not re.match(RUN_ID_PATTERN, run_id):
        raise BadRequest(f"INVALID_ARGUMENT: Invalid run ID format: {run_id}. Expected format: 'run-<uuid4>'")
    return run_id


async def retrieve_run(request: Request) -> Response:
    return json_response(_store(request).run(_run_id(request)).run)


async def list_messages_for_run(request: Request) -> Response:
    run_id = _run_id(request)
    store = _store(request)
    query = _page_query(request, default_order="asc")
    record = store.run(run_id)
    query["types"] = record.run.request_config.include_return_message_types if record.run.request_config else None
    rows = [store.messages[i] for i in record.message_ids]
    items = _paged(request, store, rows, query, scope=f"run '{run_id}'", chronological=False, reverse_items=True)
    return json_response([item.model_dump(mode="json") for item in items])


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
    query = _page_query(request)
    conversation = request.query_params.get("conversation_id")
    rows = [m for m in store.all_messages() if _in_conversation(m, conversation)]
    items = _paged(request, store, rows, query, scope="the organization", chronological=True)
    return json_response([item.model_dump(mode="json") for item in items])


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
    store = _store(request)
    needle = body.query.lower()
    results: list[Any] = []
    for stored in reversed(store.all_messages()):  # newest first
        if body.agent_id is not None and stored.agent_id != body.agent_id:
            continue
        if body.conversation_id is not None and stored.conversation_id != body.conversation_id:
            continue
        if body.start_date is not None and stored.created_at < body.start_date:
            continue
        if body.end_date is not None and stored.created_at > body.end_date:
            continue
        for item in stored.items:
            result = _search_result(item, stored)
            if result is not None and needle in _item_text(item).lower():
                results.append(result)
        if len(results) >= body.limit:
            break
    return json_response([r.model_dump(mode="json") for r in results[: body.limit]])


_RESULT_TYPES: dict[str, Any] = {
    "system_message": SystemMessageListResult,
    "user_message": UserMessageListResult,
    "reasoning_message": ReasoningMessageListResult,
    "assistant_message": AssistantMessageListResult,
}


def _search_result(item: Any, stored: StoredMessage) -> Any:
    kind = _RESULT_TYPES.get(item.message_type)
    if kind is None:
        return None
    text_field = "reasoning" if item.message_type == "reasoning_message" else "content"
    return kind(
        message_id=stored.id,
        agent_id=stored.agent_id,
        conversation_id=stored.conversation_id,
        created_at=stored.created_at,
        **{text_field: getattr(item, text_field)},
    )


# -- service ----------------------------------------------------------------------------------------------------


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
