"""Sending a message: the one path behind every send endpoint (agent send, stream, async; conversation send).

A send is a record. Its handler builds one ``Send`` — what the client asked for, checked as Letta checks a body
before any work (``Send.of``) — and ``answer`` accepts or refuses it and answers:

    handler     Send.of(request, agent, body, KIND, ...): input messages (``input`` folded in), otids, how the
                answer is delivered (streaming, tokens, pings, background), the controls (header > trigger >
                script > defaults), the rules (``rules.Rules``); 422 for Letta's body rules, 400 for bad controls
                [the conversation handler: a retry re-attaches to its run, a busy conversation is a 409]
    answer      refusals Letta makes (pending approvals) before anything is used up, so a refused send leaves the
                agent's script as it was -> the scripted turn used up -> faults before the answer -> Store.new_run
                -> plan_for(store, send): the turn's plan -> engine.run_turn into the run's log
                -> a LettaResponse collected from the log | an SSE stream that follows it | (async) the run at once

How the endpoints differ is one row each in ``KINDS`` (``SendKind``), never a branch on their names. The turn's
plan comes from ``plan_for`` alone: a turn decided from the request (an authored rule matching it,
``mockserver.authored``) answers there. The rules are asked once, in ``Send.of`` before the controls are resolved
(a rule's controls rank under the header, over triggers, scripts and defaults); the answer rides in the ``Send``
and is taken (counted, its plan used) only when the send is accepted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from mockserver import catalogue
from mockserver.authored.answer import RuleAnswer, rule_answer
from mockserver.catalogue import Texts
from mockserver.control import CONTROL_HEADER, NO_CONTROLS, Controls, parse_controls, trigger_controls
from mockserver.engine import Failure, Pace, TurnOptions, check_can_send, fail_in_band, run_turn
from mockserver.errors import (
    BadRequest,
    ControlError,
    Gone,
    HTTPError,
    ProviderError,
    RequestInvalid,
    RouteInvalid,
    ServerError,
)
from mockserver.faults import FAULTS, FaultContext, before_response, faulty_frames
from mockserver.http import json_response, rules, sse_response
from mockserver.models import (
    ConversationMessageRequest,
    InputMessage,
    LettaAsyncRequest,
    LettaPing,
    LettaRequest,
    LettaStreamingRequest,
    MessageCreate,
    SummarizedReasoningContent,
    TextContent,
)
from mockserver.models._base import trusted  # hot paths: built without validating again (tested both ways)
from mockserver.records import AgentRecord, KeepAlive, RunRecord
from mockserver.rules import CONTRACT, Rules
from mockserver.runs import collect, post_callback, with_token_data
from mockserver.scenarios import TurnPlan
from mockserver.store import Store
from mockserver.synthesize import input_text, plan_turn
from mockserver.wire import sse
from mockserver.wire.seq import Numbering

__all__ = [
    "ASYNC",
    "CONVERSATION",
    "KINDS",
    "SEND",
    "STREAM",
    "Send",
    "SendKind",
    "answer",
    "follow",
    "input_messages",
    "plan_for",
    "resume",
    "turn_options",
]


# -- what was asked ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendKind:
    """How one send endpoint differs from the others (wire doc §4, §10, §14)."""

    run_type: str  # what the run records as its ``metadata.run_type``
    input_rule: bool = True  # where ``rules.refuse_empty``: exactly one of ``input``/``messages``
    empty_rule: bool = True  # ... and "Messages must not be empty"
    faults: bool = True  # the controls' faults act on its answer
    answers_run: bool = False  # answers with the run at once; the turn runs after the answer


SEND = SendKind("send_message")
STREAM = SendKind("send_message_streaming", empty_rule=False)  # the deprecated /stream route skips it (§4)
# The async route has no empty-messages check (§10); the mock has never applied the input rule or faults to it.
ASYNC = SendKind("send_message_async", input_rule=False, empty_rule=False, faults=False, answers_run=True)
CONVERSATION = SendKind("send_conversation_message")
KINDS = (SEND, STREAM, ASYNC, CONVERSATION)


@dataclass(frozen=True)
class Send:
    """What a client asked for in one send, whichever endpoint it came by (built by ``Send.of`` in its handler)."""

    kind: SendKind
    agent: AgentRecord
    body: LettaRequest  # as parsed: the plan reads its tools, filters and step limit
    messages: tuple[InputMessage, ...]  # ``input`` folded in as one more user message (wire doc §3)
    controls: Controls = NO_CONTROLS
    rules: Rules = CONTRACT
    conversation_id: str | None = None  # None: the agent's default conversation
    streaming: bool = False
    stream_tokens: bool = False
    include_pings: bool = False
    background: bool = False  # a background run: its stream numbers every event (``seq_id``, §6.8)
    callback_url: str | None = None  # async: where the run's result is POSTed
    tool_ms: int = 0  # how long a server tool runs unless the controls say (``rules.slow_tools``)
    authored: RuleAnswer | None = None  # how the authored rules answer it (None: no rules, no paused authored turn)

    @property
    def otids(self) -> tuple[str, ...]:
        """The client's own ids of the messages sent (a retry sends the same ones)."""
        return tuple(m.otid for m in self.messages if m.otid is not None)

    @classmethod
    def of(
        cls,
        request: Request,
        agent: AgentRecord,
        body: LettaRequest,
        kind: SendKind,
        *,
        conversation_id: str | None = None,
        streaming: bool = False,
    ) -> Send:
        """What ``body`` asks of ``agent``, checked as Letta checks a send before any work: 422 for the real
        server's body rules (where they apply), 400 for controls naming something unknown or for stream faults
        on an answer that does not stream."""
        letta = rules(request, created=agent.created)
        if letta.refuse_empty and kind.input_rule:
            _check_input(body, empty_check=kind.empty_rule)
        messages = tuple(input_messages(body))
        authored = rule_answer(request, agent, conversation_id, body, messages, letta)
        controls = request_controls(request, agent, messages, authored)
        if kind.faults and not streaming and controls.fault and any(FAULTS[f.kind].stream_only for f in controls.fault):
            listed = controls.as_dict()["fault"]
            raise ControlError(f"{CONTROL_HEADER}: stream faults need a streaming request (fault={listed})")
        stream = body if isinstance(body, _STREAMABLE) else None
        return cls(
            kind, agent, body, messages, controls, letta, conversation_id=conversation_id, streaming=streaming,
            stream_tokens=streaming and stream is not None and stream.stream_tokens,
            include_pings=streaming and stream is not None and stream.include_pings,
            background=kind.answers_run or (streaming and stream is not None and stream.background),
            callback_url=body.callback_url if isinstance(body, LettaAsyncRequest) else None, authored=authored,
            tool_ms=request.app.state.config.created_tool_ms if letta.slow_tools else 0,
        )  # fmt: skip


