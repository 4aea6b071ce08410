"""The send's own fast paths answer as the general ones do: a body read without Starlette's stream, in one ASGI
message or in many, gives the same bytes; a client gone before its body arrived changes nothing (what it is sent,
into a closed connection, is what Starlette's own reading leads to: its ClientDisconnect); a stream without faults
is encoded as the fault machinery encodes it with none."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.control import NO_CONTROLS, Controls
from mockserver.engine import Pace
from mockserver.faults import FaultContext, faulty_frames
from mockserver.sending import _encoded, _pace, follow

AGENT = "agent-7e57ed00-0000-4000-8000-000000000002"
PATH = f"/v1/agents/{AGENT}/messages"


def _scope(body: bytes) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": PATH, "raw_path": PATH.encode(), "query_string": b"", "root_path": "",
        "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip


async def _send(app: Any, messages: list[dict[str, Any]]) -> tuple[int, bytes]:
    """One request whose body arrives as ``messages``; the status and body answered (0: none)."""
    pending = list(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    body = b"".join(m.get("body", b"") for m in messages)
    try:
        await app(_scope(body), receive, send)
    except Exception:  # a disconnect may surface as the framework's exception: what matters is what was sent
        pass
    status = next((m["status"] for m in sent if m["type"] == "http.response.start"), 0)
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def _chunks(body: bytes, sizes: list[int]) -> list[dict[str, Any]]:
    out, at = [], 0
    for size in sizes:
        out.append({"type": "http.request", "body": body[at : at + size], "more_body": True})
        at += size
    out.append({"type": "http.request", "body": body[at:], "more_body": False})
    return out


def test_a_body_in_many_messages_is_answered_as_in_one() -> None:
    body = json.dumps({"input": "hello in pieces", "max_steps": 3}).encode()

    async def answers(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        return await _send(create_app(seed=11), messages)

    whole = asyncio.run(answers([{"type": "http.request", "body": body, "more_body": False}]))
    pieces = asyncio.run(answers(_chunks(body, [1, 0, 7, 5])))
    assert whole[0] == 200
    assert json.loads(whole[1])["messages"]
    assert pieces == whole


def test_a_client_gone_before_its_body_arrived_is_answered_nothing_and_changes_nothing() -> None:
    app = create_app(seed=11)
    body = json.dumps({"input": "never finished"}).encode()
    messages = [{"type": "http.request", "body": body[:5], "more_body": True}, {"type": "http.disconnect"}]
    status, _ = asyncio.run(_send(app, messages))
    assert status != 200
    assert app.state.store.runs == {}
    assert app.state.store.messages == {}


@pytest.mark.parametrize("body", [
    {"input": "hello", "streaming": True},
    {"input": "/steps 3", "streaming": True, "stream_tokens": True, "include_pings": True},
    {"input": "/error llm_error", "streaming": True, "background": True},
])  # fmt: skip
def test_a_stream_without_faults_is_the_fault_machinerys_with_none(body: dict[str, Any]) -> None:
    app = create_app(seed=5)

    async def run() -> tuple[bytes, bytes, bytes]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
            answered = (await client.post(PATH, json=body)).content
        store = app.state.store
        record = next(reversed(store.runs.values()))
        numbered = bool(body.get("background"))
        context = FaultContext(stall_ms=0, ping_interval_ms=1000, retry_after=None, attempt=0, ping=lambda _: None)
        general = [f async for f in faulty_frames(follow(store, record, numbered=numbered), (), context)]
        fast = [f async for f in _encoded(follow(store, record, numbered=numbered))]
        return answered, b"".join(general), b"".join(fast)

    answered, general, fast = asyncio.run(run())
    assert b"data: " in answered
    assert fast == general == answered


def test_a_pace_is_made_of_its_own_controls_whatever_came_before() -> None:
    # The last pace is kept by the controls it was made of: other controls, or another tool time, make their own.
    slow, fast = Controls(token_delay_ms=40, jitter_ms=3, seed=9), Controls(token_delay_ms=5)
    for controls, tool_ms in [(slow, 0), (slow, 0), (fast, 0), (slow, 250), (fast, 0), (NO_CONTROLS, 7)]:
        made = _pace(controls, tool_ms)
        assert made == Pace(
            token_s=controls.get("token_delay_ms", 0) / 1000, jitter_s=controls.get("jitter_ms", 0) / 1000,
            tool_s=tool_ms / 1000, seed=controls.seed,
        )  # fmt: skip


@pytest.mark.parametrize("status", [200, 201, 204, 304, 101, 404, 422, 500])
@pytest.mark.parametrize("body", [b"", b"{}", b'{"a":"\xc3\xa9"}', b"[" + b"1," * 5000 + b"1]"])
def test_a_json_body_has_the_head_starlette_gives_it(status: int, body: bytes) -> None:
    from starlette.background import BackgroundTask
    from starlette.responses import Response

    from mockserver.http import JsonBody

    task = BackgroundTask(print)
    ours, theirs = JsonBody(body, status, task), Response(body, status, media_type="application/json", background=task)
    assert (ours.status_code, ours.raw_headers, ours.body, ours.background) == (
        theirs.status_code, theirs.raw_headers, theirs.body, theirs.background)  # fmt: skip
    assert ours.headers == theirs.headers


def test_the_app_s_state_is_starlette_s_read_as_plain_attributes() -> None:
    from starlette.datastructures import State

    from mockserver.appstate import AppState

    app = create_app(seed=3)
    state = app.state
    assert isinstance(state, AppState)
    assert isinstance(state, State)
    assert vars(state)["store"] is state.store is state["store"] is state._state["store"]  # one dict, not copies
    state.extra = 1
    state["other"] = 2
    assert (state.extra, state.other, state["extra"]) == (1, 2, 1)
    del state.extra
    with pytest.raises(AttributeError, match="'AppState' object has no attribute 'extra'"):
        state.extra  # noqa: B018
    assert AppState({"given": 5}).given == 5
    # Read without State.__getattr__ (Python's fallback after a failed lookup): the point of it.
    called: list[str] = []
    original = State.__getattr__
    State.__getattr__ = lambda self, key: called.append(key) or original(self, key)  # type: ignore[method-assign]
    try:
        assert state.store is not None
        assert state.config is not None
    finally:
        State.__getattr__ = original  # type: ignore[method-assign]
    assert called == []
