"""Letta's catalogue: the facts about the real server that the mock, its faults and the strategies all follow.

One place for each fact (wire doc sections in brackets):

* ``LETTA_VERSION``, the server whose behaviour the mock follows, and Letta's defaults (keep-alive interval);
* ``ERRORS``, Letta's error types: how each ends a stream in-band (stop reason, message) and how it answers a
  request that does not stream (HTTP status and body kind) [§6.5, §15.1];
* run outcomes: which stop reasons complete a run, which come with an error event [§2.4];
* ``MODELS``: what a model handle says about the agent's turns (provider, context window, whether it reasons);
* ``BASE_TOOLS`` and the defaults of a new agent (its blocks' descriptions, legacy agent types);
* ``Texts``: the sentences Letta writes in refusals and 404s, so the same refusal reads the same everywhere.

Pure data: imports only the contract's literal types.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from mockserver.models import RunStatus, StopReasonType, ToolType

__all__ = [
    "INT64_MAX",
    "COMPLETED_STOP_REASONS",
    "DEFAULT_ORG_ID",
    "DEFAULT_USER_ID",
    "ERRORS",
    "ERROR_STOP_REASONS",
    "IN_BAND_ERRORS",
    "KEEPALIVE_INTERVAL_MS",
    "LETTA_VERSION",
    "MID_STREAM_ERROR",
    "MID_STREAM_ERRORS",
    "ASSISTANT_MESSAGE_TOOL",
    "BASE_TOOLS",
    "BLOCK_DESCRIPTIONS",
    "LEGACY_AGENT_TYPES",
    "MODELS",
    "MODEL_ENDPOINTS",
    "SUMMARIZER_MODELS",
    "BaseTool",
    "ErrorType",
    "ModelFamily",
    "Reasoning",
    "Texts",
    "model_family",
    "provider_error",
    "run_status",
]

LETTA_VERSION = "0.16.8"
# A self-hosted Letta server's default user and organization: who created what a client creates there.
DEFAULT_USER_ID = "user-00000000-0000-4000-8000-000000000000"
DEFAULT_ORG_ID = "org-00000000-0000-4000-8000-000000000000"
INT64_MAX = 2**63 - 1  # the largest limit the real server's database takes (beyond: a 500, "A database error")
KEEPALIVE_INTERVAL_MS = 20_000  # the server's keepalive_interval setting (§6.4; its function's own default is 30 s)

BodyKind = Literal["provider", "detail", "unknown"]


@dataclass(frozen=True)
class ErrorType:
    """One of Letta's error types.

    ``stop_reason`` and ``message`` are what a stream carries when the error happens before the agent's first
    chunk (§6.5a); ``http_status`` and ``body`` what a request that does not stream gets instead (§15.1):
    ``provider`` is ``{"error": {"type", "message", "detail"}}``, ``detail`` is ``{"detail": <message>}``,
    ``unknown`` is ``{"detail": "An unknown error occurred"}``. ``in_band`` errors can be asked for with the
    ``error=`` control; the others exist only as HTTP answers (``fault=http:<status>``).
    """

    name: str
    stop_reason: StopReasonType
    message: str
    http_status: int
    body: BodyKind
    in_band: bool = True
    has_detail: bool = True  # stream_incomplete is the one the server sends with a null detail

    @classmethod
    def named_as_its_stop_reason(
        cls, name: StopReasonType, message: str, http_status: int, body: BodyKind
    ) -> ErrorType:
        return cls(name, name, message, http_status, body)


# Order: the in-band ones as the README lists them; for one HTTP status the first provider row is its answer.
_ROWS = (
    ErrorType("llm_error", "llm_api_error", "An error occurred with the LLM request.", 500, "provider"),
    ErrorType("llm_timeout", "llm_api_error", "The LLM request timed out. Please try again.", 504, "provider"),
    ErrorType(
        "llm_rate_limit",
        "llm_api_error",
        "Rate limit exceeded for LLM model provider. Please wait before making another request.",
        429,
        "provider",
    ),
    ErrorType(
        "llm_authentication", "llm_api_error", "Authentication failed with the LLM model provider.", 401, "provider"
    ),
    ErrorType("llm_empty_response", "invalid_llm_response", "LLM returned an empty response.", 500, "provider"),
    ErrorType("internal_error", "error", "An unknown error occurred with the LLM streaming request.", 500, "unknown"),
    ErrorType(
        "stream_incomplete",
        "error",
        "Stream ended unexpectedly without a terminal event.",
        500,
        "unknown",
        has_detail=False,
    ),
    ErrorType.named_as_its_stop_reason(
        "context_window_overflow_in_system_prompt",
        "Compaction failed because the system prompt is too large for the context window.",
        400,
        "detail",
    ),
    # Provider answers with no in-band error type of their own (in a stream they are llm_error).
    ErrorType(
        "llm_bad_request",
        "llm_api_error",
        "The request to the LLM model provider was invalid.",
        400,
        "provider",
        in_band=False,
    ),
    ErrorType(
        "llm_insufficient_credits",
        "insufficient_credits",
        "Insufficient credits for the LLM model provider.",
        402,
        "provider",
        in_band=False,
    ),
)
ERRORS: Mapping[str, ErrorType] = {row.name: row for row in _ROWS}
IN_BAND_ERRORS: tuple[str, ...] = tuple(row.name for row in _ROWS if row.in_band)

# After the agent's first chunk every failure is reported as the first of these, whatever its cause; a failure while
# finishing the stream as the second (§6.5b). The stop reason keeps the cause's classification.
MID_STREAM_ERRORS = (
    ErrorType("internal_error", "error", "An error occurred during agent execution.", 500, "unknown"),
    ErrorType("cleanup_error", "error", "An error occurred during stream finalization.", 500, "unknown"),
)
MID_STREAM_ERROR = MID_STREAM_ERRORS[0]


def provider_error(status: int) -> ErrorType | None:
    """The provider error Letta answers with at HTTP ``status``, if there is one (§15.1)."""
    return next((row for row in _ROWS if row.body == "provider" and row.http_status == status), None)


# -- runs ---------------------------------------------------------------------------------------------------------

# A run that stopped for one of these completed; any other stop reason but "cancelled" failed it (§2.4). A turn
# reaches them by itself, so what it answered is stored. In this order: a drawn turn shrinks towards end_turn.
COMPLETED_STOP_REASONS: tuple[StopReasonType, ...] = ("end_turn", "max_steps", "tool_rule", "requires_approval")
# Stop reasons a stream reports together with an error event (§6.5); the rest end it with usage and [DONE].
ERROR_STOP_REASONS: tuple[StopReasonType, ...] = tuple(dict.fromkeys(row.stop_reason for row in _ROWS if row.in_band))


def run_status(stop_reason: StopReasonType) -> RunStatus:
    """The status a run ends with after ``stop_reason`` (a streaming or non-streaming run; §2.4)."""
    if stop_reason == "cancelled":
        return "cancelled"
    return "completed" if stop_reason in COMPLETED_STOP_REASONS else "failed"


# -- models and agents ----------------------------------------------------------------------------------------

Reasoning = Literal["none", "visible", "hidden"]


@dataclass(frozen=True)
class ModelFamily:
    """What a model handle (``provider/model``) says about an agent's turns.

    ``reasoning``: ``visible`` models stream their reasoning as ``reasoning_message`` (source ``reasoner_model``);
    ``hidden`` ones (OpenAI's reasoning models) send an omitted ``hidden_reasoning_message`` first (§6.3); ``none``
    send no reasoning at all — a gpt-4o-mini agent answers with its text only.
    """

    pattern: str  # matched against the whole handle
    endpoint_type: str
    context_window: int
    reasoning: Reasoning
    max_tokens: int = 16384  # the default output budget Letta gives the model (llm_config.max_tokens)


# First match wins; the last row matches every handle.
MODELS: tuple[ModelFamily, ...] = (
    ModelFamily(r"^letta-mock/", "openai", 128000, "visible"),  # the open world's agent: it reasons, as it always did
    ModelFamily(r"^openai(-proxy)?/gpt-5\.[234](?!.*-chat)", "openai", 200000, "hidden", 128000),
    ModelFamily(r"^openai(-proxy)?/(o1|o3|o4|gpt-5)", "openai", 200000, "hidden"),
    ModelFamily(r"^openai(-proxy)?/", "openai", 128000, "none"),
    ModelFamily(r"^anthropic/.*(opus|sonnet)", "anthropic", 200000, "none"),
    ModelFamily(r"^anthropic/", "anthropic", 200000, "none", 8192),
    ModelFamily(r"^google_(ai|vertex)/", "google_ai", 1048576, "none", 65536),
    ModelFamily(r"^letta/", "openai", 30000, "none"),
    ModelFamily(r"", "openai", 128000, "none"),
)
# Where each kind of provider is reached (llm_config.model_endpoint, embedding_config.embedding_endpoint).
MODEL_ENDPOINTS: Mapping[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com/v1",
    "google_ai": "https://generativelanguage.googleapis.com",
}
# The light model Letta summarizes with, by provider (compaction_settings.model unless given).
SUMMARIZER_MODELS: Mapping[str, str] = {
    "openai": "openai/gpt-5-mini",
    "anthropic": "anthropic/claude-haiku-4-5",
    "google_ai": "google_ai/gemini-2.5-flash",
}


@lru_cache(maxsize=512)  # asked on every send; a mock sees a handful of model handles
def model_family(handle: str) -> ModelFamily:
    return next(family for family in MODELS if re.match(family.pattern, handle))


# Legacy agent types run Letta's V2 loop: the reply is a send_message tool call (§2.3).
LEGACY_AGENT_TYPES = frozenset({"memgpt_agent", "memgpt_v2_agent", "react_agent", "split_thread_agent"})
ASSISTANT_MESSAGE_TOOL = "send_message"

BLOCK_DESCRIPTIONS = {
    "human": "The human block: key details about the person the agent is talking with.",
    "persona": "The persona block: who the agent is and how it behaves.",
}


_EVERY_TYPE = frozenset({"letta_v1_agent", "memgpt_agent", "memgpt_v2_agent", "react_agent"})


@dataclass(frozen=True)
class BaseTool:
    name: str
    tool_type: ToolType
    description: str
    parameters: dict[str, Any]
    attached_to: frozenset[str] = _EVERY_TYPE  # the agent types a new agent gets it for (include_base_tools)
    parallel: bool = False  # enable_parallel_execution


def _string(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


# Letta's own tools, in every organization from the start; a new agent gets those of its type unless
# include_base_tools is false. Their parameters (names, types, which are required) are Letta 0.16.8's; the
# descriptions are the mock's.
BASE_TOOLS: tuple[BaseTool, ...] = (
    BaseTool("send_message", "letta_core", "Send a message to the user.", {
        "type": "object", "properties": {"message": _string("The message.")}, "required": ["message"],
    }, attached_to=LEGACY_AGENT_TYPES),
    BaseTool("conversation_search", "letta_core", "Search prior conversation history.", {
        "type": "object",
        "properties": {
            "query": _string("What to search for."),
            "roles": {"type": "array", "items": {"type": "string", "enum": ["assistant", "user", "tool"]},
                      "description": "Only messages of these roles."},
            "limit": {"type": "integer", "description": "At most this many results."},
            "start_date": _string("Only messages from this date on (ISO 8601)."),
            "end_date": _string("Only messages up to this date (ISO 8601)."),
        },
        "required": [],
    }, parallel=True),
    BaseTool("memory_insert", "letta_sleeptime_core", "Insert text into a memory block.", {
        "type": "object",
        "properties": {"label": _string("The block."), "new_string": _string("The text."),
                       "insert_line": {"type": "integer", "description": "The line to insert after (0: the top)."}},
        "required": ["label", "new_string"],
    }),
    BaseTool("memory_replace", "letta_sleeptime_core", "Replace text in a memory block.", {
        "type": "object",
        "properties": {"label": _string("The block."), "old_string": _string("The text to replace."),
                       "new_string": _string("The new text.")},
        "required": ["label", "old_string", "new_string"],
    }),
)  # fmt: skip


# -- texts ----------------------------------------------------------------------------------------------------------


class Texts:
    """The sentences Letta writes (§4, §5, §9, §12, §13, §14, §15, §18), as the mock writes them too."""

    PENDING_APPROVAL = (
        "CONFLICT: Cannot send a new message: The agent is waiting for approval on a tool call. "
        "Please approve or deny the pending request before continuing."
    )
    NOTHING_PENDING = (
        "Cannot process approval response: No tool call is currently awaiting approval. "
        "Please send a regular message to interact with the agent."
    )
    UNKNOWN_ERROR = "An unknown error occurred"
    NOT_FOUND = "Not Found"
    UNAUTHORIZED = "Unauthorized"  # password mode without the password (§1.2)
    MESSAGE_EDITING = (
        "Message editing is no longer supported. Messages are immutable as they may be shared across multiple "
        "conversations via forking."
    )
    MESSAGES_EMPTY = "Messages must not be empty"
    STREAMING_NEEDS_SDK = "streaming=true is only supported for SDK v1.0+ clients."
    BOTH_INPUTS = "Value error, Cannot specify both 'input' and 'messages'. Use one or the other."
    NO_INPUT = "Value error, Must specify either 'input' or 'messages'."
    NOT_BACKGROUND = "INVALID_ARGUMENT: Run was not created in background mode, so it cannot be retrieved."
    RUN_EXPIRED = "EXPIRED: Run was created more than 3 hours ago, and is now expired."  # 410 (wire doc §13.3)
    SUMMARIZE_FAILED = (
        "Summarization failed to reduce the number of messages. You may not have enough messages to compact or "
        "need to use a different CompactionSettings (e.g. using `all` mode)."
    )
    # Nothing to summarize: Letta fails to answer a null summary (pydantic's message, wire doc §12).
    NO_SUMMARY = (
        "1 validation error for CompactionResponse\nsummary\n  Input should be a valid string [type=string_type, "
        "input_value=None, input_type=NoneType]\n    For further information visit "
        "https://errors.pydantic.dev/2.11/v/string_type"
    )
    AGENT_NOT_FOUND = "Agent not found"  # list, async
    SEARCH_NEEDS_TURBOPUFFER = "Message search requires message embedding, OpenAI, and Turbopuffer to be enabled."

    @staticmethod
    def agent_not_found(agent_id: str) -> str:  # send, summarize
        return f"Agent with ID {agent_id} not found"

    @staticmethod
    def agent_not_found_reset(agent_id: str) -> str:  # reset, delete, modify (the prefix of the real text)
        return f"Agent not found with id='{agent_id}'"

    @staticmethod
    def block_not_found(label: str, agent_id: str) -> str:
        return f"Block with label '{label}' not found for agent '{agent_id}'"

    @staticmethod
    def agent_deleted(agent_id: str) -> str:
        return f"Agent id={agent_id} successfully deleted"

    NO_MODEL = "INVALID_ARGUMENT: Must specify either model or llm_config in request"
    NO_ACTIVE_RUN = "INVALID_ARGUMENT: No active runs found for this conversation."

    @staticmethod
    def unknown_tool(name: str, valid: list[str]) -> str:
        """The tool return of a call naming a tool the agent does not have (its status: error); ``valid`` is printed
        as the server prints a Python list (letta/agents/helpers.py, ``_build_rule_violation_result``)."""
        return f"[ToolConstraintError] Cannot call {name}, valid tools include: {valid!r}."

    @staticmethod
    def tool_not_found(tool_id: str) -> str:
        return f"Tool not found with id='{tool_id}'"

    @staticmethod
    def tool_gone(tool_id: str) -> str:  # deleting a tool twice
        return f"Tool with id {tool_id} not found."

    @staticmethod
    def tool_names_differ(name: str, source: str) -> str:  # a modify whose json_schema names another function
        return (
            f"Tool name '{name}' does not match the name in the JSON schema '{name}' or in the source code `{source}`"
        )

    @staticmethod
    def tool_schema_failed(reason: str) -> str:
        return f"Failed to derive json schema: Schema generation failed: {reason}"

    @staticmethod
    def conversation_gone(conversation_id: str) -> str:  # a deleted conversation (the prefix of the real text)
        return f"Conversation not found with id='{conversation_id}'"

    @staticmethod
    def nothing_to_cancel_in(conversation_id: str) -> str:
        return f"CONFLICT: No active runs to cancel for conversation {conversation_id}"

    @staticmethod
    def run_not_found(run_id: str) -> str:
        return f"Run not found with id='{run_id}'"

    @staticmethod
    def bad_run_id(run_id: str) -> str:
        return f"INVALID_ARGUMENT: Invalid run ID format: {run_id}. Expected format: 'run-<uuid4>'"

    @staticmethod
    def conversation_not_found(conversation_id: str) -> str:
        return f"Conversation with id {conversation_id} not found"

    @staticmethod
    def message_not_found(message_id: str) -> str:
        return f"Message with id {message_id} not found."

    @staticmethod
    def cursor_not_found(message_id: str, owner: str) -> str:
        return f"No message found with id '{message_id}' for agent '{owner}'."

    @staticmethod
    def nothing_to_cancel(agent_id: str) -> str:
        return f"CONFLICT: No active runs to cancel for agent {agent_id}"

    @staticmethod
    def conversation_busy(run_id: str) -> str:
        return (
            f"CONFLICT: Cannot send a new message: Another request (run_id={run_id}) is currently being processed "
            "for this conversation. Please wait for it to complete."
        )

    @staticmethod
    def invalid_tool_call_ids(unknown: list[str], known: list[str]) -> str:
        return f"Invalid tool call IDs: {unknown}. Expected: {known}"

    @staticmethod
    def streaming_options(reasons: list[str]) -> str:
        return (
            "Streaming options set without streaming enabled. " + "; ".join(reasons) + ". Either set streaming=true "
            "or use default values for streaming options."
        )