_STREAMABLE = (LettaStreamingRequest, ConversationMessageRequest)  # bodies that say how to stream


def input_messages(body: LettaRequest) -> list[InputMessage]:
    """``input`` is sugar for one more user message (wire doc §3)."""
    messages: list[InputMessage] = list(body.messages or ())
    if body.input is None:
        return messages
    if isinstance(body.input, str):  # validated with the body: not again
        return [*messages, trusted(MessageCreate, role="user", content=body.input)]
    # MessageCreate content has no summarized-reasoning part; keep its text rather than lose it.
    parts = [
        TextContent(text=" ".join(p.text for p in part.summary))
        if isinstance(part, SummarizedReasoningContent)
        else part
        for part in body.input
    ]
    return [*messages, MessageCreate(role="user", content=parts)]


def _check_input(body: LettaRequest, *, empty_check: bool) -> None:
    """The real server's request rules the OpenAPI document does not state (``Rules.refuse_empty``, §4, §15.2)."""
    if body.input is not None and body.messages is not None:
        raise _value_error(Texts.BOTH_INPUTS)
    if body.input is None and body.messages is None:
        raise _value_error(Texts.NO_INPUT)
    if empty_check and not input_messages(body):
        raise RouteInvalid(Texts.MESSAGES_EMPTY)


def _value_error(message: str) -> RequestInvalid:
    return RequestInvalid([{"loc": ["body"], "msg": message, "type": "value_error"}])


