"""The operations table: every endpoint the mock serves, once, as data. The Starlette routes (``app``, which binds
each row to the handler of its operationId), our OpenAPI document (``openapi``) and the request journal's operation
names (the route's) all come from these rows; ``letta-mock fuzz`` reads them without loading the server.

A row is Letta's operation: method, path (under ``/v1``, as Letta spells it), operationId (the name of its handler
in ``handlers/``, in the module ``module`` names: ``app`` imports it on the operation's first request), and what the
document says of it (tag, summary, parameters, request and response, errors). Parameters are keys of
``parameters.PARAMETERS``; ``name@variant`` picks a variant of a name that differs between operations (``limit@50``,
``agent_id@query``). ``aliases`` are further paths of the same handler (Letta answers ``/v1/health`` as well as
``/v1/health/``); ``documented=False`` rows are routes Letta serves but does not document (they answer 405). Every
path is also served under ``/latest``.

To add an endpoint: one row here and its handler in ``handlers/<module>.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from mockserver.models import (
    BlockUpdate,
    CancelAgentRunRequest,
    CompactionRequest,
    ConversationCompactionRequest,
    ConversationMessageRequest,
    CreateAgentRequest,
    CreateConversation,
    LettaAsyncRequest,
    LettaStreamingRequest,
    ResetMessagesRequest,
    RetrieveStreamRequest,
    SearchAllMessagesRequest,
    ToolCreate,
    ToolUpdate,
    UpdateAgent,
    UpdateConversation,
)

__all__ = ["OPERATIONS", "PREFIXES", "Operation", "array", "ref"]

PREFIXES = ("/v1", "/latest")  # Letta mounts the same routers under /latest as well (wire doc §1.1)


def ref(component: str) -> dict[str, str]:
    """A JSON body that is the document's component ``component``."""
    return {"$ref": f"#/components/schemas/{component}"}


def array(component: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(component)}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # under /v1, as Letta spells it (trailing slash included)
    operation_id: str  # also its handler's name in ``handlers/``
    tag: str = ""
    summary: str = ""
    description: str = ""
    parameters: tuple[str, ...] = ()  # keys of parameters.PARAMETERS
    body: type[BaseModel] | None = None
    body_required: bool = False
    json: dict[str, Any] | None = None  # the 200 application/json body
    sse: bool = False  # the 200 can be text/event-stream
    errors: tuple[int, ...] = ()
    deprecated: bool = False
    aliases: tuple[str, ...] = ()
    documented: bool = True
    module: str = field(kw_only=True)  # handlers/<module>.py holds its handler (named by operation_id)


_AGENT = "/v1/agents/{agent_id}"
_CONVERSATION = "/v1/conversations/{conversation_id}"
_RUN = "/v1/runs/{run_id}"
_PAGE = ("before", "after", "limit")
_MESSAGES = array("LettaMessageUnion")
_NULL: dict[str, Any] = {"type": "null"}
_INTEGER: dict[str, Any] = {"type": "integer"}
_STATE_OR_NULL: dict[str, Any] = {"anyOf": [ref("AgentState"), _NULL]}
_TOOL = "/v1/tools/{tool_id}"
_CONV = "/v1/conversations/{conversation_id}"
_AGENT_FILTERS = ("query_text", "project_id", "template_id", "base_template_id", "identity_id", "identifier_keys")
_TOOL_FILTERS = ("name", "names", "tool_ids", "search", "tool_types", "exclude_tool_types", "return_only_letta_tools")

