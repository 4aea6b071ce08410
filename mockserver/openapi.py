"""Our own OpenAPI document: every ``/v1`` operation the mock serves, generated from its models.

Served at ``GET /openapi.json``; built on the first request, then cached (server start-up never pays for it).

Where it differs from Letta's document (../shared/spec/letta-openapi.json), on purpose:

* OpenAPI **3.2**, for ``itemSchema``: every ``text/event-stream`` response describes its events (Letta's gives
  none). An event is modelled as 3.2 models SSE, an object of the event's fields: ``data`` is a string whose JSON
  ``contentSchema`` is a ``LettaStreamingResponse`` chunk, ``event: error`` carries a ``LettaErrorMessage``, and
  ``[DONE]`` ends the stream. No ``id``/``retry`` fields: Letta sends neither.
* Response bodies come from the wire models in serialisation mode, so ``message_type`` (and every other field the
  server always sends) is required.
* Each operation lists the errors the mock can answer with in some configuration (open or closed world, contract or
  server fidelity), not only 422; an operation that streams lists only what it answers before the stream starts.
* Parameters keep Letta's names, locations and patterns; query parameters are typed without ``null`` (a query string
  cannot carry one). ``limit`` is bounded (0 to 2^63-1): Letta's server answers 500 beyond that.
* Responses carry OpenAPI **links** (``LINKS``) for stateful fuzzing: send → list → retrieve, async → run → run
  messages → run stream, cancel. ``letta-mock fuzz`` adds the same links to Letta's document.

Not described: the ``X-Letta-Mock`` header and the trigger phrases (``/error llm_timeout``) and the failures they
script, the ``/latest`` aliases, and the server-fidelity 422 body (a repr string, wire doc §15.2): this document is
the contract profile's.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import Field, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema

from mockserver import __version__, models
from mockserver.catalogue import INT64_MAX, LETTA_VERSION
from mockserver.http import PATH_PATTERNS
from mockserver.models import (
    MESSAGE_TYPES,
    STOP_REASONS,
    HTTPValidationError,
    NotFoundError,
    SearchResult,
    WireModel,
    message_adapter,
    stream_event_adapter,
)
from mockserver.operations import OPERATIONS, Operation
from mockserver.wire.sse import DONE

__all__ = [
    "LINKS",
    "NULLABLE_BODIES",
    "OPENAPI_VERSION",
    "SSE_EVENT",
    "input_message_union",
    "is_input_message_union",
    "openapi_document",
]

OPENAPI_VERSION = "3.2.0"
SSE_EVENT = "LettaServerSentEvent"  # the component every text/event-stream itemSchema refers to

_REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


# -- documentation-only models ----------------------------------------------------------------------------------


class PendingApprovalDetail(WireModel):
    """``detail`` of the 409 a plain message gets while a tool call waits for approval (wire doc §9)."""

    code: Literal["PENDING_APPROVAL"]
    message: str
    pending_request_id: str


class ConflictError(WireModel):
    """409: ``detail`` is a text, or an object for a pending approval; a busy conversation adds its ``run_id``."""

    detail: PendingApprovalDetail | str
    run_id: str | SkipJsonSchema[None] = Field(default=None, exclude_if=lambda value: value is None)


CancelResult = dict[str, Literal["cancelled", "failed"]]  # run id -> what became of it

_TAGS = {
    "agents": "Messages of one agent: send, stream, list, cancel, reset, compact.",
    "conversations": "Messages of one conversation of an agent.",
    "runs": "Runs: one execution of the agent loop each.",
    "messages": "Messages across all agents.",
    "health": "Liveness.",
}

# -- parameters -------------------------------------------------------------------------------------------------


def _path_parameter(name: str, what: str, *examples: str, kind: str | None = None) -> JsonSchemaValue:
    pattern, shortest, longest, _ = PATH_PATTERNS[kind or name]
    text = f"The {what} id, `{examples[0]}`."
    schema = {"type": "string", "minLength": shortest, "maxLength": longest, "pattern": pattern.pattern,
              "examples": list(examples)}  # fmt: skip
    return {"name": name, "in": "path", "required": True, "description": text, "schema": schema}


def _query(name: str, schema: JsonSchemaValue, description: str, **extra: Any) -> JsonSchemaValue:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


def _order(default: str, what: str = "the history the page is taken from") -> JsonSchemaValue:
    return _query(
        "order", {"type": "string", "enum": ["asc", "desc"], "default": default},
        f"Which end of {what}: `desc` the newest first, `asc` the oldest.",
    )  # fmt: skip


def _strings(name: str, description: str, **extra: Any) -> JsonSchemaValue:
    """A repeated query parameter of strings (``?x=a&x=b``)."""
    return _query(name, {"type": "array", "items": {"type": "string"}}, description, style="form", explode=True,
                  **extra)  # fmt: skip


def _text(name: str, description: str, **extra: Any) -> JsonSchemaValue:
    return _query(name, {"type": "string"}, description, **extra)


def _flag(name: str, description: str, default: bool | None = None, **extra: Any) -> JsonSchemaValue:
    schema: JsonSchemaValue = {"type": "boolean"} if default is None else {"type": "boolean", "default": default}
    return _query(name, schema, description, **extra)


def _limit(default: int, what: str) -> JsonSchemaValue:
    # Bounded where Letta's document is not: its server answers 500 beyond these (a database error).
    schema = {"type": "integer", "minimum": 0, "maximum": INT64_MAX, "default": default}
    return _query("limit", schema, f"How many {what} the page holds at most.")


def _cursor(name: str, what: str) -> JsonSchemaValue:
    side = "before" if name == "before" else "after"
    return _text(name, f"A {what} id; the page holds those {side} it, in the chosen order.")


_UUID = "123e4567-e89b-42d3-8456-426614174000"
_CURSOR = "A message id; the page holds the messages {} it, in the chosen order."
_DEPRECATED = {"deprecated": True}
_INCLUDES = ["agent.blocks", "agent.identities", "agent.managed_group", "agent.pending_approval", "agent.secrets",
             "agent.sources", "agent.tags", "agent.tools"]  # fmt: skip

# Documentation of every parameter; ``name@variant`` keys are a name whose meaning differs between operations.
PARAMETERS: dict[str, JsonSchemaValue] = {
    "agent_id": _path_parameter("agent_id", "agent", f"agent-{_UUID}"),
    "agent_id@query": _text("agent_id", "The agent (for the `default` conversation, or to filter by)."),
    "agent_id@required": {**_text("agent_id", "The agent the conversation belongs to."), "required": True},
    "conversation_id": {
        **_path_parameter("conversation_id", "conversation", f"conv-{_UUID}", "default", f"agent-{_UUID}"),
        "description": "`conv-<uuid4>`, `default` (the agent's default conversation, agent named by `agent_id`) "
        "or, deprecated, an agent id standing for that agent's default conversation.",
    },
    "conversation_id@conv": _path_parameter("conversation_id", "conversation", f"conv-{_UUID}", kind="conv_id"),
    "conversation_id@query": _text("conversation_id", "Only those of this conversation (`default`: messages outside "
                                   "any conversation)."),
    "message_id": _path_parameter("message_id", "message", f"message-{_UUID}"),
    "tool_id": _path_parameter("tool_id", "tool", f"tool-{_UUID}"),
    "run_id": {
        "name": "run_id", "in": "path", "required": True, "schema": {"type": "string", "examples": [f"run-{_UUID}"]},
        "description": "The run id, `run-<uuid4>`. Letta puts no pattern on it; a closed-world or server-fidelity "
        "mock answers 400 to any other form.",
    },
    "X-Project": {"name": "X-Project", "in": "header", "required": False, "schema": {"type": "string"},
                  "description": "A project slug (Letta Cloud); accepted, ignored."},
    "before": _query("before", {"type": "string"}, _CURSOR.format("before")),
    "after": _query("after", {"type": "string"}, _CURSOR.format("after")),
    "limit": _limit(100, "stored messages"),
    "order": _order("desc"),
    "order_asc": _order("asc"),
    "order_by": _query("order_by", {"type": "string", "const": "created_at", "default": "created_at"}, "Sort key."),
    "group_id": _query("group_id", {"type": "string"}, "Group filter (accepted, ignored by the mock)."),
    "use_assistant_message": _query(
        "use_assistant_message", {"type": "boolean", "default": True}, "Deprecated; accepted.", **_DEPRECATED
    ),
    "assistant_message_tool_name": _query(
        "assistant_message_tool_name", {"type": "string", "default": "send_message"}, "Deprecated; accepted.",
        **_DEPRECATED,
    ),
    "assistant_message_tool_kwarg": _query(
        "assistant_message_tool_kwarg", {"type": "string", "default": "message"}, "Deprecated; accepted.",
        **_DEPRECATED,
    ),
    "include_err": _query("include_err", {"type": "boolean"}, "Include error messages (accepted, ignored)."),
    "include_return_message_types": _query(
        "include_return_message_types", {"type": "array", "items": _ref("MessageType")},
        "Only these message types (repeat the parameter for several); all types when absent.",
        style="form", explode=True,
    ),
    # agents
    "name": _text("name", "Only those of this name."),
    "tags": _strings("tags", "Only agents with these tags."),
    "match_all_tags": _flag("match_all_tags", "Only agents with every tag given (else any).", False),
    "match_all_tags@count": _flag("match_all_tags", "Count only agents with every tag given (else any).", False),
    "before@agents": _cursor("before", "agent"),
    "after@agents": _cursor("after", "agent"),
    "limit@50": _limit(50, "resources"),
    "query_text": _text("query_text", "Only agents whose name contains this text."),
    "project_id": _text("project_id", "Project filter (accepted, ignored)."),
    "template_id": _text("template_id", "Template filter (accepted, ignored)."),
    "base_template_id": _text("base_template_id", "Template filter (accepted, ignored)."),
    "identity_id": _text("identity_id", "Identity filter (accepted, ignored)."),
    "identifier_keys": _strings("identifier_keys", "Identity filter (accepted, ignored)."),
    "include_relationships": _strings("include_relationships", "Deprecated; accepted.", **_DEPRECATED),
    "include": _query("include", {"type": "array", "items": {"type": "string", "enum": _INCLUDES}, "default": []},
                      "Relations to include (none by default for a 1.x SDK).", style="form", explode=True),
    "order@agents": _order("desc", "the agents"),
    "order_by@agents": _query("order_by", {"type": "string", "enum": ["created_at", "updated_at",
                              "last_run_completion"], "default": "created_at"}, "Sort key."),
    "ascending": _flag("ascending", "Deprecated: use `order`.", False, **_DEPRECATED),
    "sort_by": _query("sort_by", {"type": "string", "default": "created_at"}, "Deprecated: use `order_by`.",
                      **_DEPRECATED),
    "last_stop_reason": _query("last_stop_reason", _ref("StopReasonType"), "Only agents whose last run ended so."),
    "created_by_id": _text("created_by_id", "Creator filter (accepted, ignored)."),
    "block_label": {"name": "block_label", "in": "path", "required": True, "schema": {"type": "string"},
                    "description": "The block's label, e.g. `human`."},
    "dry_run": _flag("dry_run", "Only show the recompiled system message; do not store it.", False),
    # tools
    "before@tools": _cursor("before", "tool"),
    "after@tools": _cursor("after", "tool"),
    "limit@10": _limit(10, "tools"),
    "order@tools": _order("desc", "the tools"),
    "names": _strings("names", "Only tools of these names."),
    "tool_ids": _strings("tool_ids", "Only tools of these ids (repeated, or comma-separated)."),
    "search": _text("search", "Only tools whose name contains this text (case-insensitive)."),
    "tool_types": _strings("tool_types", "Only tools of these types (repeated, or comma-separated)."),
    "exclude_tool_types": _strings("exclude_tool_types", "No tools of these types (repeated, or comma-separated)."),
    "return_only_letta_tools": _flag("return_only_letta_tools", "Only Letta's own tools (`letta_…` types).", False),
    "return_only_letta_tools@count": _flag("return_only_letta_tools", "Count only Letta's own tools.", False),
    "exclude_letta_tools": _flag("exclude_letta_tools", "Leave Letta's own tools out of the count.", False),
    # conversations
    "limit@conversations": _limit(50, "conversations"),
    "after@conversations": _cursor("after", "conversation"),
    "summary_search": _text("summary_search", "Only conversations whose summary contains this text."),
    "order@conversations": _order("desc", "the conversations"),
    "order_by@conversations": _query("order_by", {"type": "string", "enum": ["created_at", "last_run_completion",
                                     "last_message_at"], "default": "created_at"}, "Sort key."),
    # runs
    "agent_ids": _strings("agent_ids", "Deprecated: use `agent_id`.", **_DEPRECATED),
    "statuses": _strings("statuses", "Only runs of these statuses."),
    "background": _flag("background", "Only background runs (true) or only foreground ones (false)."),
    "stop_reason": _query("stop_reason", _ref("StopReasonType"), "Only runs that ended so."),
    "before@runs": _cursor("before", "run"),
    "after@runs": _cursor("after", "run"),
    "limit@runs": _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                         "How many runs the page holds at most."),
    "order@runs": _order("desc", "the runs"),
    "active": _flag("active", "Only runs still running.", False),
    "before@steps": _cursor("before", "step"),
    "after@steps": _cursor("after", "step"),
    "limit@steps": _limit(100, "steps"),
    "order@steps": _order("desc", "the steps"),
}  # fmt: skip


def _parameter(name: str) -> JsonSchemaValue:
    return PARAMETERS[name]


# -- schemas ----------------------------------------------------------------------------------------------------


class _Generator(GenerateJsonSchema):
    """pydantic's generator, except that wire dates stay ``date-time`` strings.

    Wire dates serialise through a ``PlainSerializer`` returning ``str`` (wire doc §1.5), which alone would make
    pydantic describe them as plain strings.
    """

    def generate_inner(self, schema: CoreSchema | Any) -> JsonSchemaValue:
        if self.mode == "serialization" and schema.get("type") == "datetime" and "serialization" in schema:
            return {"type": "string", "format": "date-time"}
        return super().generate_inner(schema)


_REQUEST_MODELS = tuple(dict.fromkeys(operation.body for operation in OPERATIONS if operation.body))
# (component name, mode, type). Unions get Letta's component names; everything else is named after its model.
# Components that are not one model: unions and mappings, by the names Letta gives them.
_NAMED: dict[str, TypeAdapter[Any]] = {
    "LettaMessageUnion": message_adapter,
    "LettaStreamingResponse": stream_event_adapter,
    "SearchResult": TypeAdapter(SearchResult),
    "CancelResult": TypeAdapter(CancelResult),
}


def _referenced(node: Any) -> list[str]:
    """Component names a JSON body of the operations table refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        own = [ref.rsplit("/", 1)[1]] if isinstance(ref, str) else []
        return own + [name for value in node.values() for name in _referenced(value)]
    return []


