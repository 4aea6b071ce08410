"""``GET /v1/agents/{agent_id}/messages``: an agent's message history, a page at a time (wire doc §8). Apart from
the send handlers (``agent_messages``): a server whose first request is a listing imports no send path."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mockserver.catalogue import Texts
from mockserver.handlers.common import items_response, store
from mockserver.history import agent_history, page_query, paged
from mockserver.parameters import CONVERSATION_ID_QUERY, path_id

__all__ = ["list_messages"]


async def list_messages(request: Request) -> Response:
    agent_id = path_id(request, "agent_id")
    state = store(request)
    query = page_query(request)
    agent = state.agent(agent_id, not_found=Texts.AGENT_NOT_FOUND)
    view = agent_history(agent, CONVERSATION_ID_QUERY.read(request))
    return items_response(request, paged(state, view, query, owner=agent_id, chronological=True))
