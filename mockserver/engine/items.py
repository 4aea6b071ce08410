"""The LettaMessage items a turn stores and streams, built from plain values (ids and dates are given: pure).

Order of a step's items (wire doc §2.3): hidden/visible reasoning, assistant text, one tool_call_message with
the server tool calls, then an approval request for calls that wait on the client. Items of one stored message
share its id and get otids 0, 1, 2…; tool results are stored messages of their own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mockserver.catalogue import MID_STREAM_ERROR, ErrorType, model_family
from mockserver.models import (
    ApprovalRequestMessage,
    ApprovalResponseMessage,
    ApprovalReturn,
    AssistantMessage,
    CompactionStats,
    EventMessage,
    HiddenReasoningMessage,
    ImageContent,
    LettaErrorMessage,
    LettaStopReason,
    LettaUsageStatistics,
    MessageCreate,
    ReasoningMessage,
    StopReasonType,
    SummaryMessage,
    SystemMessage,
    TextContent,
    ToolCall,
    ToolCallMessage,
    ToolReturn,
    ToolReturnMessage,
    UserMessage,
)
from mockserver.models._base import trusted  # hot paths: built without validating again (tested both ways)
from mockserver.records import AgentProfile, RunRecord, StepRecord
from mockserver.scenarios import PlannedCall, Step
from mockserver.wire.ids import approval_request_id, otid_for
from mockserver.wire.sse import DONE
from mockserver.wire.tokens import call_chunks, pieces, text_chunks, words

__all__ = [
    "Failure",
    "Item",
    "StepItems",
    "approval_request",
    "approval_response",
    "chunks_of",
    "compaction_items",
    "count_usage",
    "input_item",
    "renamed",
    "step_items",
    "step_record",
    "tool_return",
    "user_parts",
]

Item = tuple[Any, list[Any] | None]  # a whole item and its token chunks (None: sent whole in token mode too)


# -- what the client sent ---------------------------------------------------------------------------------------


def input_item(
    message: MessageCreate, *, message_id: str, now: datetime, run_id: str | None, step_id: str | None, otid: str
) -> Any:
    """A client's message as stored: a user message (text and image parts), a system or an assistant message."""
    common = {"id": message_id, "date": now, "run_id": run_id, "otid": otid}
    if message.role == "user":
        content = message.content if isinstance(message.content, str) else user_parts(message.content)
        return trusted(
            UserMessage, **common, step_id=step_id, name=message.name, sender_id=message.sender_id, content=content
        )
    if message.role == "system":
        return trusted(SystemMessage, **common, content=_plain_text(message.content))
    return trusted(AssistantMessage, **common, step_id=step_id, content=_plain_text(message.content))


def user_parts(parts: Sequence[Any]) -> list[Any]:
    # A user message item shows text and image parts; other part kinds (tool/reasoning content) become text.
    return [
        part
        if isinstance(part, TextContent | ImageContent)
        else TextContent(text=json.dumps(part.model_dump(mode="json")))
        for part in parts
    ]


def _plain_text(content: object) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextContent))  # type: ignore[attr-defined]


def approval_response(
    approvals: list[ApprovalReturn | ToolReturn],
    *,
    message_id: str,
    now: datetime,
    run_id: str,
    otid: str | None,
    request_id: str | None,
) -> ApprovalResponseMessage:
    """The client's answer to pending tool calls, as stored; the flat fields mirror the first decision."""
    first = approvals[0] if approvals and isinstance(approvals[0], ApprovalReturn) else None
    return ApprovalResponseMessage(
        id=message_id, date=now, otid=otid, run_id=run_id, approvals=approvals,
        approve=first.approve if first else None, reason=first.reason if first else None,
        approval_request_id=request_id,
    )  # fmt: skip


# -- what the agent does ----------------------------------------------------------------------------------------


