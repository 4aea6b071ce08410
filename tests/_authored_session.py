"""The session tests/recordings/real_letta_session was recorded with, from the real Letta 0.16.8 server and its stub
LLM (../shared/real-letta) through ``letta-mock record``; tests/test_authored_author.py records it again in the
``real_letta`` tier. Every agent and tool it makes is deleted at the end.

    letta-mock record --upstream $REAL_LETTA_URL --out DIR --port PORT &
    python tests/_authored_session.py http://127.0.0.1:PORT
"""

from __future__ import annotations

import sys
from typing import Any

from letta_client import Letta

API_KEY = "sk-let-authored-rec"
MODEL = {"model": "openai-proxy/gpt-4o-mini", "embedding": "openai/text-embedding-3-small"}
WEATHER = '''def get_weather(city: str) -> str:
    """Get the weather for a city.

    Args:
        city: The city's name.

    Returns:
        str: The weather.
    """
    return f"Sunny, 21 C in {city}"
'''
DELETE = '''def delete_file(city: str) -> str:
    """Delete the city's file.

    Args:
        city: The city whose file goes.

    Returns:
        str: What happened.
    """
    return f"Deleted the file of {city}"
'''


def _decision(call_id: str, approve: bool, reason: str | None = None) -> Any:
    approval: dict[str, Any] = {"type": "approval", "tool_call_id": call_id, "approve": approve}
    if reason is not None:
        approval["reason"] = reason
    return {"type": "approval", "approvals": [approval]}


def session(url: str) -> None:
    """A server tool (JSON), a token stream, an approval (streamed, approved), another (denied), a client tool."""
    client = Letta(base_url=url, api_key=API_KEY, max_retries=0, timeout=120)
    weather = client.tools.create(source_code=WEATHER)
    delete = client.tools.create(source_code=DELETE, default_requires_approval=True)
    agent = client.agents.create(name="letta-mock-authored-rec", tool_ids=[weather.id, delete.id], **MODEL)  # type: ignore[arg-type]
    try:
        client.agents.messages.create(agent.id, input="USE_TOOL get_weather please")
        list(client.agents.messages.create(agent.id, input="hello there", streaming=True, stream_tokens=True))
        events = list(client.agents.messages.create(agent.id, input="USE_TOOL delete_file now", streaming=True))
        call_id = next(e for e in events if e.message_type == "approval_request_message").tool_calls[0].tool_call_id  # type: ignore[union-attr]
        list(client.agents.messages.create(agent.id, messages=[_decision(call_id, True)], streaming=True))
        answer = client.agents.messages.create(agent.id, input="USE_TOOL delete_file again")
        call_id = answer.messages[-1].tool_calls[0].tool_call_id  # type: ignore[union-attr]
        client.agents.messages.create(agent.id, messages=[_decision(call_id, False, "not today")])
        page = {"name": "open_page", "description": "Open a page",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}  # fmt: skip
        answer = client.agents.messages.create(agent.id, input="USE_TOOL open_page", client_tools=[page])  # type: ignore[list-item]
        call_id = answer.messages[-1].tool_calls[0].tool_call_id  # type: ignore[union-attr]
        result = {"type": "tool", "tool_call_id": call_id, "tool_return": "opened", "status": "success"}
        client.agents.messages.create(agent.id, messages=[{"type": "tool_return", "tool_returns": [result]}])  # type: ignore[list-item]
        client.agents.messages.list(agent.id, limit=100)
    finally:
        client.agents.delete(agent.id)
        client.tools.delete(weather.id)
        client.tools.delete(delete.id)


if __name__ == "__main__":
    session(sys.argv[1])