_RESPONSE_NAMES = dict.fromkeys(name for operation in OPERATIONS for name in _referenced(operation.json))
_SCHEMAS: tuple[tuple[str, JsonSchemaMode, TypeAdapter[Any]], ...] = (
    *((model.__name__, "validation", TypeAdapter(model)) for model in _REQUEST_MODELS),
    *((name, "serialization", _NAMED[name]) for name in _NAMED),
    *(
        (name, "serialization", TypeAdapter(getattr(models, name)))
        for name in _RESPONSE_NAMES if name not in _NAMED and name != "LettaStreamingResponse"
    ),
    *((m.__name__, "serialization", TypeAdapter(m)) for m in (HTTPValidationError, NotFoundError, ConflictError)),
)  # fmt: skip

# Literal types Letta names as components; pydantic would inline them as enums wherever they are used.
_NAMED_ENUMS = {"MessageType": list(MESSAGE_TYPES), "StopReasonType": list(STOP_REASONS)}


def _components() -> dict[str, JsonSchemaValue]:
    """Every schema the operations use, keyed by component name, references already pointing at the components.

    One generator run over all types, so a model used by several types is one component. A model whose request and
    wire shapes differ gets two components from pydantic, ``X-Input`` and ``X-Output``; the wire one is renamed
    ``X`` (Letta's name for it), the request one keeps its suffix. Names are sorted for a stable document.
    """
    tops, defs = TypeAdapter.json_schemas(_SCHEMAS, ref_template=_REF, schema_generator=_Generator)
    schemas: dict[str, JsonSchemaValue] = dict(defs.get("$defs", {}))
    for (name, _mode), schema in tops.items():
        if schema != _ref(name):  # a union or a dict: not yet a component of its own
            schemas[name] = {"title": name, **schema}
    renames = {
        _REF.format(model=name): _REF.format(model=name.removesuffix("-Output"))
        for name in schemas
        if name.endswith("-Output") and name.removesuffix("-Output") not in schemas
    }
    schemas = {name.removesuffix("-Output") if _REF.format(model=name) in renames else name: s
               for name, s in schemas.items()}  # fmt: skip
    schemas = {name: _rewrite(schema, renames) for name, schema in schemas.items()}
    for name, values in _NAMED_ENUMS.items():
        schemas[name] = {"title": name, "type": "string", "enum": values}
    schemas[SSE_EVENT] = _sse_event()
    return dict(sorted(schemas.items()))


