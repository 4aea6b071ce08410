"""``/v1/conversations/{conversation_id}/…``: send, list, resume the stream, compact (wire doc §14)."""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import Response

from mockserver import catalogue
from mockserver.catalogue import Texts
from mockserver.errors import BadRequest, Conflict, RequestInvalid
from mockserver.handlers.common import items_response, server_fidelity, store, strict_compaction
from mockserver.history import compact, conversation_history, page_query, paged
from mockserver.http import json_response, parse_body, path_id, query_bool, query_choice, query_int
from mockserver.models import (
    Conversation,
    ConversationCompactionRequest,
    ConversationMessageRequest,
    CreateConversation,
    RetrieveStreamRequest,
    UpdateConversation,
)
from mockserver.paging import resource_page
from mockserver.records import ConversationRecord
from mockserver.sending import resume, send

__all__ = [
    "cancel_conversation",
    "compact_conversation",
    "conversation_view",
    "create_conversation",
    "delete_conversation",
    "fork_conversation",
    "list_conversation_messages",
    "list_conversations",
    "recompile_conversation",
    "retrieve_conversation",
    "retrieve_conversation_stream",
    "send_conversation_message",
    "update_conversation",
]


async def send_conversation_message(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    body = await parse_body(request, ConversationMessageRequest)
    agent, stored_conversation = store(request).conversation_agent(conversation_id, body.agent_id)
    return await send(
        request, agent, stored_conversation, body, streaming=body.streaming, run_type="send_conversation_message"
    )


async def list_conversation_messages(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    state = store(request)
    query = page_query(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, request.query_params.get("agent_id"))
    view = conversation_history(state, agent, stored_conversation)
    # A conv-… conversation lists in the requested order; the default conversation behaves like agent history.
    # A conv-… conversation also ignores cursors it does not know (wire doc §14).
    found = paged(state, view, query, owner=agent.id, chronological=stored_conversation is None,
        ignore_unknown_cursors=stored_conversation is not None,
    )  # fmt: skip
    return items_response(request, found)


async def retrieve_conversation_stream(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    body = await parse_body(request, RetrieveStreamRequest, required=False)
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, body.agent_id)
    if body.run_id is not None:  # a given run wins; then the run a message with the given otid started
        return resume(state, state.run(body.run_id), body.starting_after, expire=server_fidelity(request))
    sent = state.run_with_otid(agent, stored_conversation, body.otid) if body.otid is not None else None
    if sent is not None:
        # Letta finds the run by the otid while it is active (its own integration tests recover a stream so); a
        # mock's run is over in an instant, so a finished one is found too (as a retry re-attaches, sending.send).
        return resume(state, sent, body.starting_after, expire=server_fidelity(request))
    # otherwise the conversation's latest
    active = [r for r in state.active_runs(agent) if r.run.conversation_id == stored_conversation]
    if _letta_rules(request, stored_conversation) and not active:
        raise BadRequest(Texts.NO_ACTIVE_RUN)
    record = state.latest_run(agent, stored_conversation) or state.run(state.ids.new("run"))
    return resume(state, record, body.starting_after, expire=server_fidelity(request))


async def compact_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    body = await parse_body(request, ConversationCompactionRequest, required=False, nullable=True)
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, body.agent_id)
    strict, packed = _letta_rules(request, stored_conversation), server_fidelity(request)
    answer = compact(state, agent, stored_conversation, body, strict=strict, packed=packed,
                     nothing=Texts.SUMMARIZE_FAILED)  # fmt: skip
    return json_response(answer)


# -- the conversation itself ----------------------------------------------------------------------------------------


async def create_conversation(request: Request) -> Response:
    agent_id = request.query_params.get("agent_id")
    if agent_id is None:
        raise RequestInvalid.single(["query", "agent_id"], "Field required", "missing")
    body = await parse_body(request, CreateConversation, required=False)
    state = store(request)
    agent = state.agent(agent_id)
    fields = body.model_dump(include={"summary", "model", "model_settings"}, exclude_none=True)
    return json_response(conversation_view(state.create_conversation(agent, fields), with_context=False))


async def list_conversations(request: Request) -> Response:
    state = store(request)
    agent_id = request.query_params.get("agent_id")
    records = [c for c in state.conversations.values() if c.created and (agent_id is None or c.agent_id == agent_id)]
    search = request.query_params.get("summary_search")
    if search:
        records = [c for c in records if search.lower() in (c.summary or "").lower()]
    order = query_choice(request, "order", ("asc", "desc"), "desc")
    key = query_choice(request, "order_by", ("created_at", "last_run_completion", "last_message_at"), "created_at")
    records.sort(key=lambda c: _sort_key(c, key), reverse=order == "desc")
    limit = query_int(request, "limit", 50) or 0
    page = resource_page(records, lambda c: c.id, after=request.query_params.get("after"), before=None, limit=limit)
    # The real server lists conversations without their context window (retrieve one to see it).
    shown = [conversation_view(c, with_context=False) for c in page]
    return json_response([c.model_dump(mode="json") for c in shown])


def _sort_key(record: ConversationRecord, key: str) -> datetime:
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    if key == "created_at":
        return record.created_at
    return record.last_message_at or epoch


async def retrieve_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id", "conv_id")
    return json_response(conversation_view(store(request).conversation(conversation_id)))


async def update_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id", "conv_id")
    body = await parse_body(request, UpdateConversation)
    state = store(request)
    record = state.conversation(conversation_id)
    state.update_conversation(record, {name: getattr(body, name) for name in body.model_fields_set})
    return json_response(conversation_view(record, with_context=False))


async def delete_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id", "conv_id")
    state = store(request)
    state.delete_conversation(state.conversation(conversation_id))
    return json_response(None)


async def fork_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, request.query_params.get("agent_id"))
    if stored_conversation is None:
        parent = state.create_conversation(agent, {})  # forking the default conversation: a new one
        return json_response(conversation_view(parent, with_context=False))
    fork = state.fork_conversation(state.conversation(stored_conversation))
    return json_response(conversation_view(fork, with_context=False))


