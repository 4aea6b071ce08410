"""One agent turn as whole messages: the shared core of ``letta_responses()`` and ``sse_transcripts()``.

A turn is a list of steps (one LLM call each, wire doc §2.3), and the stop reason decides its shape (§2.4, §6.5):

* a step that calls tools is followed by one ``tool_return_message`` per call and lets the loop continue, so every
  step but the last calls tools;
* ``end_turn``, ``max_tokens_exceeded``, ``no_tool_call``: the last step replies without calling a tool;
* ``requires_approval``: the last step ends with an ``approval_request_message`` (no returns follow);
* ``tool_rule``: the last step's tool ran and a terminal rule fired;
* ``max_steps``: exactly ``max_steps`` tool-calling steps;
* ``cancelled``, ``insufficient_credits``, ``invalid_tool_call``: stopped at a step boundary, after 0 or more steps;
* the stop reasons of Letta's in-band errors (``catalogue.ERRORS``: ``error``, ``llm_api_error``, …): the stream
  fails before the first chunk (no steps; the transcript carries an error event instead of usage).

Items of one step share the stored assistant message's ``id`` with ``otid`` indexes 0, 1, 2…; an approval request
has that id minus one as both ``id`` and ``otid``; each tool return is a new stored message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from hypothesis import strategies as st

from mockserver.models import (
    ApprovalRequestMessage,
    AssistantMessage,
    HiddenReasoningMessage,
    Message,
    ReasoningMessage,
    StopReasonType,
    ToolCall,
    ToolCallMessage,
    ToolReturn,
    ToolReturnMessage,
)
from strategies._content import signatures, tool_calls, tool_return_values
from strategies._events import ERROR_STOP_REASONS
from strategies._messages import ENVELOPES, Envelope, build, fields, unique_calls
from strategies._values import approval_request_id, choice, maybe, otid_for, texts

__all__ = ["Turn", "turns"]

StepKind = Literal["tools", "reply", "approval"]
# The last step of a turn that stops so; None: it stopped at a step boundary, after its tool-calling steps.
_LAST_STEP: dict[str, StepKind | None] = {
    "end_turn": "reply",
    "max_tokens_exceeded": "reply",
    "no_tool_call": "reply",
    "requires_approval": "approval",
    "tool_rule": "tools",
    "max_steps": "tools",
    "cancelled": None,
    "insufficient_credits": None,
    "invalid_tool_call": None,
}


@dataclass(frozen=True)
class _Thinking:
    kind: Literal["reasoning", "omitted", "redacted"]
    text: str | None
    source: Literal["reasoner_model", "non_reasoner_model"] = "reasoner_model"
    signature: str | None = None


@dataclass(frozen=True)
class _Step:
    pause: int  # seconds since the previous step
    thinking: _Thinking | None
    text: str | None
    calls: tuple[tuple[ToolCall, Literal["success", "error"], str], ...]  # call, its result status and value


@dataclass(frozen=True)
class Turn:
    run_id: str
    start: datetime
    messages: list[Message]
    stop_reason: StopReasonType
    step_count: int

    @property
    def failed(self) -> bool:
        """The stream fails before the first chunk: an error event instead of usage."""
        return self.stop_reason in ERROR_STOP_REASONS


def _thinking() -> st.SearchStrategy[_Thinking]:
    return choice(
        st.builds(
            _Thinking,
            kind=st.just("reasoning"),
            text=texts(),
            source=st.sampled_from(("reasoner_model", "non_reasoner_model")),
            signature=maybe(signatures()),
        ),
        st.builds(_Thinking, kind=st.just("omitted"), text=st.none()),  # OpenAI reasoning models
        st.builds(_Thinking, kind=st.just("redacted"), text=maybe(signatures())),  # Anthropic redacted thinking
    )


def _steps(kind: StepKind) -> st.SearchStrategy[_Step]:
    results = st.tuples(tool_calls(), st.sampled_from(("success", "error")), tool_return_values())
    return st.builds(
        _Step,
        pause=st.integers(0, 30),
        thinking=maybe(_thinking()),
        text=texts() if kind == "reply" else maybe(texts()),  # a reply step is its text; tool steps may talk too
        calls=st.just(()) if kind == "reply" else st.lists(results, min_size=1, max_size=3).map(tuple),
    )


def _step_messages(
    step: _Step, kind: StepKind, ids: Envelope, run_id: str, date: datetime, call_ids: set[str]
) -> list[Message]:
    message_id, step_id = ids.new("message"), ids.new("step")
    items: list[Message] = []

    def common(index: int) -> dict[str, object]:
        return fields(message_id, date, otid=otid_for(message_id, index), step_id=step_id, run_id=run_id)

    thinking = step.thinking
    if thinking is not None and thinking.kind == "reasoning":
        reasoning = thinking.text or ""
        thought = {"source": thinking.source, "reasoning": reasoning, "signature": thinking.signature}
        items.append(build(ReasoningMessage)(common(len(items)), **thought))
    elif thinking is not None:
        items.append(
            build(HiddenReasoningMessage)(common(len(items)), state=thinking.kind, hidden_reasoning=thinking.text)
        )
    if step.text is not None:
        items.append(build(AssistantMessage)(common(len(items)), content=step.text))

    calls = unique_calls([call for call, _, _ in step.calls], call_ids)
    if kind == "tools":
        items.append(build(ToolCallMessage)(common(len(items)), tool_call=calls[0], tool_calls=calls))
        returned_at = date + timedelta(seconds=1)
        for call, (_, status, value) in zip(calls, step.calls, strict=True):
            items.append(_tool_return(ids.new("message"), returned_at, step_id, run_id, call, status, value))
    elif kind == "approval":
        request_id = approval_request_id(message_id)
        common_fields = {**common(0), "id": request_id, "otid": request_id}
        items.append(build(ApprovalRequestMessage)(common_fields, tool_call=calls[0], tool_calls=calls))
    return items


def _tool_return(
    message_id: str,
    date: datetime,
    step_id: str,
    run_id: str,
    call: ToolCall,
    status: Literal["success", "error"],
    value: str,
) -> ToolReturnMessage:
    returned = ToolReturn(type="tool", tool_return=value, status=status, tool_call_id=call.tool_call_id)
    common = fields(message_id, date, name=call.name, otid=otid_for(message_id, 0), step_id=step_id, run_id=run_id)
    return build(ToolReturnMessage)(
        common,
        tool_return=value,
        status=status,
        tool_call_id=call.tool_call_id,
        stdout=None,
        stderr=None,
        tool_returns=[returned],
    )


def _plan(reason: str, max_steps: int) -> tuple[st.SearchStrategy[list[_Step]], StepKind | None]:
    """Strategy for the tool-calling steps before the last one, and the kind of the last step (if any)."""
    if reason in ERROR_STOP_REASONS:
        return st.just([]), None
    if reason == "max_steps":
        return st.lists(_steps("tools"), min_size=max_steps - 1, max_size=max_steps - 1), "tools"
    return st.lists(_steps("tools"), max_size=max_steps - 1), _LAST_STEP[reason]


@st.composite
def turns(draw: st.DrawFn, *, reasons: tuple[StopReasonType, ...], max_steps: int) -> Turn:
    """A turn ending with one of ``reasons`` and at most ``max_steps`` steps."""
    reason = draw(st.sampled_from(reasons))
    ids = Envelope(draw(ENVELOPES))
    run_id, start = ids.new("run"), ids.date()
    before, last_kind = _plan(reason, max_steps)
    planned: list[tuple[_Step, StepKind]] = [(step, "tools") for step in draw(before)]
    if last_kind is not None:
        planned.append((draw(_steps(last_kind)), last_kind))
    messages: list[Message] = []
    call_ids: set[str] = set()  # a tool-call id is unique within the turn
    date = start
    for step, kind in planned:
        date += timedelta(seconds=step.pause)
        messages.extend(_step_messages(step, kind, ids, run_id, date, call_ids))
        date += timedelta(seconds=1)
    return Turn(run_id=run_id, start=start, messages=messages, stop_reason=reason, step_count=len(planned))