def tool_return(
    call: PlannedCall,
    call_id: str,
    status: Literal["success", "error"],
    text: str,
    *,
    message_id: str,
    now: datetime,
    run_id: str,
    step_id: str | None,
    ran: bool = False,
) -> ToolReturnMessage:
    """A tool's result. One the server ran (``ran``) has the tool's name and its ``stdout`` and ``stderr`` (the
    call's lines, an authored turn's; else empty); a client tool's return and a denied call's have neither (§18.9)."""
    stdout, stderr = (call.stdout or [], call.stderr or []) if ran else (None, None)
    return trusted(
        ToolReturnMessage, id=message_id, date=now, otid=otid_for(message_id, 0), step_id=step_id, run_id=run_id,
        # Only a tool the server ran is named: client-tool returns carry no name (§18.9), nor do denied calls'
        # (as recorded from Letta 0.16.8).
        name=call.name if ran else None,
        tool_return=text, status=status, tool_call_id=call_id, stdout=stdout, stderr=stderr,
        tool_returns=[ToolReturn(tool_return=text, status=status, tool_call_id=call_id, stdout=stdout,
                                 stderr=stderr)],
    )  # fmt: skip


@dataclass
class StepItems:
    items: list[Item]  # what the step's stored message holds, with token chunks
    served: list[tuple[PlannedCall, ToolCall]]  # server tool calls: their returns follow
    waiting: list[tuple[PlannedCall, ToolCall]]  # calls waiting on the client: an approval request follows


def step_items(
    step: Step, calls: list[ToolCall], *, message_id: str, now: datetime, step_id: str, run_id: str, tokens: bool
) -> StepItems:
    """The items of one step's stored message (``calls`` are the step's calls with their ids)."""
    common = {"id": message_id, "date": now, "step_id": step_id, "run_id": run_id}
    items: list[Item] = []

    def otid() -> str:
        return otid_for(message_id, len(items))

    if step.hidden_reasoning:
        items.append((trusted(HiddenReasoningMessage, **common, otid=otid(), state="omitted"), None))
    if step.reasoning is not None:
        thought = trusted(ReasoningMessage, **common, otid=otid(), source="reasoner_model", reasoning=step.reasoning)
        items.append((thought, text_chunks(thought, words(step.reasoning)) if tokens else None))
    if step.text is not None:
        reply = trusted(AssistantMessage, **common, otid=otid(), content=step.text)
        items.append((reply, text_chunks(reply, words(step.text)) if tokens else None))
    if not step.calls:  # most steps: text only
        return StepItems(items, [], [])
    served = [(p, c) for p, c in zip(step.calls, calls, strict=True) if p.kind == "server"]
    waiting = [(p, c) for p, c in zip(step.calls, calls, strict=True) if p.kind != "server"]
    if served:
        server_calls = [c for _, c in served]
        calling = ToolCallMessage(**common, otid=otid(), tool_call=server_calls[0], tool_calls=server_calls)
        items.append((calling, _call_chunks(calling) if tokens else None))
    return StepItems(items, served, waiting)


def renamed(stored: list[Any], message_id: str) -> list[Any]:
    """Items stored under another message id: that id, and otids derived from it (§1.4)."""
    return [item.model_copy(update={"id": message_id, "otid": otid_for(message_id, index)})
            for index, item in enumerate(stored)]  # fmt: skip


def approval_request(
    calls: list[ToolCall], *, assistant_id: str, now: datetime, step_id: str | None, run_id: str, tokens: bool
) -> Item:
    """Calls that wait on the client; the request's id is the assistant message's id minus one (§1.4)."""
    request_id = approval_request_id(assistant_id)
    request = ApprovalRequestMessage(
        id=request_id, date=now, otid=request_id, step_id=step_id, run_id=run_id, tool_call=calls[0], tool_calls=calls
    )
    return request, _call_chunks(request) if tokens else None


def chunks_of(item: Any) -> list[Any] | None:
    """Token-mode chunks of any agent item: text by words, tool calls by deltas; None for the rest (sent whole)."""
    if isinstance(item, ReasoningMessage):
        return text_chunks(item, words(item.reasoning))
    if isinstance(item, AssistantMessage) and isinstance(item.content, str):
        return text_chunks(item, words(item.content))
    if isinstance(item, ToolCallMessage | ApprovalRequestMessage) and isinstance(item.tool_calls, list):
        return _call_chunks(item)
    return None


def _call_chunks(item: ToolCallMessage | ApprovalRequestMessage) -> list[Any]:
    # Token-mode tool calls: the name first, then the arguments 12 characters at a time (§6.3, §18.1).
    assert isinstance(item.tool_calls, list)
    return call_chunks(item, [pieces(call.arguments) for call in item.tool_calls])


