"""The LettaMessage family: what history lists and what streams carry.

Every member shares the common fields in Letta's order (id, date, name, message_type, otid, sender_id, step_id,
is_err, seq_id, run_id); ``message_type`` is the discriminator of both unions. ``Message`` is Letta's
``LettaMessageUnion`` (11 members); ``StreamEvent`` is ``LettaStreamingResponse`` (the spec's 13 members).
"""

from typing import Annotated, Any, Literal, get_args

from pydantic import ConfigDict, Field, TypeAdapter, model_validator
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import Self

from mockserver.models._base import MessageDate, WireModel
from mockserver.models.content import (
    ApprovalReturn,
    AssistantContentPart,
    ToolCall,
    ToolCallDelta,
    ToolReturn,
    UserContentPart,
)

__all__ = [
    "MESSAGE_TYPES",
    "STOP_REASONS",
    "ApprovalRequestMessage",
    "ApprovalResponseMessage",
    "AssistantMessage",
    "CompactionStats",
    "EventMessage",
    "HiddenReasoningMessage",
    "LettaErrorMessage",
    "LettaMessage",
    "LettaPing",
    "LettaStopReason",
    "LettaUsageStatistics",
    "Message",
    "MessageType",
    "ReasoningMessage",
    "StopReasonType",
    "StreamEvent",
    "SummaryMessage",
    "SystemMessage",
    "ToolCallMessage",
    "ToolReturnMessage",
    "UserMessage",
    "message_adapter",
    "stream_event_adapter",
]

StopReasonType = Literal[
    "end_turn",
    "error",
    "llm_api_error",
    "invalid_llm_response",
    "invalid_tool_call",
    "max_steps",
    "max_tokens_exceeded",
    "no_tool_call",
    "tool_rule",
    "cancelled",
    "insufficient_credits",
    "requires_approval",
    "context_window_overflow_in_system_prompt",
]
STOP_REASONS: tuple[StopReasonType, ...] = get_args(StopReasonType)

MessageType = Literal[
    "system_message",
    "user_message",
    "assistant_message",
    "reasoning_message",
    "hidden_reasoning_message",
    "tool_call_message",
    "tool_return_message",
    "approval_request_message",
    "approval_response_message",
    "summary_message",
    "event_message",
]
MESSAGE_TYPES: tuple[str, ...] = get_args(MessageType)


class LettaMessage(WireModel):
    """Fields common to every message (and to pings)."""

    id: str
    date: MessageDate
    name: str | None = None
    message_type: str
    otid: str | None = None
    sender_id: str | None = None
    step_id: str | None = None
    is_err: bool | None = None  # null unless true: never serialised as false
    seq_id: int | None = None  # filled only in background and resumed streams
    run_id: str | None = None


class SystemMessage(LettaMessage):
    message_type: Literal["system_message"] = "system_message"
    content: str


class UserMessage(LettaMessage):
    message_type: Literal["user_message"] = "user_message"
    content: list[UserContentPart] | str


class ReasoningMessage(LettaMessage):
    message_type: Literal["reasoning_message"] = "reasoning_message"
    source: Literal["reasoner_model", "non_reasoner_model"] = "non_reasoner_model"
    reasoning: str
    signature: str | None = None


class HiddenReasoningMessage(LettaMessage):
    message_type: Literal["hidden_reasoning_message"] = "hidden_reasoning_message"
    state: Literal["redacted", "omitted"]
    hidden_reasoning: str | None = None


class _CallsMixin(LettaMessage):
    tool_call: ToolCall | ToolCallDelta  # deprecated: the first call
    tool_calls: list[ToolCall] | ToolCallDelta | None = None

    @model_validator(mode="after")
    def _delta_in_both_fields(self) -> Self:
        # Token mode puts the same ToolCallDelta in both fields (wire doc §6.3); a delta with all three keys
        # filled would otherwise parse as a complete ToolCall in `tool_call`.
        if isinstance(self.tool_calls, ToolCallDelta) and isinstance(self.tool_call, ToolCall):
            self.tool_call = ToolCallDelta(**self.tool_call.model_dump())
        return self


