"""Streams agree with state: history, runs, background resume, cancellation, approvals, pings and the admin API.

Paced tests keep delays tiny (10 ms a token, a few tokens) and assert order and content, never durations.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any

import httpx
import pytest
from _streaming import AGENT, OTHER_AGENT, SDK_HEADERS, Mock, drain, drain_until_error, payloads, types
from contract import DONE, Event, check_grammar, parse_stream
from letta_client import APIStatusError, ConflictError

from mockserver import create_app
from mockserver.errors import ConfigurationError
from mockserver.live import LiveServer
from mockserver.wire.ids import approval_request_id, otid_for

pytest_plugins = ["_stream_fixtures"]

PENDING_TEXT = (
    "CONFLICT: Cannot send a new message: The agent is waiting for approval on a tool call. "
    "Please approve or deny the pending request before continuing."
)
CONVERSATION = "conv-5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
LONG_INPUT = " ".join(["word"] * 200)
CONTROL_TYPES = ("ping", "stop_reason", "usage_statistics", "error_message", DONE)


def agent_items(events: list[Event]) -> list[dict[str, Any]]:
    return [e.payload for e in events if e.type not in CONTROL_TYPES]


def as_stored(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Streamed items as history lists them. Letta stores a step whose calls all wait for approval as one message,
    the approval request's (the step's id minus one, wire doc §1.4): its reasoning and text are listed under the
    request's id, with otids derived from it. Everything else is listed as it was streamed."""
    requests = {i["id"] for i in items if i["message_type"] == "approval_request_message"}
    out: list[dict[str, Any]] = []
    index = 0
    for item in items:
        stored_as = approval_request_id(item["id"]) if item["message_type"] != "approval_request_message" else None
        if stored_as in requests:
            index = index + 1 if out and out[-1]["id"] == stored_as else 0
            item = {**item, "id": stored_as, "otid": otid_for(stored_as, index)}
        out.append(item)
    return out


def run_items(mock: Mock, run_id: str, agent: str = AGENT) -> list[dict[str, Any]]:
    """What history lists for a run: the agent's items of that run, without the user's input."""
    return [m for m in mock.history(agent) if m["run_id"] == run_id and m["message_type"] != "user_message"]


def wait_for_run(mock: Mock, run_id: str) -> dict[str, Any]:
    """Poll a run until it leaves created/running (async runs finish after their answer is sent)."""
    for _ in range(500):
        run = mock.run(run_id)
        if run["status"] not in ("created", "running"):
            return run
        time.sleep(0.01)
    raise AssertionError(f"run {run_id} did not finish: {run}")


