"""Whole SSE streams following Letta's grammar, faulty ones for resilience tests, and their byte form.

A transcript is a list of events and the literal ``"[DONE]"``, in the order the server writes them (wire doc §6):

    transcript := [ping] turn-events end
    end        := stop_reason usage_statistics "[DONE]"               (the turn finished)
                | stop_reason error_message "[DONE]"                  (it failed before the first chunk, §6.5a)

* ``include_pings``: the first event is a ping carrying the run id, and keep-alive pings may sit between chunks;
  without pings there are none at all (§6.4).
* ``stream_tokens``: messages arrive as token chunks (``token_chunks``); usage cache counts are null instead of 0.
* ``background``: every chunk gets a ``seq_id`` counting from 1, the first ping and ``[DONE]`` included; stop
  reason, usage and ``[DONE]`` use a number without showing it, keep-alive pings repeat the last one (§6.8).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from mockserver.catalogue import MID_STREAM_ERRORS
from mockserver.models import (
    STOP_REASONS,
    EventMessage,
    LettaErrorMessage,
    LettaPing,
    LettaStopReason,
    StreamEvent,
    SummaryMessage,
    stream_event_adapter,
)
from mockserver.wire.seq import Numbering
from mockserver.wire.sse import DONE, decode, encode_all
from strategies._chunks import token_chunks
from strategies._events import ERROR_STOP_REASONS, check_stop_reasons, errors_for, usage_of
from strategies._messages import event_messages, summary_messages
from strategies._responses import check_max_steps
from strategies._turns import Turn, turns
from strategies._values import maybe, ping_ids

__all__ = [
    "FAULTS",
    "Fault",
    "FaultyTranscript",
    "TranscriptEvent",
    "decode_transcript",
    "encode_transcript",
    "faulty_sse_transcripts",
    "sse_transcripts",
]

# An event of a transcript: a StreamEvent model, or raw `data:` text ("[DONE]", or a fault's broken JSON).
TranscriptEvent = StreamEvent | str

# What a faulty transcript breaks, by the names of the server's fault table (``mockserver.faults.FAULTS``: what
# ``fault=drop_after:3`` does to a live stream, a transcript shows drawn; tests/test_architecture.py holds the names
# to the table), then two failures that are Letta's own shapes rather than faults of a response: an error after the
# first chunk (``error_at=mid``) and a cancellation.
SERVER_FAULTS = ("drop_after", "no_done", "malformed", "duplicate_stop_reason", "no_stop_reason", "unknown_type")
LETTA_FAILURES = ("mid_stream_error", "cancelled_mid_stream")
FAULTS: tuple[str, ...] = (*SERVER_FAULTS, *LETTA_FAILURES)

Fault = str  # one of FAULTS


class FaultyTranscript(NamedTuple):
    """A stream that breaks one rule, and which rule (``fault``, one of ``FAULTS``)."""

    fault: Fault
    events: list[TranscriptEvent]


def _flag(value: bool | None, name: str) -> st.SearchStrategy[bool]:
    if value is None:
        return st.booleans()
    if value is True or value is False:
        return st.just(value)
    raise InvalidArgument(f"{name}={value!r} must be True, False or None (either)")


def _ping(ping_id: str, date: datetime, run_id: str) -> LettaPing:
    return LettaPing(message_type="ping", id=ping_id, date=date, run_id=run_id)


def _number(events: list[TranscriptEvent], run_id: str) -> list[TranscriptEvent]:
    """Background mode: seq_id 1, 2, 3… over every chunk; keep-alive pings repeat the last number (§6.8)."""
    numbering = Numbering(run_id)
    return [
        numbering.keepalive(event) if isinstance(event, LettaPing) and position > 0 else numbering.chunk(event)
        for position, event in enumerate(events)
    ]


@st.composite
def _render(
    draw: st.DrawFn,
    turn_strategy: st.SearchStrategy[Turn],
    stream_tokens: st.SearchStrategy[bool],
    include_pings: st.SearchStrategy[bool],
    background: st.SearchStrategy[bool],
) -> list[TranscriptEvent]:
    token_mode, pings, numbered = draw(stream_tokens), draw(include_pings), draw(background)
    turn = draw(turn_strategy)
    body: list[Any] = []  # turn messages are always streamable types (no compaction events)
    for message in turn.messages:
        body.extend(draw(token_chunks(message)) if token_mode else [message])
    if pings:
        # Keep-alive pings after a silence (positions drawn as one list: shrinks to none), then the first ping.
        for position in sorted(draw(st.lists(st.integers(0, len(body)), max_size=2)), reverse=True):
            date = body[position - 1].date if position > 0 else turn.start
            body.insert(position, _ping(draw(ping_ids()), date, turn.run_id))
        body.insert(0, _ping(draw(ping_ids()), turn.start, turn.run_id))
    stop = LettaStopReason(message_type="stop_reason", stop_reason=turn.stop_reason)
    if turn.failed:
        end: list[TranscriptEvent] = [stop, draw(errors_for(turn.stop_reason, run_id=turn.run_id, seq_id=None))]
    else:
        stats = draw(st.tuples(st.integers(0, 20_000), st.integers(0, 200_000), maybe(st.integers(0, 200_000))))
        end = [stop, usage_of(stats[0], stats[1], turn.step_count, stats[2], token_mode=token_mode)]
    events = [*body, *end, DONE]
    return _number(events, turn.run_id) if numbered else events


def sse_transcripts(
    *,
    stream_tokens: bool | None = None,
    include_pings: bool | None = None,
    stop_reasons: Sequence[str] = STOP_REASONS,
    background: bool | None = None,
    max_steps: int = 3,
) -> st.SearchStrategy[list[TranscriptEvent]]:
    """A valid stream of one turn, ending in ``"[DONE]"``.

    Each flag is ``True``, ``False`` or ``None`` (draw both). ``stop_reasons`` restricts how the turn ends (all 13
    by default; the error reasons give the §6.5a shape: stop reason, ``error_message``, ``[DONE]``); ``max_steps``
    bounds the agent steps (a ``max_steps`` stop has exactly that many).
    """
    reasons = check_stop_reasons(stop_reasons, name="stop_reasons")
    check_max_steps(max_steps)
    return _render(
        turns(reasons=reasons, max_steps=max_steps),
        _flag(stream_tokens, "stream_tokens"),
        _flag(include_pings, "include_pings"),
        _flag(background, "background"),
    )


# --- faults ------------------------------------------------------------------------------------------------------

_FINISHING = tuple(reason for reason in STOP_REASONS if reason not in ERROR_STOP_REASONS)
_UNKNOWN_TYPES = ("future_message", "", "ping2")


def _index(events: list[TranscriptEvent], kind: type) -> int:
    return next(i for i, event in enumerate(events) if isinstance(event, kind))


def _unknown_event(draw: st.DrawFn) -> str:
    # Either a type Letta really streams but the spec's union lacks (compaction events, wire doc §2.2 note), or
    # one nobody knows yet; both must not crash a client.
    known_elsewhere = draw(st.one_of(event_messages(), summary_messages()))
    assert isinstance(known_elsewhere, EventMessage | SummaryMessage)
    data = known_elsewhere.model_dump(mode="json")
    if draw(st.booleans()):
        data["message_type"] = draw(st.sampled_from(_UNKNOWN_TYPES))
    return json.dumps(data, separators=(",", ":"))


@st.composite
def _faulty(
    draw: st.DrawFn, faults: tuple[Fault, ...], valid: st.SearchStrategy[list[TranscriptEvent]]
) -> FaultyTranscript:
    fault = draw(st.sampled_from(faults))
    events = draw(valid)
    stop = _index(events, LettaStopReason)
    run_id = _run_id(events)
    if fault == "drop_after":  # the connection drops after N events
        events = events[: draw(st.integers(1, len(events) - 1))]
    elif fault == "no_done":
        events = events[:-1]
    elif fault == "malformed":  # a proper prefix of a compact JSON object is never valid JSON
        position = draw(st.integers(0, len(events) - 2))
        text = _json_text(events[position])
        events[position] = text[: draw(st.integers(1, len(text) - 1))]
    elif fault == "duplicate_stop_reason":  # token interfaces may send stop_reason "error" before raising (§6.5)
        extra = draw(st.sampled_from(("error", events[stop].stop_reason)))  # type: ignore[union-attr]
        events.insert(stop, LettaStopReason(message_type="stop_reason", stop_reason=extra))
    elif fault == "no_stop_reason":
        del events[stop]
    elif fault == "unknown_type":
        events.insert(draw(st.integers(0, stop)), _unknown_event(draw))
    elif fault == "mid_stream_error":  # after the first chunk: stop reason, error event, and nothing more (§6.5b)
        reason = draw(st.sampled_from(ERROR_STOP_REASONS))  # the cause's classification stays (§6.5b)
        kind = draw(st.sampled_from(MID_STREAM_ERRORS))
        error = LettaErrorMessage(
            message_type="error_message",
            run_id=run_id or "run-00000000-0000-4000-8000-000000000000",
            error_type=kind.name,
            message=kind.message,
            detail=draw(st.sampled_from(("Connection reset by peer", "Request timed out."))),
            seq_id=_next_seq(events[:stop], skip=1),  # background streams number it (after the stop reason)
        )
        events = [*events[:stop], LettaStopReason(message_type="stop_reason", stop_reason=reason), error]
    else:  # cancelled_mid_stream: the cancellation wrapper's json.dumps spacing, then the stream just ends (§6.7)
        position = draw(st.integers(0, stop))
        events = [*events[:position], json.dumps({"message_type": "stop_reason", "stop_reason": "cancelled"})]
    return FaultyTranscript(fault, events)


def _next_seq(events: list[TranscriptEvent], *, skip: int = 0) -> int | None:
    """The seq_id the next chunk gets in a background stream (``skip`` chunks later); None in the foreground."""
    numbers = [getattr(event, "seq_id", None) for event in events]
    shown = [number for number in numbers if isinstance(number, int)]
    if not shown:
        return None
    # Stop reasons and usage use a number without showing it: count the chunks after the last shown number.
    last = max(i for i, number in enumerate(numbers) if number == shown[-1])
    unshown = sum(1 for event in events[last + 1 :] if not isinstance(event, LettaPing))
    return shown[-1] + unshown + 1 + skip


def _run_id(events: list[TranscriptEvent]) -> str | None:
    for event in events:
        value = getattr(event, "run_id", None)
        if isinstance(value, str):
            return value
    return None


def _json_text(event: TranscriptEvent) -> str:
    return event if isinstance(event, str) else event.model_dump_json()


def faulty_sse_transcripts(
    *,
    faults: Sequence[str] = FAULTS,
    stream_tokens: bool | None = None,
    include_pings: bool | None = None,
    background: bool | None = None,
    max_steps: int = 3,
) -> st.SearchStrategy[FaultyTranscript]:
    """A stream breaking one rule, for client resilience tests, named as the server's faults are: a dropped
    connection (``drop_after``), no ``[DONE]`` (``no_done``), a malformed JSON event (``malformed``), a duplicated
    or missing stop reason (``duplicate_stop_reason``, ``no_stop_reason``), an unknown ``message_type``
    (``unknown_type``); or one of Letta's failures: an error after the first chunk (``mid_stream_error``: stop
    reason, ``event: error``, no ``[DONE]``) or a cancellation mid-stream (``cancelled_mid_stream``).
    """
    if isinstance(faults, str) or not isinstance(faults, Sequence) or not faults:
        raise InvalidArgument(f"faults={faults!r} must be a non-empty sequence of {FAULTS}")
    unknown = [fault for fault in faults if fault not in FAULTS]
    if unknown:
        raise InvalidArgument(f"unknown faults {unknown!r}; valid: {', '.join(FAULTS)}")
    # Built (and so validated) now rather than at draw time; every fault starts from a valid transcript.
    valid = sse_transcripts(
        stream_tokens=stream_tokens,
        include_pings=include_pings,
        background=background,
        max_steps=max_steps,
        stop_reasons=_FINISHING,
    )
    ordered = tuple(fault for fault in FAULTS if fault in faults)
    return _faulty(ordered, valid)


# --- bytes -------------------------------------------------------------------------------------------------------


def encode_transcript(events: Sequence[TranscriptEvent]) -> bytes:
    """The bytes Letta writes for ``events`` (``wire.sse``: one ``data:`` line each, ``event: error`` named)."""
    return encode_all(events)


def decode_transcript(body: bytes | str) -> list[TranscriptEvent]:
    """Parse an SSE body back into events; ``[DONE]`` stays the string. Raises on malformed or unknown events.

    Quirk: a token-mode ``ToolCallDelta`` with every key filled also fits ``ToolCall``, so a plain parse of
    ``tool_call`` would return a ``ToolCall``; when ``tool_calls`` holds a delta, ``tool_call`` is one too (§6.3).
    """
    events: list[TranscriptEvent] = []
    for frame in decode(body):
        if frame.data == DONE:
            events.append(DONE)
        elif frame.event == "error":
            events.append(LettaErrorMessage.model_validate_json(frame.data))
        else:
            event = stream_event_adapter.validate_json(frame.data)
            tool_calls = getattr(event, "tool_calls", None)
            if tool_calls is not None and not isinstance(tool_calls, list) and event.tool_call != tool_calls:  # type: ignore[union-attr]
                event = event.model_copy(update={"tool_call": tool_calls})
            events.append(event)
    return events
