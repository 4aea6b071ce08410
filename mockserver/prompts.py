"""The system message an agent (and each new conversation) starts with, compiled as Letta compiles it: the system
prompt, the memory blocks, and the memory metadata clients read (``- AGENT_ID: …``, ``- CONVERSATION_ID: …``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from mockserver.models import Block

__all__ = ["DEFAULT_SYSTEM_PROMPT", "compile_system"]

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. (letta-mock default agent)"


def compile_system(
    system: str, blocks: Sequence[Block], *, agent_id: str, conversation_id: str | None, now: datetime, previous: int
) -> str:
    """The system message's text; ``previous`` is how many messages recall memory holds already."""
    parts = [system]
    if blocks:
        rendered = "\n".join(_block(block) for block in blocks)
        parts.append(
            "<memory_blocks>\nThe following memory blocks are currently engaged in your core memory unit:\n\n"
            f"{rendered}\n</memory_blocks>"
        )
    recompiled = now.astimezone(timezone.utc).strftime("%Y-%m-%d %I:%M:%S %p UTC+0000")
    parts.append(
        "<memory_metadata>\n"
        f"- AGENT_ID: {agent_id}\n"
        f"- CONVERSATION_ID: {conversation_id or 'default'}\n"
        f"- System prompt last recompiled: {recompiled}\n"
        f"- {previous} previous messages between you and the user are stored in recall memory\n"
        "</memory_metadata>"
    )
    return "\n\n".join(parts)


def _block(block: Block) -> str:
    label = block.label or "block"
    return (
        f"<{label}>\n<description>\n{block.description or ''}\n</description>\n<metadata>\n"
        f"- chars_current={len(block.value)}\n- chars_limit={block.limit}\n</metadata>\n"
        f"<value>\n{block.value}\n</value>\n</{label}>\n"
    )