class ToolCallMessage(_CallsMixin):
    """Tool calls of one step. In token streaming both fields hold one ``ToolCallDelta`` instead."""

    message_type: Literal["tool_call_message"] = "tool_call_message"


class ToolReturnMessage(LettaMessage):
    """A tool's result. ``name`` is the tool name; the flat fields mirror the first of ``tool_returns``."""

    message_type: Literal["tool_return_message"] = "tool_return_message"
    tool_return: str
    status: Literal["success", "error"]
    tool_call_id: str
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    tool_returns: list[ToolReturn] | None = None


class AssistantMessage(LettaMessage):
    message_type: Literal["assistant_message"] = "assistant_message"
    content: list[AssistantContentPart] | str


class ApprovalRequestMessage(_CallsMixin):
    """Tool calls that wait for the client: approval, or a client-side tool's result."""

    message_type: Literal["approval_request_message"] = "approval_request_message"


class ApprovalResponseMessage(LettaMessage):
    message_type: Literal["approval_response_message"] = "approval_response_message"
    approvals: list[Annotated[ApprovalReturn | ToolReturn, Field(discriminator="type")]] | None = None
    approve: bool | None = None
    approval_request_id: str | None = None
    reason: str | None = None


class CompactionStats(WireModel):
    trigger: str
    context_tokens_before: int | None = None
    context_tokens_after: int | None = None
    context_window: int
    messages_count_before: int
    messages_count_after: int


class SummaryMessage(LettaMessage):
    message_type: Literal["summary_message"] = "summary_message"
    summary: str
    compaction_stats: CompactionStats | None = None


class EventMessage(LettaMessage):
    message_type: Literal["event_message"] = "event_message"
    event_type: Literal["compaction"]
    event_data: dict[str, Any]


class LettaPing(LettaMessage):
    """Sent first in every stream (carrying the run id) and after every silence of the keep-alive interval."""

    message_type: Literal["ping"] = "ping"


class LettaStopReason(WireModel):
    message_type: Literal["stop_reason"] = "stop_reason"
    stop_reason: StopReasonType


class LettaUsageStatistics(WireModel):
    message_type: Literal["usage_statistics"] = "usage_statistics"
    completion_tokens: int = 0
    prompt_tokens: int = 0
    total_tokens: int = 0
    step_count: int = 0
    run_ids: list[str] | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    context_tokens: int | None = None


class LettaErrorMessage(WireModel):
    """An in-band stream error; always framed as ``event: error``."""

    message_type: Literal["error_message"] = "error_message"
    run_id: str
    error_type: str
    message: str
    # The document types these two as optional non-null; the real server writes null (wire doc §2.2).
    # Leaving a null out keeps the event valid against the contract.
    detail: str | SkipJsonSchema[None] = Field(default=None, exclude_if=lambda value: value is None)
    seq_id: int | SkipJsonSchema[None] = Field(default=None, exclude_if=lambda value: value is None)


# Members both unions share: what history holds, minus the compaction types the streaming union lacks (§17.4).
_Shared = (
    SystemMessage
    | UserMessage
    | ReasoningMessage
    | HiddenReasoningMessage
    | ToolCallMessage
    | ToolReturnMessage
    | AssistantMessage
    | ApprovalRequestMessage
    | ApprovalResponseMessage
)
Message = Annotated[_Shared | SummaryMessage | EventMessage, Field(discriminator="message_type")]
StreamEvent = Annotated[
    _Shared | LettaPing | LettaErrorMessage | LettaStopReason | LettaUsageStatistics,
    Field(discriminator="message_type"),
]

# Built on first use: start-up does not pay for every message schema (ConfigDict.defer_build).
message_adapter: TypeAdapter[Message] = TypeAdapter(Message, config=ConfigDict(defer_build=True))
stream_event_adapter: TypeAdapter[StreamEvent] = TypeAdapter(StreamEvent, config=ConfigDict(defer_build=True))
