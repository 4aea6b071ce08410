"""Agents: ``AgentState`` as the server sends it, and the bodies that create and modify an agent.

Field facts from Letta's OpenAPI document; the set and order of keys from what a real 0.16.8 server sends (every
key present, nulls included). Sub-objects a client rarely reads in full (model settings, tool rules, response
formats, compaction settings) are plain JSON objects here: the mock stores and returns what it was given.
"""

from typing import Any, Literal

from pydantic import Field

from mockserver.models._base import JsonInt, RequestModel, TimestampDate, WireModel
from mockserver.models.messages import ApprovalRequestMessage, StopReasonType
from mockserver.models.requests import MessageCreate
from mockserver.models.tools import Tool

__all__ = [
    "AGENT_TYPES",
    "AgentState",
    "AgentType",
    "Block",
    "BlockUpdate",
    "ContextWindowOverview",
    "CreateAgentRequest",
    "CreateBlock",
    "DeleteAgentResponse",
    "EmbeddingConfig",
    "LLMConfig",
    "Memory",
    "UpdateAgent",
]

AgentType = Literal[
    "memgpt_agent",
    "memgpt_v2_agent",
    "letta_v1_agent",
    "react_agent",
    "workflow_agent",
    "split_thread_agent",
    "sleeptime_agent",
    "voice_convo_agent",
    "voice_sleeptime_agent",
]
AGENT_TYPES: tuple[str, ...] = AgentType.__args__  # type: ignore[attr-defined]


class LLMConfig(WireModel):
    model: str
    display_name: str | None = None
    model_endpoint_type: str
    model_endpoint: str | None = None
    provider_name: str | None = None
    provider_category: str | None = None
    model_wrapper: str | None = None
    context_window: int
    put_inner_thoughts_in_kwargs: bool | None = False
    handle: str | None = None
    temperature: float = 1.0
    max_tokens: int | None = None
    enable_reasoner: bool = False
    reasoning_effort: str | None = None
    max_reasoning_tokens: int = 0
    effort: str | None = None
    frequency_penalty: float | None = None
    compatibility_type: str | None = None
    verbosity: str | None = None
    tier: str | None = None
    parallel_tool_calls: bool | None = False
    response_format: dict[str, Any] | None = None
    strict: bool = False
    return_logprobs: bool = False
    top_logprobs: int | None = None
    return_token_ids: bool = False
    tool_call_parser: str | None = None


class EmbeddingConfig(WireModel):
    embedding_endpoint_type: str
    embedding_endpoint: str | None = None
    embedding_model: str
    embedding_dim: int
    embedding_chunk_size: int | None = 300
    handle: str | None = None
    batch_size: int = 32
    azure_endpoint: str | None = None
    azure_version: str | None = None
    azure_deployment: str | None = None


class Block(WireModel):
    """A memory block in the agent's context."""

    value: str
    limit: int = 100000
    project_id: str | None = None
    template_name: str | None = None
    is_template: bool = False
    template_id: str | None = None
    base_template_id: str | None = None
    deployment_id: str | None = None
    entity_id: str | None = None
    preserve_on_migration: bool | None = False
    label: str | None = None
    read_only: bool = False
    description: str | None = None
    metadata: dict[str, Any] | None = Field(default_factory=dict)
    hidden: bool | None = None
    id: str
    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    tags: list[str] | None = Field(default_factory=list)


class Memory(WireModel):
    agent_type: str | None = None
    git_enabled: bool = False
    blocks: list[Block]
    file_blocks: list[dict[str, Any]] = Field(default_factory=list)
    prompt_template: str = ""