def _rewrite(node: Any, renames: dict[str, str]) -> Any:
    """``node`` with renamed references, named enums as references and Letta's union rules made explicit."""
    if isinstance(node, list):
        return [_rewrite(item, renames) for item in node]
    if not isinstance(node, dict):
        return renames.get(node, node) if isinstance(node, str) else node
    out = {key: _rewrite(value, renames) for key, value in node.items()}
    for name, values in _NAMED_ENUMS.items():
        if out.get("enum") == values:
            del out["enum"]
            out.pop("type", None)
            out = {**_ref(name), **out}
    if "discriminator" in out:
        # pydantic refuses a member without its tag even where the member's own schema defaults it ("type" of
        # content parts): the union requires the tag.
        out["required"] = [out["discriminator"]["propertyName"]]
    if is_input_message_union(out):
        out = input_message_union(out)
    return out


_INPUT_MESSAGES = ("MessageCreate", "ApprovalCreate", "ToolReturnCreate")


def is_input_message_union(node: JsonSchemaValue) -> bool:
    """``node`` is the plain union of the three input messages (pydantic's ``oneOf``, Letta's ``anyOf``)."""
    members = node.get("oneOf", node.get("anyOf")) or ()
    refs = [member.get("$ref") if isinstance(member, dict) else None for member in members]
    return refs == [_REF.format(model=m) for m in _INPUT_MESSAGES]


