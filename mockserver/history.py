"""Reading and folding stored history: Letta's list pages, compaction and search over stored messages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mockserver.catalogue import Texts
from mockserver.errors import BadRequest
from mockserver.http import query_bool, query_choice, query_int, query_list
from mockserver.models import (
    AssistantMessageListResult,
    CompactionRequest,
    CompactionResponse,
    ReasoningMessageListResult,
    SearchAllMessagesRequest,
    SummaryMessage,
    SystemMessageListResult,
    TextContent,
    UserMessageListResult,
)
from mockserver.paging import Row, page
from mockserver.records import AgentRecord, StoredMessage
from mockserver.store import Store

__all__ = ["compact", "in_conversation", "item_text", "page_query", "paged", "search"]


def in_conversation(message: StoredMessage, conversation: str | None) -> bool:
    if conversation is None:
        return True
    if conversation == "default":
        return message.conversation_id is None
    return message.conversation_id == conversation


def page_query(request: Request, default_order: str = "desc") -> dict[str, Any]:
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


def paged(
    store: Store,
    rows: list[StoredMessage],
    query: dict[str, Any],
    *,
    owner: str,
    chronological: bool,
    reverse_items: bool = False,
    ignore_unknown_cursors: bool = False,
) -> list[Row]:
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
        return store.cursor(value, belongs, Texts.cursor_not_found(value or "", owner))

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


def compact(
    store: Store, agent: AgentRecord, conversation_id: str | None, body: CompactionRequest, *, strict: bool
) -> CompactionResponse:
    """Replace the older part of the context window with a summary message (stored history is kept)."""
    context = [i for i in agent.in_context if i != agent.system_message_id and _not_summary(store, i)]
    before = len(agent.in_context)
    mode = body.compaction_settings.mode if body.compaction_settings else "sliding_window"
    keep = 0 if mode in ("all", "self_compact_all") else len(context) // 3
    folded = context[: len(context) - keep]
    if not folded:
        if agent.summary is None and strict:
            raise BadRequest(Texts.SUMMARIZE_FAILED)
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
    store.fold_context(agent, message_id, summary, context[len(context) - keep :] if keep else ())
    return CompactionResponse(summary=summary, num_messages_before=before, num_messages_after=len(agent.in_context))


def _not_summary(store: Store, message_id: str) -> bool:
    stored = store.messages.get(message_id)
    return stored is None or stored.items[0].message_type != "summary_message"


def _texts(store: Store, message_ids: list[str]) -> list[str]:
    texts: list[str] = []
    for message_id in message_ids:
        for item in store.messages[message_id].items:
            text = item_text(item)
            if text:
                texts.append(f"{item.message_type.removesuffix('_message')}: {text}")
    return texts


def item_text(item: Any) -> str:
    for field in ("content", "reasoning", "tool_return", "summary"):
        value = getattr(item, field, None)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return " ".join(p.text for p in value if isinstance(p, TextContent))
    return ""


def search(store: Store, body: SearchAllMessagesRequest) -> list[Any]:
    """Messages whose text contains the query (case-insensitive), newest first, with the request's filters."""
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
            if result is not None and needle in item_text(item).lower():
                results.append(result)
        if len(results) >= body.limit:
            break
    return results[: body.limit]


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
