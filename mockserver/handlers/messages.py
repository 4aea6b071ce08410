"""``/v1/messages/…``: messages across all agents — list, retrieve one, search (wire doc §18.8)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mockserver.catalogue import Texts
from mockserver.errors import BadRequest, NotFound
from mockserver.handlers.common import items_response, store
from mockserver.history import organization_history, page_query, paged, search
from mockserver.http import json_response, parse_body, rules
from mockserver.models import AssistantMessage, LettaMessage, Message, ReasoningMessage, SearchAllMessagesRequest
from mockserver.parameters import CONVERSATION_ID_QUERY, path_id

__all__ = ["list_all_messages", "retrieve_message", "search_all_messages"]


async def list_all_messages(request: Request) -> Response:
    state = store(request)
    query = page_query(request)
    view = organization_history(state, CONVERSATION_ID_QUERY.read(request))
    return items_response(request, paged(state, view, query, owner="the organization", chronological=True))


async def retrieve_message(request: Request) -> Response:
    message_id = path_id(request, "message_id")
    state = store(request)
    stored = state.messages.get(message_id)
    if stored is None:
        if rules(request).unknown_ids_missing:
            raise NotFound(Texts.message_not_found(message_id))
        return json_response([])  # open world: an id nobody stored names an empty message
    agent = state.agents.get(stored.agent_id)
    if rules(request).reply_as_reasoning and agent is not None and agent.profile.agent_type == "letta_v1_agent":
        return json_response([_as_the_server_shows(item).model_dump(mode="json") for item in stored.items])
    return items_response(request, [(stored, index) for index in range(len(stored.types))])


def _as_the_server_shows(item: Message) -> Message:
    """The real server renders a letta_v1_agent's reply here as reasoning of a non-reasoner model (§18.8)."""
    if not isinstance(item, AssistantMessage):
        return item
    text = item.content if isinstance(item.content, str) else "".join(p.text for p in item.content)
    common = item.model_dump(include=set(LettaMessage.model_fields) - {"message_type"})
    return ReasoningMessage(**common, source="non_reasoner_model", reasoning=text)


async def search_all_messages(request: Request) -> Response:
    body = await parse_body(request, SearchAllMessagesRequest)
    if rules(request).search_needs_turbopuffer:
        raise BadRequest(Texts.SEARCH_NEEDS_TURBOPUFFER)
    return json_response([r.model_dump(mode="json") for r in search(store(request), body)])