def input_message_union(union: JsonSchemaValue) -> JsonSchemaValue:
    """``InputMessage``: pydantic emits a bare ``oneOf`` for its callable discriminator, which a message without
    ``type`` (matching both MessageCreate and the all-optional ApprovalCreate) fails. Letta's rule, as guards that
    exclude each other (wire doc §3): ``type`` picks the member; without it (or null) an item is an approval when
    it has ``approve`` or ``approval_request_id``, a message otherwise."""
    untyped = {"properties": {"type": {"type": "null"}}}
    approval_fields = {"anyOf": [{"required": ["approve"]}, {"required": ["approval_request_id"]}]}

    def typed(kind: str) -> JsonSchemaValue:
        return {"required": ["type"], "properties": {"type": {"const": kind}}}

    message, approval, tool_return = (_ref(name) for name in _INPUT_MESSAGES)
    return {
        **{key: value for key, value in union.items() if key not in ("oneOf", "anyOf")},
        "oneOf": [
            {"allOf": [message, {"anyOf": [typed("message"), {**untyped, "not": approval_fields}]}]},
            {"allOf": [approval, {"anyOf": [typed("approval"), {**untyped, **approval_fields}]}]},
            {"allOf": [tool_return, typed("tool_return")]},
        ],
    }


def _sse_event() -> JsonSchemaValue:
    """One event of Letta's streams, in OpenAPI 3.2's model of SSE: an object of the event's fields (wire doc §6.1).

    An unnamed event has no ``event`` field (WHATWG parsers report it as ``message``).
    """
    chunk = {
        "not": {"const": DONE},
        "contentMediaType": "application/json",
        "contentSchema": {
            "$ref": _REF.format(model="LettaStreamingResponse"),
            "not": {"required": ["message_type"], "properties": {"message_type": {"const": "error_message"}}},
        },
    }
    error = {"not": {"const": DONE}, "contentMediaType": "application/json", "contentSchema": _ref("LettaErrorMessage")}
    return {
        "title": SSE_EVENT,
        "description": "One server-sent event: `data: <chunk>` (any LettaStreamingResponse but an error), "
        "`event: error` + `data: <LettaErrorMessage>`, or the terminator `data: [DONE]`, the stream's last event "
        "when it is sent. Letta sends no `id:` and no `retry:`.",
        "type": "object",
        "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
        "required": ["data"],
        "additionalProperties": False,
        "oneOf": [
            {"title": "chunk", "properties": {"event": {"const": "message"}, "data": chunk}},
            {"title": "error", "properties": {"event": {"const": "error"}, "data": error}, "required": ["event"]},
            {"title": "done", "properties": {"event": {"const": "message"}, "data": {"const": DONE}}},
        ],
    }


