"""Stream-only events (pings, stop reasons, usage, in-band errors) and ``stream_events()``, the SSE union.

``stream_events()`` is ``LettaStreamingResponse``: the nine streamable message types, in both their step-mode
(whole) and token-mode (chunk) shapes, plus the four stream-only events.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from mockserver.catalogue import ERROR_STOP_REASONS, ERRORS, Texts
from mockserver.models import (
    STOP_REASONS,
    ApprovalRequestMessage,
    LettaErrorMessage,
    LettaPing,
    LettaStopReason,
    LettaUsageStatistics,
    StopReasonType,
    StreamEvent,
    ToolCallDelta,
    ToolCallMessage,
)
from strategies._content import tool_call_deltas
from strategies._messages import (
    ENVELOPES,
    Envelope,
    agent_common,
    approval_request_common,
    approval_request_messages,
    approval_response_messages,
    assistant_messages,
    build,
    hidden_reasoning_messages,
    reasoning_messages,
    system_messages,
    tool_call_messages,
    tool_return_messages,
    user_messages,
)
from strategies._values import choice, maybe, message_dates, ping_ids, run_ids, short_texts

__all__ = [
    "ERROR_STOP_REASONS",
    "check_stop_reasons",
    "error_messages",
    "errors_for",
    "pings",
    "stop_reasons",
    "stream_events",
    "usage_of",
    "usage_statistics",
]

# (stop_reason, error_type, message, has detail) as the streaming service writes them (wire doc §6.5 table): the
# catalogue's in-band errors, and a refusal (a plain message while an approval is pending) reported in-band.
_ERRORS: tuple[tuple[str, str, str, bool], ...] = (
    *((row.stop_reason, row.name, row.message, row.has_detail) for row in ERRORS.values() if row.in_band),
    ("error", "internal_error", Texts.PENDING_APPROVAL, True),
)


def check_stop_reasons(reasons: Sequence[str], *, name: str = "reasons") -> tuple[StopReasonType, ...]:
    """Validate a user-given list of stop reasons; ``InvalidArgument`` names the bad value and the valid ones."""
    if isinstance(reasons, str) or not isinstance(reasons, Sequence):
        raise InvalidArgument(f"{name}={reasons!r} must be a sequence of stop reasons, e.g. [{STOP_REASONS[0]!r}]")
    if not reasons:
        raise InvalidArgument(f"{name} must not be empty")
    unknown = [reason for reason in reasons if reason not in STOP_REASONS]
    if unknown:
        raise InvalidArgument(f"{name} has unknown stop reasons {unknown!r}; valid: {', '.join(STOP_REASONS)}")
    # Keep the canonical order (end_turn first) so a failing example shrinks towards the commonest reason.
    return tuple(reason for reason in STOP_REASONS if reason in reasons)


def stop_reasons(*, reasons: Sequence[str] = STOP_REASONS) -> st.SearchStrategy[LettaStopReason]:
    """``{"message_type": "stop_reason", ...}``; all 13 by default, ``reasons=`` restricts them."""
    allowed = check_stop_reasons(reasons)
    return st.builds(partial(LettaStopReason, message_type="stop_reason"), stop_reason=st.sampled_from(allowed))


def usage_of(
    completion: int, prompt: int, step_count: int, context: int | None, *, token_mode: bool
) -> LettaUsageStatistics:
    """Usage of a turn with ``step_count`` LLM calls; totals add up."""
    # Cache and reasoning counts are 0 when the provider reported nothing, except in token streaming where they
    # stay null (wire doc §18.2). run_ids is always null for a single turn.
    unreported = None if token_mode else 0
    return LettaUsageStatistics(
        message_type="usage_statistics",
        completion_tokens=completion,
        prompt_tokens=prompt,
        total_tokens=completion + prompt,
        step_count=step_count,
        run_ids=None,
        cached_input_tokens=unreported,
        cache_write_tokens=unreported,
        reasoning_tokens=unreported,
        context_tokens=context,
    )


def usage_statistics(*, stream_tokens: bool | None = None) -> st.SearchStrategy[LettaUsageStatistics]:
    """Usage of a turn: ``stream_tokens=True`` gives the token-mode nulls, ``False`` the zeros, ``None`` either."""
    if stream_tokens is not None and not isinstance(stream_tokens, bool):
        raise InvalidArgument(f"stream_tokens={stream_tokens!r} must be True, False or None (either)")
    modes = st.booleans() if stream_tokens is None else st.just(stream_tokens)
    return st.builds(
        usage_of,
        st.integers(0, 20_000),
        st.integers(0, 200_000),
        st.integers(0, 50),
        maybe(st.integers(0, 200_000)),
        token_mode=modes,
    )


def pings() -> st.SearchStrategy[LettaPing]:
    """A ping: fresh ``ping-<uuid4>`` id, the run id, no otid/step; ``seq_id`` only in background streams."""
    return st.builds(
        partial(LettaPing, message_type="ping"),
        id=ping_ids(),
        date=message_dates(),
        run_id=run_ids(),
        seq_id=maybe(st.integers(1, 100_000)),
    )


def _error(row: tuple[str, str, str, bool], run_id: str, detail: str, seq_id: int | None) -> LettaErrorMessage:
    _, error_type, message, has_detail = row
    return LettaErrorMessage(
        message_type="error_message",
        run_id=run_id,
        error_type=error_type,
        message=message,
        detail=detail if has_detail else None,
        seq_id=seq_id,
    )


def errors_for(stop_reason: str, *, run_id: str, seq_id: int | None) -> st.SearchStrategy[LettaErrorMessage]:
    """The error event that follows ``stop_reason`` when a stream fails before the agent's first chunk."""
    rows = [row for row in _ERRORS if row[0] == stop_reason]
    return st.builds(_error, st.sampled_from(rows), st.just(run_id), short_texts(), st.just(seq_id))


