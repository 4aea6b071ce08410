"""Sending a message, the one path behind every send endpoint (agent create/stream/async, conversation create).

A send resolves its input and controls, checks the approval rules, opens a run, runs the turn into the run's
log and answers from that log: a ``LettaResponse`` for JSON, an SSE stream that follows the log for streaming.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from mockserver import sse
from mockserver.control import ControlError, Controls, parse_controls, trigger_controls
from mockserver.errors import BadRequest, Conflict, HTTPError, ProviderError, RequestInvalid, RouteInvalid, ServerError
from mockserver.faults import STREAM_ONLY, before_response, faulty_frames
from mockserver.http import json_response, sse_response
from mockserver.models import (
    InputMessage,
    LettaErrorMessage,
    LettaMessage,
    LettaPing,
    LettaRequest,
    LettaResponse,
    LettaStopReason,
    LettaUsageStatistics,
    MessageCreate,
    SummarizedReasoningContent,
    TextContent,
)
from mockserver.store import AgentRecord, KeepAlive, RunRecord, Store
from mockserver.synthesize import TurnPlan, input_text, plan_turn
from mockserver.turns import ERRORS, Pace, TurnOptions, check_can_send, run_turn

__all__ = ["collect", "follow", "input_messages", "request_controls", "resume", "send", "turn_options"]

CONTROL_HEADER = "x-letta-mock"

# How a scripted error surfaces when nothing streams: the provider-error HTTP answers of §15.1.
_HTTP_ERRORS: dict[str, int] = {
    "llm_timeout": 504,
    "llm_rate_limit": 429,
    "llm_authentication": 401,
    "llm_empty_response": 500,
    "llm_error": 500,
    "context_window_overflow_in_system_prompt": 400,
    "internal_error": 500,
    "stream_incomplete": 500,
}


def input_messages(body: LettaRequest) -> list[InputMessage]:
    """``input`` is sugar for one more user message (wire doc §3)."""
    messages: list[InputMessage] = list(body.messages or ())
    if body.input is None:
        return messages
    if isinstance(body.input, str):
        return [*messages, MessageCreate(role="user", content=body.input)]
    # MessageCreate content has no summarized-reasoning part; keep its text rather than lose it.
    parts = [
        TextContent(text=" ".join(p.text for p in part.summary))
        if isinstance(part, SummarizedReasoningContent)
        else part
        for part in body.input
    ]
    return [*messages, MessageCreate(role="user", content=parts)]


def server_body_checks(body: LettaRequest, *, empty_check: bool) -> None:
    """The real server's request rules the OpenAPI document does not state (``fidelity="server"``, §4, §15.2)."""
    if body.input is not None and body.messages is not None:
        raise _value_error("Value error, Cannot specify both 'input' and 'messages'. Use one or the other.")
    if body.input is None and body.messages is None:
        raise _value_error("Value error, Must specify either 'input' or 'messages'.")
    if empty_check and not input_messages(body):
        raise RouteInvalid("Messages must not be empty")


def _value_error(message: str) -> RequestInvalid:
    return RequestInvalid([{"loc": ["body"], "msg": message, "type": "value_error"}])


def request_controls(request: Request, agent: AgentRecord | None, messages: list[InputMessage]) -> Controls:
    """Controls of this turn: header, then trigger phrase, then the agent's script, then server defaults."""
    store: Store = request.app.state.store
    header = parse_controls(request.headers.get(CONTROL_HEADER))
    trigger = trigger_controls(input_text(messages))
    script = store.scripts.get(agent.id) if agent is not None else None
    scripted = script.popleft() if script else Controls()
    defaults: Controls = request.app.state.defaults
    return header.over(trigger).over(scripted).over(defaults)


def turn_options(body: LettaRequest, controls: Controls, *, streaming: bool) -> TurnOptions:
    seed = controls.seed
    pace = Pace(
        first_event_s=controls.get("first_event_delay_ms", 0) / 1000,
        token_s=controls.get("token_delay_ms", 0) / 1000,
        jitter_s=controls.get("jitter_ms", 0) / 1000,
        ping_interval_s=controls.get("ping_interval_ms", 20000) / 1000,
        seed=seed,
    )
    return TurnOptions(
        stream_tokens=streaming and bool(getattr(body, "stream_tokens", False)),
        include_pings=streaming and bool(getattr(body, "include_pings", True)),
        include_types=body.include_return_message_types,
        include_compaction_messages=body.include_compaction_messages,
        max_steps=body.max_steps,
        pace=pace,
    )


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
    if request.app.state.config.fidelity == "server":
        # The deprecated /stream route skips the empty-messages check (wire doc §4).
        server_body_checks(body, empty_check=run_type != "send_message_streaming")
    controls = request_controls(request, agent, messages)
    if not streaming and any(f.kind in STREAM_ONLY for f in controls.fault or ()):
        raise ControlError(
            f"{CONTROL_HEADER}: stream faults need a streaming request (fault={controls.as_dict()['fault']})"
        )
    await before_response(request, controls)
    background = streaming and bool(getattr(body, "background", False))
    otids = tuple(m.otid for m in messages if m.otid is not None)
    if run_type == "send_conversation_message":
        busy = _conversation_run(store, agent, conversation_id)
        if busy is not None:
            if background and otids and otids == busy.input_otids:
                return resume(busy, 0)  # a retry of a background send re-attaches to its run (wire doc §6.8)
            raise Conflict(
                f"CONFLICT: Cannot send a new message: Another request (run_id={busy.run.id}) is currently being "
                "processed for this conversation. Please wait for it to complete.",
                run_id=busy.run.id,
            )
    try:
        check_can_send(store, agent, messages)
    except HTTPError as refusal:
        if not streaming:
            raise
        # Streaming sends report the refusal in-band, after the run exists (wire doc §6.5a, §17.10).
        record = store.new_run(agent, conversation_id=conversation_id, run_type=run_type, background=background)
        _refuse_in_band(store, record, refusal, include_pings=bool(getattr(body, "include_pings", True)))
        return _stream(record, controls, store, numbered=background)
    record = store.new_run(
        agent,
        conversation_id=conversation_id,
        run_type=run_type,
        background=background,
        include_return_message_types=body.include_return_message_types,
    )
    record.input_otids = otids
    plan = plan_turn(messages, body.client_tools, controls)
    options = turn_options(body, controls, streaming=streaming)
    turn = run_turn(store, agent, record, conversation_id, messages, plan, options)
    if streaming:
        record.task = asyncio.ensure_future(turn)  # runs on even if the client goes away
        record.task.add_done_callback(_consume_exception)  # already logged and ended in-band by run_turn
        return _stream(record, controls, store, numbered=background)
    await turn
    if plan.error is not None:
        raise _http_error(plan)
    return json_response(collect(record))


