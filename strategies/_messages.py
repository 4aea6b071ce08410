"""One strategy per LettaMessage type, and ``messages()`` for their union (``LettaMessageUnion``).

These draw *whole* messages, as history lists and step streams carry them; token-stream chunks come from
``token_chunks()``. Common fields follow who wrote the message (wire doc §1.4, §2.1):

* agent items (reasoning, assistant, tool call, tool return): ``message-<uuid4>`` id, ``otid`` derived from the id
  and the item's index, a ``step-…`` id;
* user-side items (user, approval response): a client- or server-made uuid4 ``otid``;
* approval requests: ``otid`` equal to the id; compaction events: a bare uuid4 id and no ``otid``.

``is_err`` is ``null`` or ``true``, never ``false``.

Speed: Hypothesis's cost is per draw (tens of microseconds each, on top of ~0.5 ms per example), so the fields that
carry no meaning of their own (ids, date, which optional fields are filled, opaque signatures) come from *one*
integer per message, the envelope: its low 8 bits are a mask of optional fields (0, the shrink target, is the
plainest message) and the rest seeds the ids and the date. Texts, tool calls and content stay separate draws:
that is where failures hide, and where shrinking must work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from random import Random
from typing import Any, TypeVar

from hypothesis import strategies as st

from mockserver.models import (
    ApprovalRequestMessage,
    ApprovalResponseMessage,
    ApprovalReturn,
    AssistantMessage,
    CompactionStats,
    EventMessage,
    HiddenReasoningMessage,
    LettaMessage,
    Message,
    ReasoningMessage,
    SummaryMessage,
    SystemMessage,
    TextContent,
    ToolCall,
    ToolCallMessage,
    ToolReturn,
    ToolReturnMessage,
    UserMessage,
)
from strategies._content import (
    _SIGNATURES,
    approval_decisions,
    text_contents,
    tool_calls,
    tool_returns,
    user_content_parts,
)
from strategies._values import choice, date_from, otid_for, texts, texts_or

__all__ = [
    "ENVELOPES",
    "Envelope",
    "agent_common",
    "approval_request_common",
    "approval_request_messages",
    "approval_response_messages",
    "assistant_messages",
    "build",
    "compaction_stats",
    "event_messages",
    "fields",
    "flat_tool_return",
    "hidden_reasoning_messages",
    "messages",
    "reasoning_messages",
    "summary_messages",
    "system_messages",
    "tool_call_messages",
    "tool_return_messages",
    "unique_calls",
    "user_messages",
]

M = TypeVar("M", bound=LettaMessage)
Common = dict[str, Any]

ENVELOPES = st.integers(0, 2**72 - 1)
_NAMES = ("user", "Ana", "María José", "张伟", "O'Brien", "")


class Envelope:
    """What one envelope integer decides: optional-field flags (low 8 bits) and a random stream for ids/dates."""

    def __init__(self, value: int) -> None:
        self.shape = value & 0xFF
        self._random = Random(value >> 8)

    def has(self, bit: int) -> bool:
        return bool(self.shape >> bit & 1)

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def new(self, prefix: str) -> str:
        return f"{prefix}-{self.uuid4()}"

    def date(self) -> datetime:
        return date_from(self._random.getrandbits(32))

    def pick(self, options: tuple[Any, ...]) -> Any:
        return options[self._random.randrange(len(options))]

    def below(self, limit: int) -> int:
        return self._random.randrange(limit)

    def seq_id(self) -> int:
        return 1 + self.below(1000)


def build(cls: type[M]) -> Callable[..., M]:
    """A constructor taking the common fields as one dict; ``message_type`` is always passed explicitly."""
    message_type = cls.model_fields["message_type"].default

    def construct(common: Common, /, **type_fields: Any) -> M:
        return cls(message_type=message_type, **common, **type_fields)

    construct.__qualname__ = construct.__name__ = cls.__name__
    return construct


def fields(
    message_id: str,
    date: datetime,
    *,
    name: str | None = None,
    otid: str | None = None,
    sender_id: str | None = None,
    step_id: str | None = None,
    is_err: bool | None = None,
    seq_id: int | None = None,
    run_id: str | None = None,
) -> Common:
    """The common fields in Letta's order."""
    return {
        "id": message_id,
        "date": date,
        "name": name,
        "otid": otid,
        "sender_id": sender_id,
        "step_id": step_id,
        "is_err": is_err,  # null unless true: never false on the wire
        "seq_id": seq_id,  # filled only in background and resumed streams
        "run_id": run_id,
    }


# Bits 0-4 of an agent item's shape: 0-1 its index in the stored message, 2 run id, 3 is_err, 4 seq_id.
# Bits 5-7 are left to the type (signature, source, ...).
def agent_common(e: Envelope) -> Common:
    message_id = e.new("message")
    return fields(
        message_id,
        e.date(),
        otid=otid_for(message_id, e.shape & 3),
        step_id=e.new("step"),
        run_id=e.new("run") if e.has(2) else None,
        is_err=True if e.has(3) else None,
        seq_id=e.seq_id() if e.has(4) else None,
    )


