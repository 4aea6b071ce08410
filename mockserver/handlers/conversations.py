"""``/v1/conversations/{conversation_id}/…``: send, list, resume the stream, compact (wire doc §14)."""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import Response

from mockserver import catalogue
from mockserver.catalogue import Texts
from mockserver.errors import BadRequest, Conflict
from mockserver.handlers.common import items_response, store
from mockserver.history import compact, conversation_history, page_query, paged
from mockserver.http import json_response, parse_body, rules
from mockserver.models import (
    Conversation,
    ConversationCompactionRequest,
    ConversationMessageRequest,
    CreateConversation,
    RetrieveStreamRequest,
    UpdateConversation,
)
from mockserver.paging import resource_page
from mockserver.parameters import (
    AFTER_CONVERSATIONS,
    AGENT_ID_QUERY,
    AGENT_ID_REQUIRED,
    CONV_ID,
    DRY_RUN,
    LIMIT_CONVERSATIONS,
    ORDER_BY_CONVERSATIONS,
    ORDER_CONVERSATIONS,
    SUMMARY_SEARCH,
    path_id,
)
from mockserver.records import AgentRecord, ConversationRecord, RunRecord
from mockserver.rules import Rules
from mockserver.sending import CONVERSATION, Send, answer, resume
from mockserver.store import Store

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
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, body.agent_id)
    send = Send.of(request, agent, body, CONVERSATION, conversation_id=stored_conversation, streaming=body.streaming)
    latest = _latest_run(state, agent, stored_conversation)
    if send.background and send.otids and latest is not None and send.otids == latest.input_otids:
        # A retry of a background send (the same otids) re-attaches to its run (wire doc §6.8). The real server
        # does so while the run is active; a mock run is over in an instant, so its latest run counts too.
        return resume(state, latest, 0)
    busy = _busy_run(state, agent, stored_conversation)
    if busy is not None:
        raise Conflict(Texts.conversation_busy(busy.run.id), run_id=busy.run.id)
    return await answer(request, send)


def _latest_run(state: Store, agent: AgentRecord, conversation_id: str | None) -> RunRecord | None:
    """The agent's last run, if it was in this conversation."""
    run_id = agent.last_run_id
    record = state.runs.get(run_id) if run_id is not None else None
    return record if record is not None and record.run.conversation_id == conversation_id else None


def _busy_run(state: Store, agent: AgentRecord, conversation_id: str | None) -> RunRecord | None:
    """The run a conversation is busy with: Letta locks a conversation while a run is active (wire doc §14)."""
    for record in reversed(state.active_runs(agent)):
        if record.run.conversation_id == conversation_id and not record.finished:
            return record
    return None


async def list_conversation_messages(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    state = store(request)
    query = page_query(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, AGENT_ID_QUERY.read(request))
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
    letta = _rules(request, stored_conversation)
    if body.run_id is not None:  # a given run wins; then the run a message with the given otid started
        return resume(state, state.run(body.run_id), body.starting_after, expire=letta.expiring_streams)
    sent = state.run_with_otid(agent, stored_conversation, body.otid) if body.otid is not None else None
    if sent is not None:
        # Letta finds the run by the otid while it is active (its own integration tests recover a stream so); a
        # mock's run is over in an instant, so a finished one is found too (as a retry re-attaches, above).
        return resume(state, sent, body.starting_after, expire=letta.expiring_streams)
    # otherwise the conversation's latest
    active = [r for r in state.active_runs(agent) if r.run.conversation_id == stored_conversation]
    if letta.no_active_run_400 and not active:
        raise BadRequest(Texts.NO_ACTIVE_RUN)
    record = state.latest_run(agent, stored_conversation) or state.run(state.ids.new("run"))
    return resume(state, record, body.starting_after, expire=letta.expiring_streams)


async def compact_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    body = await parse_body(request, ConversationCompactionRequest, required=False, nullable=True)
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, body.agent_id)
    answer = compact(state, agent, stored_conversation, body, _rules(request, stored_conversation),
                     nothing=Texts.SUMMARIZE_FAILED)  # fmt: skip
    return json_response(answer)


# -- the conversation itself ----------------------------------------------------------------------------------------