# Errors: 400/409 come from Letta's approval rules and checks the closed world or server fidelity switch on (and 400
# from a malformed trigger phrase in any sent message), 404 from the closed world, 413 from the body limit, 422 from
# request validation. A streaming send reports the approval refusals in-band (so the streaming-only operation lists
# no 409); a busy conversation is a 409 whether streaming or not (wire doc §14).
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST", _AGENT + "/messages", "send_message", "agents", "Send Message",
        "Send messages to the agent and get its answer: a LettaResponse, or an event stream when `streaming` is "
        "true.",
        ("agent_id",), LettaStreamingRequest, True, ref("LettaResponse"), sse=True, errors=(400, 404, 409, 413, 422),
        module="agent_messages",
    ),
    Operation(
        "GET", _AGENT + "/messages", "list_messages", "agents", "List Messages",
        "The agent's message history, oldest first within the page.",
        ("agent_id", *_PAGE, "order", "order_by", "group_id", "conversation_id@query", "use_assistant_message",
         "assistant_message_tool_name", "assistant_message_tool_kwarg", "include_err",
         "include_return_message_types"),
        json=_MESSAGES, errors=(404, 422), module="message_history",
    ),
    Operation(
        "POST", _AGENT + "/messages/stream", "create_agent_message_stream",
        "agents", "Send Message Streaming",
        "Send messages and stream the answer (deprecated: use send_message with `streaming: true`).",
        ("agent_id",), LettaStreamingRequest, True, sse=True, errors=(400, 404, 413, 422), deprecated=True,
        module="agent_messages",
    ),
    Operation(
        "POST", _AGENT + "/messages/cancel", "cancel_message", "agents",
        "Cancel Message", "Cancel the given runs, or the agent's active ones; answers what became of each run.",
        ("agent_id",), CancelAgentRunRequest, False, ref("CancelResult"), errors=(409, 413, 422),
        module="agent_messages",
    ),
    Operation(
        "POST", _AGENT + "/messages/async", "create_agent_message_async",
        "agents", "Send Message Async", "Start a run in the background and answer with it at once (status `created`).",
        ("agent_id",), LettaAsyncRequest, True, ref("Run"), errors=(400, 404, 413, 422), module="agent_messages",
    ),
    Operation(
        "PATCH", _AGENT + "/messages/{message_id}", "modify_message", documented=False, module="agent_messages",
    ),
    Operation(
        "PATCH", _AGENT + "/reset-messages", "reset_messages", "agents",
        "Reset Messages", "Start the agent's context window over; stored history stays listable.",
        ("agent_id",), ResetMessagesRequest, True, ref("AgentState"), errors=(404, 413, 422), module="agent_messages",
    ),
    Operation(
        "POST", _AGENT + "/summarize", "summarize_messages", "agents",
        "Summarize Messages", "Compact the agent's context window into a summary message.",
        ("agent_id",), CompactionRequest, False, ref("CompactionResponse"), errors=(400, 404, 413, 422),
        module="agent_messages",
    ),
    Operation(
        "POST", _CONVERSATION + "/messages", "send_conversation_message",
        "conversations", "Send Conversation Message",
        "Send messages in a conversation; streams unless `streaming` is false.",
        ("conversation_id",), ConversationMessageRequest, True, ref("LettaResponse"), sse=True,
        errors=(400, 404, 409, 413, 422), module="conversations",
    ),
    Operation(
        "GET", _CONVERSATION + "/messages", "list_conversation_messages",
        "conversations", "List Conversation Messages", "The conversation's messages.",
        ("conversation_id", "agent_id@query", *_PAGE, "order", "order_by", "group_id", "include_err",
         "include_return_message_types"),
        json=_MESSAGES, errors=(404, 422), module="conversations",
    ),
    Operation(
        "POST", _CONVERSATION + "/stream", "retrieve_conversation_stream",
        "conversations", "Retrieve Conversation Stream",
        "Resume the stream of a run (`run_id`, else the conversation's latest) after the `seq_id` `starting_after`.",
        ("conversation_id",), RetrieveStreamRequest, False, sse=True, errors=(400, 404, 413, 422),
        module="conversations",
    ),
    Operation(
        "POST", _CONVERSATION + "/compact", "compact_conversation",
        "conversations", "Compact Conversation", "Compact the conversation's context window into a summary message.",
        ("conversation_id",), ConversationCompactionRequest, False, ref("CompactionResponse"),
        errors=(400, 404, 413, 422), module="conversations",
    ),
    Operation(
        "GET", _RUN + "/messages", "list_messages_for_run", "runs",
        "List Messages For Run", "The messages a run produced.",
        ("run_id", *_PAGE, "order@asc", "order_by"), json=_MESSAGES, errors=(400, 404, 422), module="runs",
    ),
    Operation(
        "POST", _RUN + "/stream", "retrieve_stream_for_run", "runs",
        "Retrieve Stream For Run",
        "Replay a run's stream after the `seq_id` `starting_after`, following it live until the run ends.",
        ("run_id",), RetrieveStreamRequest, False, sse=True, errors=(400, 404, 413, 422), module="runs",
    ),
    Operation(
        "GET", "/v1/messages/", "list_all_messages", "messages", "List All Messages",
        "Messages of every agent.",
        (*_PAGE, "order", "conversation_id@query", "include_return_message_types"), json=_MESSAGES, errors=(404, 422),
        aliases=("/v1/messages",), module="messages",
    ),
    Operation(
        "GET", "/v1/messages/{message_id}", "retrieve_message", "messages",
        "Retrieve Message",
        "The items of one stored message (one message can expand into several items sharing its id).",
        ("message_id",), json=_MESSAGES, errors=(404, 422), module="messages",
    ),
    Operation(
        "POST", "/v1/messages/search", "search_all_messages", "messages",
        "Search All Messages", "Messages whose text contains the query, newest first.",
        body=SearchAllMessagesRequest, body_required=True, json=array("SearchResult"), errors=(400, 413, 422),
        module="messages",
    ),
    # -- agents ---------------------------------------------------------------------------------------------
    Operation(
        "GET", "/v1/agents/", "list_agents", "agents", "List Agents",
        "Agents, newest first: those a client created and those the open world made up on first use.",
        ("name", "tags", "match_all_tags", "before@agents", "after@agents", "limit@50", *_AGENT_FILTERS,
         "include_relationships", "include", "order@agents", "order_by@agents", "ascending", "sort_by",
         "last_stop_reason", "created_by_id"),
        json=array("AgentState"), errors=(422,), aliases=("/v1/agents",), module="agents",
    ),
    Operation(
        "POST", "/v1/agents/", "create_agent", "agents", "Create Agent",
        "Create an agent; Letta's own rules apply to it from then on.",
        ("X-Project",), CreateAgentRequest, True, ref("AgentState"), errors=(400, 404, 413, 422),
        aliases=("/v1/agents",), module="agents",
    ),
    Operation(
        "GET", "/v1/agents/count", "count_agents", "agents", "Count Agents",
        "How many agents match the filters.",
        ("name", "tags", "match_all_tags@count", *_AGENT_FILTERS, "last_stop_reason", "created_by_id"),
        json=_INTEGER, errors=(422,), module="agents",
    ),
    Operation(
        "GET", _AGENT, "retrieve_agent", "agents", "Retrieve Agent", "One agent.",
        ("agent_id", "include_relationships", "include"), json=ref("AgentState"), errors=(404, 422), module="agents",
    ),
    Operation(
        "PATCH", _AGENT, "modify_agent", "agents", "Modify Agent",
        "Change an agent's configuration: only the fields given change.",
        ("agent_id",), UpdateAgent, True, ref("AgentState"), errors=(404, 413, 422), module="agents",
    ),
    Operation(
        "DELETE", _AGENT, "delete_agent", "agents", "Delete Agent",
        "Delete an agent with its history, conversations and runs; its id answers 404 from then on.",
        ("agent_id",), json=ref("DeleteAgentResponse"), errors=(404, 422), module="agents",
    ),
    Operation(
        "GET", _AGENT + "/tools", "list_tools_for_agent", "agents",
        "List Tools For Agent", "The tools attached to an agent.",
        ("agent_id", "before@tools", "after@tools", "limit@10", "order@tools", "order_by"),
        json=array("Tool"), errors=(404, 422), module="agents",
    ),
    Operation(
        "PATCH", _AGENT + "/tools/attach/{tool_id}", "attach_tool_to_agent", "agents",
        "Attach Tool To Agent", "Attach a tool to an agent: the agent can call it. Answers null, as Letta does.",
        ("tool_id", "agent_id"), json=_STATE_OR_NULL, errors=(404, 422), module="agents",
    ),
    Operation(
        "PATCH", _AGENT + "/tools/detach/{tool_id}", "detach_tool_from_agent",
        "agents", "Detach Tool From Agent", "Detach a tool from an agent. Answers null, as Letta does.",
        ("tool_id", "agent_id"), json=_STATE_OR_NULL, errors=(404, 422), module="agents",
    ),
    Operation(
        "GET", _AGENT + "/context", "retrieve_agent_context_window", "agents",
        "Retrieve Agent Context Window", "What fills the agent's context window, in plausible token counts.",
        ("agent_id", "conversation_id@query"), json=ref("ContextWindowOverview"), errors=(404, 422), deprecated=True,
        module="agents",
    ),
    Operation(
        "GET", _AGENT + "/core-memory/blocks/{block_label}", "retrieve_core_memory_block", "agents",
        "Retrieve Block For Agent", "One memory block of the agent.",
        ("block_label", "agent_id"), json=ref("Block"), errors=(404, 422), module="agents",
    ),
    Operation(
        "PATCH", _AGENT + "/core-memory/blocks/{block_label}", "modify_core_memory_block", "agents",
        "Modify Block For Agent",
        "Change one memory block of the agent (its system message shows it once recompiled).",
        ("block_label", "agent_id"), BlockUpdate, True, ref("Block"), errors=(404, 413, 422), module="agents",
    ),
    # -- tools ----------------------------------------------------------------------------------------------
    Operation(
        "GET", "/v1/tools/", "list_tools", "tools", "List Tools", "Tools, newest first.",
        ("before@tools", "after@tools", "limit@50", "order@tools", "order_by", *_TOOL_FILTERS),
        json=array("Tool"), errors=(422,), aliases=("/v1/tools",), module="tools",
    ),
    Operation(
        "POST", "/v1/tools/", "create_tool", "tools", "Create Tool",
        "Create a tool; its name and JSON schema come from its source unless given (the code never runs).",
        body=ToolCreate, body_required=True, json=ref("Tool"), errors=(400, 413, 422), aliases=("/v1/tools",),
        module="tools",
    ),
    Operation(
        "PUT", "/v1/tools/", "upsert_tool", "tools", "Upsert Tool",
        "Create a tool, or update the one of the same name.",
        body=ToolCreate, body_required=True, json=ref("Tool"), errors=(400, 413, 422), aliases=("/v1/tools",),
        module="tools",
    ),
    Operation(
        "GET", "/v1/tools/count", "count_tools", "tools", "Count Tools",
        "How many tools match the filters.",
        ("name", "names", "tool_ids", "search", "tool_types", "exclude_tool_types", "return_only_letta_tools@count",
         "exclude_letta_tools"),
        json=_INTEGER, errors=(422,), module="tools",
    ),
    Operation(
        "GET", _TOOL, "retrieve_tool", "tools", "Retrieve Tool", "One tool.",
        ("tool_id",), json=ref("Tool"), errors=(404, 422), module="tools",
    ),
    Operation(
        "PATCH", _TOOL, "modify_tool", "tools", "Modify Tool", "Change a tool.",
        ("tool_id",), ToolUpdate, True, ref("Tool"), errors=(400, 404, 413, 422), module="tools",
    ),
    Operation(
        "DELETE", _TOOL, "delete_tool", "tools", "Delete Tool", "Delete a tool.",
        ("tool_id",), json=_NULL, errors=(400, 404, 422), module="tools",
    ),
    # -- conversations --------------------------------------------------------------------------------------
    Operation(
        "POST", "/v1/conversations/", "create_conversation", "conversations",
        "Create Conversation", "Start a conversation of an agent: its own system message and context window.",
        ("agent_id@required",), CreateConversation, False, ref("Conversation"), errors=(404, 413, 422),
        aliases=("/v1/conversations",), module="conversations",
    ),
    Operation(
        "GET", "/v1/conversations/", "list_conversations", "conversations",
        "List Conversations", "The conversations clients created, newest first.",
        ("agent_id@query", "limit@conversations", "after@conversations", "summary_search", "order@conversations",
         "order_by@conversations"),
        json=array("Conversation"), errors=(422,), aliases=("/v1/conversations",), module="conversations",
    ),
    Operation(
        "GET", _CONV, "retrieve_conversation", "conversations",
        "Retrieve Conversation", "One conversation, with its context window.",
        ("conversation_id@conv",), json=ref("Conversation"), errors=(404, 422), module="conversations",
    ),
    Operation(
        "PATCH", _CONV, "update_conversation", "conversations",
        "Update Conversation", "Change a conversation's summary or model.",
        ("conversation_id@conv",), UpdateConversation, True, ref("Conversation"), errors=(404, 413, 422),
        module="conversations",
    ),
    Operation(
        "DELETE", _CONV, "delete_conversation", "conversations",
        "Delete Conversation", "Delete a conversation; its id answers 404 from then on.",
        ("conversation_id@conv",), json=_NULL, errors=(404, 422), module="conversations",
    ),
    Operation(
        "POST", _CONVERSATION + "/fork", "fork_conversation", "conversations",
        "Fork Conversation", "A new conversation sharing this one's messages so far.",
        ("conversation_id", "agent_id@query"), json=ref("Conversation"), errors=(404, 422), module="conversations",
    ),
    Operation(
        "POST", _CONVERSATION + "/cancel", "cancel_conversation",
        "conversations", "Cancel Conversation", "Cancel the conversation's active runs.",
        ("conversation_id", "agent_id@query"), json=ref("CancelResult"), errors=(404, 409, 422), module="conversations",
    ),
    Operation(
        "POST", _CONVERSATION + "/recompile", "recompile_conversation",
        "conversations", "Recompile Conversation", "Rebuild the conversation's system message from current memory.",
        ("conversation_id", "dry_run"), ConversationCompactionRequest, False, {"type": "string"},
        errors=(404, 413, 422), module="conversations",
    ),
    # -- runs -----------------------------------------------------------------------------------------------
    Operation(
        "GET", "/v1/runs/", "list_runs", "runs", "List Runs", "Runs, newest first.",
        ("agent_id@query", "agent_ids", "statuses", "background", "stop_reason", "conversation_id@query",
         "before@runs", "after@runs", "limit@runs", "order@runs", "order_by", "active", "ascending"),
        json=array("Run"), errors=(422,), aliases=("/v1/runs",), module="runs",
    ),
    Operation(
        "GET", "/v1/runs/active", "list_active_runs", "runs", "List Active Runs",
        "The runs still running.", ("agent_id@query", "background"), json=array("Run"), errors=(422,),
        deprecated=True, module="runs",
    ),
    Operation(
        "GET", _RUN, "retrieve_run", "runs", "Retrieve Run", "One run and its status.",
        ("run_id",), json=ref("Run"), errors=(400, 404), module="runs",
    ),
    Operation(
        "DELETE", _RUN, "delete_run", "runs", "Delete Run", "Delete a run.",
        ("run_id",), json=_NULL, errors=(400, 404), module="runs",
    ),
    Operation(
        "GET", _RUN + "/usage", "retrieve_usage_for_run", "runs",
        "Retrieve Usage For Run", "The run's token usage.", ("run_id",), json=ref("UsageStatistics"),
        errors=(400, 404), module="runs",
    ),
    Operation(
        "GET", _RUN + "/steps", "list_steps_for_run", "runs", "List Steps For Run",
        "The run's steps, one per LLM call.",
        ("run_id", "before@steps", "after@steps", "limit@steps", "order@steps", "order_by"), json=array("Step"),
        errors=(400, 404, 422), module="runs",
    ),
    Operation(
        "GET", "/v1/health/", "check_health", "health", "Check Health",
        "Liveness: the server answers.", json=ref("Health"), aliases=("/v1/health",), module="service",
    ),
)  # fmt: skip
