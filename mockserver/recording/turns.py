"""Replayed turns in the store: a replayed send leaves behind what a synthesized one would, so a synthesized
``list`` (``--on-miss synthesize``), run or approval afterwards agrees with what was replayed.

Which answers carry a turn (docs/fixtures.md, "Replayed sends update the store"):

* a send (``POST …/agents/{id}/messages``, ``…/messages/stream``, ``…/conversations/{id}/messages``): the client's
  input from the request, the agent's messages from the answer (a ``LettaResponse``, or the stream with its token
  chunks merged), the run named in it, and a pending approval when the turn stopped for one;
* an async send (``…/messages/async``): the input and the run as answered (``created``);
* a run's stream (``POST /v1/runs/{id}/stream``): the agent's messages, and the run's ending.

Only successful answers count; a message already stored (a sequence's last answer repeating) is not stored again.
Answers that do not parse as Letta's are left out of the store, never refused: replay serves what was recorded.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from mockserver import catalogue
from mockserver.engine import items
from mockserver.engine.approvals import decisions
from mockserver.models import (
    ApprovalRequestMessage,
    LettaAsyncRequest,
    LettaPing,
    LettaRequest,
    LettaStopReason,
    LettaStreamingRequest,
    Message,
    MessageCreate,
    Run,
    StopReasonType,
    ToolCall,
    message_adapter,
    stream_event_adapter,
)
from mockserver.models.requests import ConversationMessageRequest
from mockserver.records import AgentRecord
from mockserver.sending import input_messages
from mockserver.store import Store
from mockserver.wire import sse
from mockserver.wire.tokens import reassemble

__all__ = ["remember"]

_PREFIX = r"^/(?:v1|latest)"
_SEND = re.compile(_PREFIX + r"/agents/(?P<agent>[^/]+)/messages(?P<kind>/stream|/async)?$")
_CONVERSATION_SEND = re.compile(_PREFIX + r"/conversations/(?P<conversation>[^/]+)/messages$")
_RUN_STREAM = re.compile(_PREFIX + r"/runs/(?P<run>[^/]+)/stream$")


def remember(store: Store, method: str, path: str, request_body: bytes, status: int, body: bytes, stream: bool) -> None:
    """Store the turn an answer carries, if it carries one (see the module's rules)."""
    if method != "POST" or not 200 <= status < 300:
        return
    if (found := _SEND.match(path)) is not None:
        agent_id = found.group("agent")
        if not agent_id.startswith("agent-"):
            return
        kind = found.group("kind")
        model: type[LettaRequest] = LettaAsyncRequest if kind == "/async" else LettaStreamingRequest
        request = _parse(model, request_body)
        agent = store.agent(agent_id)
        if kind == "/async":
            _async_send(store, agent, request, body)
        else:
            _send(store, agent, None, request, body, stream)
    elif (found := _CONVERSATION_SEND.match(path)) is not None:
        conversation = _parse(ConversationMessageRequest, request_body)
        agent_id = conversation.agent_id if isinstance(conversation, ConversationMessageRequest) else None
        agent, conversation_id = store.conversation_agent(found.group("conversation"), agent_id)
        _send(store, agent, conversation_id, conversation, body, stream)
    elif (found := _RUN_STREAM.match(path)) is not None and stream:
        record = store.runs.get(found.group("run"))
        owner = store.agents.get(record.run.agent_id) if record is not None else None
        if record is not None and owner is not None:
            events = _stream_events(body)
            outputs, stop = _outputs(events)
            run = record.run.model_copy(update=_ending(stop))
            store.replayed_turn(owner, conversation_id=run.conversation_id, run=run, inputs=[], outputs=outputs,
                                events=events, pending=_pending(outputs, stop), answered=False)  # fmt: skip


def _parse(model: type[LettaRequest], raw: bytes) -> LettaRequest | None:
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError:
        return None


def _send(
    store: Store, agent: AgentRecord, conversation_id: str | None, request: LettaRequest | None, body: bytes,
    stream: bool,
) -> None:  # fmt: skip
    if stream:
        events = _stream_events(body)
    else:
        events = _response_events(body)
    outputs, stop = _outputs(events)
    run_id = _run_id(events) or store.ids.new("run")
    existing = store.runs.get(run_id)
    if existing is not None:
        run = existing.run.model_copy(update=_ending(stop))
    else:
        run = Run(
            id=run_id, created_at=store.clock.now(), agent_id=agent.id, conversation_id=conversation_id,
            background=bool(getattr(request, "background", False)) or None,
            metadata={"run_type": "send_message", "lettuce": None}, **_ending(stop),
        )  # fmt: skip
    inputs, answered = _inputs(store, agent, request, run.id)
    store.replayed_turn(agent, conversation_id=conversation_id, run=run, inputs=inputs, outputs=outputs,
                        events=events, pending=_pending(outputs, stop), answered=answered)  # fmt: skip


def _async_send(store: Store, agent: AgentRecord, request: LettaRequest | None, body: bytes) -> None:
    try:
        run = Run.model_validate_json(body)
    except ValidationError:
        return
    inputs, answered = _inputs(store, agent, request, run.id)
    store.replayed_turn(agent, conversation_id=run.conversation_id, run=run, inputs=inputs, outputs=[],
                        events=None, pending=None, answered=answered)  # fmt: skip


def _inputs(
    store: Store, agent: AgentRecord, request: LettaRequest | None, run_id: str
) -> tuple[list[tuple[str, list[Message]]], bool]:
    """The client's messages as the mock stores them (``engine.items``), and whether they answer an approval."""
    if request is None:
        return [], False
    stored: list[tuple[str, list[Message]]] = []
    answered = False
    step_id = store.ids.new("step")
    for message in input_messages(request):
        message_id = store.ids.new("message")
        now = store.clock.now()
        if isinstance(message, MessageCreate):
            otid = message.otid or store.ids.uuid4()
            item = items.input_item(message, message_id=message_id, now=now, run_id=run_id, step_id=step_id, otid=otid)
        else:
            pending = agent.pending
            item = items.approval_response(
                decisions(pending, message), message_id=message_id, now=now, run_id=run_id,
                otid=message.otid or store.ids.uuid4(), request_id=pending.request.id if pending else None,
            )  # fmt: skip
            answered = True
        stored.append((message_id, [item]))
    return stored, answered


def _stream_events(body: bytes) -> list[Any]:
    events: list[Any] = []
    for frame in sse.decode(body.decode("utf-8", "replace")):
        if frame.done:
            events.append(sse.DONE)
            continue
        try:
            events.append(stream_event_adapter.validate_json(frame.data))
        except ValidationError:
            try:  # compaction events stream with include_compaction_messages (wire doc §17.4)
                events.append(message_adapter.validate_json(frame.data))
            except ValidationError:
                continue
    return events


def _response_events(body: bytes) -> list[Any]:
    try:
        answer = json.loads(body)
    except ValueError:
        return []
    if not isinstance(answer, dict):
        return []
    events: list[Any] = []
    for message in answer.get("messages") or []:
        try:
            events.append(message_adapter.validate_python(message))
        except ValidationError:
            continue
    for key in ("stop_reason", "usage"):
        try:
            events.append(stream_event_adapter.validate_python(answer.get(key)))
        except ValidationError:
            continue
    return [*events, sse.DONE]


def _outputs(events: list[Any]) -> tuple[list[tuple[str, list[Message]]], StopReasonType | None]:
    """The agent's stored messages (items sharing an id are one stored message) and the stop reason."""
    whole = [m for m in reassemble(events) if not isinstance(m, LettaPing)]
    grouped: list[tuple[str, list[Message]]] = []
    for item in whole:
        item = item.model_copy(update={"seq_id": None})
        if grouped and grouped[-1][0] == item.id:
            grouped[-1][1].append(item)
        else:
            grouped.append((item.id, [item]))
    stop = next((e.stop_reason for e in events if isinstance(e, LettaStopReason)), None)
    return grouped, stop


def _run_id(events: list[Any]) -> str | None:
    for event in events:
        run_id = getattr(event, "run_id", None)
        if isinstance(run_id, str) and re.match(r"^(job|run)-[a-fA-F0-9]{8}", run_id):
            return run_id
    return None


def _ending(stop: StopReasonType | None) -> dict[str, Any]:
    if stop is None:
        return {"status": "running"}
    return {"status": catalogue.run_status(stop), "stop_reason": stop}


def _pending(
    outputs: list[tuple[str, list[Message]]], stop: StopReasonType | None
) -> tuple[ApprovalRequestMessage, list[ToolCall]] | None:
    if stop != "requires_approval":
        return None
    for _, stored in reversed(outputs):
        for item in stored:
            if isinstance(item, ApprovalRequestMessage) and isinstance(item.tool_calls, list):
                return item, list(item.tool_calls)
    return None