def request_controls(
    request: Request, agent: AgentRecord | None, messages: tuple[InputMessage, ...], authored: RuleAnswer | None = None
) -> Controls:
    """Controls of this turn: header, then the rule answering it (``authored``), then trigger phrase, then the
    agent's next scripted turn, then server defaults. The scripted turn is only looked at; ``Store.use_scripted``
    uses it up once the send is accepted."""
    store: Store = request.app.state.store
    header = parse_controls(request.headers.get(CONTROL_HEADER))
    ruled = authored.controls if authored is not None else NO_CONTROLS
    trigger = trigger_controls(input_text(messages))
    scripted = (store.next_scripted(agent.id) if agent is not None else None) or NO_CONTROLS
    defaults: Controls = request.app.state.defaults
    return header.over(ruled).over(trigger).over(scripted).over(defaults)


# -- the turn it asks for ---------------------------------------------------------------------------------------


def turn_options(send: Send) -> TurnOptions:
    """How the turn runs: what it streams (from the send) and how fast (from its controls; a server tool of an
    agent a client created runs for the ``created_tool_ms`` setting unless they say)."""
    body = send.body
    return TurnOptions(
        stream_tokens=send.stream_tokens,
        include_pings=send.include_pings,
        include_types=body.include_return_message_types,
        include_compaction_messages=body.include_compaction_messages,
        max_steps=body.max_steps,
        async_run=send.kind.answers_run,
        rules=send.rules,
        pace=_pace(send.controls, send.tool_ms),
    )


# The last pace made, by the controls it was made of: most sends share theirs (the server's defaults).
_LAST_PACE: list[tuple[Controls | None, int, Pace]] = [(None, 0, Pace())]


def _pace(controls: Controls, tool_ms: int) -> Pace:
    seen, seen_tool_ms, pace = _LAST_PACE[0]
    if controls is seen and tool_ms == seen_tool_ms:  # both frozen: the same controls make the same pace
        return pace
    pace = Pace(
        first_event_s=controls.get("first_event_delay_ms", 0) / 1000,
        token_s=controls.get("token_delay_ms", 0) / 1000,
        tool_s=controls.get("tool_ms", tool_ms) / 1000,
        jitter_s=controls.get("jitter_ms", 0) / 1000,
        ping_interval_s=controls.get("ping_interval_ms", catalogue.KEEPALIVE_INTERVAL_MS) / 1000,
        seed=controls.seed,
    )
    _LAST_PACE[0] = (controls, tool_ms, pace)
    return pace


def plan_for(store: Store, send: Send) -> TurnPlan:
    """The turn's plan for this send, once it is accepted: the authored rule's (``send.authored``), else the
    scenario's, shaped by the agent's configuration and its tools (``synthesize``)."""
    plan = send.authored.take(send.controls) if send.authored is not None else None
    if plan is not None:
        return plan
    agent, body = send.agent, send.body
    tools = [store.tools[i] for i in agent.profile.tool_ids if i in store.tools]
    return plan_turn(
        send.messages, body.client_tools, send.controls, profile=agent.profile, tools=tools,
        use_assistant_message=body.use_assistant_message,
    )  # fmt: skip


def _attempt(header: str | None) -> int:
    """The SDK's try number (``x-stainless-retry-count``, 0 first). A value that is not a whole number counts as
    the first try: the header is the client's, and a bad one must not fail its send."""
    value = (header or "").strip()
    return int(value) if value.isascii() and value.isdigit() else 0


def fault_context(request: Request, controls: Controls, run_id: str | None = None) -> FaultContext:
    store: Store = request.app.state.store

    def ping(seq_id: int | None) -> LettaPing:
        return LettaPing(id=store.ids.new("ping"), date=store.clock.now(), run_id=run_id, seq_id=seq_id)

    return FaultContext(
        stall_ms=controls.get("stall_ms", 60000),
        ping_interval_ms=controls.get("ping_interval_ms", catalogue.KEEPALIVE_INTERVAL_MS),
        retry_after=controls.retry_after,
        attempt=_attempt(request.headers.get("x-stainless-retry-count")),
        ping=ping,
    )


# -- accepted or refused, and answered --------------------------------------------------------------------------