def reassemble(events: list[Event]) -> list[dict[str, Any]]:
    """Token chunks joined back into whole items, keyed by (id, otid) in order of first appearance."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for payload in agent_items(events):
        key = (payload["id"], payload["otid"])
        if key not in items:
            items[key] = json.loads(json.dumps(payload))
            if isinstance(payload.get("tool_calls"), dict):  # a ToolCallDelta: rebuild the whole call
                delta = payload["tool_calls"]
                whole = {"name": delta["name"], "arguments": "", "tool_call_id": delta["tool_call_id"]}
                items[key]["tool_call"], items[key]["tool_calls"] = whole, [whole]
            continue
        item = items[key]
        for field in ("reasoning", "content"):
            if isinstance(payload.get(field), str):
                item[field] += payload[field]
        if isinstance(payload.get("tool_calls"), dict):
            item["tool_call"]["arguments"] += payload["tool_calls"]["arguments"] or ""
    return list(items.values())


# -- streams agree with state (wire doc §6.2: step mode items equal what history lists) -------------------------


@pytest.mark.parametrize(
    "text", ["hi", '/tool web_search {"query": "weather Paris"}', "/steps 3", "/approve delete_file"]
)
def test_what_a_step_stream_sent_is_exactly_what_history_lists(text: str, mock: Mock) -> None:
    events = mock.send(text)
    run_id = events[0].payload["run_id"]
    assert as_stored(agent_items(events)) == run_items(mock, run_id)  # same ids, otids, dates, steps, content


def test_a_run_s_messages_are_its_input_then_what_was_streamed(mock: Mock) -> None:
    events = mock.send("/tool web_search")
    run_id = events[0].payload["run_id"]
    listed = mock.http.get(f"/v1/runs/{run_id}/messages").json()
    assert listed[0]["message_type"] == "user_message"
    assert listed[0]["content"] == "/tool web_search"
    assert listed[1:] == agent_items(events)


@pytest.mark.parametrize(
    "text", ["one two three", '/tool web_search {"query": "weather Paris"}', "/approve delete_file"]
)
def test_a_token_stream_reassembles_into_what_history_lists(text: str, mock: Mock) -> None:
    events = mock.send(text, stream_tokens=True)
    run_id = events[0].payload["run_id"]
    assert as_stored(reassemble(events)) == run_items(mock, run_id)


def test_the_non_streaming_answer_lists_what_history_lists(mock: Mock) -> None:
    response = mock.http.post(f"/v1/agents/{AGENT}/messages", json={"input": "/tool web_search"})
    answer = response.json()
    run_id = answer["messages"][0]["run_id"]
    assert answer["messages"] == run_items(mock, run_id)
    assert answer["stop_reason"] == {"message_type": "stop_reason", "stop_reason": "end_turn"}


# -- include_return_message_types ------------------------------------------------------------------------------


@pytest.mark.parametrize("stream_tokens", [False, True], ids=["steps", "tokens"])
@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (["assistant_message"], ["assistant_message"]),
        (["tool_call_message", "tool_return_message"], ["tool_call_message", "tool_return_message"]),
        ([], []),
    ],
)
def test_include_return_message_types_filters_agent_items_but_never_pings_stop_reasons_or_usage(
    wanted: list[str], expected: list[str], stream_tokens: bool, mock: Mock
) -> None:
    events = mock.send("/tool web_search", include_return_message_types=wanted, stream_tokens=stream_tokens)
    kept = list(dict.fromkeys(types(events)))  # token chunks collapse to their type
    assert kept == ["ping", *expected, "stop_reason", "usage_statistics", DONE]
    run_id = events[0].payload["run_id"]
    assert len(run_items(mock, run_id)) == 5  # history keeps everything: the filter shapes the response only


async def test_the_sdk_sends_include_return_message_types_and_reads_the_filtered_stream(sdk_client: Any) -> None:
    stream = sdk_client.agents.messages.create(
        AGENT, input="/tool web_search", streaming=True, include_return_message_types=["reasoning_message"]
    )
    assert types(await drain(stream)) == [
        "ping",
        "reasoning_message",
        "reasoning_message",
        "stop_reason",
        "usage_statistics",
    ]


# -- max_steps --------------------------------------------------------------------------------------------------


async def test_max_steps_stops_a_longer_turn_with_stop_reason_max_steps(sdk_client: Any, mock: Mock) -> None:
    events = await drain(sdk_client.agents.messages.create(AGENT, input="/steps 5", streaming=True, max_steps=2))
    step = ["reasoning_message", "tool_call_message", "tool_return_message"]
    assert types(events) == ["ping", *step, *step, "stop_reason", "usage_statistics"]
    assert (events[-2].stop_reason, events[-1].step_count) == ("max_steps", 2)
    run = mock.run(events[0].run_id)
    assert (run["status"], run["stop_reason"]) == ("completed", "max_steps")


# -- background mode and seq_id (wire doc §6.8) --------------------------------------------------------------------


def test_a_background_stream_numbers_every_chunk_from_one_and_stop_and_usage_have_no_seq_id_key(mock: Mock) -> None:
    events = mock.send("hi", background=True)
    assert types(events) == ["ping", "reasoning_message", "assistant_message", "stop_reason", "usage_statistics", DONE]
    assert [e.payload["seq_id"] for e in events[:3]] == [1, 2, 3]
    assert "seq_id" not in events[3].payload
    assert "seq_id" not in events[4].payload
    run = mock.run(events[0].payload["run_id"])
    assert run["background"] is True


def test_a_background_stream_without_pings_numbers_from_its_first_agent_chunk(mock: Mock) -> None:
    events = mock.send("hi", background=True, include_pings=False)
    assert [(e.type, e.payload.get("seq_id")) for e in events[:2]] == [
        ("reasoning_message", 1),
        ("assistant_message", 2),
    ]


@pytest.mark.parametrize(
    ("starting_after", "tail"),
    [
        (0, ["ping", "reasoning_message", "assistant_message", "stop_reason", "usage_statistics", DONE]),
        (1, ["reasoning_message", "assistant_message", "stop_reason", "usage_statistics", DONE]),
        (3, ["stop_reason", "usage_statistics", DONE]),  # stop_reason is 4, usage 5, [DONE] 6 (wire doc §6.8)
        (4, ["usage_statistics", DONE]),
        (5, [DONE]),
    ],
)
def test_resuming_from_starting_after_returns_exactly_the_missing_tail(
    starting_after: int, tail: list[str], mock: Mock
) -> None:
    full = mock.send("hi", background=True)
    resumed = mock.resume(full[0].payload["run_id"], starting_after)
    assert types(resumed) == tail
    assert resumed == full[len(full) - len(tail) :]


def test_a_resume_without_a_body_replays_the_whole_run(mock: Mock) -> None:
    full = mock.send("/tool web_search", background=True)
    response = mock.http.post(f"/v1/runs/{full[0].payload['run_id']}/stream")
    assert parse_stream(response.content) == full


@pytest.mark.parametrize("fidelity", ["contract", "server"])
def test_beyond_the_last_finished_runs_a_log_keeps_only_its_outcome(mock: Mock, fidelity: str) -> None:
    """Logs beyond the bound are cut to the run's outcome; a resume of one streams it (the contract documents no
    410), or answers Letta's 410 EXPIRED under server fidelity."""
    mock.use(create_app(seed=7, fidelity=fidelity))
    mock.app.state.store.log_bound = 2  # the default (1,000) takes too many runs for a test
    full = [mock.send(f"turn {n}", background=True, stream_tokens=True) for n in range(3)]
    runs = [events[0].payload["run_id"] for events in full]
    resumed = mock.http.post(f"/v1/runs/{runs[0]}/stream")
    if fidelity == "server":
        assert (resumed.status_code, resumed.json()) == (
            410,
            {"detail": "EXPIRED: Run was created more than 3 hours ago, and is now expired."},
        )
    else:
        outcome = parse_stream(resumed.content)
        listed = mock.http.get(f"/v1/runs/{runs[0]}/messages").json()
        listed = [m for m in listed if m["message_type"] != "user_message"]
        assert [e.payload for e in outcome[: len(listed)]] == [{**m, "seq_id": n + 1} for n, m in enumerate(listed)]
        assert types(outcome[len(listed) :]) == ["stop_reason", "usage_statistics", DONE]
        assert len(outcome) < len(full[0])  # the token chunks and the ping are gone
    assert mock.resume(runs[1], 0) == full[1]  # the last two are whole
    assert mock.resume(runs[2], 0) == full[2]
    assert mock.run(runs[0])["status"] == "completed"  # only the log is cut: the run and its messages stay