# Bits of a client item's shape: 0 name, 1 otid (the client's or the server's uuid4), 2 sender, 3 step (stored
# user messages carry the step that consumed them, wire doc §18.3), 4 run id, 5 seq_id.
def _client_common(e: Envelope) -> Common:
    return fields(
        e.new("message"),
        e.date(),
        name=e.pick(_NAMES) if e.has(0) else None,
        otid=e.uuid4() if e.has(1) else None,
        sender_id=e.new("agent") if e.has(2) else None,
        step_id=e.new("step") if e.has(3) else None,
        run_id=e.new("run") if e.has(4) else None,
        seq_id=e.seq_id() if e.has(5) else None,
    )


# --- the 11 members ----------------------------------------------------------------------------------------------


def _system(value: int, content: str) -> SystemMessage:
    e = Envelope(value)  # the system prompt: no step, no run; bit 0 otid, bit 1 seq_id
    common = fields(
        e.new("message"), e.date(), otid=e.uuid4() if e.has(0) else None, seq_id=e.seq_id() if e.has(1) else None
    )
    return build(SystemMessage)(common, content=content)


def system_messages() -> st.SearchStrategy[SystemMessage]:
    return st.builds(_system, ENVELOPES, texts())


def _user(value: int, content: str | list[Any]) -> UserMessage:
    return build(UserMessage)(_client_common(Envelope(value)), content=content)


def user_messages() -> st.SearchStrategy[UserMessage]:
    return st.builds(_user, ENVELOPES, texts_or(st.lists(user_content_parts(), max_size=3)))


def _reasoning(value: int, reasoning: str) -> ReasoningMessage:
    e = Envelope(value)  # bit 5: prompted "inner thoughts" rather than native reasoning; bit 6: a signature
    return build(ReasoningMessage)(
        agent_common(e),
        source="non_reasoner_model" if e.has(5) else "reasoner_model",
        reasoning=reasoning,
        signature=e.pick(_SIGNATURES) if e.has(6) else None,
    )


def reasoning_messages() -> st.SearchStrategy[ReasoningMessage]:
    return st.builds(_reasoning, ENVELOPES, texts())


def _hidden_reasoning(value: int) -> HiddenReasoningMessage:
    # `omitted` (OpenAI reasoning models: nothing to show) or, bit 5, `redacted` (Anthropic: opaque data, bit 6).
    e = Envelope(value)
    redacted = e.has(5)
    return build(HiddenReasoningMessage)(
        agent_common(e),
        state="redacted" if redacted else "omitted",
        hidden_reasoning=e.pick(_SIGNATURES) if redacted and e.has(6) else None,
    )


def hidden_reasoning_messages() -> st.SearchStrategy[HiddenReasoningMessage]:
    return st.builds(_hidden_reasoning, ENVELOPES)


def unique_calls(calls: list[ToolCall], seen: set[str] | None = None) -> list[ToolCall]:
    """Hypothesis likes repeating values; calls must not share an id (clients key on it), within one message or,
    given the ids already ``seen`` (updated here), within a whole turn."""
    seen = set() if seen is None else seen
    unique = []
    for call in calls:
        call_id, suffix = call.tool_call_id, len(seen)
        while call_id in seen:
            call_id, suffix = f"{call.tool_call_id}_{suffix}", suffix + 1
        seen.add(call_id)
        unique.append(call if call_id == call.tool_call_id else call.model_copy(update={"tool_call_id": call_id}))
    return unique


def _tool_call(value: int, calls: list[ToolCall]) -> ToolCallMessage:
    calls = unique_calls(calls)  # `tool_call` is the deprecated mirror of the first of `tool_calls`
    return build(ToolCallMessage)(agent_common(Envelope(value)), tool_call=calls[0], tool_calls=calls)


def tool_call_messages() -> st.SearchStrategy[ToolCallMessage]:
    """All tool calls of one step (1-3, simplest first: one call)."""
    return st.builds(_tool_call, ENVELOPES, st.lists(tool_calls(), min_size=1, max_size=3))


def flat_tool_return(returned: ToolReturn) -> str:
    """The deprecated flat ``tool_return`` string mirroring a structured return (its text parts, joined)."""
    if isinstance(returned.tool_return, str):
        return returned.tool_return
    return "".join(part.text for part in returned.tool_return if isinstance(part, TextContent))


_TOOL_NAMES = (None, "web_search", "get_weather", "run_code", "memory_insert")


def _tool_return(value: int, returns: list[ToolReturn]) -> ToolReturnMessage:
    e = Envelope(value)
    first = returns[0]
    common = agent_common(e)
    # `name` is the tool's name; null for a client-side tool's return (wire doc §18.9).
    common["name"] = e.pick(_TOOL_NAMES) if e.has(5) else None
    return build(ToolReturnMessage)(
        common,
        tool_return=flat_tool_return(first),
        status=first.status,
        tool_call_id=first.tool_call_id,
        stdout=first.stdout,
        stderr=first.stderr,
        tool_returns=returns,
    )