async def cancel_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, request.query_params.get("agent_id"))
    active = [r for r in state.active_runs(agent) if r.run.conversation_id == stored_conversation]
    if not active and _letta_rules(request, stored_conversation):
        raise Conflict(Texts.nothing_to_cancel_in(conversation_id))
    for record in active:
        state.cancel_run(record)
    return json_response({record.run.id: "cancelled" for record in active})


async def recompile_conversation(request: Request) -> Response:
    """The conversation's system message, rebuilt from the agent's current memory (``dry_run``: not stored)."""
    conversation_id = path_id(request, "conversation_id")
    persist = not query_bool(request, "dry_run", False)
    # The agent of the "default" conversation is named in the body, as for compact (Letta's own tests send it so).
    body = await parse_body(request, ConversationCompactionRequest, required=False, nullable=True)
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, body.agent_id)
    return json_response(state.recompile(agent, stored_conversation, persist=persist))


def _letta_rules(request: Request, conversation_id: str | None) -> bool:
    """Letta's refusals apply to a conversation a client created (and everywhere in the closed world or under
    server fidelity); a conversation the open world made up answers what the document allows."""
    state = store(request)
    record = state.conversations.get(conversation_id) if conversation_id is not None else None
    return strict_compaction(request) or (record is not None and record.created)


def conversation_view(record: ConversationRecord, *, with_context: bool = True) -> Conversation:
    """A conversation as Letta shows it: only a retrieve lists its context window's messages."""
    return Conversation(
        created_by_id=catalogue.DEFAULT_USER_ID, last_updated_by_id=catalogue.DEFAULT_USER_ID,
        id=record.id, agent_id=record.agent_id, summary=record.summary, model=record.model,
        model_settings=record.model_settings, created_at=record.created_at,
        updated_at=record.updated_at or record.created_at, last_message_at=record.last_message_at,
        in_context_message_ids=list(record.in_context) if with_context else [], isolated_block_ids=[],
    )  # fmt: skip
