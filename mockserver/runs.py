"""Run life cycle beyond a plain send: async runs with their callback, and cancellation."""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette

from mockserver.control import Controls
from mockserver.errors import Conflict, HTTPError
from mockserver.ids import otid_for
from mockserver.models import (
    ApprovalResponseMessage,
    ApprovalReturn,
    LettaAsyncRequest,
    ToolReturn,
    ToolReturnMessage,
)
from mockserver.sending import collect, input_messages, turn_options
from mockserver.store import AgentRecord, RunRecord, Store
from mockserver.synthesize import plan_turn
from mockserver.turns import check_can_send, run_turn

__all__ = ["cancel_runs", "run_async_turn"]

log = logging.getLogger("letta_mock")


async def run_async_turn(
    app: Starlette, agent: AgentRecord, record: RunRecord, body: LettaAsyncRequest, controls: Controls
) -> None:
    """Execute an async run after its ``created`` answer was sent, then POST the callback if one was given."""
    store: Store = app.state.store
    messages = input_messages(body)
    try:
        check_can_send(store, agent, messages)
    except HTTPError as error:
        # The async path has no one to answer: the run fails with the error text (wire doc §10).
        detail = error.detail
        text = detail.get("message", str(detail)) if isinstance(detail, dict) else str(detail)
        record.run.metadata = {**(record.run.metadata or {}), "error": text}
        store.finish_run(record, "failed", "error")
        record.finish()
    else:
        plan = plan_turn(messages, body.client_tools, controls)
        await run_turn(store, agent, record, None, messages, plan, turn_options(body, controls, streaming=False))
        if record.run.status != "cancelled" and plan.error is None:
            # Async runs complete whatever the stop reason, unless cancelled (wire doc §2.4).
            record.run.status = "completed"
    if record.run.callback_url:
        await _post_callback(store, record)


async def _post_callback(store: Store, record: RunRecord) -> None:
    run = record.run
    payload: dict[str, Any] = {
        "run_id": run.id,
        "status": run.status,
        "completed_at": run.model_dump(mode="json")["completed_at"],
        "metadata": {**(run.metadata or {}), "result": collect(record).model_dump(mode="json")},
    }
    import httpx  # only runs with a callback need it; keeps it out of start-up

    run.callback_sent_at = store.clock.now()
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.post(run.callback_url or "", json=payload)
        run.callback_status_code = response.status_code
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:  # recorded, never raised (wire doc §10)
        run.callback_error = f"{type(error).__name__}: {error}"
        log.info("callback to %s failed: %s", run.callback_url, run.callback_error)


def cancel_runs(
    store: Store, agent: AgentRecord, run_ids: list[str] | None, *, server_fidelity: bool
) -> dict[str, str]:
    """Cancel the given runs, or the agent's active ones; answers ``{run_id: "cancelled" | "failed"}``."""
    if run_ids is None:
        records = store.active_runs(agent)
        if not records and agent.last_run_id is not None and not server_fidelity:
            # With Redis (always the case on Letta Cloud) the agent's last run is named even when it finished
            # (wire doc §18.4); cancelling a finished run leaves it as it is.
            records = [store.runs[agent.last_run_id]]
        if not records:
            if server_fidelity or store.closed_world:
                raise Conflict(f"CONFLICT: No active runs to cancel for agent {agent.id}")
            return {}
    else:
        records = []
        answer: dict[str, str] = {}
        for run_id in run_ids:
            record = store.runs.get(run_id)
            if record is None:
                answer[run_id] = "failed" if store.closed_world else "cancelled"
            else:
                records.append(record)
        return {**answer, **{r.run.id: _cancel(store, agent, r) for r in records}}
    return {r.run.id: _cancel(store, agent, r) for r in records}


def _cancel(store: Store, agent: AgentRecord, record: RunRecord) -> str:
    record.cancel_requested = True
    run = record.run
    # Finished runs stay as they are, except one stopped for approval: that one is cancelled (wire doc §9).
    if run.status in ("created", "running") or run.stop_reason == "requires_approval":
        run.status = "running"  # let finish_run record the cancellation
        store.finish_run(record, "cancelled", "cancelled")
    if agent.pending is not None and agent.pending.run_id == record.run.id:
        _store_denial(store, agent, record)
    return "cancelled"


def _store_denial(store: Store, agent: AgentRecord, record: RunRecord) -> None:
    """Cancelling a run that waits for approval stores a denial, so the agent is no longer blocked (§9)."""
    pending = agent.pending
    assert pending is not None
    reason = "The run was cancelled."
    now = store.clock.now()
    message_id = store.ids.new("message")
    denials = [ApprovalReturn(tool_call_id=call.tool_call_id, approve=False, reason=reason) for call in pending.calls]
    response = ApprovalResponseMessage(
        id=message_id, date=now, otid=otid_for(message_id, 0), run_id=record.run.id, approvals=list(denials),
        approve=False, approval_request_id=pending.request.id, reason=reason,
    )  # fmt: skip
    conversation = record.run.conversation_id
    store.add_message(agent, message_id, [response], conversation_id=conversation, run_id=record.run.id, created_at=now)
    for call in pending.calls:
        return_id = store.ids.new("message")
        text = f"Error: the tool call was cancelled. {reason}"
        item = ToolReturnMessage(
            id=return_id, date=now, otid=otid_for(return_id, 0), run_id=record.run.id, name=call.name,
            tool_return=text, status="error", tool_call_id=call.tool_call_id,
            tool_returns=[ToolReturn(tool_return=text, status="error", tool_call_id=call.tool_call_id)],
        )  # fmt: skip
        store.add_message(agent, return_id, [item], conversation_id=conversation, run_id=record.run.id, created_at=now)
    agent.pending = None