async def test_an_unpaced_stream_lets_others_through_and_stops_writing_once_its_client_has_gone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 5,000-token stream with no pacing, its client gone after the first event: the server notices at once
    (asyncio warns after five writes into a closed socket), and a request sent meanwhile is answered before the
    stream would have ended."""
    with LiveServer(create_app(seed=3)) as server, caplog.at_level(logging.WARNING, logger="asyncio"):
        headers = {**SDK_HEADERS, "X-Letta-Mock": "scenario=long; tokens=5000"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
            body = {"input": "tell me everything", "streaming": True, "stream_tokens": True}
            async with client.stream("POST", f"/v1/agents/{AGENT}/messages", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        break
            async with httpx.AsyncClient(base_url=server.url, headers=SDK_HEADERS, timeout=30) as other:
                health = await other.get("/v1/health/")
            assert health.status_code == 200
            await asyncio.sleep(0.5)
        server.check()
    assert not [r for r in caplog.records if "socket.send() raised exception" in r.getMessage()]


async def test_a_thousand_abandoned_streams_leave_no_task_and_no_active_run_behind() -> None:
    """Clients that close a stream mid-turn: each turn ends (as Letta's runs do without a reader), its keep-alive
    pinger with it, and the server's event loop holds exactly the tasks it held before."""
    with LiveServer(create_app(seed=3)) as server:
        loop = server._server.loop
        assert loop is not None

        def tasks() -> int:
            async def count() -> int:
                return len(asyncio.all_tasks())

            return asyncio.run_coroutine_threadsafe(count(), loop).result(timeout=5)

        before = tasks()
        limits = httpx.Limits(max_connections=100)
        headers = {**SDK_HEADERS, "X-Letta-Mock": "think_ms=100; ping_interval_ms=20"}  # closed at the first ping
        async with httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits, timeout=30) as client:
            gate = asyncio.Semaphore(100)

            async def abandon(n: int) -> None:
                async with gate, client.stream("POST", f"/v1/agents/{AGENT}/messages",
                                               json={"input": f"hi {n}", "streaming": True}) as response:  # fmt: skip
                    assert response.status_code == 200
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            break  # the first ping: the turn is thinking; close the stream

            await asyncio.gather(*(abandon(n) for n in range(1000)))
            deadline = time.monotonic() + 30
            while tasks() > before and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert tasks() == before
            assert (await client.get("/v1/runs/active")).json() == []
            runs = (await client.get("/v1/runs/", params={"limit": 1000})).json()
            assert len(runs) == 1000
            assert {r["status"] for r in runs} <= {"completed", "cancelled"}
        server.check()


def test_an_in_band_error_in_a_background_stream_carries_its_seq_id(mock: Mock) -> None:
    events = mock.send("hi", controls="error=llm_error", background=True)
    assert [(e.event, e.type) for e in events] == [
        (None, "ping"),
        (None, "stop_reason"),
        ("error", "error_message"),
        (None, DONE),
    ]
    assert (events[0].payload["seq_id"], events[2].payload["seq_id"]) == (1, 3)


async def test_the_sdk_resumes_a_run_from_a_seq_id(sdk_client: Any, mock: Mock) -> None:
    full = mock.send('/tool web_search {"query": "x"}', background=True)
    run_id = full[0].payload["run_id"]
    tail = await drain(sdk_client.runs.messages.stream(run_id, starting_after=4))
    assert types(tail) == ["reasoning_message", "assistant_message", "stop_reason", "usage_statistics"]
    assert [e.seq_id for e in tail[:2]] == [5, 6]
    assert [e.id for e in tail[:2]] == [p["id"] for p in payloads(full)[4:6]]


def _read_until_dropped(mock: Mock, body: dict[str, Any], controls: str) -> bytes:
    received = b""
    with pytest.raises(httpx.RemoteProtocolError):  # noqa: PT012  # the bytes before the drop are the point
        with mock.http.stream(
            "POST", f"/v1/agents/{AGENT}/messages", json=body, headers={"X-Letta-Mock": controls}
        ) as response:
            for piece in response.iter_raw():
                received += piece
    return received


