"""Conversations of an agent (wire doc §14): the default one, conversations a client created (each with its own
system message and context window), and the open world's, made up from an id nobody created."""

from __future__ import annotations

from typing import Any

from mockserver.catalogue import Texts
from mockserver.errors import NotFound
from mockserver.models import SystemMessage
from mockserver.prompts import compile_system
from mockserver.records import AgentRecord, ConversationRecord
from mockserver.store.agents import AgentStore
from mockserver.wire.ids import derived_uuid4

__all__ = ["DEFAULT_AGENT_ID", "ConversationStore"]

DEFAULT_AGENT_ID = "agent-00000000-0000-4000-8000-000000000000"


class ConversationStore(AgentStore):
    def conversation_agent(self, conversation_id: str, agent_id: str | None) -> tuple[AgentRecord, str | None]:
        """Resolve a conversation path id to (agent, conversation id to store; None = default conversation)."""
        if conversation_id == "default":
            return self.agent(agent_id or DEFAULT_AGENT_ID), None
        if conversation_id.startswith("agent-"):  # deprecated form: the agent's default conversation
            return self.agent(conversation_id), None
        record = self.conversation(conversation_id, agent_id)
        return self.agent(record.agent_id), conversation_id

    def conversation(self, conversation_id: str, agent_id: str | None = None) -> ConversationRecord:
        """A conv-… conversation; the open world makes one up for an id nobody created, belonging to an agent
        derived from its id (or the given one). A deleted one, or an unknown one in the closed world, is 404."""
        record = self.conversations.get(conversation_id)
        if record is not None:
            return record
        if conversation_id in self.deleted:
            raise NotFound(Texts.conversation_gone(conversation_id))
        if self.closed_world:
            raise NotFound(Texts.conversation_not_found(conversation_id))
        owner = agent_id or f"agent-{derived_uuid4(conversation_id)}"
        record = ConversationRecord(conversation_id, owner, created_at=self.clock.now())
        self.conversations[conversation_id] = record
        return record

    def create_conversation(self, agent: AgentRecord, fields: dict[str, Any]) -> ConversationRecord:
        """A conversation a client created: its own system message first in its history and context."""
        now = self.clock.now()
        record = ConversationRecord(self.ids.new("conv"), agent.id, created_at=now, created=True, updated_at=now,
                                    **fields)  # fmt: skip
        self.conversations[record.id] = record
        system_id = self.ids.new("message")
        profile = agent.profile
        previous = len(agent.messages) - agent.system_count
        text = compile_system(profile.system, profile.blocks, agent_id=agent.id, conversation_id=record.id, now=now,
                              previous=previous)  # fmt: skip
        system = SystemMessage(id=system_id, date=now, content=text)
        self.add_message(agent, system_id, [system], conversation_id=record.id, run_id=None, created_at=now)
        return record

    def update_conversation(self, record: ConversationRecord, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(record, name, value)
        record.updated_at = self.clock.now()

    def fork_conversation(self, record: ConversationRecord) -> ConversationRecord:
        """A new conversation of the same agent that shares the parent's messages, with a system message of its
        own (as the real server forks)."""
        agent = self.agent(record.agent_id)
        fork = self.create_conversation(agent, {"model": record.model, "model_settings": record.model_settings})
        parent = [*record.shared, *agent.by_conversation.get(record.id, ())]
        shared = [m for m in parent if m.types[0] != "system_message"]
        fork.in_context.extend(m.id for m in shared)
        fork.shared.extend(shared)
        return fork

    def delete_conversation(self, record: ConversationRecord) -> None:
        del self.conversations[record.id]
        self.deleted.add(record.id)