def count_usage(usage: LettaUsageStatistics, step: Step, index: int, history_items: int) -> tuple[int, int]:
    """Add one step's plausible figures: a ~2,000-token system prompt plus the history, ~4 characters a token.
    The step's own (prompt, completion) tokens."""
    prompt = 2000 + 40 * history_items
    written = len(step.reasoning or "") + len(step.text or "") + sum(len(c.arguments) for c in step.calls)
    completion = 8 + written // 4
    usage.prompt_tokens += prompt
    usage.completion_tokens += completion
    usage.total_tokens += prompt + completion
    usage.step_count = index + 1
    usage.context_tokens = prompt + completion
    return prompt, completion


def step_record(step_id: str, record: RunRecord, profile: AgentProfile, prompt: int, completion: int) -> StepRecord:
    """What ``GET /v1/runs/{run_id}/steps`` shows of one LLM call (``StepRecord.model``)."""
    window = profile.context_window or model_family(profile.model).context_window
    return StepRecord(step_id, record.run.id, record.run.agent_id, profile.model, window, prompt, completion)


def compaction_items(
    folded: int, *, message_id: str, event_id: str | None, now: datetime, run_id: str
) -> tuple[list[Any], str]:
    """A context compaction inside a turn (§2.2, §17.5): the events to stream first and the stored item last,
    and the summary. With ``event_id`` (``include_compaction_messages``) an event_message and a summary_message;
    without, Letta still shows it, as a user message carrying the packed summary."""
    summary = f"The conversation so far ({folded} messages) was summarized to fit the context window."
    if event_id is None:
        packed = json.dumps({"type": "system_alert", "message": summary})
        user = UserMessage(id=message_id, date=now, otid=None, run_id=run_id, content=packed)  # as Letta stores it
        return [user], summary
    stats = CompactionStats(
        trigger="post_step_context_check", context_tokens_before=2000 + 40 * folded, context_tokens_after=2100,
        context_window=128000, messages_count_before=folded + 1, messages_count_after=2,
    )  # fmt: skip
    event = EventMessage(
        id=event_id, date=now, run_id=run_id, event_type="compaction",
        event_data={"trigger": "post_step_context_check", "context_token_estimate": 2000 + 40 * folded,
                    "context_window": 128000},
    )  # fmt: skip
    stored = SummaryMessage(
        id=message_id, date=now, otid=otid_for(message_id, 0), run_id=run_id, summary=summary, compaction_stats=stats
    )
    return [event, stored], summary


# -- how a turn fails -----------------------------------------------------------------------------------------------


class ServerErrorMessage(LettaErrorMessage):
    """The real server's error event (``--fidelity server``): ``detail`` and ``seq_id`` written even when null,
    where Letta's document types them non-null (§2.2). Not the contract, so not in ``models``."""

    detail: str | None = None
    seq_id: int | None = None


@dataclass(frozen=True)
class Failure:
    """An in-band failure (§6.5): the stop reason, then ``event: error``; ``[DONE]`` only when it came before the
    agent's first chunk."""

    stop_reason: StopReasonType
    error: LettaErrorMessage
    done: bool

    @classmethod
    def of(cls, kind: ErrorType, run_id: str, *, mid: bool, detail: str | None, nulls: bool = False) -> Failure:
        """Letta's error ``kind``; after the first chunk (``mid``) reported as the mid-stream error (§6.5b).
        ``nulls``: written as the real server writes it, null ``detail`` and ``seq_id`` included (§2.2)."""
        shown = MID_STREAM_ERROR if mid else kind
        model = ServerErrorMessage if nulls else LettaErrorMessage
        error = model(run_id=run_id, error_type=shown.name, message=shown.message, detail=detail)
        return cls(kind.stop_reason, error, done=not mid)

    @classmethod
    def refusal(cls, run_id: str, text: str, *, nulls: bool = False) -> Failure:
        """A Letta refusal (e.g. a message while an approval is pending) reported in a stream (§6.5a, §17.10)."""
        model = ServerErrorMessage if nulls else LettaErrorMessage
        error = model(run_id=run_id, error_type="internal_error", message=text, detail=text)
        return cls("error", error, done=True)

    @property
    def events(self) -> list[Any]:
        return [LettaStopReason(stop_reason=self.stop_reason), self.error, *([DONE] if self.done else [])]