async def answer(request: Request, send: Send) -> Response:
    """Accept or refuse ``send`` and answer it: a ``LettaResponse``, an SSE stream, or (async) the run."""
    store: Store = request.app.state.store
    agent = send.agent
    if send.kind.answers_run:
        return _start(request, send)
    try:
        check_can_send(agent, send.messages, send.rules)
    except HTTPError as refusal:
        if not send.streaming:
            raise
        # Streaming sends report the refusal in-band, after the run exists (wire doc §6.5a, §17.10).
        record = store.new_run(agent, conversation_id=send.conversation_id, run_type=send.kind.run_type,
                               background=send.background)  # fmt: skip
        failure = Failure.refusal(record.run.id, refusal.message, nulls=send.rules.null_error_fields)
        fail_in_band(store, record, failure, ping=send.include_pings)
        return _stream(request, record, send.controls, numbered=send.background)
    store.use_scripted(agent.id)
    if send.controls.fault:
        await before_response(send.controls.fault, fault_context(request, send.controls))
    record = store.new_run(
        agent, conversation_id=send.conversation_id, run_type=send.kind.run_type, background=send.background,
        include_return_message_types=send.body.include_return_message_types, input_otids=send.otids,
    )  # fmt: skip
    plan = plan_for(store, send)
    turn = run_turn(store, agent, record, send.conversation_id, send.messages, plan, turn_options(send))
    if send.streaming:
        task = asyncio.ensure_future(turn)  # runs on even if the client goes away
        task.add_done_callback(_consume_exception)  # already logged and ended in-band by run_turn
        store.start_run(record, task)
        return _stream(request, record, send.controls, numbered=send.background)
    await turn
    if plan.error is not None:
        raise _http_error(plan)
    return json_response(with_token_data(collect(record), record, send.body))


def _start(request: Request, send: Send) -> Response:
    """An async send: the run answered at once (status ``created``), the turn run after the answer (wire doc §10).

    A send Letta refuses is found now, before the answer, but has no one to refuse: its run fails after it."""
    store: Store = request.app.state.store
    refusal: str | None = None
    try:
        check_can_send(send.agent, send.messages, send.rules)
        store.use_scripted(send.agent.id)
    except HTTPError as error:
        refusal = error.message
    record = store.new_run(
        send.agent, conversation_id=send.conversation_id, run_type=send.kind.run_type, background=True,
        include_return_message_types=send.body.include_return_message_types, callback_url=send.callback_url,
    )  # fmt: skip
    created = record.run.model_copy(deep=True)  # the run as it was created: status "created"
    return json_response(created, background=BackgroundTask(_run_async, request.app.state.store, send, record, refusal))


async def _run_async(store: Store, send: Send, record: RunRecord, refusal: str | None) -> None:
    """Execute an async run after its ``created`` answer was sent, then POST the callback if one was given.

    A refused send (``refusal``, found before the run was answered) fails the run with the refusal's text (§10)."""
    if refusal is not None:
        store.end_run(record, "error", error=refusal)
    else:
        await run_turn(store, send.agent, record, None, send.messages, plan_for(store, send), turn_options(send))
    if record.run.callback_url:
        await post_callback(store, record)


def _consume_exception(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _stream(request: Request, record: RunRecord, controls: Controls, *, numbered: bool) -> Response:
    events = follow(request.app.state.store, record, numbered=numbered)
    if not controls.fault:  # most streams: each event encoded as it comes, no fault machinery in between
        return sse_response(_encoded(events))
    context = fault_context(request, controls, record.run.id)
    return sse_response(faulty_frames(events, controls.fault, context))


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
        yield event if isinstance(event, bytes) else sse.encode(event)  # as faulty_frames frames them


def _http_error(plan: TurnPlan) -> HTTPError:
    """A scripted error of a non-streaming send, as the HTTP error Letta answers with (§5, §15.1)."""
    assert plan.error is not None
    kind = catalogue.ERRORS[plan.error.error_type]
    if kind.body == "provider":
        return ProviderError(kind.http_status, kind.name, kind.message, f"letta-mock: simulated {kind.name}")
    if kind.body == "detail":
        return BadRequest(kind.message) if kind.http_status == 400 else HTTPError(kind.message)
    return ServerError(Texts.UNKNOWN_ERROR)


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