# -- the document -----------------------------------------------------------------------------------------------

# Bodies that may be JSON null, as in Letta's document (the handlers parse them with ``nullable=True``).
NULLABLE_BODIES = frozenset({"summarize_messages", "compact_conversation", "recompile_conversation"})

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("NotFoundError", "Refused by one of Letta's rules, or a malformed trigger phrase in a sent message."),
    404: ("NotFoundError", 'Not found (a closed-world mock only): `{"detail": "<text>"}`.'),
    409: ("ConflictError", "Conflict: a tool call awaits approval, the conversation is busy, or no run is active."),
    413: ("NotFoundError", "The request body exceeds the mock's `max_body_bytes`."),
    422: ("HTTPValidationError", "Validation error: one item per problem, `loc` naming the field."),
}


# Links of each operation's 200, by operationId: what the answer names that a next request can use (OpenAPI 3 link
# objects; parameters as `location.name`). Kept by operationId so the same table serves Letta's document.
_AGENT_PATH = {"path.agent_id": "$request.path.agent_id"}
_CONVERSATION_PATH = {"path.conversation_id": "$request.path.conversation_id"}
_RUN_OF_BODY = {"path.run_id": "$response.body#/id"}


def _link(operation_id: str, description: str, parameters: dict[str, str], **extra: Any) -> JsonSchemaValue:
    return {"operationId": operation_id, "description": description, "parameters": parameters, **extra}


