"""Token streaming: how a whole message is cut into the chunks Letta sends, and how chunks merge back (§6.3, §18.1).

Letta's token-mode rules, which ``text_chunks``/``call_chunks`` follow and ``reassemble`` undoes:

* every chunk is a complete message object repeating the item's ``id`` and ``otid``; its text field
  (``reasoning`` or ``content``) holds only the new fragment; a reasoning signature comes with the last one;
* tool calls (and approval requests) arrive as ``ToolCallDelta`` objects, the same object in ``tool_call`` and
  ``tool_calls``, null keys kept: first ``{name, arguments: null, tool_call_id}``, then argument fragments
  (OpenAI sends ``name: null`` after the first chunk, Anthropic repeats it);
* hidden reasoning and tool returns arrive once, whole.

Where to cut is the caller's choice: the server cuts text at words (``words``) and arguments every 12 characters
(``pieces``); the strategies draw the cuts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

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

__all__ = ["call_chunks", "pieces", "reassemble", "text_chunks", "words"]

CallMessage = TypeVar("CallMessage", ToolCallMessage, ApprovalRequestMessage)
TextMessage = TypeVar("TextMessage", ReasoningMessage, AssistantMessage)


def words(text: str) -> list[str]:
    """Token-sized pieces: each word with the space before it, as providers stream them; trailing space rides
    with the last word, so the pieces always join back into ``text``."""
    found: list[str] = re.findall(r"\s*\S+\s*$|\s*\S+", text)
    return found or [text]


def pieces(text: str, size: int = 12) -> list[str]:
    """``text`` in pieces of ``size`` characters (none for an empty text)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def text_chunks(message: TextMessage, fragments: Sequence[str]) -> list[TextMessage]:
    """The chunks of a reasoning or assistant message whose text is ``fragments`` joined."""
    field = "reasoning" if isinstance(message, ReasoningMessage) else "content"
    chunks = [message.model_copy(update={field: fragment}) for fragment in fragments]
    if isinstance(message, ReasoningMessage) and len(chunks) > 1 and message.signature is not None:
        # The signature comes with the last fragment (Anthropic sends it after the thinking text).
        chunks[:-1] = [chunk.model_copy(update={"signature": None}) for chunk in chunks[:-1]]
    return chunks


def call_chunks(
    message: CallMessage, fragments: Sequence[Sequence[str]], *, repeat_name: bool = False
) -> list[CallMessage]:
    """The chunks of a tool-call or approval-request message; ``fragments[i]`` are the argument pieces of call i."""
    assert isinstance(message.tool_calls, list)
    deltas: list[ToolCallDelta] = []
    for call, parts in zip(message.tool_calls, fragments, strict=True):
        deltas.append(ToolCallDelta(name=call.name, arguments=None, tool_call_id=call.tool_call_id))
        name = call.name if repeat_name else None
        deltas += [ToolCallDelta(name=name, arguments=part, tool_call_id=call.tool_call_id) for part in parts]
    return [message.model_copy(update={"tool_call": delta, "tool_calls": delta}) for delta in deltas]


# -- reassembly ---------------------------------------------------------------------------------------------------

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
_CHUNKED = (ReasoningMessage, AssistantMessage, HiddenReasoningMessage, ToolCallMessage, ApprovalRequestMessage)


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
        texts = [c.hidden_reasoning for c in chunks if c.hidden_reasoning is not None]
        return first.model_copy(update={"hidden_reasoning": "".join(texts) if texts else None})
    return first  # type: ignore[no-any-return]


def reassemble(events: Iterable[object]) -> list[Message]:
    """The whole messages of a stream: token chunks merged; pings, stop reason, usage, errors and ``[DONE]``
    dropped. Step-mode streams come back as their messages, unchanged.

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