def error_messages() -> st.SearchStrategy[LettaErrorMessage]:
    """An in-band stream error (always framed ``event: error``), with the server's error types and messages."""
    return st.builds(_error, st.sampled_from(_ERRORS), run_ids(), short_texts(), maybe(st.integers(1, 100_000)))


# --- token-mode chunks -------------------------------------------------------------------------------------------


def _delta_fields(delta: ToolCallDelta) -> dict[str, Any]:
    # Token streaming puts the same ToolCallDelta object in both fields (wire doc §6.3).
    return {"tool_call": delta, "tool_calls": delta}


def _tool_call_chunk(value: int, delta: ToolCallDelta) -> ToolCallMessage:
    return build(ToolCallMessage)(agent_common(Envelope(value)), **_delta_fields(delta))


def _approval_request_chunk(value: int, delta: ToolCallDelta) -> ApprovalRequestMessage:
    return build(ApprovalRequestMessage)(approval_request_common(Envelope(value)), **_delta_fields(delta))


def _tool_call_chunks() -> st.SearchStrategy[ToolCallMessage]:
    return st.builds(_tool_call_chunk, ENVELOPES, tool_call_deltas())


def _approval_request_chunks() -> st.SearchStrategy[ApprovalRequestMessage]:
    return st.builds(_approval_request_chunk, ENVELOPES, tool_call_deltas())


def stream_events() -> st.SearchStrategy[StreamEvent]:
    """Any member of ``LettaStreamingResponse`` (13), tool calls in both whole and token-chunk shapes."""
    return choice(
        stop_reasons(),
        usage_statistics(),
        pings(),
        assistant_messages(),
        reasoning_messages(),
        tool_call_messages(),
        _tool_call_chunks(),
        tool_return_messages(),
        hidden_reasoning_messages(),
        approval_request_messages(),
        _approval_request_chunks(),
        approval_response_messages(),
        user_messages(),
        system_messages(),
        error_messages(),
    )