def test_after_a_dropped_paced_background_stream_resuming_from_the_last_seq_id_gives_the_rest(mock: Mock) -> None:
    body = {"input": "one two three four five six", "streaming": True, "stream_tokens": True, "background": True}
    seen = parse_stream(_read_until_dropped(mock, body, "scenario=reply; token_delay_ms=10; fault=drop_after:3"))
    assert [e.payload["seq_id"] for e in seen] == [1, 2, 3]
    run_id = seen[0].payload["run_id"]
    tail = mock.resume(run_id, starting_after=seen[-1].payload["seq_id"])  # follows the run while it goes on
    assert check_grammar(seen + tail) == "done"
    assert seen + tail == mock.resume(run_id, starting_after=0)
    assert "".join(p["content"] for p in agent_items(seen + tail)) == "You said: one two three four five six"
    assert mock.run(run_id)["status"] == "completed"


def test_a_resume_follows_a_live_paced_run_to_its_end(mock: Mock) -> None:
    # 30 words at 10 ms: the run is still going while the resume starts.
    body = {"input": " ".join(["word"] * 30), "streaming": True, "stream_tokens": True, "background": True}
    headers = {"X-Letta-Mock": "scenario=reply; token_delay_ms=10"}
    with mock.http.stream("POST", f"/v1/agents/{AGENT}/messages", json=body, headers=headers) as response:
        lines = response.iter_lines()
        first = next(lines)
        run_id = json.loads(first.removeprefix("data: "))["run_id"]
        assert mock.run(run_id)["status"] == "running"  # the run is still going when the resume starts
        followed = list(mock.sdk().runs.messages.stream(run_id))
        original = parse_stream(("\n".join([first, *lines]) + "\n").encode())
    assert types(followed) == types(original)[:-1]  # the SDK stops at [DONE]
    assert [e.seq_id for e in followed if e.message_type != "stop_reason" and e.message_type != "usage_statistics"] == [
        p["seq_id"] for p in payloads(original) if "seq_id" in p
    ]
    assert types(mock.recorder.last)[-1] == DONE


async def test_the_conversation_stream_endpoint_resumes_the_conversation_s_last_run(
    sdk_client: Any, mock: Mock
) -> None:
    await drain(sdk_client.conversations.messages.create(CONVERSATION, input="first", background=True))
    second = await drain(
        sdk_client.conversations.messages.create(CONVERSATION, input="/tool web_search", background=True)
    )
    tail = await drain(sdk_client.conversations.messages.stream(CONVERSATION, starting_after=4))
    assert [e.id for e in tail[:2]] == [e.id for e in second[4:6]]
    assert types(tail) == ["reasoning_message", "assistant_message", "stop_reason", "usage_statistics"]
    whole = await drain(sdk_client.conversations.messages.stream(CONVERSATION))
    assert [getattr(e, "id", None) for e in whole] == [getattr(e, "id", None) for e in second]


@pytest.mark.parametrize("fidelity", ["contract", "server"])
def test_the_conversation_stream_finds_the_run_a_message_s_otid_started(mock: Mock, fidelity: str) -> None:
    """Letta's own stream recovery: ``POST /v1/conversations/{id}/stream {"otid": ...}`` streams the run that the
    message with that otid started, not the conversation's latest (Letta's test_otid_recovery_via_retrieve_stream)."""
    mock.use(create_app(seed=7, fidelity=fidelity))
    conversation = mock.http.post("/v1/conversations/", params={"agent_id": AGENT}, json={}).json()["id"]
    path = f"/v1/conversations/{conversation}/messages"
    otid = "test-otid-5b1c2d3e"
    first = mock.post_stream({"messages": [{"role": "user", "content": "hello", "otid": otid}], "streaming": True,
                              "background": True}, path=path)  # fmt: skip
    mock.post_stream({"input": "and then?", "streaming": True, "background": True}, path=path)
    recovered = mock.post_stream({"otid": otid}, path=f"/v1/conversations/{conversation}/stream")
    assert recovered == first