_LIST = _link("list_messages", "The history now holds what was sent and answered.", _AGENT_PATH)
_FIRST_MESSAGE = _link("retrieve_message", "The first message listed.", {"path.message_id": "$response.body#/0/id"})
_RUN_MESSAGES = _link("list_messages_for_run", "The run's messages.", _RUN_OF_BODY)
_RUN_STREAM = _link("retrieve_stream_for_run", "The run's stream, replayed.", _RUN_OF_BODY)
_CONVERSATION = _link("list_conversation_messages", "The conversation's history.", _CONVERSATION_PATH)
# After the context window is reset or compacted, the agent goes on: a send (of each kind) to the same agent.
_GO_ON = {
    "Send": _link("send_message", "The agent answers on from here.", _AGENT_PATH),
    "SendStreaming": _link("create_agent_message_stream", "The agent streams on from here.", _AGENT_PATH),
    "SendAsync": _link("create_agent_message_async", "A run on from here.", _AGENT_PATH),
}
LINKS: dict[str, dict[str, JsonSchemaValue]] = {
    "send_message": {
        "ListMessages": _LIST,
        "RetrieveMessage": _link("retrieve_message", "The first message of the answer.",
                                 {"path.message_id": "$response.body#/messages/0/id"}),
        "ListRunMessages": _link("list_messages_for_run", "The messages of the answer's run.",
                                 {"path.run_id": "$response.body#/messages/0/run_id"}),
        "Cancel": _link("cancel_message", "Cancel what the agent still runs.", _AGENT_PATH),
    },
    "create_agent_message_stream": {"ListMessages": _LIST},
    "create_agent_message_async": {
        "RetrieveRun": _link("retrieve_run", "The run started.", _RUN_OF_BODY),
        "ListRunMessages": _RUN_MESSAGES,
        "StreamRun": _RUN_STREAM,
        "CancelRun": _link("cancel_message", "Cancel the run started.", _AGENT_PATH,
                           requestBody={"run_ids": ["$response.body#/id"]}),
    },
    "retrieve_run": {"ListRunMessages": _RUN_MESSAGES, "StreamRun": _RUN_STREAM},
    "list_messages": {"RetrieveMessage": _FIRST_MESSAGE},
    "list_messages_for_run": {"RetrieveMessage": _FIRST_MESSAGE},
    "list_all_messages": {"RetrieveMessage": _FIRST_MESSAGE},
    "reset_messages": {"ListMessages": _LIST, **_GO_ON},
    "summarize_messages": {"ListMessages": _LIST, **_GO_ON},
    "send_conversation_message": {
        "ListConversationMessages": _CONVERSATION,
        "StreamConversation": _link("retrieve_conversation_stream", "The conversation's latest run, replayed.",
                                    _CONVERSATION_PATH),
    },
    "compact_conversation": {
        "ListConversationMessages": _CONVERSATION,
        "SendConversation": _link("send_conversation_message", "The conversation goes on.", _CONVERSATION_PATH),
    },
}  # fmt: skip


