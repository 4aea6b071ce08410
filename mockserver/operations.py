"""The operations table: every endpoint the mock serves, once. The Starlette routes (``app``), our OpenAPI
document (``openapi``) and the request journal's operation names all come from these rows.

A row is Letta's operation: method, path (under ``/v1``, as Letta spells it), operationId, the handler, and what
the document says of it (tag, summary, parameters, request and response, errors). ``aliases`` are further paths
of the same handler (Letta answers ``/v1/health`` as well as ``/v1/health/``); ``documented=False`` rows are
routes Letta serves but does not document (they answer 405). Every path is also served under ``/latest``.

To add an endpoint: one row here and its handler in ``handlers/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from mockserver.handlers import agent_messages, conversations, messages, runs, service
from mockserver.models import (
    CancelAgentRunRequest,
    CompactionRequest,
    ConversationCompactionRequest,
    ConversationMessageRequest,
    LettaAsyncRequest,
    LettaStreamingRequest,
    ResetMessagesRequest,
    RetrieveStreamRequest,
    SearchAllMessagesRequest,
)

__all__ = ["OPERATIONS", "PREFIXES", "Operation", "array", "ref"]

Handler = Callable[[Request], Awaitable[Response]]
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
    operation_id: str
    handler: Handler
    tag: str = ""
    summary: str = ""
    description: str = ""
    parameters: tuple[str, ...] = ()  # names in openapi.PARAMETERS
    body: type[BaseModel] | None = None
    body_required: bool = False
    json: dict[str, Any] | None = None  # the 200 application/json body
    sse: bool = False  # the 200 can be text/event-stream
    errors: tuple[int, ...] = ()
    deprecated: bool = False
    aliases: tuple[str, ...] = ()
    documented: bool = True


_AGENT = "/v1/agents/{agent_id}"
_CONVERSATION = "/v1/conversations/{conversation_id}"
_RUN = "/v1/runs/{run_id}"
_PAGE = ("before", "after", "limit")
_MESSAGES = array("LettaMessageUnion")

# Errors: 400/409 come from Letta's approval rules and checks the closed world or server fidelity switch on (and 400
# from a malformed trigger phrase in any sent message), 404 from the closed world, 413 from the body limit, 422 from
# request validation. A streaming send reports the approval refusals in-band (so the streaming-only operation lists
# no 409); a busy conversation is a 409 whether streaming or not (wire doc §14).
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST", _AGENT + "/messages", "send_message", agent_messages.send_message, "agents", "Send Message",
        "Send messages to the agent and get its answer: a LettaResponse, or an event stream when `streaming` is "
        "true.",
        ("agent_id",), LettaStreamingRequest, True, ref("LettaResponse"), sse=True, errors=(400, 404, 409, 413, 422),
    ),
    Operation(
        "GET", _AGENT + "/messages", "list_messages", agent_messages.list_messages, "agents", "List Messages",
        "The agent's message history, oldest first within the page.",
        ("agent_id", *_PAGE, "order", "order_by", "group_id", "conversation_id", "use_assistant_message",
         "assistant_message_tool_name", "assistant_message_tool_kwarg", "include_err",
         "include_return_message_types"),
        json=_MESSAGES, errors=(404, 422),
    ),
    Operation(
        "POST", _AGENT + "/messages/stream", "create_agent_message_stream", agent_messages.create_agent_message_stream,
        "agents", "Send Message Streaming",
        "Send messages and stream the answer (deprecated: use send_message with `streaming: true`).",
        ("agent_id",), LettaStreamingRequest, True, sse=True, errors=(400, 404, 413, 422), deprecated=True,
    ),
    Operation(
        "POST", _AGENT + "/messages/cancel", "cancel_message", agent_messages.cancel_message, "agents",
        "Cancel Message", "Cancel the given runs, or the agent's active ones; answers what became of each run.",
        ("agent_id",), CancelAgentRunRequest, False, ref("CancelResult"), errors=(409, 413, 422),
    ),
    Operation(
        "POST", _AGENT + "/messages/async", "create_agent_message_async", agent_messages.create_agent_message_async,
        "agents", "Send Message Async", "Start a run in the background and answer with it at once (status `created`).",
        ("agent_id",), LettaAsyncRequest, True, ref("Run"), errors=(400, 404, 413, 422),
    ),
    Operation(
        "PATCH", _AGENT + "/messages/{message_id}", "modify_message", agent_messages.edit_message, documented=False,
    ),
    Operation(
        "GET", _AGENT + "/messages/{message_id}", "retrieve_agent_message", agent_messages.method_not_allowed,
        documented=False,
    ),
    Operation(
        "PATCH", _AGENT + "/reset-messages", "reset_messages", agent_messages.reset_messages, "agents",
        "Reset Messages", "Start the agent's context window over; stored history stays listable.",
        ("agent_id",), ResetMessagesRequest, True, ref("AgentState"), errors=(404, 413, 422),
    ),
    Operation(
        "POST", _AGENT + "/summarize", "summarize_messages", agent_messages.summarize_messages, "agents",
        "Summarize Messages", "Compact the agent's context window into a summary message.",
        ("agent_id",), CompactionRequest, False, ref("CompactionResponse"), errors=(400, 404, 413, 422),
    ),
    Operation(
        "POST", _CONVERSATION + "/messages", "send_conversation_message", conversations.send_conversation_message,
        "conversations", "Send Conversation Message",
        "Send messages in a conversation; streams unless `streaming` is false.",
        ("conversation_id",), ConversationMessageRequest, True, ref("LettaResponse"), sse=True,
        errors=(400, 404, 409, 413, 422),
    ),
    Operation(
        "GET", _CONVERSATION + "/messages", "list_conversation_messages", conversations.list_conversation_messages,
        "conversations", "List Conversation Messages", "The conversation's messages.",
        ("conversation_id", "agent_id", *_PAGE, "order", "order_by", "group_id", "include_err",
         "include_return_message_types"),
        json=_MESSAGES, errors=(404, 422),
    ),
    Operation(
        "POST", _CONVERSATION + "/stream", "retrieve_conversation_stream", conversations.retrieve_conversation_stream,
        "conversations", "Retrieve Conversation Stream",
        "Resume the stream of a run (`run_id`, else the conversation's latest) after the `seq_id` `starting_after`.",
        ("conversation_id",), RetrieveStreamRequest, False, sse=True, errors=(404, 413, 422),
    ),
    Operation(
        "POST", _CONVERSATION + "/compact", "compact_conversation", conversations.compact_conversation,
        "conversations", "Compact Conversation", "Compact the conversation's context window into a summary message.",
        ("conversation_id",), ConversationCompactionRequest, False, ref("CompactionResponse"),
        errors=(400, 404, 413, 422),
    ),
    Operation(
        "GET", _RUN + "/messages", "list_messages_for_run", runs.list_messages_for_run, "runs",
        "List Messages For Run", "The messages a run produced.",
        ("run_id", *_PAGE, "order_asc", "order_by"), json=_MESSAGES, errors=(400, 404, 422),
    ),
    Operation(
        "POST", _RUN + "/stream", "retrieve_stream_for_run", runs.retrieve_stream_for_run, "runs",
        "Retrieve Stream For Run",
        "Replay a run's stream after the `seq_id` `starting_after`, following it live until the run ends.",
        ("run_id",), RetrieveStreamRequest, False, sse=True, errors=(400, 404, 413, 422),
    ),
    Operation(
        "GET", "/v1/messages/", "list_all_messages", messages.list_all_messages, "messages", "List All Messages",
        "Messages of every agent.",
        (*_PAGE, "order", "conversation_id", "include_return_message_types"), json=_MESSAGES, errors=(404, 422),
        aliases=("/v1/messages",),
    ),
    Operation(
        "GET", "/v1/messages/{message_id}", "retrieve_message", messages.retrieve_message, "messages",
        "Retrieve Message",
        "The items of one stored message (one message can expand into several items sharing its id).",
        ("message_id",), json=_MESSAGES, errors=(404, 422),
    ),
    Operation(
        "POST", "/v1/messages/search", "search_all_messages", messages.search_all_messages, "messages",
        "Search All Messages", "Messages whose text contains the query, newest first.",
        body=SearchAllMessagesRequest, body_required=True, json=array("SearchResult"), errors=(413, 422),
    ),
    Operation(
        "GET", _RUN, "retrieve_run", runs.retrieve_run, "runs", "Retrieve Run", "One run and its status.",
        ("run_id",), json=ref("Run"), errors=(400, 404),
    ),
    Operation(
        "GET", "/v1/health/", "check_health", service.check_health, "health", "Check Health",
        "Liveness: the server answers.", json=ref("Health"), aliases=("/v1/health",),
    ),
)  # fmt: skip
