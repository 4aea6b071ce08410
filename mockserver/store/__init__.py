"""All server state — agents, tools, stored messages, conversations, pending approvals, runs and their logs,
scripts — and the one door to it.

Rule: state changes only through a ``Store`` method. Other modules read the records (``records``) and call these
methods; none assigns to a record. A method either fails before it changes anything or completes, so a refused
request never leaves half a turn behind. (``tests/test_architecture.py`` checks that no other module assigns to a
record.) The class is split by concern, each part building on the one before it:

    state          the collections, and clear()
    messages       stored messages, their JSON, cursors
    tools          tools, upserted by name
    agents         agents, their context window, approvals, scripts
    conversations  conversations of an agent
    runs           runs, their logs and steps
    replay         turns a fixture answered (record and replay)
    (here)         what spans them: deleting an agent

Open world (the default): every well-formed id names a resource, made up on first use. What a client *created*
follows Letta's rules, and what it deleted stays deleted (404). Closed world (``agents`` given): only those agents
exist, and unknown agents, runs, messages and cursors are 404.
"""

from __future__ import annotations

from mockserver.prompts import DEFAULT_SYSTEM_PROMPT as SYSTEM_PROMPT
from mockserver.records import AgentRecord
from mockserver.store.conversations import DEFAULT_AGENT_ID
from mockserver.store.replay import ReplayStore

__all__ = ["DEFAULT_AGENT_ID", "SYSTEM_PROMPT", "Store"]


class Store(ReplayStore):
    """State of one mock server."""

    def delete_agent(self, agent: AgentRecord) -> None:
        """The agent, its history, conversations and runs are gone; its id answers 404 from now on."""
        for record in list(self.agent_runs.get(agent.id, {}).values()):
            self.delete_run(record)
        for conversation in [c for c in self.conversations.values() if c.agent_id == agent.id]:
            self.delete_conversation(conversation)
        self._forget_messages(agent)
        self.scripts.pop(agent.id, None)
        del self.agents[agent.id]
        self.deleted.add(agent.id)