def _operation(operation: Operation) -> JsonSchemaValue:
    content: dict[str, JsonSchemaValue] = {}
    if operation.json is not None:
        content["application/json"] = {"schema": operation.json}
    if operation.sse:
        content["text/event-stream"] = {"itemSchema": _ref(SSE_EVENT)}
    responses: dict[str, JsonSchemaValue] = {"200": {"description": "Successful response", "content": content}}
    if operation.operation_id in LINKS:
        responses["200"]["links"] = LINKS[operation.operation_id]
    for status in operation.errors:
        name, text = _ERRORS[status]
        responses[str(status)] = {"description": text, "content": {"application/json": {"schema": _ref(name)}}}
    out: dict[str, Any] = {
        "tags": [operation.tag],
        "summary": operation.summary,
        "description": operation.description,
        "operationId": operation.operation_id,
    }
    if operation.deprecated:
        out["deprecated"] = True
    if operation.parameters:
        out["parameters"] = [_parameter(name) for name in operation.parameters]
    if operation.body is not None:
        schema: JsonSchemaValue = _ref(operation.body.__name__)
        if operation.operation_id in NULLABLE_BODIES:
            schema = {"anyOf": [schema, {"type": "null"}]}
        out["requestBody"] = {"required": operation.body_required, "content": {"application/json": {"schema": schema}}}
    out["responses"] = responses
    return out


@cache
def openapi_document() -> dict[str, Any]:
    """The document, built once. Shared: treat it as read-only (``copy.deepcopy`` it to change it)."""
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        if operation.documented:
            paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "letta-mock",
            "version": __version__,
            "description": "letta-mock's own description of the Letta messages API it serves, generated from its "
            f"pydantic models (it follows Letta server {LETTA_VERSION}). Unlike Letta's document it gives every "
            "event stream an event schema (OpenAPI 3.2 `itemSchema`) and every error the mock answers with.",
        },
        "tags": [{"name": name, "description": text} for name, text in _TAGS.items()],
        "paths": paths,
        "components": {"schemas": _components()},
    }
