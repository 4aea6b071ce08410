"""``/v1/tools/…``: create, upsert (``PUT``, what the SDK's ``upsert_from_function`` sends), list, count, retrieve,
modify, delete. The mock never runs a tool's code: the schema comes from the source (``tool_schemas``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mockserver import catalogue
from mockserver.catalogue import Texts
from mockserver.errors import BadRequest, RequestInvalid
from mockserver.handlers.common import id_page, store
from mockserver.http import json_response, parse_body
from mockserver.models import Tool, ToolCreate, ToolUpdate
from mockserver.parameters import (
    AFTER_TOOLS,
    BEFORE_TOOLS,
    EXCLUDE_LETTA_TOOLS,
    EXCLUDE_TOOL_TYPES,
    LIMIT_50,
    NAME,
    NAMES,
    ORDER_BY,
    ORDER_TOOLS,
    RETURN_ONLY_LETTA_TOOLS,
    SEARCH,
    TOOL_IDS,
    TOOL_TYPES,
    path_id,
)
from mockserver.store import Store
from mockserver.tool_schemas import ToolSchemaError, check_json_schema, schema_from_source, tool_hash

__all__ = ["count_tools", "create_tool", "delete_tool", "list_tools", "modify_tool", "retrieve_tool", "upsert_tool"]


async def create_tool(request: Request) -> Response:
    return await upsert_tool(request)  # Letta's create updates the tool of the same name too (names are unique)


async def upsert_tool(request: Request) -> Response:
    body = await parse_body(request, ToolCreate)
    fields = _fields(body)
    state = store(request)
    existing = state.tool_names.get(fields["name"])
    if existing is not None:
        # An existing tool takes the new source's schema and description and keeps what the request leaves out
        # (its tags, its source type, ...), as Letta's does.
        kept = {"name", "json_schema", "description", "metadata_", "last_updated_by_id", *body.model_fields_set}
        fields = {name: value for name, value in fields.items() if name in kept}
    return json_response(state.put_tool(fields, upsert=True))


def _fields(body: ToolCreate) -> dict[str, Any]:
    """A Tool's fields from the request: the schema given (checked, 422) or derived from the source (400)."""
    if body.json_schema is not None:
        try:
            check_json_schema(body.json_schema)
        except ToolSchemaError as error:
            raise RequestInvalid.single(["body", "json_schema"], str(error), "value_error") from None
        schema = body.json_schema
    else:
        try:
            schema = schema_from_source(body.source_code)
        except ToolSchemaError as error:
            raise BadRequest(Texts.tool_schema_failed(str(error))) from None
    fields = body.model_dump(exclude={"json_schema"}, exclude_none=True)
    fields["tags"] = body.tags or []
    # Letta names a tool's source "json" unless the request says otherwise (the document's default is "python").
    source_type = body.source_type if "source_type" in body.model_fields_set else "json"
    requirements = f"{body.pip_requirements or ''}{body.npm_requirements or ''}"
    return {
        **fields,
        "name": schema["name"],
        "description": body.description if body.description is not None else schema.get("description"),
        "source_type": source_type,
        "json_schema": schema,
        "args_json_schema": body.args_json_schema if body.args_json_schema is not None else {},
        "metadata_": {"tool_hash": tool_hash(body.source_code, source_type, requirements)},
        "created_by_id": catalogue.DEFAULT_USER_ID,
        "last_updated_by_id": catalogue.DEFAULT_USER_ID,
    }


async def list_tools(request: Request) -> Response:
    tools = _filtered(request, store(request))
    order = ORDER_TOOLS.read(request)
    ORDER_BY.read(request)
    if order == "desc":
        tools.reverse()
    page = id_page(request, tools, lambda t: t.id, limit=LIMIT_50, before=BEFORE_TOOLS, after=AFTER_TOOLS)
    return json_response([tool.model_dump(mode="json") for tool in page])


async def count_tools(request: Request) -> Response:
    tools = _filtered(request, store(request))
    if EXCLUDE_LETTA_TOOLS.read(request):
        tools = [t for t in tools if not t.tool_type.startswith("letta_")]
    return json_response(len(tools))


def _filtered(request: Request, state: Store) -> list[Tool]:
    """The tools in creation order, filtered as the query says."""
    tools = list(state.tools.values())
    name = NAME.read(request)
    names = {*NAMES.read(request), *([name] if name is not None else [])}
    if names:
        tools = [t for t in tools if t.name in names]
    ids = {i for value in TOOL_IDS.read(request) for i in value.split(",") if i}
    if ids:
        tools = [t for t in tools if t.id in ids]
    search = SEARCH.read(request)
    if search:
        tools = [t for t in tools if search.lower() in (t.name or "").lower()]
    types = {k for value in TOOL_TYPES.read(request) for k in value.split(",") if k}
    if types:
        tools = [t for t in tools if t.tool_type in types]
    excluded = {k for value in EXCLUDE_TOOL_TYPES.read(request) for k in value.split(",") if k}
    tools = [t for t in tools if t.tool_type not in excluded]
    if RETURN_ONLY_LETTA_TOOLS.read(request):
        tools = [t for t in tools if t.tool_type.startswith("letta_")]
    return tools


async def retrieve_tool(request: Request) -> Response:
    return json_response(store(request).tool(path_id(request, "tool_id")))


async def modify_tool(request: Request) -> Response:
    tool_id = path_id(request, "tool_id")
    body = await parse_body(request, ToolUpdate)
    # As Letta updates: the fields given, a null meaning "leave it".
    changes = {name: getattr(body, name) for name in body.model_fields_set if getattr(body, name) is not None}
    if body.source_code is not None and body.json_schema is None:
        try:
            changes["json_schema"] = schema_from_source(body.source_code)
        except ToolSchemaError as error:
            raise BadRequest(Texts.tool_schema_failed(str(error))) from None
    elif body.json_schema is not None:
        try:
            check_json_schema(body.json_schema)
        except ToolSchemaError as error:
            raise RequestInvalid.single(["body", "json_schema"], str(error), "value_error") from None
        if body.source_code is not None and _function_name(body.source_code) != body.json_schema["name"]:
            raise BadRequest(Texts.tool_names_differ(body.json_schema["name"], body.source_code))
    if "json_schema" in changes:
        changes["name"] = changes["json_schema"]["name"]
    return json_response(store(request).modify_tool(tool_id, changes))


async def delete_tool(request: Request) -> Response:
    store(request).delete_tool(path_id(request, "tool_id"))
    return json_response(None)


def _function_name(source: str) -> str | None:
    try:
        return str(schema_from_source(source)["name"])
    except ToolSchemaError:
        return None
