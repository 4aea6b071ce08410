"""Sending a message, the one path behind every send endpoint (agent create/stream/async, conversation create).

A send resolves its input, checks the approval rules, opens a run, runs the turn into the run's log and then
answers from that log: a ``LettaResponse`` for JSON, an SSE stream that follows the log for streaming.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from mockserver import sse
from mockserver.errors import RequestInvalid
from mockserver.http import json_response, sse_response
from mockserver.models import (
    InputMessage,
    LettaRequest,
    LettaResponse,
    LettaStopReason,
    LettaUsageStatistics,
    MessageCreate,
)
from mockserver.store import AgentRecord, RunRecord, Store
from mockserver.synthesize import plan_reply
from mockserver.turns import TurnOptions, check_can_send, run_turn

__all__ = ["collect", "follow", "input_messages", "send"]


def input_messages(body: LettaRequest) -> list[InputMessage]:
    """``input`` is sugar for one user message (wire doc §3)."""
    if body.messages is not None:
        return list(body.messages)
    if body.input is not None:
        return [MessageCreate(role="user", content=body.input if isinstance(body.input, str) else _parts(body.input))]
    return []


def _parts(parts: list[Any]) -> list[Any]:
    # MessageCreate content has no summarized-reasoning part; keep it as text rather than lose it.
    from mockserver.models import SummarizedReasoningContent, TextContent

    return [
        TextContent(text=" ".join(p.text for p in part.summary))
        if isinstance(part, SummarizedReasoningContent)
        else part
        for part in parts
    ]


async def send(
    request: Request,
    agent: AgentRecord,
    conversation_id: str | None,
    body: LettaRequest,
    *,
    streaming: bool,
    run_type: str,
) -> Response:
    store: Store = request.app.state.store
    messages = input_messages(body)
    if request.app.state.config.fidelity == "server" and not messages:
        raise RequestInvalid([{"loc": ["body"], "msg": "Messages must not be empty", "type": "value_error"}])
    check_can_send(store, agent, messages)
    stream_tokens = bool(getattr(body, "stream_tokens", False)) and streaming
    background = bool(getattr(body, "background", False)) and streaming
    record = store.new_run(
        agent,
        conversation_id=conversation_id,
        run_type=run_type,
        background=background,
        include_return_message_types=body.include_return_message_types,
    )
    options = TurnOptions(
        stream_tokens=stream_tokens,
        include_pings=streaming and bool(getattr(body, "include_pings", True)),
        include_types=body.include_return_message_types,
        max_steps=body.max_steps,
    )
    run_turn(store, agent, record, conversation_id, messages, plan_reply(messages, body.client_tools), options)
    if not streaming:
        return json_response(collect(record))
    return sse_response(follow(record, numbered=background))


def collect(record: RunRecord) -> LettaResponse:
    """A finished run's log as the non-streaming answer."""
    messages = [e for e in record.events if isinstance(e, BaseModel) and hasattr(e, "id") and e.message_type != "ping"]
    stop = next((e for e in record.events if isinstance(e, LettaStopReason)), LettaStopReason(stop_reason="end_turn"))
    usage = next((e for e in record.events if isinstance(e, LettaUsageStatistics)), LettaUsageStatistics())
    return LettaResponse(messages=messages, stop_reason=stop, usage=usage)


async def follow(record: RunRecord, *, numbered: bool, starting_after: int = 0) -> AsyncIterator[bytes]:
    """The run's log as SSE bytes from ``seq_id > starting_after``, following it live until it ends.

    ``numbered`` streams (background and resumed) carry ``seq_id``: the position of the chunk in the run, from
    1, counting every chunk (wire doc §6.8); other streams leave it null.
    """
    position = max(starting_after, 0)
    while True:
        changed = record.changed
        while position < len(record.events):
            event = record.events[position]
            position += 1
            yield sse.encode(_numbered(event, position, record.run.id) if numbered else event)
        if record.finished:
            return
        await changed.wait()


def _numbered(event: Any, seq: int, run_id: str) -> Any:
    if isinstance(event, BaseModel) and "seq_id" in type(event).model_fields:
        update: dict[str, Any] = {"seq_id": seq}
        if getattr(event, "run_id", None) is None:
            update["run_id"] = run_id
        return event.model_copy(update=update)
    return event
