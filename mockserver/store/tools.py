"""Tools: created, upserted by name, modified, deleted; the open world names a tool for any well-formed id."""

from __future__ import annotations

from typing import Any

from mockserver import catalogue
from mockserver.catalogue import Texts
from mockserver.errors import BadRequest, NotFound
from mockserver.models import Tool
from mockserver.store.messages import MessageStore
from mockserver.tool_schemas import tool_hash
from mockserver.wire.ids import derived_uuid4

__all__ = ["ToolStore"]


class ToolStore(MessageStore):
    def tool(self, tool_id: str) -> Tool:
        """The tool; in the open world an id nobody created names a tool made up from the id (404 once deleted)."""
        found = self.tools.get(tool_id)
        if found is not None:
            return found
        if self.closed_world or tool_id in self.deleted:
            raise NotFound(Texts.tool_not_found(tool_id))
        name = "tool_" + derived_uuid4(tool_id).replace("-", "")[:8]
        schema = {"name": name, "description": "", "parameters": {"type": "object", "properties": {}, "required": []}}
        return self._keep_tool(Tool(
            id=tool_id, name=name, description="", source_type="json", json_schema=schema, args_json_schema={},
            metadata_={"tool_hash": tool_hash(None, "json")}, created_by_id=catalogue.DEFAULT_USER_ID,
            last_updated_by_id=catalogue.DEFAULT_USER_ID,
        ))  # fmt: skip

    def put_tool(self, fields: dict[str, Any], *, upsert: bool) -> Tool:
        """Create a tool from ``fields`` (a Tool's fields, ``name`` and ``json_schema`` included); a tool of that
        name is returned as it is (create) or updated (upsert), as Letta's names are unique."""
        existing = self.tool_names.get(fields["name"])
        if existing is not None:
            if not upsert:
                return self.tools[existing]
            return self.modify_tool(existing, fields)
        return self._keep_tool(Tool(id=self.ids.new("tool"), **fields))

    def modify_tool(self, tool_id: str, changes: dict[str, Any]) -> Tool:
        tool = self.tool(tool_id)
        updated = tool.model_copy(update=changes)
        if updated.name != tool.name:
            self.tool_names.pop(tool.name or "", None)
        return self._keep_tool(updated)

    def delete_tool(self, tool_id: str) -> None:
        tool = self.tools.get(tool_id)
        if tool is None and tool_id in self.deleted:
            raise BadRequest(Texts.tool_gone(tool_id))  # Letta answers a second delete with 400
        tool = tool or self.tool(tool_id)
        del self.tools[tool_id]
        self.tool_names.pop(tool.name or "", None)
        self.deleted.add(tool_id)
        for agent in self.agents.values():
            if tool_id in agent.profile.tool_ids:
                agent.profile.tool_ids.remove(tool_id)

    def _populate(self) -> None:
        """Letta's base tools are there from the start (their ids derived from their names: no id is drawn). Made
        without validation, from the catalogue's trusted values (the same tools): a server's start-up does not build
        the Tool validator (~18 ms) before a tool is asked for."""
        super()._populate()
        for base in catalogue.BASE_TOOLS:
            schema = {"name": base.name, "description": base.description, "parameters": base.parameters}
            self._keep_tool(Tool.model_construct(
                id=f"tool-{derived_uuid4('letta-mock base tool ' + base.name)}", tool_type=base.tool_type,
                name=base.name, description=base.description, source_type="python", tags=[base.tool_type],
                json_schema=schema, enable_parallel_execution=base.parallel, metadata_={},
                created_by_id=catalogue.DEFAULT_USER_ID, last_updated_by_id=catalogue.DEFAULT_USER_ID,
            ))  # fmt: skip

    def base_tool_ids(self, agent_type: str) -> list[str]:
        """The base tools a new agent of ``agent_type`` gets (those a client deleted are gone)."""
        wanted = [base.name for base in catalogue.BASE_TOOLS if agent_type in base.attached_to]
        return [self.tool_names[name] for name in wanted if name in self.tool_names]

    def _keep_tool(self, tool: Tool) -> Tool:
        self.tools[tool.id] = tool
        self.tool_names[tool.name or ""] = tool.id
        return tool
