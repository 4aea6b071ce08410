"""Reading and folding stored history: Letta's list pages, compaction and search over stored messages."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from mockserver.catalogue import Texts
from mockserver.errors import BadRequest
from mockserver.models import (
    AssistantMessageListResult,
    CompactionRequest,
    CompactionResponse,
    ReasoningMessageListResult,
    SearchAllMessagesRequest,
    SummaryMessage,
    SystemMessageListResult,
    TextContent,
    UserMessage,
    UserMessageListResult,
)
from mockserver.paging import Page, View, page_of
from mockserver.parameters import (
    AFTER,
    BEFORE,
    INCLUDE_ERR,
    INCLUDE_RETURN_MESSAGE_TYPES,
    LIMIT,
    ORDER,
    ORDER_BY,
    USE_ASSISTANT_MESSAGE,
    Choice,
)
from mockserver.records import AgentRecord, RunRecord, StoredMessage
from mockserver.rules import Rules
from mockserver.store import Store

__all__ = [
    "agent_history",
    "compact",
    "conversation_history",
    "in_conversation",
    "item_text",
    "organization_history",
    "page_query",
    "paged",
    "run_history",
    "search",
]


def in_conversation(message: StoredMessage, conversation: str | None) -> bool:
    if conversation is None:
        return True
    if conversation == "default":
        return message.conversation_id is None
    return message.conversation_id == conversation


_QUERIES: dict[tuple[bytes, Choice], dict[str, Any]] = {}  # a query string read before -> its query (valid ones)
_QUERIES_AT_MOST = 1024


def page_query(request: Request, order: Choice = ORDER) -> dict[str, Any]:
    """A message listing's query: cursors, limit, order (``order``: the listing's own default), type filter. Read
    once per distinct query string (a client repeats its own: the same page polled, ``limit=10``); each caller
    gets a copy of its own."""
    key = (request.scope.get("query_string", b""), order)
    known = _QUERIES.get(key)
    if known is not None:
        return known.copy()
    query = _read_query(request, order)
    if len(_QUERIES) < _QUERIES_AT_MOST:
        _QUERIES[key] = query.copy()
    return query


def _read_query(request: Request, order: Choice) -> dict[str, Any]:
    ORDER_BY.read(request)
    INCLUDE_ERR.read(request)
    USE_ASSISTANT_MESSAGE.read(request)
    return {
        "before": BEFORE.read(request) or None,
        "after": AFTER.read(request) or None,
        "limit": LIMIT.read(request),
        "order": order.read(request),
        "types": _frozen(INCLUDE_RETURN_MESSAGE_TYPES.read(request)),
    }


def _frozen(types: list[str] | None) -> tuple[str, ...] | None:
    return None if types is None else tuple(types)  # shared by the copies: nobody can change it


# -- what each listing pages over: the store's sequences as they are, nothing copied or filtered ---------------------


def _filtered(messages: list[StoredMessage], by_conversation: dict[str | None, list[StoredMessage]],
              conversation: str | None) -> View:  # fmt: skip
    """``messages``, or those of one conversation (``in_conversation``'s rule: "default" is no conversation)."""
    if conversation is None:
        return View.of(messages)
    return View.of(by_conversation.get(None if conversation == "default" else conversation, ()))


def agent_history(agent: AgentRecord, conversation: str | None) -> View:
    """An agent's history (``GET /v1/agents/{id}/messages``, ``conversation_id`` filtering it)."""
    return _filtered(agent.messages, agent.by_conversation, conversation)


def organization_history(store: Store, conversation: str | None) -> View:
    """Every agent's history (``GET /v1/messages/``)."""
    return _filtered(store.sequence, store.by_conversation, conversation)


def conversation_history(store: Store, agent: AgentRecord, conversation_id: str | None) -> View:
    """A conversation's stored messages: its system message first, then (a fork's) those it shares with the
    conversation it was forked from, then its own, in the order they were stored."""
    own = agent.by_conversation.get(conversation_id, [])
    record = store.conversations.get(conversation_id) if conversation_id is not None else None
    if record is None or not record.created or not record.in_context:
        return View.of(own)
    # A created conversation's first stored message is its system message; a fork's shared ones are all older.
    system = record.in_context[0]
    if own and own[0].id == system:
        return View(((own[:1], 0), (record.shared, 0), (own, 1)))
    # (Its system message is always stored first; were it not, it would still be listed first.)
    rest = sorted([*record.shared, *own], key=lambda m: m.seq)
    return View.of([m for m in rest if m.id == system], [m for m in rest if m.id != system])


def run_history(record: RunRecord) -> View:
    """A run's stored messages (``GET /v1/runs/{id}/messages``)."""
    return View.of(record.messages)


def paged(
    store: Store,
    view: View,
    query: dict[str, Any],
    *,
    owner: str,
    chronological: bool,
    reverse_items: bool = False,
    ignore_unknown_cursors: bool = False,
) -> Page:
    """One page of ``view`` for the query (``page_query``): cursors resolved in the view (``Store.cursor``)."""

    def cursor(name: str) -> int | None:
        value = query[name]
        if ignore_unknown_cursors and value is not None and store.messages.get(value) not in view:
            return None
        return store.cursor(value, view, Texts.cursor_not_found(value or "", owner))

    return page_of(
        view,
        after=cursor("after"),
        before=cursor("before"),
        limit=query["limit"],
        order=query["order"],
        chronological=chronological,
        reverse_items=reverse_items,
        types=query["types"],
    )


def compact(
    store: Store,
    agent: AgentRecord,
    conversation_id: str | None,
    body: CompactionRequest,
    rules: Rules,
    *,
    nothing: str = Texts.NO_SUMMARY,
) -> CompactionResponse:
    """Replace the older part of the context window with a summary (stored history is kept), by Letta's rules:

    * ``sliding_window`` (the default) evicts from the start up to an assistant message near the agent's
      ``sliding_window_percentage`` (30 %) plus 10 %, growing by 10 % until there is one; never the newest
      message. With none, everything is summarized (``all``).
    * ``rules.strict_compaction`` (Letta's answers): nothing to summarize is a 400 with ``nothing`` (the agent route
      fails to answer a null summary; the conversation route says it did not shrink), a compaction that would not
      shrink the window is Letta's 400; otherwise (the open world) the counts stay and the last summary is answered.

    The summary is stored as a ``summary_message``; ``rules.packed_summary`` (the real server's way) stores it as a
    user message carrying a ``system_alert`` instead, as a compaction inside a turn does (§17.5).
    """
    window, previous = store.context(agent, conversation_id)
    before = len(window)
    settings = body.compaction_settings
    mode = settings.mode if settings else (agent.profile.compaction_settings or {}).get("mode", "sliding_window")
    cut = None
    if mode in ("sliding_window", "self_compact_sliding_window"):
        given = settings.sliding_window_percentage if settings else None
        percentage = given if given is not None else _percentage(agent)
        cut = _sliding_cutoff(store, window, percentage)
    folded, kept = (window[1:cut], window[cut:]) if cut is not None else (window[1:], [])
    after = 2 + len(kept)
    if not folded or after >= before:
        if rules.strict_compaction:
            raise BadRequest(nothing if not folded else Texts.SUMMARIZE_FAILED)
        # Nothing to gain: the open world answers with the summary it has and an unchanged count.
        return CompactionResponse(summary=previous or "", num_messages_before=before, num_messages_after=before)
    summary = f"Summary of {len(folded)} earlier messages: " + "; ".join(_texts(store, folded))[:400]
    message_id = store.ids.new("message")
    now = store.clock.now()
    item: Any = SummaryMessage(id=message_id, date=now, summary=summary)
    if rules.packed_summary:
        item = UserMessage(id=message_id, date=now, otid=None, content=_system_alert(summary))
    store.add_message(agent, message_id, [item], conversation_id=conversation_id, run_id=None, created_at=now)
    store.fold_context(agent, message_id, summary, kept, conversation_id)
    after = len(store.context(agent, conversation_id)[0])
    return CompactionResponse(summary=summary, num_messages_before=before, num_messages_after=after)


_CUTS = frozenset({"reasoning_message", "hidden_reasoning_message", "assistant_message", "tool_call_message",
                   "approval_request_message"})  # fmt: skip


def _percentage(agent: AgentRecord) -> float:
    given = (agent.profile.compaction_settings or {}).get("sliding_window_percentage")
    return float(given) if isinstance(given, int | float) else 0.3


def _sliding_cutoff(store: Store, window: list[str], percentage: float) -> int | None:
    """Where Letta's sliding window cuts the context: the index of the message the kept part starts with (an
    assistant message, or an approval request), or None when there is none to cut at."""
    count = len(window)

    def cuttable(index: int) -> bool:
        stored = store.messages.get(window[index])
        return stored is not None and any(kind in _CUTS for kind in stored.types)

    newest = store.messages.get(window[-1]) if window else None
    pending = newest is not None and "approval_request_message" in newest.types
    last = count - 2 if pending else count - 1  # the newest message (a pending approval: two) always stays
    # The evicted share grows in 10 % steps from the percentage; one below 0 (or not a number) starts at 0, so the
    # steps are ten at most (the document bounds none: from -1e300 they would never reach 1).
    evicted = percentage if percentage >= 0.0 else 0.0
    while evicted < 1.0:
        evicted += 0.1
        limit = round(evicted * count)
        cut = next((i for i in reversed(range(1, limit + 1)) if i < count and cuttable(i)), None)
        if cut is not None:
            return cut if cut < last else None
    return None


def _system_alert(summary: str) -> str:
    message = (
        "Note: prior messages from the beginning of the conversation have been hidden from view due to conversation "
        f"memory constraints.\nThe following is a summary of the previous messages:\n {summary}"
    )
    return json.dumps({"type": "system_alert", "message": message}, indent=2)


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
    for stored in reversed(store.sequence):  # newest first
        if body.agent_id is not None and stored.agent_id != body.agent_id:
            continue
        if body.conversation_id is not None and stored.conversation_id != body.conversation_id:
            continue
        if body.start_date is not None and stored.created_at < body.start_date:
            continue
        if body.end_date is not None and stored.created_at > body.end_date:
            continue
        if not _RESULT_TYPES.keys() & stored.types:
            continue  # nothing searchable: its items are not rebuilt
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
