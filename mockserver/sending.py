"""Sending a message, the one path behind every send endpoint (agent create/stream/async, conversation create).

A send resolves its input and controls, refuses what Letta refuses (before anything is used up: a refused send
leaves the agent's script as it was), opens a run, runs the turn into the run's log and answers from that log: a
``LettaResponse`` for JSON, an SSE stream that follows the log for streaming.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mockserver import catalogue
from mockserver.catalogue import Texts
from mockserver.control import CONTROL_HEADER, NO_CONTROLS, Controls, parse_controls, trigger_controls
from mockserver.engine import Failure, Pace, TurnOptions, check_can_send, fail_in_band, run_turn
from mockserver.errors import (
    BadRequest,
    Conflict,
    ControlError,
    Gone,
    HTTPError,
    ProviderError,
    RequestInvalid,
    RouteInvalid,
    ServerError,
)
from mockserver.faults import FAULTS, FaultContext, before_response, faulty_frames
from mockserver.http import json_response, sse_response
from mockserver.models import (
    InputMessage,
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
from mockserver.records import AgentRecord, KeepAlive, RunRecord
from mockserver.scenarios import TurnPlan
from mockserver.store import Store
from mockserver.synthesize import input_text, plan_turn
from mockserver.wire import sse
from mockserver.wire.logprobs import choice_logprobs, generations, turn_token_data
from mockserver.wire.seq import Numbering

__all__ = [
    "collect",
    "follow",
    "input_messages",
    "plan_for",
    "request_controls",
    "resume",
    "send",
    "server_body_checks",
    "turn_options",
]


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
        raise _value_error(Texts.BOTH_INPUTS)
    if body.input is None and body.messages is None:
        raise _value_error(Texts.NO_INPUT)
    if empty_check and not input_messages(body):
        raise RouteInvalid(Texts.MESSAGES_EMPTY)


def _value_error(message: str) -> RequestInvalid:
    return RequestInvalid([{"loc": ["body"], "msg": message, "type": "value_error"}])


def request_controls(request: Request, agent: AgentRecord | None, messages: list[InputMessage]) -> Controls:
    """Controls of this turn: header, then trigger phrase, then the agent's next scripted turn, then server
    defaults. The scripted turn is only looked at; ``Store.use_scripted`` uses it up once the send is accepted."""
    store: Store = request.app.state.store
    header = parse_controls(request.headers.get(CONTROL_HEADER))
    trigger = trigger_controls(input_text(messages))
    scripted = (store.next_scripted(agent.id) if agent is not None else None) or NO_CONTROLS
    defaults: Controls = request.app.state.defaults
    return header.over(trigger).over(scripted).over(defaults)


def turn_options(
    body: LettaRequest,
    controls: Controls,
    *,
    streaming: bool,
    async_run: bool = False,
    server: bool = False,
    letta_rules: bool = False,
    tool_ms: int = 0,
) -> TurnOptions:
    """How the turn runs; ``tool_ms`` is how long a server tool runs unless the controls say (the created agents'
    setting, ``config.CREATED_TOOL_MS``)."""
    pace = Pace(
        first_event_s=controls.get("first_event_delay_ms", 0) / 1000,
        token_s=controls.get("token_delay_ms", 0) / 1000,
        tool_s=controls.get("tool_ms", tool_ms) / 1000,
        jitter_s=controls.get("jitter_ms", 0) / 1000,
        ping_interval_s=controls.get("ping_interval_ms", catalogue.KEEPALIVE_INTERVAL_MS) / 1000,
        seed=controls.seed,
    )
    return TurnOptions(
        stream_tokens=streaming and bool(getattr(body, "stream_tokens", False)),
        include_pings=streaming and bool(getattr(body, "include_pings", True)),
        include_types=body.include_return_message_types,
        include_compaction_messages=body.include_compaction_messages,
        max_steps=body.max_steps,
        async_run=async_run,
        server_errors=server,
        letta_rules=server or letta_rules,
        pace=pace,
    )


def plan_for(
    store: Store, agent: AgentRecord, body: LettaRequest, messages: list[InputMessage], controls: Controls
) -> TurnPlan:
    """The turn's plan for this agent: its configuration and its tools shape it (``synthesize``)."""
    tools = [store.tools[i] for i in agent.profile.tool_ids if i in store.tools]
    return plan_turn(
        messages, body.client_tools, controls, profile=agent.profile, tools=tools,
        use_assistant_message=body.use_assistant_message,
    )  # fmt: skip


