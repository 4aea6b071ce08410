"""The messages of an agent's context window as ``GET /v1/agents/{agent_id}/context`` shows them: Letta's stored
``Message`` rows (role, content parts, tool calls, tool returns, approvals), not the LettaMessage items a listing
expands them into. Built from the mock's stored items, in Letta 0.16.8's shape."""

from __future__ import annotations

from datetime import timezone
from typing import Any

from mockserver import catalogue
from mockserver.models import TextContent
from mockserver.records import AgentRecord, StoredMessage
from mockserver.store import Store

__all__ = ["context_messages"]


def context_messages(state: Store, agent: AgentRecord, window: list[str]) -> list[dict[str, Any]]:
    model = agent.profile.model.partition("/")[2] or agent.profile.model
    return [_row(stored, agent.id, model) for i in window if (stored := state.messages.get(i)) is not None]


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "signature": None}


def _calls(calls: Any) -> list[dict[str, Any]] | None:
    if not isinstance(calls, list):
        return None
    return [{"id": c.tool_call_id, "function": {"arguments": c.arguments, "name": c.name}, "type": "function"}
            for c in calls]  # fmt: skip


def _row(stored: StoredMessage, agent_id: str, model: str) -> dict[str, Any]:
    items = stored.items
    kinds = [item.message_type for item in items]
    first = items[0] if items else None
    created = stored.created_at.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    row: dict[str, Any] = {
        "created_by_id": catalogue.DEFAULT_USER_ID, "last_updated_by_id": catalogue.DEFAULT_USER_ID,
        "created_at": created, "updated_at": created, "id": stored.id, "agent_id": agent_id, "model": model,
        "role": "assistant", "content": [], "name": None, "tool_calls": None, "tool_call_id": None,
        "step_id": getattr(first, "step_id", None), "run_id": stored.run_id, "otid": None, "tool_returns": [],
        "group_id": None, "sender_id": None, "batch_item_id": None, "conversation_id": stored.conversation_id,
        "is_err": None, "approval_request_id": None, "approve": None, "denial_reason": None, "approvals": [],
    }  # fmt: skip
    if first is None:
        return row
    if first.message_type == "system_message":
        row.update(created_by_id=None, last_updated_by_id=None, updated_at=None, role="system", approvals=None,
                   content=[_text(str(first.content))])  # fmt: skip
    elif first.message_type == "user_message":
        content = first.content
        parts = [_text(content)] if isinstance(content, str) else [p.model_dump(mode="json") for p in content]
        row.update(model=None, role="user", content=parts, otid=first.otid)
    elif first.message_type == "tool_return_message":
        ran = first.stdout is not None
        row.update(role="tool", name=first.name if ran else None, tool_call_id=first.tool_call_id,
                   content=[_text(first.tool_return)] if ran else [],
                   tool_returns=[{"tool_call_id": r.tool_call_id, "status": r.status, "stdout": r.stdout,
                                  "stderr": r.stderr, "func_response": r.tool_return}
                                 for r in first.tool_returns or ()])  # fmt: skip
    elif first.message_type == "approval_response_message":
        row.update(role="approval", approvals=[a.model_dump(mode="json") for a in first.approvals or ()])
    else:  # the agent's own: its reasoning and text, then its tool calls (an approval request: role approval)
        row["content"] = [part for item in items if (part := _part(item)) is not None]
        calling = next((i for i in items if i.message_type in ("tool_call_message", "approval_request_message")), None)
        if calling is not None:
            row["tool_calls"] = _calls(calling.tool_calls)
        if "approval_request_message" in kinds and calling is not None:
            calls = row["tool_calls"] or [{}]
            row.update(role="approval", tool_call_id=calls[0].get("id"), otid=calling.otid)
    return row


def _part(item: Any) -> dict[str, Any] | None:
    if item.message_type == "assistant_message":
        content = item.content
        text = content if isinstance(content, str) else " ".join(
            p.text for p in content if isinstance(p, TextContent)
        )  # fmt: skip
        return _text(text)
    if item.message_type == "reasoning_message":
        return {"type": "reasoning", "is_native": item.source == "reasoner_model", "reasoning": item.reasoning,
                "signature": item.signature}  # fmt: skip
    if item.message_type == "hidden_reasoning_message":
        return {"type": "omitted_reasoning", "signature": None}
    return None
