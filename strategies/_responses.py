"""What non-streaming calls return: ``LettaResponse`` (a whole turn) and ``Run``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from mockserver.catalogue import run_status
from mockserver.models import (
    STOP_REASONS,
    LettaRequestConfig,
    LettaResponse,
    LettaStopReason,
    Run,
    RunStatus,
    StopReasonType,
)
from strategies._events import check_stop_reasons, usage_of
from strategies._turns import Turn, turns
from strategies._values import agent_ids, conversation_ids, maybe, run_ids, timestamps

__all__ = ["check_max_steps", "letta_responses", "runs"]


def check_max_steps(max_steps: int) -> int:
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise InvalidArgument(f"max_steps={max_steps!r} must be an integer >= 1")
    return max_steps


def _response(turn: Turn, completion: int, prompt: int, context: int | None) -> LettaResponse:
    return LettaResponse(
        messages=turn.messages,
        stop_reason=LettaStopReason(message_type="stop_reason", stop_reason=turn.stop_reason),
        usage=usage_of(completion, prompt, turn.step_count, context, token_mode=False),
        logprobs=None,  # RL features: filled only when requested, never by the mock
        turns=None,
    )


def letta_responses(
    *, stop_reasons: Sequence[str] = STOP_REASONS, max_steps: int = 3
) -> st.SearchStrategy[LettaResponse]:
    """A non-streaming turn: the agent's messages (no user echo), the stop reason and the usage of all steps.

    ``stop_reasons`` restricts the reasons (all 13 by default); ``max_steps`` bounds the steps (the turn of a
    ``max_steps`` stop has exactly that many). Usage cache counts are 0, as in every non-token response.
    """
    reasons = check_stop_reasons(stop_reasons, name="stop_reasons")
    check_max_steps(max_steps)
    return st.builds(
        _response,
        turns(reasons=reasons, max_steps=max_steps),
        st.integers(0, 20_000),
        st.integers(0, 200_000),
        maybe(st.integers(0, 200_000)),
    )


# Status and stop reason move together, as the server's catalogue says (wire doc §2.4); a run that has not finished
# has no stop reason. A finished turn first: draws shrink towards it.
_OUTCOMES: tuple[tuple[RunStatus, StopReasonType | None], ...] = (
    ("completed", "end_turn"),
    ("created", None),
    ("running", None),
    *((run_status(reason), reason) for reason in STOP_REASONS if reason != "end_turn"),
)
_RUN_TYPES = ("send_message", "send_message_streaming", "send_message_async", "send_conversation_message")


def _run(
    outcome: tuple[RunStatus, StopReasonType | None],
    run_id: str,
    agent_id: str,
    created_at: datetime,
    duration_ms: int,
    extras: dict[str, Any],
) -> Run:
    status, stop_reason = outcome
    finished = status in ("completed", "failed", "cancelled")
    completed_at = created_at + timedelta(milliseconds=duration_ms) if finished else None
    callback_url = extras.get("callback_url")
    return Run(
        id=run_id,
        status=status,
        created_at=created_at,
        completed_at=completed_at,
        agent_id=agent_id,
        stop_reason=stop_reason,
        callback_url=callback_url,
        # A callback is attempted once the run is finished, and only if there is a URL to call.
        callback_sent_at=completed_at if callback_url and completed_at else None,
        callback_status_code=extras.get("callback_status_code") if callback_url and completed_at else None,
        ttft_ns=duration_ms * 100_000 if finished else None,
        total_duration_ns=duration_ms * 1_000_000 if finished else None,
        **{key: value for key, value in extras.items() if key not in ("callback_url", "callback_status_code")},
    )


def runs() -> st.SearchStrategy[Run]:
    """A run in any state, with consistent status, stop reason, completion time and callback fields."""
    request_configs = st.builds(
        LettaRequestConfig,
        use_assistant_message=st.booleans(),
        assistant_message_tool_name=st.just("send_message"),
        assistant_message_tool_kwarg=st.just("message"),
        include_return_message_types=maybe(
            st.lists(st.sampled_from(("assistant_message", "reasoning_message", "tool_call_message")), unique=True)
        ),
    )
    metadata = st.sampled_from(_RUN_TYPES).map(lambda run_type: {"run_type": run_type, "lettuce": None})
    extras = st.fixed_dictionaries(
        {
            "conversation_id": maybe(conversation_ids()),
            "base_template_id": st.none(),
            "background": maybe(st.booleans()),
            "metadata": maybe(metadata),
            "request_config": maybe(request_configs),
            "callback_url": maybe(st.just("https://example.com/letta-callback")),
            "callback_status_code": st.sampled_from((200, 204, 500)),
            "callback_error": st.none(),
        }
    )
    return st.builds(
        _run, st.sampled_from(_OUTCOMES), run_ids(), agent_ids(), timestamps(), st.integers(1, 120_000), extras
    )