def _conversation_run(store: Store, agent: AgentRecord, conversation_id: str | None) -> RunRecord | None:
    """The run a conversation is busy with: Letta locks a conversation while a run is active (wire doc §14)."""
    for record in reversed(store.active_runs(agent)):
        if record.run.conversation_id == conversation_id and not record.finished:
            return record
    return None


def _consume_exception(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _stream(record: RunRecord, controls: Controls, store: Store, *, numbered: bool) -> Response:
    events = follow(record, numbered=numbered)
    return sse_response(faulty_frames(events, controls, store, record.run.id))


def resume(record: RunRecord, starting_after: int) -> Response:
    """A run's stream again, numbered, from ``seq_id > starting_after`` (wire doc §6.8, §13.3). No new ping."""
    return sse_response(_encoded(follow(record, numbered=True, starting_after=starting_after, resumed=True)))


async def _encoded(events: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    async for event in events:
        yield sse.encode(event)


def _http_error(plan: TurnPlan) -> HTTPError:
    """A scripted error of a non-streaming send, as the HTTP error Letta answers with (§5, §15.1)."""
    assert plan.error is not None
    error_type = plan.error.error_type
    status = _HTTP_ERRORS[error_type]
    message = ERRORS[error_type][1]
    if error_type.startswith("llm_"):
        return ProviderError(status, error_type, message, f"letta-mock: simulated {error_type}")
    if status == 400:
        return BadRequest(message)
    return ServerError("An unknown error occurred")


def _refuse_in_band(store: Store, record: RunRecord, refusal: HTTPError, *, include_pings: bool) -> None:
    detail = refusal.detail
    message = detail.get("message", str(detail)) if isinstance(detail, dict) else str(detail)
    if include_pings:
        record.append(LettaPing(id=store.ids.new("ping"), date=store.clock.now(), run_id=record.run.id))
    record.append(LettaStopReason(stop_reason="error"))
    error = LettaErrorMessage(run_id=record.run.id, error_type="internal_error", message=message, detail=message)
    record.append(error)
    record.append(sse.DONE)
    record.run.metadata = {**(record.run.metadata or {}), "error": error.model_dump(mode="json")}
    store.finish_run(record, "failed", "error")
    record.finish()


def collect(record: RunRecord) -> LettaResponse:
    """A finished run's log as the non-streaming answer."""
    messages = [e for e in record.events if isinstance(e, LettaMessage) and not isinstance(e, LettaPing)]
    stop = next((e for e in record.events if isinstance(e, LettaStopReason)), LettaStopReason(stop_reason="end_turn"))
    usage = next((e for e in record.events if isinstance(e, LettaUsageStatistics)), LettaUsageStatistics())
    return LettaResponse(messages=messages, stop_reason=stop, usage=usage)


async def follow(
    record: RunRecord, *, numbered: bool, starting_after: int = 0, resumed: bool = False
) -> AsyncIterator[Any]:
    """The run's events from ``seq_id > starting_after``, following the log live until the run ends.

    ``numbered`` streams (background and resumed) carry ``seq_id``: the position of the chunk in the run, from
    1, counting every chunk but keep-alive pings, which carry the last one (wire doc §6.4, §6.8); other streams
    leave it null. Keep-alive pings belong to the connection that waited: a ``resumed`` reader gets only those
    of the silences it waits through itself, not the ones logged before it came.
    """
    index = 0
    seq = 0
    attached_at = len(record.events) if resumed else 0
    record.readers += 1
    try:
        while True:
            changed = record.changed
            while index < len(record.events):
                event = record.events[index]
                index += 1
                if isinstance(event, KeepAlive):
                    ping = event.ping
                    if ping is not None and seq >= starting_after and index > attached_at:
                        yield _numbered(ping, seq or None, record.run.id) if numbered else ping
                    continue
                seq += 1
                if seq > starting_after:
                    yield _numbered(event, seq, record.run.id) if numbered else event
            if record.finished:
                return
            await changed.wait()
    finally:
        record.readers -= 1
        record.drop_keepalives()


def _numbered(event: Any, seq: int | None, run_id: str) -> Any:
    if isinstance(event, BaseModel) and "seq_id" in type(event).model_fields:
        update: dict[str, Any] = {"seq_id": seq}
        if getattr(event, "run_id", None) is None:
            update["run_id"] = run_id
        return event.model_copy(update=update)
    return event
