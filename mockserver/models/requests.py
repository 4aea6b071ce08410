"""What clients send: request bodies of the messages endpoints, validated strictly.

Defaults are Letta's (wire doc §3). Rules that the real server enforces in the model itself (exactly one of
``input``/``messages``) are enforced here too; route-level checks (empty messages, streaming options without
streaming) live with the routes.
"""

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Discriminator, Field, Tag

from mockserver.models._base import JsonInt, RequestModel
from mockserver.models.content import (
    ApprovalReturn,
    InputContentPart,
    MessageContentPart,
    ToolReturn,
    no_default_in_schema,
)
from mockserver.models.messages import MessageType
from mockserver.models.settings import ModelSettings

__all__ = [
    "ApprovalCreate",
    "CancelAgentRunRequest",
    "ClientSkillSchema",
    "ClientToolSchema",
    "CompactionRequest",
    "CompactionSettings",
    "ConversationCompactionRequest",
    "ConversationMessageRequest",
    "InputMessage",
    "LettaAsyncRequest",
    "LettaRequest",
    "LettaStreamingRequest",
    "MessageCreate",
    "ResetMessagesRequest",
    "RetrieveStreamRequest",
    "SearchAllMessagesRequest",
    "ToolReturnCreate",
]


class MessageCreate(RequestModel):
    """A message to the agent."""

    type: Literal["message"] | None = "message"
    otid: str | None = None
    group_id: str | None = None
    role: Literal["user", "system", "assistant"]
    content: list[MessageContentPart] | str
    name: str | None = None
    sender_id: str | None = None
    batch_item_id: str | None = None


class ApprovalCreate(RequestModel):
    """Decisions on pending tool calls (approve/deny), or results of client-side tools."""

    type: Literal["approval"] = "approval"
    otid: str | None = None
    group_id: str | None = None
    approvals: list[Annotated[ApprovalReturn | ToolReturn, Field(discriminator="type")]] | None = None
    approve: bool | None = None  # deprecated single-approval form
    approval_request_id: str | None = None  # deprecated
    reason: str | None = None  # deprecated


class ToolReturnCreate(RequestModel):
    """Results of client-side tools."""

    type: Literal["tool_return"] = "tool_return"
    otid: str | None = None
    group_id: str | None = None
    tool_returns: list[ToolReturn]


def _input_message_kind(value: Any) -> str:
    # Letta's rule: an item without "type" is an approval when it carries approve/approval_request_id,
    # otherwise a message (wire doc §3).
    if isinstance(value, dict):
        kind = value.get("type")
        if kind is None:
            return "approval" if "approve" in value or "approval_request_id" in value else "message"
        return kind if isinstance(kind, str) else "message"
    return getattr(value, "type", None) or "message"


InputMessage = Annotated[
    Annotated[MessageCreate, Tag("message")]
    | Annotated[ApprovalCreate, Tag("approval")]
    | Annotated[ToolReturnCreate, Tag("tool_return")],
    Discriminator(_input_message_kind),
]


class ClientToolSchema(RequestModel):
    """A tool the client executes; calling it stops the turn with ``requires_approval``."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ClientSkillSchema(RequestModel):
    name: str
    description: str
    location: str


class LettaRequest(RequestModel):
    """Body of a non-streaming send; the base of every send-message request.

    Letta's own model refuses both ``input`` and ``messages``, or neither; the OpenAPI document does not, so the
    default profile accepts both (the SDK's generated tests send both) and ``fidelity="server"`` refuses them.
    """

    messages: list[InputMessage] | None = None
    input: str | list[InputContentPart] | None = None
    max_steps: JsonInt = 50
    use_assistant_message: bool = True
    assistant_message_tool_name: str = "send_message"
    assistant_message_tool_kwarg: str = "message"
    include_return_message_types: list[MessageType] | None = None
    # Declared a string by Letta although its default is the boolean true (wire doc §17.8); deprecated, ignored.
    # Only a string is accepted, as the document says (the SDKs send one); the default stays Letta's.
    enable_thinking: str = Field(default=True)  # type: ignore[assignment]
    client_tools: list[ClientToolSchema] | None = None
    client_skills: list[ClientSkillSchema] | None = None
    override_model: str | None = None
    include_compaction_messages: bool = False
    return_logprobs: bool = False
    top_logprobs: JsonInt | None = None
    return_token_ids: bool = False
    override_system: str | None = None


class LettaStreamingRequest(LettaRequest):
    """Body of ``POST /v1/agents/{agent_id}/messages``: ``streaming`` picks JSON or SSE."""

    streaming: bool = False
    stream_tokens: bool = False
    include_pings: bool = True
    background: bool = False


class LettaAsyncRequest(LettaRequest):
    """Body of ``POST /v1/agents/{agent_id}/messages/async``."""

    callback_url: str | None = None


class ConversationMessageRequest(LettaRequest):
    """Body of ``POST /v1/conversations/{conversation_id}/messages``: streams unless told otherwise."""

    agent_id: str | None = None
    streaming: bool = True
    stream_tokens: bool = False
    include_pings: bool = True
    background: bool = False


class CancelAgentRunRequest(RequestModel):
    run_ids: list[str] | None = None


class ResetMessagesRequest(RequestModel):
    add_default_initial_messages: bool = False


class CompactionSettings(RequestModel):
    """How to compact; the mock honours ``mode`` and ``prompt`` and accepts the rest as given."""

    model: str | None = None
    model_settings: ModelSettings | None = None  # one of Letta's provider settings, by provider_type
    prompt: str | None = None
    prompt_acknowledgement: bool = False
    clip_chars: JsonInt | None = 50000
    mode: Literal["all", "sliding_window", "self_compact_all", "self_compact_sliding_window"] = "sliding_window"
    # A number, never null, as Letta's document says; absent when not given (Letta's default is not documented).
    sliding_window_percentage: float = Field(default=None, json_schema_extra=no_default_in_schema)  # type: ignore[assignment]


class CompactionRequest(RequestModel):
    compaction_settings: CompactionSettings | None = None


class ConversationCompactionRequest(CompactionRequest):
    agent_id: str | None = None


class RetrieveStreamRequest(RequestModel):
    """Body of the resume endpoints; ``starting_after`` is a ``seq_id``."""

    agent_id: str | None = None
    run_id: str | None = None
    otid: str | None = None
    starting_after: JsonInt = 0
    include_pings: bool | None = True
    poll_interval: float | None = 0.1
    batch_size: JsonInt | None = 100


class SearchAllMessagesRequest(RequestModel):
    query: str
    search_mode: Literal["vector", "fts", "hybrid"] = "hybrid"
    agent_id: str | None = None
    conversation_id: str | None = None
    limit: JsonInt = Field(default=50, ge=1, le=100)
    start_date: AwareDatetime | None = None
    end_date: AwareDatetime | None = None
