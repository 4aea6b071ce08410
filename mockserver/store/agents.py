"""Agents: made up on first use in the open world, created by a client (who then gets Letta's rules), modified,
given tools; their context window, pending approvals and scripted turns."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from mockserver.catalogue import Texts
from mockserver.errors import NotFound
from mockserver.models import ApprovalRequestMessage, Block, SystemMessage, Tool, ToolCall
from mockserver.prompts import compile_system
from mockserver.records import AgentProfile, AgentRecord, PendingApproval, item_json
from mockserver.scenarios import PlannedCall, TurnPlan
from mockserver.store.tools import ToolStore

__all__ = ["AgentStore", "approval_rules"]


def approval_rules(tools: Iterable[Tool], rules: Iterable[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The ``requires_approval`` tool rules that tools asking for approval by default add to an agent's ``rules``."""
    have = {r.get("tool_name") for r in rules if r.get("type") == "requires_approval"}
    wanted = dict.fromkeys(t.name for t in tools if t.default_requires_approval and t.name not in have)
    return [{"tool_name": name, "type": "requires_approval", "prompt_template": None} for name in wanted]


class AgentStore(ToolStore):
    def _populate(self) -> None:
        super()._populate()
        for agent_id in self.known_agents or ():
            self._new_agent(agent_id, AgentProfile(), created=False)

    def agent(self, agent_id: str, *, not_found: str | None = None) -> AgentRecord:
        """The agent; in the open world an id nobody created names an agent made up on first use. A deleted
        agent, and any unknown one in the closed world, is a 404 with ``not_found`` (Letta's text)."""
        record = self.agents.get(agent_id)
        if record is None:
            if self.closed_world or agent_id in self.deleted:
                raise NotFound(not_found or Texts.agent_not_found(agent_id))
            record = self._new_agent(agent_id, AgentProfile(), created=False)
        return record

    def create_agent(self, profile: AgentProfile) -> AgentRecord:
        """An agent a client created: Letta's own rules apply to it from now on."""
        return self._new_agent(self.ids.new("agent"), profile, created=True)

    def _new_agent(self, agent_id: str, profile: AgentProfile, *, created: bool) -> AgentRecord:
        now = self.clock.now()
        system_id = self.ids.new("message")
        record = AgentRecord(
            id=agent_id, created_at=now, system_message_id=system_id, profile=profile, created=created, updated_at=now
        )
        self.agents[agent_id] = record
        text = compile_system(profile.system, profile.blocks, agent_id=agent_id, conversation_id=None, now=now,
                              previous=0)  # fmt: skip
        system = SystemMessage(id=system_id, date=now, content=text)
        self.add_message(record, system_id, [system], conversation_id=None, run_id=None, created_at=now)
        return record

    def modify_agent(self, agent: AgentRecord, changes: dict[str, Any]) -> None:
        """Set the profile fields in ``changes`` (a subset of ``AgentProfile``'s)."""
        for name, value in changes.items():
            setattr(agent.profile, name, value)
        agent.updated_at = self.clock.now()

    def modify_block(self, agent: AgentRecord, label: str, changes: dict[str, Any]) -> Block:
        """Change the agent's memory block ``label``; its system message is compiled again at once (Letta's)."""
        blocks = agent.profile.blocks
        index = next((i for i, block in enumerate(blocks) if block.label == label), None)
        if index is None:
            raise NotFound(Texts.block_not_found(label, agent.id))
        blocks[index] = blocks[index].model_copy(update=changes)
        agent.updated_at = self.clock.now()
        self.recompile(agent, None, persist=True)
        return blocks[index]

    def recompile(self, agent: AgentRecord, conversation_id: str | None, *, persist: bool) -> str:
        """The system message of the agent's (or a created conversation's) context, rebuilt from its current memory;
        ``persist`` writes it into the stored system message."""
        window, _ = self.context(agent, conversation_id)
        stored = self.messages[window[0]]
        previous = len(agent.messages) - agent.system_count
        text = compile_system(agent.profile.system, agent.profile.blocks, agent_id=agent.id,
                              conversation_id=conversation_id, now=self.clock.now(), previous=previous)  # fmt: skip
        if persist:
            # Both kept fields replaced in one assignment, made before either changes.
            stored.chunk, stored.ends, stored.types = item_json([stored.items[0].model_copy(update={"content": text})])
        return text

    def attach_tool(self, agent: AgentRecord, tool: Tool) -> None:
        """Attach ``tool``; one that asks for approval by default brings its ``requires_approval`` rule (Letta's)."""
        if tool.id not in agent.profile.tool_ids:
            agent.profile.tool_ids.append(tool.id)
        agent.profile.tool_rules += approval_rules([tool], agent.profile.tool_rules)
        agent.updated_at = self.clock.now()

    def detach_tool(self, agent: AgentRecord, tool_id: str) -> None:
        if tool_id in agent.profile.tool_ids:
            agent.profile.tool_ids.remove(tool_id)
        agent.updated_at = self.clock.now()

    # -- its context window -------------------------------------------------------------------------------------

    def reset_context(self, agent: AgentRecord) -> None:
        """The context window starts over from the system message; stored history stays (wire doc §11)."""
        agent.in_context = [agent.system_message_id]
        agent.summary = None
        agent.pending = None
        agent.updated_at = self.clock.now()

    def context(self, agent: AgentRecord, conversation_id: str | None = None) -> tuple[list[str], str | None]:
        """The context window (stored ids, system message first) and its last compaction summary: the agent's, or
        a created conversation's own."""
        conversation = self.conversations.get(conversation_id) if conversation_id is not None else None
        if conversation is not None and conversation.created:
            return conversation.in_context, conversation.compacted
        return agent.in_context, agent.summary

    def fold_context(
        self,
        agent: AgentRecord,
        summary_id: str,
        summary: str,
        kept: Sequence[str] = (),
        conversation_id: str | None = None,
    ) -> None:
        """After a compaction: the context is the system message, the stored summary, then what was kept."""
        conversation = self.conversations.get(conversation_id) if conversation_id is not None else None
        if conversation is not None and conversation.created:
            conversation.in_context[:] = [conversation.in_context[0], summary_id, *kept]
            conversation.compacted = summary
            return
        agent.in_context = [agent.system_message_id, summary_id, *kept]
        agent.summary = summary

    # -- approvals ------------------------------------------------------------------------------------------

    def await_approval(
        self,
        agent: AgentRecord,
        request: ApprovalRequestMessage,
        calls: list[ToolCall],
        *,
        planned: dict[str, PlannedCall] | None = None,
        continuation: TurnPlan | None = None,
    ) -> None:
        """The agent waits on ``calls``; ``planned`` says what approved ones return, ``continuation`` what the
        turn does once they are answered."""
        assert request.run_id is not None
        agent.pending = PendingApproval(request=request, calls=calls, run_id=request.run_id, planned=planned or {},
                                        continuation=continuation)  # fmt: skip

    def approvals_answered(self, agent: AgentRecord) -> None:
        agent.pending = None

    # -- scripts --------------------------------------------------------------------------------------------

    def set_script(self, agent_id: str, turns: Iterable[Any]) -> None:
        self.scripts[agent_id] = deque(turns)

    def next_scripted(self, agent_id: str) -> Any | None:
        """The agent's next scripted turn, without using it up (see ``use_scripted``)."""
        script = self.scripts.get(agent_id)
        return script[0] if script else None

    def use_scripted(self, agent_id: str) -> None:
        script = self.scripts.get(agent_id)
        if script:
            script.popleft()