def test_a_background_conversation_retry_with_the_same_otids_attaches_to_the_running_run(mock: Mock) -> None:
    # Wire doc §6.8: on the conversation endpoints a retry whose messages carry the same otids while the first run
    # is active attaches to that run's stream instead of starting a new run. 30 words at 10 ms keep it active.
    message = {"role": "user", "content": " ".join(["word"] * 30), "otid": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"}
    body = {"messages": [message], "streaming": True, "stream_tokens": True, "background": True}
    path = f"/v1/conversations/{CONVERSATION}/messages"
    headers = {"X-Letta-Mock": "scenario=reply; token_delay_ms=10"}
    with mock.http.stream("POST", path, json=body, headers=headers) as first:
        lines = first.iter_lines()
        run_id = json.loads(next(lines).removeprefix("data: "))["run_id"]
        retry = mock.http.post(path, json=body, headers=headers)  # the SDK's retry: the very same request
        list(lines)
    assert {p["run_id"] for p in payloads(parse_stream(retry.content)) if "run_id" in p} == {run_id}
    listed = mock.http.get(f"/v1/conversations/{CONVERSATION}/messages").json()
    assert [m["otid"] for m in listed if m["message_type"] == "user_message"] == [message["otid"]]


def test_the_default_conversation_stream_resumes_the_agent_s_last_default_conversation_run(mock: Mock) -> None:
    full = mock.send("hi", background=True)
    resumed = mock.post_stream({"agent_id": AGENT, "starting_after": 3}, path="/v1/conversations/default/stream")
    assert resumed == full[3:]


# -- cancellation (wire doc §6.7, §9) ------------------------------------------------------------------------------


def _paced_stream(mock: Mock) -> Any:
    # A 200-word echo at 10 ms a word: the run is still going long after the cancel arrives, however slow the
    # machine; the test itself takes a few tokens' time.
    return mock.http.stream(
        "POST",
        f"/v1/agents/{AGENT}/messages",
        json={"input": LONG_INPUT, "streaming": True, "stream_tokens": True},
        headers={"X-Letta-Mock": "scenario=reply; token_delay_ms=10"},
    )


@pytest.mark.parametrize("with_run_ids", [False, True], ids=["the agent's runs", "given run_ids"])
def test_a_cancel_from_another_thread_ends_a_live_stream_with_stop_reason_cancelled(
    with_run_ids: bool, mock: Mock
) -> None:
    answers: list[dict[str, str]] = []
    with _paced_stream(mock) as response:
        lines = response.iter_lines()
        received = [line for line in (next(lines) for _ in range(6)) if line]  # ping + two chunks
        run_id = json.loads(received[0].removeprefix("data: "))["run_id"]

        def cancel() -> None:
            client = mock.sdk()
            answers.append(client.agents.messages.cancel(AGENT, **({"run_ids": [run_id]} if with_run_ids else {})))

        canceller = threading.Thread(target=cancel)
        canceller.start()
        received += list(lines)
        canceller.join()
    events = parse_stream(("\n\n".join(line for line in received if line) + "\n\n").encode())
    assert answers == [{run_id: "cancelled"}]
    assert types(events)[-3:] == ["stop_reason", "usage_statistics", DONE]
    assert events[-3].payload["stop_reason"] == "cancelled"
    assert check_grammar(events) == "done"
    words = "".join(p["content"] for p in agent_items(events) if p["message_type"] == "assistant_message").split()
    assert words[:2] == ["You", "said:"]
    assert len(words) < 202  # cut short
    run = mock.run(run_id)
    assert (run["status"], run["stop_reason"]) == ("cancelled", "cancelled")


async def test_an_async_client_cancelling_a_stream_it_is_reading_sees_it_end_cancelled(mock: Mock) -> None:
    async with mock.async_sdk(checked=False) as client:
        stream = await client.agents.messages.create(
            AGENT,
            input=LONG_INPUT,
            streaming=True,
            stream_tokens=True,
            extra_headers={"X-Letta-Mock": "scenario=reply; token_delay_ms=10"},
        )
        received = []
        cancelling: asyncio.Task[Any] | None = None
        async for event in stream:
            received.append(event)
            if len(received) == 3:
                cancelling = asyncio.ensure_future(client.agents.messages.cancel(AGENT))
        assert cancelling is not None
        answer = await cancelling
    assert answer == {received[0].run_id: "cancelled"}
    assert types(received)[-2:] == ["stop_reason", "usage_statistics"]
    assert received[-2].stop_reason == "cancelled"
    assert mock.run(received[0].run_id)["status"] == "cancelled"


def test_cancelling_when_the_last_run_has_finished_names_it_and_leaves_it_as_it_was(mock: Mock) -> None:
    run_id = mock.send("hi")[0].payload["run_id"]
    assert mock.sdk().agents.messages.cancel(AGENT) == {run_id: "cancelled"}  # wire doc §18.4 (with Redis)
    run = mock.run(run_id)
    assert (run["status"], run["stop_reason"]) == ("completed", "end_turn")


def test_cancelling_with_nothing_ever_run_is_letta_s_409_in_server_fidelity(mock: Mock) -> None:
    mock.use(create_app(seed=7, fidelity="server"))
    with pytest.raises(ConflictError) as raised:
        mock.sdk().agents.messages.cancel(OTHER_AGENT)
    assert raised.value.body == {"detail": f"CONFLICT: No active runs to cancel for agent {OTHER_AGENT}"}


def test_cancelling_a_run_waiting_for_approval_cancels_it_stores_a_denial_and_unblocks_the_agent(mock: Mock) -> None:
    events = mock.send("/approve delete_file")
    run_id = events[0].payload["run_id"]
    call_id = events[2].payload["tool_call"]["tool_call_id"]
    assert mock.sdk().agents.messages.cancel(AGENT, run_ids=[run_id]) == {run_id: "cancelled"}
    run = mock.run(run_id)
    assert (run["status"], run["stop_reason"]) == ("cancelled", "cancelled")  # wire doc §9
    denial = [
        m for m in run_items(mock, run_id) if m["message_type"] in ("approval_response_message", "tool_return_message")
    ]
    assert [m["message_type"] for m in denial] == ["approval_response_message", "tool_return_message"]
    assert denial[0]["approvals"][0]["tool_call_id"] == denial[1]["tool_call_id"] == call_id
    assert (denial[0]["approvals"][0]["approve"], denial[1]["status"]) == (False, "error")
    assert check_grammar(mock.send("hi")) == "done"


def test_a_cancelled_background_run_replays_to_its_cancelled_ending(mock: Mock) -> None:
    body = {"input": LONG_INPUT, "streaming": True, "stream_tokens": True, "background": True}
    headers = {"X-Letta-Mock": "scenario=reply; token_delay_ms=10"}
    with mock.http.stream("POST", f"/v1/agents/{AGENT}/messages", json=body, headers=headers) as response:
        lines = response.iter_lines()
        run_id = json.loads(next(lines).removeprefix("data: "))["run_id"]
        mock.sdk().agents.messages.cancel(AGENT, run_ids=[run_id])
        list(lines)
    replay = mock.resume(run_id, starting_after=0)
    assert check_grammar(replay) == "done"
    assert replay[-3].payload == {"message_type": "stop_reason", "stop_reason": "cancelled"}
    numbers = [e.payload["seq_id"] for e in replay if not e.done and "seq_id" in e.payload]
    assert numbers == list(range(1, len(numbers) + 1))


# -- approvals and client-side tools (wire doc §6.9) ---------------------------------------------------------------


def _pending_call(mock: Mock, text: str, **body: Any) -> dict[str, Any]:
    events = mock.send(text, **body)
    request = next(e.payload for e in events if e.type == "approval_request_message")
    assert events[-3].payload["stop_reason"] == "requires_approval"
    return request


async def test_an_approved_call_runs_and_the_continuation_starts_with_its_tool_return(
    sdk_client: Any, mock: Mock
) -> None:
    request = _pending_call(mock, '/approve delete_file {"path": "a.txt"}')
    call_id = request["tool_call"]["tool_call_id"]
    approval = {"type": "approval", "approvals": [{"type": "approval", "tool_call_id": call_id, "approve": True}]}
    events = await drain(sdk_client.agents.messages.create(AGENT, messages=[approval], streaming=True))
    assert types(events) == [
        "ping",
        "tool_return_message",
        "reasoning_message",
        "assistant_message",
        "stop_reason",
        "usage_statistics",
    ]
    tool_return = events[1]
    assert (tool_return.name, tool_return.tool_call_id, tool_return.status) == ("delete_file", call_id, "success")
    assert events[-2].stop_reason == "end_turn"
    history = mock.history()
    response = next(m for m in history if m["message_type"] == "approval_response_message")
    assert response["approvals"][0]["tool_call_id"] == call_id
    assert response["approval_request_id"] == request["id"]
    assert "approval_response_message" not in types(events)  # the approval is not echoed


def test_a_denied_call_returns_an_error_tool_return_with_the_reason(mock: Mock) -> None:
    request = _pending_call(mock, "/approve delete_file")
    call_id = request["tool_call"]["tool_call_id"]
    denial = {
        "type": "approval",
        "approvals": [{"type": "approval", "tool_call_id": call_id, "approve": False, "reason": "not today"}],
    }
    events = mock.post_stream({"messages": [denial], "streaming": True})
    tool_return = events[1].payload
    assert (tool_return["message_type"], tool_return["status"], tool_return["tool_call_id"]) == (
        "tool_return_message",
        "error",
        call_id,
    )
    assert "not today" in tool_return["tool_return"]
    assert check_grammar(events) == "done"


@pytest.mark.parametrize("shape", ["tool_return", "approval"])
def test_a_client_tool_result_becomes_a_nameless_tool_return_and_the_agent_replies(shape: str, mock: Mock) -> None:
    offered = [{"name": "get_location", "description": "Where the user is", "parameters": {"type": "object"}}]
    request = _pending_call(mock, "/client get_location", client_tools=offered)
    assert request["tool_call"]["name"] == "get_location"
    call_id = request["tool_call"]["tool_call_id"]
    result = {"type": "tool", "tool_call_id": call_id, "tool_return": "Paris", "status": "success"}
    message = (
        {"type": "tool_return", "tool_returns": [result]}
        if shape == "tool_return"
        else {"type": "approval", "approvals": [result]}
    )
    events = mock.post_stream({"messages": [message], "streaming": True, "client_tools": offered})
    assert types(events) == [
        "ping",
        "tool_return_message",
        "reasoning_message",
        "assistant_message",
        "stop_reason",
        "usage_statistics",
        DONE,
    ]
    tool_return = events[1].payload
    assert (tool_return["name"], tool_return["tool_return"], tool_return["tool_call_id"]) == (None, "Paris", call_id)


def test_a_plain_message_while_approval_is_pending_is_a_409_without_streaming(mock: Mock) -> None:
    request = _pending_call(mock, "/approve delete_file")
    with pytest.raises(ConflictError) as raised:
        mock.sdk().agents.messages.create(AGENT, input="hello?")
    assert raised.value.body == {
        "detail": {"code": "PENDING_APPROVAL", "message": PENDING_TEXT, "pending_request_id": request["id"]}
    }


async def test_a_plain_message_while_approval_is_pending_is_an_in_band_error_when_streaming(
    sdk_client: Any, mock: Mock
) -> None:
    _pending_call(mock, "/approve delete_file")
    received, error = await drain_until_error(sdk_client.agents.messages.create(AGENT, input="hello?", streaming=True))
    assert types(received) == ["ping", "stop_reason"]
    assert received[1].stop_reason == "error"
    assert isinstance(error, APIStatusError)
    assert error.status_code == 200
    assert (error.body["error_type"], error.body["message"]) == ("internal_error", PENDING_TEXT)
    raw = mock.recorder.last
    assert [(e.event, e.type) for e in raw] == [
        (None, "ping"),
        (None, "stop_reason"),
        ("error", "error_message"),
        (None, DONE),
    ]
    assert mock.run(received[0].run_id)["status"] == "failed"


def test_a_refused_message_leaves_the_approval_pending(mock: Mock) -> None:
    request = _pending_call(mock, "/approve delete_file")
    mock.send("hello?")
    call_id = request["tool_call"]["tool_call_id"]
    approval = {"type": "approval", "approvals": [{"type": "approval", "tool_call_id": call_id, "approve": True}]}
    assert check_grammar(mock.post_stream({"messages": [approval], "streaming": True})) == "done"


def test_an_async_run_sent_while_approval_is_pending_fails(mock: Mock) -> None:
    _pending_call(mock, "/approve delete_file")
    created = mock.sdk().agents.messages.create_async(AGENT, input="hello?")
    assert created.status == "created"
    run = wait_for_run(mock, created.id)
    assert (run["status"], run["stop_reason"]) == ("failed", "error")
    assert str(run["metadata"]["error"]).startswith("CONFLICT: Cannot send a new message")  # the error text (§10)


# -- keep-alive pings during silences (wire doc §6.4) --------------------------------------------------------------


@pytest.mark.parametrize(("think_ms", "pings"), [(10, 0), (30, 1), (50, 2), (60, 3), (70, 3), (100, 5)])
def test_a_silence_gets_one_keep_alive_ping_per_full_interval(think_ms: int, pings: int, mock: Mock) -> None:
    events = mock.send("hi", controls=f"scenario=reply; think_ms={think_ms}; ping_interval_ms=20")
    assert types(events) == ["ping", *["ping"] * pings, "assistant_message", "stop_reason", "usage_statistics", DONE]
    run_id = events[0].payload["run_id"]
    keep_alives = [e.payload for e in events[: 1 + pings]]
    assert {p["run_id"] for p in keep_alives} == {run_id}
    assert len({p["id"] for p in keep_alives}) == 1 + pings


def test_keep_alive_pings_in_a_background_stream_carry_the_last_seq_id(mock: Mock) -> None:
    events = mock.send("hi", controls="scenario=reply; think_ms=50; ping_interval_ms=20", background=True)
    assert types(events)[:4] == ["ping", "ping", "ping", "assistant_message"]
    assert [e.payload["seq_id"] for e in events[:4]] == [1, 1, 1, 2]


def test_replaying_a_finished_run_leaves_out_the_keep_alive_pings_of_its_first_connection(mock: Mock) -> None:
    # Keep-alive pings belong to the connection that waited; a later reader did not wait (wire doc §6.4, §6.8).
    events = mock.send("hi", controls="scenario=reply; think_ms=50; ping_interval_ms=20", background=True)
    assert types(events)[:3] == ["ping", "ping", "ping"]
    replay = mock.resume(events[0].payload["run_id"], 0)
    assert types(replay) == ["ping", "assistant_message", "stop_reason", "usage_statistics", DONE]
    assert [e.payload["seq_id"] for e in replay[:2]] == [1, 2]


def test_without_pings_a_silence_stays_silent(mock: Mock) -> None:
    events = mock.send("hi", controls="scenario=reply; think_ms=50; ping_interval_ms=20", include_pings=False)
    assert types(events) == ["assistant_message", "stop_reason", "usage_statistics", DONE]


def test_the_slow_trigger_asks_for_letta_s_20_second_keep_alive_interval() -> None:
    from mockserver.control import trigger_controls

    controls = trigger_controls("/slow")
    assert (controls.think_ms, controls.ping_interval_ms) == (45000, 20000)


# -- control precedence and the admin API -------------------------------------------------------------------------


def test_scripted_turns_are_consumed_in_order_then_the_default_agent_returns(mock: Mock) -> None:
    script = {"turns": [{"scenario": "reply", "reply": "first"}, {"scenario": "tool_call"}]}
    assert mock.http.put(f"/_mock/agents/{AGENT}/script", json=script).json() == {"agent_id": AGENT, **script}
    first, second, third = (mock.send("hi") for _ in range(3))
    assert agent_items(first)[0]["content"] == "first"
    assert "tool_call_message" in types(second)
    assert types(third) == ["ping", "reasoning_message", "assistant_message", "stop_reason", "usage_statistics", DONE]
    assert mock.http.get(f"/_mock/agents/{AGENT}/script").json() == {"agent_id": AGENT, "turns": []}


def test_a_script_belongs_to_its_agent(mock: Mock) -> None:
    mock.http.put(f"/_mock/agents/{AGENT}/script", json={"turns": [{"scenario": "approval"}]})
    assert "approval_request_message" not in types(mock.send("hi", agent=OTHER_AGENT))
    assert "approval_request_message" in types(mock.send("hi"))


def test_a_scripted_error_turn_surfaces_in_band(mock: Mock) -> None:
    mock.http.put(f"/_mock/agents/{AGENT}/script", json={"turns": [{"error": "llm_timeout", "error_at": "mid"}]})
    assert check_grammar(mock.send("hi")) == "error_mid_stream"


def test_defaults_apply_to_every_agent_and_the_header_overrides_them(mock: Mock) -> None:
    answer = mock.http.put("/_mock/defaults", json={"scenario": "reply", "reply": "From the defaults."})
    assert answer.json() == {"scenario": "reply", "reply": "From the defaults."}
    for agent in (AGENT, OTHER_AGENT):
        assert agent_items(mock.send("hi", agent=agent))[0]["content"] == "From the defaults."
    overridden = mock.send("hi", controls="reply=From the header.")
    assert agent_items(overridden)[0]["content"] == "From the header."


def test_the_header_beats_a_trigger_phrase_which_beats_the_script_which_beats_the_defaults(mock: Mock) -> None:
    mock.http.put("/_mock/defaults", json={"scenario": "hidden_reasoning"})
    mock.http.put(f"/_mock/agents/{AGENT}/script", json={"turns": [{"scenario": "reply"}] * 3})
    assert types(mock.send("hi"))[1] == "assistant_message"  # script over defaults
    assert types(mock.send("/reasoning"))[1] == "reasoning_message"  # trigger over script
    assert types(mock.send("/reasoning", controls="scenario=hidden_reasoning"))[1] == "hidden_reasoning_message"


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        (
            f"/_mock/agents/{AGENT}/script",
            {"turns": [{"scenario": "reply"}, {"scenaro": "x"}]},
            "turns[1]: unknown key 'scenaro'",
        ),
        ("/_mock/defaults", {"fault": "drop_after"}, "defaults: fault 'drop_after' must look like drop_after:<N>"),
    ],
)
def test_the_admin_api_refuses_bad_controls_with_400_naming_them(
    path: str, body: dict[str, Any], named: str, mock: Mock
) -> None:
    response = mock.http.put(path, json=body)
    assert response.status_code == 400
    assert named in response.json()["detail"]


