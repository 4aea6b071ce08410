"""Real resources for the fuzzer: against a real server a random well-formed id only ever reaches the 404 path.

The rule: an id the user gives (``--agent-id``, ``--conversation-id``, ``--run-id``, ``--message-id``) is used as
is; a missing one is created through the API when the server offers it — an agent (``POST /v1/agents/``, with a
model the server lists), a conversation of it, a run (a short async send) and so a message — and what was created
is deleted when the run ends. A server that offers none of it (letta-mock: any well-formed id exists) is fuzzed
with generated ids. Every id found becomes a fixed path parameter of the run (schemathesis' ``parameters``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

__all__ = ["Resources", "provide"]

CREATE_TIMEOUT_S = 30.0
RUN_WAIT_S = 30.0
NAME_PREFIX = "letta-mock-fuzz-"


@dataclass(frozen=True)
class Resources:
    """Ids of real resources; None where generated ids are used."""

    agent_id: str | None = None
    conversation_id: str | None = None
    run_id: str | None = None
    message_id: str | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)  # what was created, or why not

    def parameters(self) -> dict[str, str]:
        """schemathesis ``parameters``: each id as the fixed value of the path parameter of that name."""
        ids = {"agent_id": self.agent_id, "conversation_id": self.conversation_id, "run_id": self.run_id,
               "message_id": self.message_id}  # fmt: skip
        return {f"path.{name}": value for name, value in ids.items() if value is not None}


def _model(client: httpx.Client, path: str, given: str | None) -> str | None:
    """A model handle: the one given, else the first the server lists that is not Letta's hosted free model."""
    if given:
        return given
    response = client.get(path)
    if response.status_code != 200 or not isinstance(response.json(), list):
        return None
    listed = response.json()
    handles: list[str] = [m["handle"] for m in listed if isinstance(m, dict) and isinstance(m.get("handle"), str)]
    local = [h for h in handles if not h.startswith("letta/")]
    return next(iter(local or handles), None)


def _created_id(response: httpx.Response) -> str | None:
    if response.status_code not in (200, 201):
        return None
    body = response.json()
    found = body.get("id") if isinstance(body, dict) else None
    return found if isinstance(found, str) else None


def _wait_for_run(client: httpx.Client, run_id: str) -> None:
    deadline = time.monotonic() + RUN_WAIT_S
    while time.monotonic() < deadline:
        response = client.get(f"/v1/runs/{run_id}")
        if response.status_code != 200 or response.json().get("status") not in ("created", "running"):
            return
        time.sleep(0.2)


@contextmanager
def provide(
    base_url: str,
    given: Resources,
    *,
    headers: dict[str, str] | None = None,
    create: bool = True,
    model: str | None = None,
    embedding: str | None = None,
) -> Iterator[Resources]:
    """The resources to fuzz with: ``given``, completed by what the server lets us create (deleted afterwards)."""
    created: list[str] = []  # paths to DELETE, in the order created (deleted newest first)
    notes: list[str] = []
    found = given
    client = httpx.Client(base_url=base_url, headers=headers or {}, timeout=CREATE_TIMEOUT_S)
    try:
        if create:
            found = _create(client, given, created, notes, model=model, embedding=embedding)
        yield replace(found, notes=(*given.notes, *notes))
    finally:
        for path in reversed(created):
            try:
                client.delete(path)
            except httpx.HTTPError:
                pass
        client.close()


def _create(
    client: httpx.Client,
    given: Resources,
    created: list[str],
    notes: list[str],
    *,
    model: str | None,
    embedding: str | None,
) -> Resources:
    agent_id = given.agent_id
    if agent_id is None:
        body: dict[str, Any] = {"name": NAME_PREFIX + uuid.uuid4().hex[:8]}
        llm = _model(client, "/v1/models/", model)
        if llm is None:
            notes.append("no --agent-id and the server lists no models (GET /v1/models/): agent ids are generated")
            return given
        body["model"] = llm
        handle = _model(client, "/v1/models/embedding", embedding)
        if handle is not None:
            body["embedding"] = handle
        agent_id = _created_id(client.post("/v1/agents/", json=body))
        if agent_id is None:
            notes.append("no --agent-id and POST /v1/agents/ did not create one: agent ids are generated")
            return given
        created.append(f"/v1/agents/{agent_id}")
        notes.append(f"created agent {agent_id} ({llm}); deleted after the run")
    conversation_id = given.conversation_id
    if conversation_id is None:
        conversation_id = _created_id(client.post("/v1/conversations/", params={"agent_id": agent_id}, json={}))
        if conversation_id is not None:
            created.append(f"/v1/conversations/{conversation_id}")
            notes.append(f"created conversation {conversation_id}")
    run_id, message_id = given.run_id, given.message_id
    if run_id is None:
        run_id = _created_id(client.post(f"/v1/agents/{agent_id}/messages/async", json={"input": "Hello!"}))
        if run_id is not None:
            _wait_for_run(client, run_id)
            notes.append(f"started run {run_id}")
    if message_id is None:
        listed = client.get(f"/v1/agents/{agent_id}/messages", params={"limit": 5})
        items = listed.json() if listed.status_code == 200 else []
        ids = [m["id"] for m in items if isinstance(m, dict) and str(m.get("id", "")).startswith("message-")]
        message_id = ids[-1] if ids else None
    return Resources(agent_id, conversation_id, run_id, message_id)
