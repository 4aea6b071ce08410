"""What the server answers besides messages: turn results, runs, agent state, compaction, search, errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mockserver.models._base import TimestampDate, WireModel
from mockserver.models.content import AssistantContentPart, UserContentPart
from mockserver.models.messages import LettaStopReason, LettaUsageStatistics, Message, MessageType, StopReasonType

__all__ = [
    "AgentState",
    "AssistantMessageListResult",
    "CompactionResponse",
    "Health",
    "HTTPValidationError",
    "LLMConfig",
    "LettaRequestConfig",
    "LettaResponse",
    "Memory",
    "NotFoundError",
    "ReasoningMessageListResult",
    "Run",
    "RunStatus",
    "SearchResult",
    "SystemMessageListResult",
    "UserMessageListResult",
    "ValidationErrorItem",
]

RunStatus = Literal["created", "running", "completed", "failed", "cancelled"]


class LettaResponse(WireModel):
    """The result of a non-streaming turn: only what the agent produced (the user's input is not echoed)."""

    messages: list[Message]
    stop_reason: LettaStopReason
    usage: LettaUsageStatistics
    logprobs: dict[str, Any] | None = None  # RL feature; the mock never fills it
    turns: list[dict[str, Any]] | None = None  # RL feature; the mock never fills it


class LettaRequestConfig(WireModel):
    use_assistant_message: bool = True
    assistant_message_tool_name: str = "send_message"
    assistant_message_tool_kwarg: str = "message"
    include_return_message_types: list[MessageType] | None = None


class Run(WireModel):
    """One execution of the agent loop (a send, a stream or an async job)."""

    id: str = Field(pattern="^(job|run)-[a-fA-F0-9]{8}")
    status: RunStatus = "created"
    created_at: TimestampDate
    completed_at: TimestampDate | None = None
    agent_id: str
    conversation_id: str | None = None
    base_template_id: str | None = None
    background: bool | None = None
    metadata: dict[str, Any] | None = None
    request_config: LettaRequestConfig | None = None
    stop_reason: StopReasonType | None = None
    callback_url: str | None = None
    callback_sent_at: TimestampDate | None = None
    callback_status_code: int | None = None
    callback_error: str | None = None
    ttft_ns: int | None = None
    total_duration_ns: int | None = None


class LLMConfig(WireModel):
    model: str
    model_endpoint_type: str
    context_window: int
    handle: str | None = None


class Memory(WireModel):
    blocks: list[dict[str, Any]]


class AgentState(WireModel):
    """The subset of Letta's AgentState that reset returns; every field the spec requires is present."""

    id: str
    name: str
    system: str
    agent_type: Literal[
        "memgpt_agent",
        "memgpt_v2_agent",
        "letta_v1_agent",
        "react_agent",
        "workflow_agent",
        "split_thread_agent",
        "sleeptime_agent",
        "voice_convo_agent",
        "voice_sleeptime_agent",
    ] = "letta_v1_agent"
    llm_config: LLMConfig
    memory: Memory
    blocks: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    tags: list[str]
    message_ids: list[str] | None = None
    created_at: TimestampDate | None = None
    updated_at: TimestampDate | None = None


class CompactionResponse(WireModel):
    summary: str
    num_messages_before: int
    num_messages_after: int


class Health(WireModel):
    version: str
    status: str


class _SearchResultBase(WireModel):
    message_id: str
    agent_id: str | None = None
    conversation_id: str | None = None
    created_at: TimestampDate


class SystemMessageListResult(_SearchResultBase):
    message_type: Literal["system_message"] = "system_message"
    content: str


class UserMessageListResult(_SearchResultBase):
    message_type: Literal["user_message"] = "user_message"
    content: list[UserContentPart] | str


class ReasoningMessageListResult(_SearchResultBase):
    message_type: Literal["reasoning_message"] = "reasoning_message"
    reasoning: str


class AssistantMessageListResult(_SearchResultBase):
    message_type: Literal["assistant_message"] = "assistant_message"
    content: list[AssistantContentPart] | str


SearchResult = Annotated[
    SystemMessageListResult | UserMessageListResult | ReasoningMessageListResult | AssistantMessageListResult,
    Field(discriminator="message_type"),
]


class ValidationErrorItem(WireModel):
    loc: list[str | int]
    msg: str
    type: str


class HTTPValidationError(WireModel):
    """422: what was wrong with the request, one item per problem, ``loc`` naming the field."""

    detail: list[ValidationErrorItem]


class NotFoundError(WireModel):
    """404 and most other errors: Letta's ``{"detail": "<text>"}``."""

    detail: str