def test_reset_forgets_history_runs_scripts_pending_approvals_and_the_journal(mock: Mock) -> None:
    run_id = mock.send("/approve delete_file")[0].payload["run_id"]
    mock.http.put(f"/_mock/agents/{AGENT}/script", json={"turns": [{"scenario": "reply"}]})
    assert mock.http.post("/_mock/reset").json() == {"reset": True}
    assert [m["message_type"] for m in mock.history()] == ["system_message"]
    assert mock.http.get(f"/_mock/agents/{AGENT}/script").json()["turns"] == []
    assert mock.http.get(f"/v1/runs/{run_id}/messages").json() == []
    assert check_grammar(mock.send("hi")) == "done"  # no approval pending any more
    assert mock.calls() == {"list_messages": 1, "list_messages_for_run": 1, "send_message": 1}


def test_the_journal_records_each_request_with_its_body_and_a_summary_of_its_stream(mock: Mock) -> None:
    events = mock.send("/tool web_search", include_pings=False)
    mock.history()
    (entry,) = mock.journal("send_message")
    assert (entry["method"], entry["path"]) == ("POST", f"/v1/agents/{AGENT}/messages")
    assert entry["body"] == {"input": "/tool web_search", "streaming": True, "include_pings": False}
    assert entry["response"]["status"] == 200
    assert entry["response"]["content_type"] == "text/event-stream; charset=utf-8"
    assert entry["response"]["events"] == len(events)
    assert mock.calls() == {"send_message": 1, "list_messages": 1}
    assert mock.http.delete("/_mock/journal").json() == []
    assert mock.journal() == []


