"""Run life cycle beyond the turn itself: a finished run's answer, its callback, and cancellation."""

from __future__ import annotations

import json
import logging
from typing import Any

from mockserver.catalogue import Texts
from mockserver.engine.items import approval_response, tool_return
from mockserver.errors import Conflict
from mockserver.history import paged, run_history
from mockserver.models import (
    ApprovalReturn,
    LettaRequest,
    LettaResponse,
    LettaStopReason,
    LettaUsageStatistics,
)
from mockserver.models._base import trusted  # hot paths: built without validating again (tested both ways)
from mockserver.records import AgentRecord, RunRecord, read_log
from mockserver.rules import Rules
from mockserver.scenarios import PlannedCall
from mockserver.store import Store
from mockserver.wire.ids import otid_for
from mockserver.wire.logprobs import choice_logprobs, generations, turn_token_data

__all__ = ["cancel_runs", "collect", "post_callback", "with_token_data"]

log = logging.getLogger("letta_mock")


def collect(record: RunRecord) -> LettaResponse:
    """A finished run's log as the non-streaming answer."""
    messages, stop, usage = read_log(record.events)
    if stop is None:
        stop = LettaStopReason(stop_reason="end_turn")
    if usage is None:
        usage = LettaUsageStatistics()
    return trusted(LettaResponse, messages=messages, stop_reason=stop, usage=usage)


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


def _result(store: Store, record: RunRecord) -> dict[str, Any]:
    """The run's result as Letta's callback carries it: the run's messages as ``GET /v1/runs/{id}/messages``
    lists them (the user's input included, wire doc §10), its stop reason and usage."""
    config = record.run.request_config
    query = {"before": None, "after": None, "limit": 100, "order": "asc",
             "types": config.include_return_message_types if config else None}  # fmt: skip
    listed = paged(store, run_history(record), query, owner=record.run.id, chronological=False, reverse_items=True)
    return {**collect(record).model_dump(mode="json"), "messages": json.loads(store.items_json(listed))}


async def post_callback(store: Store, record: RunRecord) -> None:
    """POST the finished run's result to its ``callback_url``; what came of it is recorded on the run (§10)."""
    run = record.run
    payload: dict[str, Any] = {
        "run_id": run.id,
        "status": run.status,
        "completed_at": run.model_dump(mode="json")["completed_at"],
        "metadata": {**(run.metadata or {}), "result": _result(store, record)},
    }
    import httpx  # only runs with a callback need it; keeps it out of start-up

    sent_at = store.clock.now()
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.post(run.callback_url or "", json=payload)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:  # recorded, never raised (wire doc §10)
        store.callback_done(record, sent_at, error=f"{type(error).__name__}: {error}")
        log.info("callback to %s failed: %s", run.callback_url, run.callback_error)
    else:
        store.callback_done(record, sent_at, status_code=response.status_code)


def cancel_runs(store: Store, agent: AgentRecord, run_ids: list[str] | None, rules: Rules) -> dict[str, str]:
    """Cancel the given runs, or the agent's active ones; answers ``{run_id: "cancelled" | "failed"}``."""
    if run_ids is not None:
        answer: dict[str, str] = {}
        records = []
        for run_id in run_ids:
            record = store.runs.get(run_id)
            if record is None:
                answer[run_id] = "failed" if rules.unknown_ids_missing else "cancelled"
            else:
                records.append(record)
        return {**answer, **{r.run.id: _cancel(store, agent, r) for r in records}}
    records = store.active_runs(agent)
    if not records and agent.last_run_id is not None:
        # With Redis (always the case on Letta Cloud, and what background streams need) the agent's last run is
        # named even when it finished (wire doc §18.4); cancelling a finished run leaves it as it is.
        records = [store.runs[agent.last_run_id]]
    if not records:
        if rules.nothing_to_cancel_409:
            raise Conflict(Texts.nothing_to_cancel(agent.id))
        return {}
    return {r.run.id: _cancel(store, agent, r) for r in records}


def _cancel(store: Store, agent: AgentRecord, record: RunRecord) -> str:
    store.cancel_run(record)
    if agent.pending is not None and agent.pending.run_id == record.run.id:
        _store_denial(store, agent, record)
    return "cancelled"


def _store_denial(store: Store, agent: AgentRecord, record: RunRecord) -> None:
    """Cancelling a run that waits for approval stores a denial, so the agent is no longer blocked (§9)."""
    pending = agent.pending
    assert pending is not None
    reason = "The run was cancelled."
    run_id, conversation = record.run.id, record.run.conversation_id
    now = store.clock.now()
    message_id = store.ids.new("message")
    denials: list[Any] = [
        ApprovalReturn(tool_call_id=call.tool_call_id, approve=False, reason=reason) for call in pending.calls
    ]
    response = approval_response(
        denials, message_id=message_id, now=now, run_id=run_id, otid=otid_for(message_id, 0),
        request_id=pending.request.id,
    )  # fmt: skip
    store.add_message(agent, message_id, [response], conversation_id=conversation, run_id=run_id, created_at=now)
    for call in pending.calls:
        return_id = store.ids.new("message")
        text = f"Error: the tool call was cancelled. {reason}"
        item = tool_return(
            PlannedCall(call.name, call.arguments), call.tool_call_id, "error", text, message_id=return_id, now=now,
            run_id=run_id, step_id=None,
        )  # fmt: skip
        store.add_message(agent, return_id, [item], conversation_id=conversation, run_id=run_id, created_at=now)
    store.approvals_answered(agent)