def tool_return_messages() -> st.SearchStrategy[ToolReturnMessage]:
    return st.builds(_tool_return, ENVELOPES, st.lists(tool_returns(), min_size=1, max_size=2))


def _assistant(value: int, content: str | list[TextContent]) -> AssistantMessage:
    return build(AssistantMessage)(agent_common(Envelope(value)), content=content)


def assistant_messages() -> st.SearchStrategy[AssistantMessage]:
    """The agent's reply: the server writes a string; the spec also allows a list of text parts."""
    return st.builds(_assistant, ENVELOPES, texts_or(st.lists(text_contents(), max_size=3)))


def approval_request_common(e: Envelope) -> Common:
    """An approval request's otid is its own id (index -1 leaves the id unchanged, wire doc §1.4)."""
    message_id = e.new("message")
    return fields(
        message_id,
        e.date(),
        otid=message_id,
        step_id=e.new("step"),
        run_id=e.new("run") if e.has(2) else None,
        seq_id=e.seq_id() if e.has(4) else None,
    )


def _approval_request(value: int, calls: list[ToolCall]) -> ApprovalRequestMessage:
    calls = unique_calls(calls)
    common = approval_request_common(Envelope(value))
    return build(ApprovalRequestMessage)(common, tool_call=calls[0], tool_calls=calls)


def approval_request_messages() -> st.SearchStrategy[ApprovalRequestMessage]:
    return st.builds(_approval_request, ENVELOPES, st.lists(tool_calls(), min_size=1, max_size=3))


def _approval_response(value: int, approvals: list[ApprovalReturn | ToolReturn]) -> ApprovalResponseMessage:
    # Bit 6: the deprecated single-approval form (`approve` + `approval_request_id`, no `approvals` list).
    e = Envelope(value)
    if e.has(6):
        first = approvals[0]
        decided = {
            "approvals": None,
            "approve": first.approve if isinstance(first, ApprovalReturn) else True,
            "approval_request_id": e.new("message"),
            "reason": first.reason if isinstance(first, ApprovalReturn) else None,
        }
    else:
        decided = {"approvals": approvals, "approve": None, "approval_request_id": None, "reason": None}  # type: ignore[dict-item]
    return build(ApprovalResponseMessage)(_client_common(e), **decided)


def approval_response_messages() -> st.SearchStrategy[ApprovalResponseMessage]:
    """Either the ``approvals`` list, or the deprecated single-approval form (``approve`` + request id)."""
    decisions = st.lists(approval_decisions(), min_size=1, max_size=3)
    return st.builds(_approval_response, ENVELOPES, decisions)


_TRIGGERS = ("post_step_context_check", "context_window_exceeded", "manual")


def _compaction_stats(value: int) -> CompactionStats:
    e = Envelope(value)  # numbers are counts, not meaning: all from the envelope
    window = e.pick((8_192, 128_000, 200_000, 1_000_000))
    before = e.below(window + 1)
    return CompactionStats(
        trigger=e.pick(_TRIGGERS),
        context_tokens_before=before if e.has(0) else None,
        context_tokens_after=before // 4 if e.has(1) else None,
        context_window=window,
        messages_count_before=e.below(500),
        messages_count_after=e.below(50),
    )


def compaction_stats() -> st.SearchStrategy[CompactionStats]:
    return st.builds(_compaction_stats, ENVELOPES)


def _summary(value: int, summary: str) -> SummaryMessage:
    e = Envelope(value)  # bit 5: compaction statistics
    stats = _compaction_stats(value >> 8) if e.has(5) else None
    return build(SummaryMessage)(agent_common(e), summary=summary, compaction_stats=stats)


def summary_messages() -> st.SearchStrategy[SummaryMessage]:
    return st.builds(_summary, ENVELOPES, texts())


def _event(value: int) -> EventMessage:
    # Compaction events have a bare uuid4 id (no "message-" prefix) and no otid (wire doc §1.4).
    e = Envelope(value)
    common = fields(
        e.uuid4(), e.date(), run_id=e.new("run") if e.has(0) else None, seq_id=e.seq_id() if e.has(1) else None
    )
    window = e.pick((8_192, 128_000, 200_000, 1_000_000))
    data = {"trigger": e.pick(_TRIGGERS), "context_token_estimate": e.below(2 * window), "context_window": window}
    return build(EventMessage)(common, event_type="compaction", event_data=data)


def event_messages() -> st.SearchStrategy[EventMessage]:
    return st.builds(_event, ENVELOPES)


def messages() -> st.SearchStrategy[Message]:
    """Any member of ``LettaMessageUnion``: the commonest first, so failures shrink towards an assistant reply."""
    return choice(
        assistant_messages(),
        reasoning_messages(),
        tool_call_messages(),
        tool_return_messages(),
        hidden_reasoning_messages(),
        approval_request_messages(),
        approval_response_messages(),
        user_messages(),
        system_messages(),
        summary_messages(),
        event_messages(),
    )