def test_the_journal_counts_events_not_the_text_data_colon_inside_them(mock: Mock) -> None:
    events = mock.send("data: data: data: ", controls="scenario=reply")
    (entry,) = mock.journal("send_message")
    assert entry["response"]["events"] == len(events)


def test_an_app_without_admin_has_no_mock_routes(mock: Mock) -> None:
    mock.use(create_app(seed=7, admin=False))
    for method, path in [
        ("GET", "/_mock/"),
        ("POST", "/_mock/reset"),
        ("GET", "/_mock/journal"),
        ("GET", "/_mock/calls"),
        ("PUT", "/_mock/defaults"),
    ]:
        response = mock.http.request(method, path, json={} if method == "PUT" else None)
        assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    assert check_grammar(mock.send("hi", controls="scenario=reply")) == "done"  # the header still works


def test_server_defaults_given_to_create_app_apply_to_every_turn(mock: Mock) -> None:
    mock.use(create_app(seed=7, controls="scenario=reply; reply=Configured."))
    assert agent_items(mock.send("hi"))[0]["content"] == "Configured."


def test_bad_server_defaults_fail_at_configuration_naming_the_problem() -> None:
    with pytest.raises(ConfigurationError, match="unknown key 'scenaro'"):
        create_app(controls="scenaro=reply")


def test_a_finished_run_keeps_no_keep_alive_pings_once_nobody_reads_it() -> None:
    import httpx

    from mockserver.app import create_app
    from mockserver.live import LiveServer
    from mockserver.records import KeepAlive

    app = create_app()
    with LiveServer(app) as server:
        body = {"input": "hi", "streaming": True, "background": True}
        headers = {"X-Letta-Mock": "scenario=reply; think_ms=50; ping_interval_ms=20"}
        response = httpx.post(f"{server.url}/v1/agents/{AGENT}/messages", json=body, headers=headers)
        assert response.text.count('"message_type":"ping"') == 3
        (record,) = app.state.store.runs.values()
        assert record.finished
        assert record.readers == 0
        assert [e for e in record.events if isinstance(e, KeepAlive) and e.ping is not None] == []
