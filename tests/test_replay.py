"""Replay: the matching rules, sequences, the near miss, falling through to the synthesizer, and the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from letta_client import APIStatusError, Letta

from mockserver import create_app
from mockserver.errors import ConfigurationError
from mockserver.recording.format import (
    Event,
    Exchange,
    Fixture,
    MatchRules,
    RecordedRequest,
    RecordedResponse,
    Stream,
    dumps,
)
from mockserver.recording.matching import ABSENT, Incoming, first_difference

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
SEND = f"/v1/agents/{AGENT}/messages"


def request(**fields: Any) -> RecordedRequest:
    return RecordedRequest.model_validate({"method": "POST", "path": SEND, **fields})


def incoming(body: Any = None, *, method: str = "POST", path: str = SEND, query: str = "", raw: bytes | None = None,
             headers: dict[str, str] | None = None) -> Incoming:  # fmt: skip
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    return Incoming.of(method, path, query, headers or {}, data)


@pytest.mark.parametrize(
    ("recorded", "received", "expected"),
    [
        ({"json": {"input": "hi", "streaming": True}}, incoming({"streaming": True, "input": "hi"}), None),
        ({"json": {"max_steps": 5}}, incoming({"max_steps": 5.0}), None),  # numbers by value
        ({"json": {"streaming": True}}, incoming({"streaming": 1}), ("body.streaming", True, 1)),  # true is not 1
        ({"json": {"input": "hi"}}, incoming({"input": "ho"}), ("body.input", "hi", "ho")),
        ({"json": {"messages": [{"content": "a", "otid": "x"}]}},
         incoming({"messages": [{"content": "a", "otid": "y"}]}), None),  # otid is ignored by default
        ({"json": {"messages": [{"content": "a"}]}}, incoming({"messages": [{"content": "a"}, {"content": "b"}]}),
         ("body.messages[1]", "<absent>", {"content": "b"})),
        ({"json": {"a": 1}}, incoming({}), ("body.a", 1, "<absent>")),
        ({"method": "GET", "query": [["limit", "3"]]}, incoming(method="GET", query="limit=3"), None),
        ({"method": "GET", "query": [["limit", "3"]]}, incoming(method="GET", query="limit=4"),
         ("query.limit", "3", "4")),
        ({"method": "GET", "query": [["a", "1"], ["b", "2"]]}, incoming(method="GET", query="b=2&a=1"), None),
        ({"method": "GET", "query": [["t", "x"], ["t", "y"]]}, incoming(method="GET", query="t=y&t=x"),
         ("query.t", ["x", "y"], ["y", "x"])),  # a repeated parameter's values in order
        ({"method": "GET", "query": [["token", "[REDACTED]"]]}, incoming(method="GET", query="token=secret"), None),
        ({"text": "plain"}, incoming(raw=b"plain"), None),
        ({"text": "plain"}, incoming(raw=b"plain!"), ("body", "plain", "plain!")),
        ({"json": {"a": 1}}, incoming(raw=b"not json"), ("body", {"a": 1}, "not json")),
        ({}, incoming(method="GET"), ("method", "POST", "GET")),
        ({}, incoming(path="/v1/health/"), ("path", SEND, "/v1/health/")),
    ],
)  # fmt: skip
def test_a_request_matches_by_method_path_query_and_body_meaning(
    recorded: dict[str, Any], received: Incoming, expected: tuple[str, Any, Any] | None
) -> None:
    found = first_difference(request(**recorded), received, MatchRules())
    if expected is None:
        assert found is None
    else:
        assert found is not None
        shown = [repr(v) if v is ABSENT else v for v in (found.recorded, found.received)]
        assert (found.field, *shown) == expected


def test_ignored_fields_and_matched_headers_follow_the_fixtures_rules() -> None:
    rules = MatchRules(ignore=["messages.*.content", "query.cursor"], headers=["X-Letta-Mock"])
    recorded = request(
        json={"messages": [{"content": "a", "role": "user"}]}, headers={"x-letta-mock": "scenario=reply"},
        query=[["cursor", "1"]],
    )  # fmt: skip
    same = incoming({"messages": [{"content": "b", "role": "user"}]}, query="cursor=2",
                    headers={"X-Letta-Mock": "scenario=reply"})  # fmt: skip
    assert first_difference(recorded, same, rules) is None
    other = incoming({"messages": [{"content": "b", "role": "user"}]}, query="cursor=2")
    difference = first_difference(recorded, other, rules)
    assert difference is not None
    assert difference.field == "headers.x-letta-mock"
    assert first_difference(recorded, same, MatchRules()) is not None  # content compared without the rule


def fixture_file(tmp_path: Path, name: str, exchanges: list[Exchange], **extra: Any) -> Path:
    path = tmp_path / name
    path.write_text(dumps(Fixture(letta_mock_version="0", exchanges=exchanges, **extra)))
    return path


def exchange(body: Any, answer: Any, *, method: str = "POST", path: str = SEND, status: int = 200) -> Exchange:
    req = RecordedRequest(method=method, path=path, **({"json": body} if body is not None else {}))
    return Exchange(request=req, response=RecordedResponse(status=status, headers={"content-type": "application/json"},
                                                           json=answer))  # fmt: skip


async def test_a_sequence_answers_in_recorded_order_and_the_last_answer_repeats(tmp_path: Path) -> None:
    poll = f"/v1/runs/run-{'1' * 8}-1111-4111-8111-111111111111"
    states = [exchange(None, {"status": s}, method="GET", path=poll) for s in ("created", "running", "completed")]
    fixture_file(tmp_path, "0001-runs.json", states[:2])
    fixture_file(tmp_path, "0002-runs.json", states[2:])
    app = create_app(fixtures=str(tmp_path), replay_speed=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        seen = [(await client.get(poll)).json()["status"] for _ in range(5)]
        assert seen == ["created", "running", "completed", "completed", "completed"]
        assert (await client.post("/_mock/reset")).status_code == 200  # the admin reset starts the sequences over
        assert (await client.get(poll)).json()["status"] == "created"


async def test_a_request_no_recording_matches_names_the_nearest_and_the_first_difference(tmp_path: Path) -> None:
    fixture_file(tmp_path, "0001-hello.json", [exchange({"input": "hello"}, {"ok": 1})])
    fixture_file(tmp_path, "0002-list.json", [exchange(None, [], method="GET")])
    app = create_app(fixtures=str(tmp_path), replay_speed=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        miss = await client.post(SEND, json={"input": "hellO"})
    assert miss.status_code == 404
    assert miss.headers["x-letta-mock-fixture"] == "miss"
    body = miss.json()
    assert str(tmp_path / "0001-hello.json") in body["detail"]
    assert 'body.input: recorded "hello", received "hellO"' in body["detail"]
    assert body["near_miss"] == {
        "fixture": str(tmp_path / "0001-hello.json"), "exchange": 0, "request": f"POST {SEND}", "field": "body.input",
        "recorded": "hello", "received": "hellO", "recorded_present": True, "received_present": True,
    }  # fmt: skip


def test_the_sdk_raises_the_near_miss_as_a_not_found_error(serve: Any, tmp_path: Path) -> None:
    fixture_file(tmp_path, "0001-hello.json", [exchange({"input": "hello"}, {"ok": 1})])
    client = Letta(base_url=serve(create_app(fixtures=str(tmp_path), replay_speed=0)), api_key="k", max_retries=0)
    with pytest.raises(APIStatusError, match="nearest is exchange 0 of") as raised:
        client.agents.messages.create(AGENT, input="something else")
    assert raised.value.status_code == 404


async def test_a_miss_falls_through_to_the_synthesizer_with_its_body(tmp_path: Path) -> None:
    fixture_file(tmp_path, "0001-hello.json", [exchange({"input": "hello"}, {"recorded": True})])
    app = create_app(fixtures=str(tmp_path), replay_speed=0, on_miss="synthesize")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        assert (await client.post(SEND, json={"input": "hello"})).json() == {"recorded": True}
        synthesized = await client.post(SEND, json={"input": "other"})
        journal = (await client.get("/_mock/journal")).json()
    assert synthesized.status_code == 200
    assert synthesized.json()["stop_reason"]["stop_reason"] == "end_turn"
    assert [entry["body"] for entry in journal] == [{"input": "hello"}, {"input": "other"}]  # both journalled


async def test_replayed_sends_update_the_store_so_a_synthesized_list_agrees(tmp_path: Path) -> None:
    # Recorded from a mock: a streamed tool call, then a JSON reply.
    recording = tmp_path / "rec"
    upstream = create_app(seed=5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=upstream), base_url="http://up") as client:
        streamed = await client.post(SEND, json={"input": "/tool weather", "streaming": True, "stream_tokens": True})
        answered = await client.post(SEND, json={"input": "thanks"})
        truth = (await client.get(SEND)).json()
    recording.mkdir()
    for number, (body, answer) in enumerate(
        [({"input": "/tool weather", "streaming": True, "stream_tokens": True}, streamed),
         ({"input": "thanks"}, answered)], start=1):  # fmt: skip
        if answer.headers["content-type"].startswith("text/event-stream"):
            events = [Event(data=json.loads(line[6:])) if line != "data: [DONE]" else Event(text="[DONE]")
                      for line in answer.text.split("\n\n") if line]  # fmt: skip
            response = RecordedResponse(status=200, headers={"content-type": answer.headers["content-type"]},
                                        stream=Stream(events=events))  # fmt: skip
        else:
            response = RecordedResponse(status=200, headers={"content-type": "application/json"}, json=answer.json())
        fixture_file(recording, f"{number:04d}.json", [Exchange(request=request(json=body), response=response)])
    app = create_app(fixtures=str(recording), replay_speed=0, on_miss="synthesize")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        assert (
            await client.post(SEND, json={"input": "/tool weather", "streaming": True, "stream_tokens": True})
        ).text == streamed.text
        assert (await client.post(SEND, json={"input": "thanks"})).json() == answered.json()
        listed = (await client.get(SEND)).json()  # not recorded: synthesized from the store
        run_id = answered.json()["messages"][0]["run_id"]
        run = (await client.get(f"/v1/runs/{run_id}")).json()

    def shape(items: list[dict[str, Any]]) -> list[tuple[str, Any]]:
        text = ("content", "reasoning", "tool_return")
        return [(m["message_type"], next((m[k] for k in text if k in m), None)) for m in items[1:]]  # past the system

    # Replayed agent items carry their recorded ids and texts (token chunks merged); user messages their input.
    assert shape(listed) == shape(truth)
    assert [m["id"] for m in listed if m["message_type"] != "user_message"][1:] == \
        [m["id"] for m in truth if m["message_type"] != "user_message"][1:]  # fmt: skip
    assert run["status"] == "completed"
    assert run["agent_id"] == AGENT


async def test_a_replayed_approval_request_leaves_the_agent_waiting_for_it(tmp_path: Path) -> None:
    app = create_app(fixtures="approval_round_trip", replay_speed=0, on_miss="synthesize")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        stream = await client.post(SEND, json={"input": "Delete the temporary files.", "streaming": True})
        assert '"stop_reason":"requires_approval"' in stream.text
        # Not the recorded approval (another decision): the synthesizer answers, and knows what is pending.
        refused = await client.post(SEND, json={"input": "something else"})
        assert refused.status_code == 409
        assert refused.json()["detail"]["code"] == "PENDING_APPROVAL"


def test_a_curated_fixture_replays_by_name_for_any_agent_through_the_sdk(serve: Any) -> None:
    agent = "agent-0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
    client = Letta(base_url=serve(create_app(fixtures=["approval_round_trip"], replay_speed=0)), api_key="k",
                   _strict_response_validation=True, max_retries=0)  # fmt: skip
    events = list(client.agents.messages.create(agent, input="Delete the temporary files.", streaming=True))
    request = next(e for e in events if e.message_type == "approval_request_message")
    assert events[-1].message_type == "usage_statistics"
    call_id = request.tool_calls[0].tool_call_id  # type: ignore[union-attr]
    approval = {"type": "approval", "approvals": [{"type": "approval", "tool_call_id": call_id, "approve": True}]}
    after = list(client.agents.messages.create(agent, messages=[approval], streaming=True))  # type: ignore[list-item]
    assert [e.message_type for e in after][1] == "tool_return_message"
    history = list(client.agents.messages.list(agent))
    assert [m.message_type for m in history][:2] == ["system_message", "user_message"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fixtures": "no_such_fixture"}, "no file, directory or curated fixture"),
        ({"fixtures": "reply", "replay_speed": -1}, "replay_speed must be a number >= 0"),
        ({"fixtures": "reply", "on_miss": "guess"}, "on_miss must be 'error' or 'synthesize'"),
    ],
)
def test_bad_replay_settings_are_refused_when_the_app_is_built(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app(**options)


async def test_a_har_file_saved_by_devtools_replays_its_json_and_its_stream(serve: Any, tmp_path: Path) -> None:
    upstream = create_app(seed=2)
    body = {"input": "hi", "streaming": True}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=upstream), base_url="http://up") as client:
        stream = await client.post(SEND, json=body)
        listed = await client.get(SEND, params={"limit": 5})
    entry_headers = [{"name": "Authorization", "value": "Bearer sk-browser-secret"}]

    def entry(method: str, url: str, status: int, mime: str, text: str, post: Any = None) -> dict[str, Any]:
        return {
            "startedDateTime": "2025-06-01T12:00:00.000Z", "time": 120,
            "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": entry_headers,
                        "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0,
                        **({"postData": {"mimeType": "application/json", "text": json.dumps(post)}} if post else {})},
            "response": {"status": status, "statusText": "OK", "httpVersion": "HTTP/1.1", "cookies": [],
                         "headers": [{"name": "Content-Type", "value": mime}], "redirectURL": "", "headersSize": -1,
                         "bodySize": len(text), "content": {"size": len(text), "mimeType": mime, "text": text}},
            "cache": {}, "timings": {"blocked": 1, "dns": -1, "connect": -1, "send": 0, "wait": 40, "receive": 80},
        }  # fmt: skip

    har = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [
        entry("GET", "https://app.example/static/app.js", 200, "text/javascript", "console.log(1)"),
        entry("POST", f"https://app.example/api/letta{SEND}", 200, stream.headers["content-type"], stream.text, body),
        entry("GET", f"https://app.example/api/letta{SEND}?limit=5", 200, "application/json", listed.text),
    ]}}  # fmt: skip
    path = tmp_path / "session.har"
    path.write_text(json.dumps(har))
    with httpx.Client(base_url=serve(create_app(fixtures=str(path), replay_speed=0))) as client:
        replayed = client.post(SEND, json=body)
        assert replayed.content == stream.content
        assert replayed.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert client.get(SEND, params={"limit": 5}).content == listed.content


def test_a_har_without_usable_entries_says_so(tmp_path: Path) -> None:
    har = {"log": {"version": "1.2", "entries": [
        {"request": {"method": "GET", "url": "https://x/app.js"}, "response": {"status": 200, "content": {}}},
        {"request": {"method": "GET", "url": "https://x/v1/health/"}, "response": {"status": 0, "content": {}}},
    ]}}  # fmt: skip
    path = tmp_path / "empty.har"
    path.write_text(json.dumps(har))
    with pytest.raises(ConfigurationError, match=r"a HAR without usable entries \(2 entries: 1 not under /v1/"):
        create_app(fixtures=str(path))


async def test_a_normalised_answer_names_the_clients_own_agent() -> None:
    agent = "agent-31415926-5358-4979-8323-846264338327"
    app = create_app(fixtures="async_run", replay_speed=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        run = (
            await client.post(f"/v1/agents/{agent}/messages/async", json={"input": "Work on this in the background."})
        ).json()
        polled = (await client.get(f"/v1/runs/{run['id']}")).json()
    assert run["agent_id"] == agent
    assert polled["agent_id"] == agent
    assert run["id"].startswith("run-00000000-0000-4000-8000-")  # the server's placeholder, as recorded


async def test_replay_writes_each_recorded_chunk_as_one_write() -> None:
    from mockserver.recording.format import Chunk
    from mockserver.recording.playback import Clock, answer_bytes, play

    chunks = [b'data: {"message_type":"ping"}\n', b"\ndata: [DO", b"NE]\n\n"]
    stream = Stream(chunks=[Chunk.of(i * 5.0, data) for i, data in enumerate(chunks)])
    response = RecordedResponse(status=200, headers={"content-type": "text/event-stream"}, stream=stream)
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    await play(send, response, answer_bytes(response, None), Clock(0), headers=[])
    assert sent[0]["type"] == "http.response.start"
    assert [m["body"] for m in sent[1:]] == [*chunks, b""]
    assert [m["more_body"] for m in sent[1:]] == [True, True, True, False]