def fault_context(request: Request, controls: Controls, run_id: str | None = None) -> FaultContext:
    store: Store = request.app.state.store

    def ping(seq_id: int | None) -> LettaPing:
        return LettaPing(id=store.ids.new("ping"), date=store.clock.now(), run_id=run_id, seq_id=seq_id)

    return FaultContext(
        stall_ms=controls.get("stall_ms", 60000),
        ping_interval_ms=controls.get("ping_interval_ms", catalogue.KEEPALIVE_INTERVAL_MS),
        retry_after=controls.retry_after,
        attempt=int(request.headers.get("x-stainless-retry-count", "0") or 0),
        ping=ping,
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
    if request.app.state.config.fidelity == "server" or agent.created:
        # The real server's request rules, for an agent a client created too; the deprecated /stream route skips
        # the empty-messages check (wire doc §4).
        server_body_checks(body, empty_check=run_type != "send_message_streaming")
    controls = request_controls(request, agent, messages)
    faults = controls.fault or ()
    if not streaming and any(FAULTS[f.kind].stream_only for f in faults):
        listed = controls.as_dict()["fault"]
        raise ControlError(f"{CONTROL_HEADER}: stream faults need a streaming request (fault={listed})")
    background = streaming and bool(getattr(body, "background", False))
    otids = tuple(m.otid for m in messages if m.otid is not None)
    if run_type == "send_conversation_message":
        latest = _latest_run(store, agent, conversation_id)
        if background and otids and latest is not None and otids == latest.input_otids:
            # A retry of a background send (the same otids) re-attaches to its run (wire doc §6.8). The real server
            # does so while the run is active; a mock run is over in an instant, so its latest run counts too.
            return resume(store, latest, 0)
        busy = _conversation_run(store, agent, conversation_id)
        if busy is not None:
            raise Conflict(Texts.conversation_busy(busy.run.id), run_id=busy.run.id)
    try:
        check_can_send(agent, messages, closed_world=store.closed_world or agent.created)
    except HTTPError as refusal:
        if not streaming:
            raise
        # Streaming sends report the refusal in-band, after the run exists (wire doc §6.5a, §17.10).
        record = store.new_run(agent, conversation_id=conversation_id, run_type=run_type, background=background)
        pings = bool(getattr(body, "include_pings", True))
        server = request.app.state.config.fidelity == "server"
        fail_in_band(store, record, Failure.refusal(record.run.id, refusal.message, nulls=server), ping=pings)
        return _stream(request, record, controls, numbered=background)
    store.use_scripted(agent.id)
    await before_response(faults, fault_context(request, controls))
    record = store.new_run(
        agent,
        conversation_id=conversation_id,
        run_type=run_type,
        background=background,
        include_return_message_types=body.include_return_message_types,
        input_otids=otids,
    )
    plan = plan_for(store, agent, body, messages, controls)
    server = request.app.state.config.fidelity == "server"
    tool_ms = request.app.state.config.created_tool_ms if agent.created else 0
    options = turn_options(
        body, controls, streaming=streaming, server=server, letta_rules=agent.created, tool_ms=tool_ms
    )
    turn = run_turn(store, agent, record, conversation_id, messages, plan, options)
    if streaming:
        task = asyncio.ensure_future(turn)  # runs on even if the client goes away
        task.add_done_callback(_consume_exception)  # already logged and ended in-band by run_turn
        store.start_run(record, task)
        return _stream(request, record, controls, numbered=background)
    await turn
    if plan.error is not None:
        raise _http_error(plan)
    return json_response(with_token_data(collect(record), record, body))


def _conversation_run(store: Store, agent: AgentRecord, conversation_id: str | None) -> RunRecord | None:
    """The run a conversation is busy with: Letta locks a conversation while a run is active (wire doc §14)."""
    for record in reversed(store.active_runs(agent)):
        if record.run.conversation_id == conversation_id and not record.finished:
            return record
    return None


def _latest_run(store: Store, agent: AgentRecord, conversation_id: str | None) -> RunRecord | None:
    run_id = agent.last_run_id
    record = store.runs.get(run_id) if run_id is not None else None
    return record if record is not None and record.run.conversation_id == conversation_id else None


def _consume_exception(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _stream(request: Request, record: RunRecord, controls: Controls, *, numbered: bool) -> Response:
    events = follow(request.app.state.store, record, numbered=numbered)
    context = fault_context(request, controls, record.run.id)
    return sse_response(faulty_frames(events, controls.fault or (), context))


def resume(store: Store, record: RunRecord, starting_after: int, *, expire: bool = False) -> Response:
    """A run's stream again, numbered, from ``seq_id > starting_after`` (wire doc §6.8, §13.3). No new ping.

    A finished run's log is kept whole for the last ``Store.log_bound`` finished runs; an older one streams its
    outcome only, or, ``expire`` (server fidelity), answers as Letta does once a run's stream expired (its 3-hour
    TTL): 410 EXPIRED. The contract documents no 410, so the contract profile streams what it has."""
    if expire and record.log_dropped:
        raise Gone(Texts.RUN_EXPIRED)
    return sse_response(_encoded(follow(store, record, numbered=True, starting_after=starting_after, resumed=True)))


async def _encoded(events: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    async for event in events:
        yield sse.encode(event)


def _http_error(plan: TurnPlan) -> HTTPError:
    """A scripted error of a non-streaming send, as the HTTP error Letta answers with (§5, §15.1)."""
    assert plan.error is not None
    kind = catalogue.ERRORS[plan.error.error_type]
    if kind.body == "provider":
        return ProviderError(kind.http_status, kind.name, kind.message, f"letta-mock: simulated {kind.name}")
    if kind.body == "detail":
        return BadRequest(kind.message) if kind.http_status == 400 else HTTPError(kind.message)
    return ServerError(Texts.UNKNOWN_ERROR)


def with_token_data(response: LettaResponse, record: RunRecord, body: LettaRequest) -> LettaResponse:
    """The answer with the turn's log probabilities and token ids, when the request asks for them (RL clients)."""
    logprobs, token_ids = getattr(body, "return_logprobs", False), getattr(body, "return_token_ids", False)
    if not (logprobs or token_ids):
        return response
    turn = generations([item for stored in record.messages for item in stored.items])
    return response.model_copy(update={
        "logprobs": choice_logprobs(turn, getattr(body, "top_logprobs", None)) if logprobs else None,
        "turns": turn_token_data(turn) if token_ids else None,
    })  # fmt: skip


def collect(record: RunRecord) -> LettaResponse:
    """A finished run's log as the non-streaming answer."""
    messages = [e for e in record.events if isinstance(e, LettaMessage) and not isinstance(e, LettaPing)]
    stop = next((e for e in record.events if isinstance(e, LettaStopReason)), LettaStopReason(stop_reason="end_turn"))
    usage = next((e for e in record.events if isinstance(e, LettaUsageStatistics)), LettaUsageStatistics())
    return LettaResponse(messages=messages, stop_reason=stop, usage=usage)


async def follow(
    store: Store, record: RunRecord, *, numbered: bool, starting_after: int = 0, resumed: bool = False
) -> AsyncIterator[Any]:
    """The run's events from ``seq_id > starting_after``, following the log live until the run ends.

    ``numbered`` streams (background and resumed) carry ``seq_id`` (``wire.seq``); other streams leave it null.
    Keep-alive pings belong to the connection that waited: a ``resumed`` reader gets only those of the silences
    it waits through itself, not the ones logged before it came.
    """
    index = 0
    numbering = Numbering(record.run.id)
    attached_at = len(record.events) if resumed else 0
    store.reader_attached(record)
    try:
        while True:
            changed = record.changed
            while index < len(record.events):
                event = record.events[index]
                index += 1
                if isinstance(event, KeepAlive):
                    ping = event.ping
                    if ping is not None and numbering.last >= starting_after and index > attached_at:
                        yield numbering.keepalive(ping) if numbered else ping
                    continue
                if numbering.advance() > starting_after:
                    yield numbering.stamp(event) if numbered else event
            if record.finished:
                return
            await changed.wait()
    finally:
        store.reader_left(record)
