"""Token streaming: split a whole message into the chunks Letta sends, and merge chunks back (wire doc §6.3, §18.1).

Letta's token-mode rules, which ``token_chunks`` follows and ``reassemble`` undoes:

* every chunk is a complete message object repeating the item's ``id`` and ``otid``; its text field
  (``reasoning`` or ``content``) holds only the new fragment;
* tool calls (and approval requests) arrive as ``ToolCallDelta`` objects, the same object in ``tool_call`` and
  ``tool_calls``, null keys kept: first ``{name, arguments: null, tool_call_id}``, then argument fragments
  (OpenAI sends ``name: null`` after the first chunk, Anthropic repeats it);
* hidden reasoning and tool returns arrive once, whole.

Chunks keep the message's ``date`` (the server stamps each chunk with the wall clock, in whole seconds; a turn's
chunks usually share it), so reassembling gives back the message exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, TypeVar

from hypothesis import strategies as st

from mockserver.models import (
    ApprovalRequestMessage,
    ApprovalResponseMessage,
    AssistantMessage,
    EventMessage,
    HiddenReasoningMessage,
    Message,
    ReasoningMessage,
    SummaryMessage,
    SystemMessage,
    TextContent,
    ToolCall,
    ToolCallDelta,
    ToolCallMessage,
    ToolReturnMessage,
    UserMessage,
)

__all__ = ["reassemble", "token_chunks"]

_MESSAGE_CLASSES = (
    SystemMessage,
    UserMessage,
    ReasoningMessage,
    HiddenReasoningMessage,
    ToolCallMessage,
    ToolReturnMessage,
    AssistantMessage,
    ApprovalRequestMessage,
    ApprovalResponseMessage,
    SummaryMessage,
    EventMessage,
)
_MAX_FRAGMENTS = 6
CallMessage = TypeVar("CallMessage", ToolCallMessage, ApprovalRequestMessage)


def _split(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(cuts), len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


def _fragments(text: str) -> st.SearchStrategy[list[str]]:
    """Non-empty pieces of ``text`` in order (``[text]`` when it is too short to split); shrinks to one piece."""
    if len(text) < 2:
        return st.just([text])
    cuts = st.lists(st.integers(1, len(text) - 1), max_size=min(_MAX_FRAGMENTS - 1, len(text) - 1), unique=True)
    return cuts.map(lambda positions: _split(text, positions))


def _text_chunks(message: ReasoningMessage | AssistantMessage, text: str, field: str) -> st.SearchStrategy[Any]:
    def chunk(pieces: list[str]) -> list[Any]:
        chunks = [message.model_copy(update={field: piece}) for piece in pieces]
        if isinstance(message, ReasoningMessage) and len(chunks) > 1:
            # The signature comes with the last fragment (Anthropic sends it after the thinking text).
            chunks[:-1] = [c.model_copy(update={"signature": None}) for c in chunks[:-1]]
        return chunks

    return _fragments(text).map(chunk)


@st.composite
def _call_chunks(draw: st.DrawFn, message: CallMessage) -> list[CallMessage]:
    assert isinstance(message.tool_calls, list)
    repeat_name = draw(st.booleans())  # Anthropic style repeats the name on every fragment, OpenAI's does not
    deltas: list[ToolCallDelta] = []
    for call in message.tool_calls:
        deltas.append(ToolCallDelta(name=call.name, arguments=None, tool_call_id=call.tool_call_id))
        for piece in draw(_fragments(call.arguments)):
            name = call.name if repeat_name else None
            deltas.append(ToolCallDelta(name=name, arguments=piece, tool_call_id=call.tool_call_id))
    return [message.model_copy(update={"tool_call": delta, "tool_calls": delta}) for delta in deltas]


def token_chunks(message: Message) -> st.SearchStrategy[list[Any]]:
    """The chunks a token stream carries for ``message`` (``[message]`` for types that are not chunked)."""
    if isinstance(message, ReasoningMessage):
        return _text_chunks(message, message.reasoning, "reasoning")
    if isinstance(message, AssistantMessage) and isinstance(message.content, str):
        return _text_chunks(message, message.content, "content")
    if isinstance(message, ToolCallMessage | ApprovalRequestMessage) and isinstance(message.tool_calls, list):
        if message.tool_calls:
            return _call_chunks(message)
    return st.just([message])


# --- reassembly --------------------------------------------------------------------------------------------------


def _same_item(a: Message, b: Message) -> bool:
    return type(a) is type(b) and a.id == b.id and a.otid == b.otid


def _merge_calls(chunks: list[CallMessage]) -> CallMessage:
    first = chunks[0]
    names: dict[str, str | None] = {}
    arguments: dict[str, list[str]] = {}
    complete: list[ToolCall] = []
    last_id: str | None = None
    for chunk in chunks:
        if isinstance(chunk.tool_calls, list):
            complete.extend(chunk.tool_calls)
            continue
        delta = chunk.tool_calls if chunk.tool_calls is not None else chunk.tool_call
        assert isinstance(delta, ToolCallDelta)
        key = delta.tool_call_id or last_id or ""  # a fragment without an id continues the current call
        last_id = key
        if key not in names or names[key] is None:
            names[key] = delta.name
        arguments.setdefault(key, []).append(delta.arguments or "")
    calls = complete + [
        ToolCall(name=names[key] or "", arguments="".join(parts), tool_call_id=key) for key, parts in arguments.items()
    ]
    if not calls:
        return first
    return first.model_copy(update={"tool_call": calls[0], "tool_calls": calls})


def _merge(chunks: list[Any]) -> Message:
    first = chunks[0]
    if isinstance(first, ToolCallMessage | ApprovalRequestMessage):
        merged: Message = _merge_calls(chunks)
        return merged
    if len(chunks) == 1:
        return first  # type: ignore[no-any-return]
    if isinstance(first, ReasoningMessage):
        signature = next((c.signature for c in reversed(chunks) if c.signature is not None), None)
        return first.model_copy(update={"reasoning": "".join(c.reasoning for c in chunks), "signature": signature})
    if isinstance(first, AssistantMessage):
        if all(isinstance(c.content, str) for c in chunks):
            return first.model_copy(update={"content": "".join(c.content for c in chunks)})
        parts = [
            p for c in chunks for p in ([TextContent(text=c.content)] if isinstance(c.content, str) else c.content)
        ]
        return first.model_copy(update={"content": parts})
    if isinstance(first, HiddenReasoningMessage):
        pieces = [c.hidden_reasoning for c in chunks if c.hidden_reasoning is not None]
        return first.model_copy(update={"hidden_reasoning": "".join(pieces) if pieces else None})
    return first  # type: ignore[no-any-return]


_CHUNKED = (ReasoningMessage, AssistantMessage, HiddenReasoningMessage, ToolCallMessage, ApprovalRequestMessage)


def reassemble(events: Iterable[object]) -> list[Message]:
    """The whole messages of a transcript: token chunks merged, pings, stop reason, usage, errors and ``[DONE]``
    dropped. Step-mode transcripts come back as their messages, unchanged.

    Chunks of one item are consecutive messages with the same type, ``id`` and ``otid`` (other events, such as
    keep-alive pings, may sit between them); tool-call fragments are joined per ``tool_call_id``. The common
    fields come from an item's first chunk (so in a background stream the message keeps its first ``seq_id``).
    """
    groups: list[list[Any]] = []
    for event in events:
        if not isinstance(event, _MESSAGE_CLASSES):
            continue
        if groups and isinstance(event, _CHUNKED) and _same_item(groups[-1][-1], event):
            groups[-1].append(event)
        else:
            groups.append([event])
    return [_merge(group) for group in groups]
