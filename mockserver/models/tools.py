"""Tools: ``Tool`` as the server sends it, and the bodies that create, upsert and modify one.

The mock never runs a tool's code: it reads the source only to derive the tool's name and JSON schema when they
are not given (``tool_schemas``), and synthesizes a return when the agent calls it.
"""

from typing import Any, Literal

from pydantic import Field

from mockserver.models._base import JsonInt, RequestModel, WireModel

__all__ = ["TOOL_TYPES", "Tool", "ToolCreate", "ToolType", "ToolUpdate"]

ToolType = Literal[
    "custom",
    "letta_core",
    "letta_memory_core",
    "letta_multi_agent_core",
    "letta_sleeptime_core",
    "letta_voice_sleeptime_core",
    "letta_builtin",
    "letta_files_core",
    "external_langchain",
    "external_composio",
    "external_mcp",
]
TOOL_TYPES: tuple[str, ...] = ToolType.__args__  # type: ignore[attr-defined]


class Tool(WireModel):
    id: str
    tool_type: ToolType = "custom"
    description: str | None = None
    source_type: str | None = None
    name: str | None = None
    tags: list[str] = Field(default_factory=list)
    source_code: str | None = None
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    return_char_limit: int = 50000
    pip_requirements: list[dict[str, Any]] | None = None
    npm_requirements: list[dict[str, Any]] | None = None
    default_requires_approval: bool | None = None
    enable_parallel_execution: bool | None = False
    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    metadata_: dict[str, Any] | None = None
    project_id: str | None = None


class ToolCreate(RequestModel):
    """Body of ``POST /v1/tools/`` and ``PUT /v1/tools/`` (upsert by name)."""

    description: str | None = None
    tags: list[str] | None = None
    source_code: str
    source_type: str = "python"
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    return_char_limit: JsonInt = 50000
    pip_requirements: list[dict[str, Any]] | None = None
    npm_requirements: list[dict[str, Any]] | None = None
    default_requires_approval: bool | None = None
    enable_parallel_execution: bool | None = False


class ToolUpdate(RequestModel):
    """Body of ``PATCH /v1/tools/{tool_id}``: only the fields given change."""

    description: str | None = None
    tags: list[str] | None = None
    source_code: str | None = None
    source_type: str | None = None
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    return_char_limit: JsonInt | None = None
    pip_requirements: list[dict[str, Any]] | None = None
    npm_requirements: list[dict[str, Any]] | None = None
    metadata_: dict[str, Any] | None = None
    default_requires_approval: bool | None = None
    enable_parallel_execution: bool | None = False