class AgentState(WireModel):
    """An agent, every key the server sends (the document requires id, name, system, agent_type, llm_config,
    memory, blocks, tools, sources and tags)."""

    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    created_at: TimestampDate | None = None
    updated_at: TimestampDate | None = None
    id: str
    name: str
    tool_rules: list[dict[str, Any]] | None = None
    message_ids: list[str] | None = None
    system: str
    agent_type: AgentType = "letta_v1_agent"
    llm_config: LLMConfig
    embedding_config: EmbeddingConfig | None = None
    model: str | None = None
    embedding: str | None = None
    model_settings: dict[str, Any] | None = None
    compaction_settings: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    memory: Memory
    blocks: list[Block]
    tools: list[Tool]
    sources: list[dict[str, Any]]
    tags: list[str]
    tool_exec_environment_variables: list[dict[str, Any]] = Field(default_factory=list)
    secrets: list[dict[str, Any]] = Field(default_factory=list)
    project_id: str | None = None
    template_id: str | None = None
    base_template_id: str | None = None
    deployment_id: str | None = None
    entity_id: str | None = None
    identity_ids: list[str] = Field(default_factory=list)
    identities: list[dict[str, Any]] = Field(default_factory=list)
    pending_approval: ApprovalRequestMessage | None = None
    message_buffer_autoclear: bool = False
    enable_sleeptime: bool | None = None
    multi_agent_group: dict[str, Any] | None = None
    managed_group: dict[str, Any] | None = None
    last_run_completion: TimestampDate | None = None
    last_run_duration_ms: int | None = None
    last_stop_reason: StopReasonType | None = None
    timezone: str | None = "UTC"
    max_files_open: int | None = 10
    per_file_view_window_char_limit: int | None = 25000
    hidden: bool | None = None


class DeleteAgentResponse(WireModel):
    message: str


class ContextWindowOverview(WireModel):
    """What fills an agent's context window (``GET /v1/agents/{agent_id}/context``), in plausible token counts."""

    context_window_size_max: int
    context_window_size_current: int
    num_messages: int
    num_archival_memory: int = 0
    num_recall_memory: int
    num_tokens_external_memory_summary: int = 0
    external_memory_summary: str = ""
    num_tokens_system: int
    system_prompt: str
    num_tokens_core_memory: int
    core_memory: str
    num_tokens_memory_filesystem: int = 0
    memory_filesystem: str | None = None
    num_tokens_tool_usage_rules: int = 0
    tool_usage_rules: str | None = None
    num_tokens_directories: int = 0
    directories: str | None = None
    num_tokens_summary_memory: int
    summary_memory: str | None = None
    num_tokens_functions_definitions: int
    functions_definitions: list[dict[str, Any]] | None = None
    num_tokens_messages: int
    messages: list[dict[str, Any]]


# -- requests -------------------------------------------------------------------------------------------------


class CreateBlock(RequestModel):
    value: str
    label: str
    limit: JsonInt = 100000
    description: str | None = None
    read_only: bool = False
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None
    hidden: bool | None = None


class BlockUpdate(RequestModel):
    """Body of ``PATCH /v1/agents/{agent_id}/core-memory/blocks/{block_label}``: only the fields given change."""

    value: str | None = None
    limit: JsonInt | None = None
    label: str | None = None
    description: str | None = None
    read_only: bool | None = None
    metadata: dict[str, Any] | None = None
    hidden: bool | None = None
    tags: list[str] | None = None


class _AgentFields(RequestModel):
    """What both creating and modifying an agent can set."""

    name: str | None = None
    tool_ids: list[str] | None = None
    tags: list[str] | None = None
    system: str | None = None
    tool_rules: list[dict[str, Any]] | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    model: str | None = None
    embedding: str | None = None
    model_settings: dict[str, Any] | None = None
    compaction_settings: dict[str, Any] | None = None
    context_window_limit: JsonInt | None = None
    llm_config: dict[str, Any] | None = None
    embedding_config: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    max_tokens: JsonInt | None = None
    message_buffer_autoclear: bool | None = None
    enable_sleeptime: bool | None = None
    timezone: str | None = None
    hidden: bool | None = None
    parallel_tool_calls: bool | None = None
    reasoning: bool | None = None


class CreateAgentRequest(_AgentFields):
    """Body of ``POST /v1/agents/``. Everything is optional; the mock fills Letta's defaults."""

    memory_blocks: list[CreateBlock] | None = None
    tools: list[str] | None = None
    agent_type: AgentType = "letta_v1_agent"
    initial_message_sequence: list[MessageCreate] | None = None
    include_base_tools: bool = True
    enable_reasoner: bool | None = None


class UpdateAgent(_AgentFields):
    """Body of ``PATCH /v1/agents/{agent_id}``: only the fields given change."""

    message_ids: list[str] | None = None
    last_stop_reason: StopReasonType | None = None
