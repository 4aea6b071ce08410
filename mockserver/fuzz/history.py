"""``letta_history``: what a Letta server answered is what its history says afterwards (stateful runs).

Two ways, both only where the verdict is certain:

* after a send the stateful phase made (``send_message``, ``create_agent_message_stream``,
  ``send_conversation_message``) that ended a turn (a stop reason that completes a run,
  ``catalogue.COMPLETED_STOP_REASONS``; a stream that reached ``[DONE]``), the check lists the history itself —
  the agent's (or the conversation's) newest 100 messages, and the messages of the answer's run — with the send's
  headers, and every message id the send answered with must be in both (wire doc §6.2: streamed ids and dates are
  the stored ones);
* a listing that a link led to from a send or a run (``ListMessages``, ``ListRunMessages``, ...) holds the send's
  messages, and a completed run lists some, when the listing has no cursor, no filter, newest first and room for
  them, and nothing was sent to the agent in between.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import schemathesis
from schemathesis import CheckContext, Response

from mockserver.catalogue import COMPLETED_STOP_REASONS
from mockserver.fuzz.failures import FRAME_TYPES, Case, HistoryInconsistent, fail, json_of, operation_id, stream_of

__all__ = ["LISTINGS", "SENDS", "letta_history"]

SENDS = {"send_message", "create_agent_message_stream", "send_conversation_message"}  # answered in the response
STARTS = {*SENDS, "create_agent_message_async", "reset_messages", "summarize_messages", "compact_conversation"}
LISTINGS = {"list_messages", "list_conversation_messages", "list_messages_for_run"}
PAGE = 100  # the listing's limit: Letta's default page
LISTING_TIMEOUT_S = 30
_DROPPED_HEADERS = {"content-length", "content-type", "accept-encoding", "connection", "host", "transfer-encoding"}


def _answered(case: Case, response: Response) -> tuple[list[str], str | None] | None:
    """The message ids a successful send answered with and their run, or None when that is not known for sure."""
    if response.status_code != 200:
        return None
    reading = stream_of(response, case)
    if reading is not None:
        if reading.outcome != "done":
            return None
        events = [a.payload for a in reading.arrivals if isinstance(a.payload, dict)]
    else:
        parsed, body = json_of(response)
        messages = body.get("messages") if parsed and isinstance(body, dict) else None
        if not isinstance(messages, list):
            return None
        events = [*messages, {"message_type": "stop_reason", **(body.get("stop_reason") or {})}]
    stops = [e.get("stop_reason") for e in events if isinstance(e, dict) and e.get("message_type") == "stop_reason"]
    if not stops or stops[-1] not in COMPLETED_STOP_REASONS:  # a turn that ended so stored what it answered
        return None
    messages = [e for e in events if isinstance(e, dict) and e.get("message_type") not in FRAME_TYPES]
    ids = list(dict.fromkeys(str(m["id"]) for m in messages if isinstance(m.get("id"), str)))
    runs = {m.get("run_id") for m in messages if isinstance(m.get("run_id"), str)}
    return ids, (runs.pop() if len(runs) == 1 else None)


def _missing(ids: list[str], listed: Any) -> list[str]:
    found = {str(item.get("id")) for item in listed if isinstance(item, dict)} if isinstance(listed, list) else set()
    return [i for i in ids if i not in found]


def _report(case: Case, ids: list[str], missing: list[str], where: str, key: str) -> None:
    fail(HistoryInconsistent, case, [f"{len(missing)} of the {len(ids)} messages the send answered with are not in "
                                     f"{where}: {missing[:3]}"], key=key)  # fmt: skip


# -- after a send: list it ourselves ----------------------------------------------------------------------------


def _listings(case: Case, run_id: str | None) -> list[tuple[str, str, dict[str, Any]]]:
    """(what, path, query) of the listings that must hold what ``case`` (a send) answered."""
    path = case.path_parameters or {}
    found: list[tuple[str, str, dict[str, Any]]] = []
    if operation_id(case) == "send_conversation_message":
        conversation = str(path.get("conversation_id"))
        query: dict[str, Any] = {"limit": PAGE}
        agent = (case.body if isinstance(case.body, dict) else {}).get("agent_id")
        if conversation == "default":
            if not isinstance(agent, str):
                return []  # the default conversation of no agent: nothing to list
            query["agent_id"] = agent
        found.append(("the conversation's history", f"/v1/conversations/{conversation}/messages", query))
    else:
        found.append(("the agent's history", f"/v1/agents/{path.get('agent_id')}/messages",
                      {"limit": PAGE, "order": "desc"}))  # fmt: skip
    if run_id is not None:
        found.append((f"run {run_id}", f"/v1/runs/{run_id}/messages", {"limit": PAGE}))
    return found


def _after_send(response: Response, case: Case) -> bool | None:
    answered = _answered(case, response)
    if answered is None or not answered[0]:
        return True
    ids, run_id = answered
    sent = urlsplit(response.request.url or "")
    prefix = sent.path[: sent.path.find("/v1/")] if "/v1/" in sent.path else ""
    base = f"{sent.scheme}://{sent.netloc}{prefix}"
    headers = {k: v if isinstance(v, str) else v.decode("latin-1") for k, v in response.request.headers.items()
               if k.lower() not in _DROPPED_HEADERS}  # fmt: skip
    with httpx.Client(base_url=base, headers=headers, timeout=LISTING_TIMEOUT_S) as client:
        for where, path, query in _listings(case, run_id):
            try:
                listed = client.get(path, params=query)
            except httpx.HTTPError as error:
                fail(HistoryInconsistent, case, [f"listing {where} after the send failed: {error}"], key="listing")
            if listed.status_code != 200:
                text = f"listing {where} after the send answered {listed.status_code}: {listed.text[:200]}"
                fail(HistoryInconsistent, case, [text], key=f"listing:{listed.status_code}")
            missing = _missing(ids, listed.json())
            if missing:
                _report(case, ids, missing, f"{where} (GET {path})", key=f"after-send:{where.split()[0]}")
    return None


# -- a listing a link led to ------------------------------------------------------------------------------------


def _complete_listing(case: Case, needed: int) -> bool:
    """The listing shows the whole recent history: no cursor, no filter, newest first, room for ``needed``."""
    query = case.query or {}
    filters = ("before", "after", "include_return_message_types", "group_id", "conversation_id")
    if any(query.get(name) not in (None, "") for name in filters):
        return False
    if operation_id(case) != "list_messages_for_run" and query.get("order") == "asc":
        return False
    limit = query.get("limit")
    return limit is None or (isinstance(limit, int) and limit >= needed)


def _same_target(parent: Case, child: Case) -> bool:
    mine, theirs = parent.path_parameters or {}, child.path_parameters or {}
    return all(mine.get(name) == theirs[name] for name in ("agent_id", "conversation_id") if name in theirs)


def _started_between(ctx: CheckContext, parent: Case, child: Case) -> bool:
    """Something that changes history ran between ``parent`` and ``child``."""
    seen = False
    for other in ctx.internals.find_all_cases():
        if other.id == parent.id:
            seen = True
        elif other.id == child.id:
            return False
        elif seen and operation_id(other) in STARTS:
            return True
    return False


def _linked_listing(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    parent = ctx.internals.find_parent(case_id=case.id)
    if parent is None or _started_between(ctx, parent, case):
        return True
    parent_response = ctx.internals.find_response(case_id=parent.id)
    parsed, listed = json_of(response)
    if parent_response is None or not parsed or not isinstance(listed, list):
        return True  # response_schema_conformance says what is wrong with a listing that is no list
    child = operation_id(case)
    if operation_id(parent) == "retrieve_run" and child == "list_messages_for_run":
        parsed, run = json_of(parent_response)
        same = isinstance(run, dict) and run.get("id") == (case.path_parameters or {}).get("run_id")
        if same and run.get("status") == "completed" and not listed and _complete_listing(case, 1):
            fail(HistoryInconsistent, case, [f"run {run['id']} is completed but lists no messages"], key="run")
        return None
    answered = _answered(parent, parent_response) if operation_id(parent) in SENDS else None
    if answered is None:
        return True
    ids, run_id = answered
    if child == "list_messages_for_run":
        if run_id is None or (case.path_parameters or {}).get("run_id") != run_id:
            return True
    elif not _same_target(parent, case):
        return True
    if not ids or not _complete_listing(case, len(ids) + 1):
        return True
    missing = _missing(ids, listed)
    if missing:
        _report(case, ids, missing, f"run {run_id}" if child == "list_messages_for_run" else "the history",
                key=f"linked:{child}")  # fmt: skip
    return None


def _stateful(ctx: CheckContext | None) -> bool:
    phase = getattr(ctx, "phase", None)
    return phase is not None and getattr(phase, "name", str(phase)).upper().startswith("STATEFUL")


@schemathesis.check
def letta_history(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """What a send answered is in the history afterwards; a completed run lists its messages (stateful runs)."""
    operation = operation_id(case)
    if operation in SENDS and _stateful(ctx):
        return _after_send(response, case)
    if operation in LISTINGS and response.status_code == 200 and ctx is not None:
        return _linked_listing(ctx, response, case)
    return True
