"""``/v1/conversations/{conversation_id}/…``: send, list, resume the stream, compact (wire doc §14)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mockserver.handlers.common import items_response, store, strict_compaction
from mockserver.history import compact, page_query, paged
from mockserver.http import json_response, parse_body, path_id
from mockserver.models import ConversationCompactionRequest, ConversationMessageRequest, RetrieveStreamRequest
from mockserver.sending import resume, send

__all__ = [
    "compact_conversation",
    "list_conversation_messages",
    "retrieve_conversation_stream",
    "send_conversation_message",
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
    rows = [m for m in agent.messages if m.conversation_id == stored_conversation]
    # A conv-… conversation lists in the requested order; the default conversation behaves like agent history.
    # A conv-… conversation also ignores cursors it does not know (wire doc §14).
    found = paged(state, rows, query, owner=agent.id, chronological=stored_conversation is None,
        ignore_unknown_cursors=stored_conversation is not None,
    )  # fmt: skip
    return items_response(request, found)


async def retrieve_conversation_stream(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    body = await parse_body(request, RetrieveStreamRequest, required=False)
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, body.agent_id)
    if body.run_id is not None:  # a given run wins; otherwise the conversation's latest
        return resume(state, state.run(body.run_id), body.starting_after)
    runs = [
        r for r in state.runs.values() if r.run.agent_id == agent.id and r.run.conversation_id == stored_conversation
    ]
    record = runs[-1] if runs else state.run(state.ids.new("run"))
    return resume(state, record, body.starting_after)


async def compact_conversation(request: Request) -> Response:
    conversation_id = path_id(request, "conversation_id")
    body = await parse_body(request, ConversationCompactionRequest, required=False, nullable=True)
    state = store(request)
    agent, stored_conversation = state.conversation_agent(conversation_id, body.agent_id)
    return json_response(compact(state, agent, stored_conversation, body, strict=strict_compaction(request)))
