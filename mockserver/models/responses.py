"""What the server answers besides messages: turn results, runs, agent state, compaction, search, errors."""

from typing import Annotated, Any, Literal

from pydantic import Field

from mockserver.models._base import TimestampDate, WireModel
from mockserver.models.content import AssistantContentPart, UserContentPart
from mockserver.models.messages import LettaStopReason, LettaUsageStatistics, Message, MessageType, StopReasonType

__all__ = [
    "AssistantMessageListResult",
    "ChatCompletionTokenLogprob",
    "ChoiceLogprobs",
    "CompactionResponse",
    "Health",
    "HTTPValidationError",
    "LettaRequestConfig",
    "LettaResponse",
    "NotFoundError",
    "ReasoningMessageListResult",
    "Run",
    "RunStatus",
    "SearchResult",
    "Step",
    "UsageStatistics",
    "SystemMessageListResult",
    "TopLogprob",
    "TurnTokenData",
    "UserMessageListResult",
    "ValidationErrorItem",
]

RunStatus = Literal["created", "running", "completed", "failed", "cancelled"]


class TopLogprob(WireModel):
    token: str
    bytes: list[int] | None = None
    logprob: float


class ChatCompletionTokenLogprob(WireModel):
    """One output token: its text, UTF-8 bytes, log probability and the most likely alternatives."""

    token: str
    bytes: list[int] | None = None
    logprob: float
    top_logprobs: list[TopLogprob]


class ChoiceLogprobs(WireModel):
    """The output tokens of an LLM call with their log probabilities (``return_logprobs``)."""

    content: list[ChatCompletionTokenLogprob] | None = None
    refusal: list[ChatCompletionTokenLogprob] | None = None


class TurnTokenData(WireModel):
    """One LLM generation (``assistant``: its token ids and log probabilities) or one tool result (``tool``: its
    text, for a trainer to tokenize unmasked) of a turn (``return_token_ids``)."""

    role: Literal["assistant", "tool"]
    output_ids: list[int] | None = None
    output_token_logprobs: list[list[Any]] | None = None  # [[logprob, token_id, top_logprobs or null], ...]
    content: str | None = None
    tool_name: str | None = None


class LettaResponse(WireModel):
    """The result of a non-streaming turn: only what the agent produced (the user's input is not echoed)."""

    messages: list[Message]
    stop_reason: LettaStopReason
    usage: LettaUsageStatistics
    logprobs: ChoiceLogprobs | None = None  # the last LLM call's tokens, with return_logprobs
    turns: list[TurnTokenData] | None = None  # every generation and tool result, with return_token_ids


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


class UsageStatistics(WireModel):
    """A run's token usage (``GET /v1/runs/{run_id}/usage``)."""

    completion_tokens: int = 0
    prompt_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: dict[str, Any] | None = None
    completion_tokens_details: dict[str, Any] | None = None


class Step(WireModel):
    """One LLM call of a run (``GET /v1/runs/{run_id}/steps``)."""

    id: str
    origin: str | None = None
    provider_id: str | None = None
    run_id: str | None = None
    agent_id: str | None = None
    provider_name: str | None = None
    provider_category: str | None = None
    model: str | None = None
    model_handle: str | None = None
    model_endpoint: str | None = None
    context_window_limit: int | None = None
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    total_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    completion_tokens_details: dict[str, Any] | None = None
    prompt_tokens_details: dict[str, Any] | None = None
    stop_reason: StopReasonType | None = None
    tags: list[str] = Field(default_factory=list)
    tid: str | None = None
    trace_id: str | None = None
    request_id: str | None = None
    messages: list[dict[str, Any]] = Field(default_factory=list)
    feedback: str | None = None
    project_id: str | None = None
    error_type: str | None = None
    error_data: dict[str, Any] | None = None
    status: Literal["pending", "success", "failed", "cancelled"] | None = "success"


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