async def create_conversation(request: Request) -> Response:
    agent_id = AGENT_ID_REQUIRED.read(request)
    body = await parse_body(request, CreateConversation, required=False)
    state = store(request)
    agent = state.agent(agent_id)
    fields = body.model_dump(include={"summary", "model", "model_settings"}, exclude_none=True)
    return json_response(conversation_view(state.create_conversation(agent, fields), with_context=False))


async def list_conversations(request: Request) -> Response:
    state = store(request)
    agent_id = AGENT_ID_QUERY.read(request)
    records = [c for c in state.conversations.values() if c.created and (agent_id is None or c.agent_id == agent_id)]
    search = SUMMARY_SEARCH.read(request)
    if search:
        records = [c for c in records if search.lower() in (c.summary or "").lower()]
    order = ORDER_CONVERSATIONS.read(request)
    key = ORDER_BY_CONVERSATIONS.read(request)
    records.sort(key=lambda c: _sort_key(c, key), reverse=order == "desc")
    limit = LIMIT_CONVERSATIONS.read(request)
    page = resource_page(records, lambda c: c.id, after=AFTER_CONVERSATIONS.read(request), before=None, limit=limit)
    # The real server lists conversations without their context window (retrieve one to see it).
    shown = [conversation_view(c, with_context=False) for c in page]
    return json_response([c.model_dump(mode="json") for c in shown])


def _sort_key(record: ConversationRecord, key: str) -> datetime:
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    if key == "created_at":
        return record.created_at
    return record.last_message_at or epoch


async def retrieve_conversation(request: Request) -> Response:
    conversation_id = CONV_ID.read(request)
    return json_response(conversation_view(store(request).conversation(conversation_id)))


async def update_conversation(request: Request) -> Response:
    conversation_id = CONV_ID.read(request)
    body = await parse_body(request, UpdateConversation)
    state = store(request)
    record = state.conversation(conversation_id)
    state.update_conversation(record, {name: getattr(body, name) for name in body.model_fields_set})
    return json_response(conversation_view(record, with_context=False))


async def delete_conversation(request: Request) -> Response:
    conversation_id = CONV_ID.read(request)
    state = store(request)
    state.delete_conversation(state.conversation(conversation_id))
    return json_response(None)


async def fork_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, AGENT_ID_QUERY.read(request))
    if stored_conversation is None:
        parent = state.create_conversation(agent, {})  # forking the default conversation: a new one
        return json_response(conversation_view(parent, with_context=False))
    fork = state.fork_conversation(state.conversation(stored_conversation))
    return json_response(conversation_view(fork, with_context=False))


async def cancel_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, AGENT_ID_QUERY.read(request))
    active = [r for r in state.active_runs(agent) if r.run.conversation_id == stored_conversation]
    if not active and _rules(request, stored_conversation).nothing_to_cancel_409:
        raise Conflict(Texts.nothing_to_cancel_in(conversation_id))
    for record in active:
        state.cancel_run(record)
    return json_response({record.run.id: "cancelled" for record in active})


async def recompile_conversation(request: Request) -> Response:
    """The conversation's system message, rebuilt from the agent's current memory (``dry_run``: not stored)."""
    conversation_id = path_id(request, "conversation_id")
    persist = not DRY_RUN.read(request)
    # The agent of the "default" conversation is named in the body, as for compact (Letta's own tests send it so).
    body = await parse_body(request, ConversationCompactionRequest, required=False, nullable=True)
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, body.agent_id)
    return json_response(state.recompile(agent, stored_conversation, persist=persist))


def _rules(request: Request, conversation_id: str | None) -> Rules:
    """The rules of a request about a conversation: Letta's refusals apply to one a client created; one the open
    world made up answers what the document allows."""
    record = store(request).conversations.get(conversation_id) if conversation_id is not None else None
    return rules(request, created=record is not None and record.created)


def conversation_view(record: ConversationRecord, *, with_context: bool = True) -> Conversation:
    """A conversation as Letta shows it: only a retrieve lists its context window's messages."""
    return Conversation(
        created_by_id=catalogue.DEFAULT_USER_ID, last_updated_by_id=catalogue.DEFAULT_USER_ID,
        id=record.id, agent_id=record.agent_id, summary=record.summary, model=record.model,
        model_settings=record.model_settings, created_at=record.created_at,
        updated_at=record.updated_at or record.created_at, last_message_at=record.last_message_at,
        in_context_message_ids=list(record.in_context) if with_context else [], isolated_block_ids=[],
    )  # fmt: skip
