"""A small Letta client, the kind of code a test suite with letta-mock is for: a support bot that streams the
agent's answer, asks a person before any tool that needs approval runs, and reports what happened.

It knows nothing of letta-mock: in production ``client`` is ``Letta(base_url=..., api_key=...)`` on a real
server; in its tests (test_support_bot.py) the pytest plugin's ``letta_mock_client`` on the mock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from letta_client import APIStatusError, Letta

__all__ = ["BotError", "Reply", "SupportBot"]

Approver = Callable[[str, str], bool]  # (tool name, JSON arguments) -> run it?


class BotError(Exception):
    """The agent failed while answering (an in-band stream error, or a turn that ended in failure)."""


@dataclass
class Reply:
    text: str = ""
    thoughts: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)  # "name -> result" for each tool that ran
    denied: list[str] = field(default_factory=list)
    stop_reason: str | None = None


class SupportBot:
    def __init__(self, client: Letta, agent_id: str, approve: Approver = lambda name, arguments: False) -> None:
        self.client = client
        self.agent_id = agent_id
        self.approve = approve

    def ask(self, question: str) -> Reply:
        reply = Reply()
        pending = self._stream(reply, input=question)
        while pending:  # the agent waits for a decision on each tool that needs approval
            approvals = []
            for call_id, (name, arguments) in pending.items():
                allowed = self.approve(name, arguments)
                if not allowed:
                    reply.denied.append(name)
                approvals.append(
                    {
                        "type": "approval",
                        "tool_call_id": call_id,
                        "approve": allowed,
                        **({} if allowed else {"reason": "not allowed by the support policy"}),
                    }
                )
            pending = self._stream(reply, messages=[{"type": "approval", "approvals": approvals}])
        return reply

    def transcript(self) -> list[str]:
        """``"user: ..."`` and ``"agent: ..."`` lines of the whole history (every page)."""
        lines = []
        # Oldest first: the SDK pages forward (`after` = the last id) until a page comes back empty.
        for message in self.client.agents.messages.list(self.agent_id, limit=5, order="asc"):
            if message.message_type == "user_message":
                lines.append(f"user: {message.content}")
            elif message.message_type == "assistant_message":
                lines.append(f"agent: {message.content}")
        return lines

    def _stream(self, reply: Reply, **body: Any) -> dict[str, tuple[str, str]]:
        """Send and read the stream into ``reply``; the tool calls now awaiting approval."""
        awaiting: dict[str, tuple[str, str]] = {}
        names: dict[str, str] = {}
        try:
            events: Iterable[Any] = self.client.agents.messages.create(self.agent_id, streaming=True, **body)
            for event in events:
                kind = event.message_type
                if kind == "reasoning_message":
                    reply.thoughts.append(event.reasoning)
                elif kind == "assistant_message":
                    reply.text += event.content if isinstance(event.content, str) else ""
                elif kind == "tool_call_message":
                    for call in event.tool_calls or []:
                        names[call.tool_call_id] = call.name
                elif kind == "approval_request_message":
                    for call in event.tool_calls or []:
                        awaiting[call.tool_call_id] = (call.name, call.arguments)
                elif kind == "tool_return_message":
                    name = names.get(event.tool_call_id or "", event.name or "tool")
                    reply.tools.append(f"{name} -> {event.tool_return}")
                elif kind == "stop_reason":
                    reply.stop_reason = event.stop_reason
        except APIStatusError as error:  # `event: error` in the stream
            raise BotError(str(error.message)) from error
        if reply.stop_reason not in ("end_turn", "requires_approval"):
            raise BotError(f"the agent stopped: {reply.stop_reason}")
        return awaiting if reply.stop_reason == "requires_approval" else {}
