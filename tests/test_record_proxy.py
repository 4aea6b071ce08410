"""Recording through the proxy with a live mock as the upstream, then replaying from the written files: the
official SDK (sync and async, loose and strict) sees the same JSON bodies and byte-identical streams."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _sdk import call, drain, every_item
from contract import ContractChecker
from letta_client import AsyncLetta, DefaultAsyncHttpxClient, DefaultHttpxClient, Letta

from mockserver import create_app
from mockserver.live import LiveServer
from mockserver.recording.format import load_fixture
from mockserver.recording.proxy import Recorder

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
API_KEY = "sk-let-record-test-3f9a1c7e5b2d4086"  # long enough to be scanned for (redact.MIN_SECRET)
SSL = ssl.create_default_context()
Seen = list[tuple[str, str, int, bytes]]


@pytest.fixture(scope="module")
def upstream() -> Iterator[LiveServer]:
    """A live mock to record from (its own socket: the session's live server serves the proxy)."""
    with LiveServer(seed=3) as server:
        yield server


@pytest.fixture
def fresh_upstream(upstream: LiveServer) -> str:
    return upstream.reset(seed=3)


def sdk(url: str, *, strict: bool, asynchronous: bool, seen: Seen) -> Any:
    """An official client whose every response body (read whole) is kept, checked against the contract too."""

    def keep(response: httpx.Response) -> None:
        seen.append((response.request.method, response.request.url.path, response.status_code, response.content))

    checker = ContractChecker(on_response=keep)
    if asynchronous:
        hooks = {"response": [checker.async_hook]}
        return AsyncLetta(base_url=url, api_key=API_KEY, _strict_response_validation=strict, max_retries=0,
                          http_client=DefaultAsyncHttpxClient(verify=SSL, event_hooks=hooks))  # fmt: skip
    return Letta(base_url=url, api_key=API_KEY, _strict_response_validation=strict, max_retries=0,
                 http_client=DefaultHttpxClient(verify=SSL, event_hooks={"response": [checker.sync_hook]}))  # fmt: skip


async def session(client: Any) -> None:
    """JSON sends, token streams, listings (auto-paginated), an async run polled to its end and its run stream."""
    await call(client.agents.messages.create(AGENT, input="hello"))
    await drain(client.agents.messages.create(AGENT, input="/tool weather", streaming=True, stream_tokens=True))
    await drain(client.agents.messages.create(AGENT, input="/long 12", streaming=True))
    await every_item(client.agents.messages.list(AGENT, limit=3))
    run = await call(client.agents.messages.create_async(AGENT, input="later"))
    for _ in range(200):
        if run.status not in ("created", "running"):
            break
        await asyncio.sleep(0.01)
        run = await call(client.runs.retrieve(run.id))
    assert run.status == "completed"
    await drain(client.runs.messages.stream(run.id))


async def run_session(url: str, *, strict: bool, asynchronous: bool) -> Seen:
    seen: Seen = []
    client = sdk(url, strict=strict, asynchronous=asynchronous, seen=seen)
    await session(client)
    await call(client.close())
    return seen


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("strict", [False, True], ids=["loose", "strict"])
async def test_a_recorded_session_replays_to_the_sdk_byte_for_byte(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path, strict: bool, asynchronous: bool
) -> None:
    recorder = Recorder(fresh_upstream, tmp_path)
    recorded = await run_session(serve(recorder), strict=strict, asynchronous=asynchronous)
    assert recorder.refused == []
    assert len(recorder.written) == len(recorded)
    replayed = await run_session(serve(create_app(fixtures=str(tmp_path), replay_speed=0)), strict=strict,
                                 asynchronous=asynchronous)  # fmt: skip
    assert [(m, p, s) for m, p, s, _ in replayed] == [(m, p, s) for m, p, s, _ in recorded]
    for (method, path, _, ours), (_, _, _, theirs) in zip(recorded, replayed, strict=True):
        assert ours == theirs, f"{method} {path} replayed other bytes"
    streams = [body for _, _, _, body in recorded if body.startswith(b"data: ")]
    assert len(streams) == 3  # two sends and the run's stream: byte-identical SSE bodies


def test_the_written_files_hold_no_credential_of_the_client(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path
) -> None:
    recorder = Recorder(fresh_upstream, tmp_path)
    url = serve(recorder)
    cookies = {"session": "cookie-value-5d41402abc4b2a76"}
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {API_KEY}", "x-api-key": API_KEY},
                      cookies=cookies) as client:  # fmt: skip
        client.post(f"/v1/agents/{AGENT}/messages", json={"input": "hi"})
        client.get(f"/v1/agents/{AGENT}/messages", params={"token": "query-token-9b2c7e1f", "limit": 2})
    texts = [path.read_text() for path in recorder.written]
    assert len(texts) == 2
    for text in texts:
        for secret in (API_KEY, "cookie-value-5d41402abc4b2a76", "query-token-9b2c7e1f"):
            assert secret not in text
            assert base64.b64encode(secret.encode()).decode()[:16] not in text
    first = load_fixture(recorder.written[0]).exchanges[0].request
    assert first.headers["authorization"] == "[REDACTED]"
    assert first.headers["x-api-key"] == "[REDACTED]"
    assert first.headers["cookie"] == "[REDACTED]"
    assert load_fixture(recorder.written[1]).exchanges[0].request.query == [("token", "[REDACTED]"), ("limit", "2")]


@pytest.mark.parametrize(
    "leak",
    [
        lambda key: key,
        lambda key: base64.b64encode(f"user:{key}".encode()).decode(),
        lambda key: httpx.URL("http://x", params={"q": key}).query.decode(),
    ],
    ids=["raw", "base64", "url-encoded"],
)
def test_a_file_that_would_hold_the_clients_credential_is_not_written(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path, leak: Callable[[str], str]
) -> None:
    recorder = Recorder(fresh_upstream, tmp_path)
    with httpx.Client(base_url=serve(recorder), headers={"authorization": f"Bearer {API_KEY}"}) as client:
        answer = client.post(f"/v1/agents/{AGENT}/messages", json={"input": f"my key: {leak(API_KEY)}"})
    assert answer.status_code == 200  # the client still gets its answer
    assert recorder.written == []
    assert list(tmp_path.iterdir()) == []
    assert len(recorder.refused) == 1
    assert "credential" in recorder.refused[0]
    assert API_KEY not in recorder.refused[0]


def test_new_episodes_records_only_the_new_exchange(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path
) -> None:
    def talk(url: str, extra: bool) -> list[bytes]:
        with httpx.Client(base_url=url) as client:
            bodies = [client.post(f"/v1/agents/{AGENT}/messages", json={"input": "one"}).content,
                      client.get(f"/v1/agents/{AGENT}/messages").content]  # fmt: skip
            if extra:
                bodies.append(client.post(f"/v1/agents/{AGENT}/messages", json={"input": "two"}).content)
        return bodies

    first = talk(serve(Recorder(fresh_upstream, tmp_path)), extra=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["0001-post-agents-messages.json", "0002-get-agents-messages.json"]
    again = Recorder(fresh_upstream, tmp_path, mode="new_episodes")
    second = talk(serve(again), extra=True)
    assert second[:2] == first  # answered from the recording
    assert [p.name for p in again.written] == ["0003-post-agents-messages.json"]
    assert load_fixture(again.written[0]).exchanges[0].request.json_body == {"input": "two"}


def test_once_replays_a_recording_and_records_nothing_new(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path
) -> None:
    with httpx.Client(base_url=serve(Recorder(fresh_upstream, tmp_path, mode="once"))) as client:
        client.post(f"/v1/agents/{AGENT}/messages", json={"input": "one"})
    once = Recorder(fresh_upstream, tmp_path, mode="once")
    with httpx.Client(base_url=serve(once)) as client:
        assert client.post(f"/v1/agents/{AGENT}/messages", json={"input": "one"}).status_code == 200
        miss = client.post(f"/v1/agents/{AGENT}/messages", json={"input": "new"})
    assert once.written == []
    assert miss.status_code == 404
    assert "record mode once" in miss.json()["detail"]
    assert miss.json()["near_miss"]["field"] == "body.input"


def test_none_never_reaches_the_upstream(serve: Callable[[Any], str], tmp_path: Path) -> None:
    recorder = Recorder("http://127.0.0.1:9", tmp_path / "nothing", mode="none")
    with httpx.Client(base_url=serve(recorder)) as client:
        answer = client.get("/v1/health/")
    assert answer.status_code == 404
    assert "no recorded exchange matches GET /v1/health/" in answer.json()["detail"]
    assert not (tmp_path / "nothing").exists()


def test_all_records_again_and_replaces_the_earlier_recording(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path
) -> None:
    with httpx.Client(base_url=serve(Recorder(fresh_upstream, tmp_path))) as client:
        client.post(f"/v1/agents/{AGENT}/messages", json={"input": "old"})
        client.get("/v1/health/")
    again = Recorder(fresh_upstream, tmp_path, mode="all")
    with httpx.Client(base_url=serve(again)) as client:
        client.post(f"/v1/agents/{AGENT}/messages", json={"input": "old"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0001-post-agents-messages.json"]
    assert again.written == [tmp_path / "0001-post-agents-messages.json"]


def test_a_stream_reaches_the_client_while_the_upstream_is_still_sending(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path
) -> None:
    recorder = Recorder(fresh_upstream, tmp_path)
    body = {"input": "slow", "streaming": True}
    controls = {"x-letta-mock": "think_ms=1500; ping_interval_ms=100000"}
    with (
        httpx.Client(base_url=serve(recorder), timeout=10) as client,
        client.stream("POST", f"/v1/agents/{AGENT}/messages", json=body, headers=controls) as response,
    ):
        lines = response.iter_lines()
        first = next(lines)
        # The first event (the run's ping) is here while the turn still thinks: nothing is buffered, so the
        # exchange is not finished and not written yet.
        assert '"message_type":"ping"' in first
        assert recorder.written == []
        rest = list(lines)
    assert any("[DONE]" in line for line in rest)
    assert len(recorder.written) == 1


def test_a_stream_the_upstream_drops_is_recorded_as_dropped_and_replays_the_same_way(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path
) -> None:
    body = {"input": "drop", "streaming": True}
    controls = {"x-letta-mock": "fault=drop_after:2"}

    def read(url: str) -> tuple[bytes, type[Exception] | None]:
        received = b""
        with httpx.Client(base_url=url) as client:
            try:
                with client.stream("POST", f"/v1/agents/{AGENT}/messages", json=body, headers=controls) as answer:
                    for data in answer.iter_raw():
                        received += data
            except httpx.RemoteProtocolError as error:
                return received, type(error)
        return received, None

    recorder = Recorder(fresh_upstream, tmp_path)
    recorded, error = read(serve(recorder))
    assert error is httpx.RemoteProtocolError
    fixture = load_fixture(recorder.written[0])
    stream = fixture.exchanges[0].response.stream
    assert stream is not None
    assert stream.end == "dropped"
    assert stream.body() == recorded
    assert recorded.count(b"\n\n") == 2
    replayed, error = read(serve(create_app(fixtures=str(tmp_path), replay_speed=0)))
    assert (replayed, error) == (recorded, httpx.RemoteProtocolError)


def test_an_upstream_that_does_not_answer_is_a_502_in_lettas_shape(serve: Callable[[Any], str], tmp_path: Path) -> None:
    with httpx.Client(base_url=serve(Recorder("http://127.0.0.1:9", tmp_path))) as client:
        answer = client.get("/v1/health/")
    assert answer.status_code == 502
    assert answer.json()["detail"].startswith("letta-mock record: the upstream http://127.0.0.1:9 did not answer")
    assert list(tmp_path.iterdir()) == []


def test_normalised_recordings_replay_for_another_agent_with_its_own_ids(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path
) -> None:
    other = "agent-9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"

    def talk(url: str, agent: str) -> list[Any]:
        with httpx.Client(base_url=url) as client:
            sent = client.post(f"/v1/agents/{agent}/messages", json={"input": "hi", "streaming": True}).text
            page = client.get(f"/v1/agents/{agent}/messages", params={"limit": 2, "order": "asc"}).json()
            after = client.get(f"/v1/agents/{agent}/messages", params={"after": page[-1]["id"], "order": "asc"}).json()
        return [sent, page, after]

    recorder = Recorder(fresh_upstream, tmp_path, normalise=True)
    recorded = talk(serve(recorder), AGENT)
    text = "".join(path.read_text() for path in recorder.written)
    assert AGENT.removeprefix("agent-") not in text
    assert "agent-cccccccc-0000-4000-8000-000000000001" in text
    replayed = talk(serve(create_app(fixtures=str(tmp_path), replay_speed=0)), other)
    assert replayed[0].endswith("data: [DONE]\n\n")
    assert replayed[1][0]["id"].startswith("message-00000000-0000-4000-8000-")  # the server's placeholders
    # The cursor taken from the replayed page (a placeholder) matched the recording's next request.
    assert [m["message_type"] for m in replayed[2]] == [m["message_type"] for m in recorded[2]] != []
    assert AGENT not in json.dumps(replayed)


def test_a_proxy_in_a_thread_forwards_concurrent_streams(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path
) -> None:
    recorder = Recorder(fresh_upstream, tmp_path)
    url = serve(recorder)
    results: list[bytes] = []

    def one(index: int) -> None:
        with httpx.Client(base_url=url) as client:
            body = {"input": f"concurrent {index}", "streaming": True}
            results.append(client.post(f"/v1/agents/{AGENT}/messages", json=body).content)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    deadline = time.monotonic() + 5
    while len(recorder.written) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(results) == 4
    assert all(body.endswith(b"data: [DONE]\n\n") for body in results)
    assert len({path.name for path in recorder.written}) == 4


def test_a_recorder_refuses_a_directory_holding_a_corrupt_fixture(tmp_path: Path) -> None:
    (tmp_path / "0001-x.json").write_text("{}")
    with pytest.raises(ValueError, match="cannot record into"):
        Recorder("http://127.0.0.1:9", tmp_path)


def test_a_recorder_refuses_an_unknown_mode_or_a_bad_upstream(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="record mode must be one of"):
        Recorder("http://127.0.0.1:9", tmp_path, mode="sometimes")
    with pytest.raises(ValueError, match="upstream must be an http"):
        Recorder("ftp://x", tmp_path)


def test_new_episodes_of_a_normalised_recording_keep_their_placeholders_apart(
    serve: Callable[[Any], str], fresh_upstream: str, tmp_path: Path
) -> None:
    second_agent = "agent-9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
    with httpx.Client(base_url=serve(Recorder(fresh_upstream, tmp_path, normalise=True))) as client:
        client.post(f"/v1/agents/{AGENT}/messages", json={"input": "one"})
    first = (tmp_path / "0001-post-agents-messages.json").read_text()
    again = Recorder(fresh_upstream, tmp_path, normalise=True)
    with httpx.Client(base_url=serve(again)) as client:
        replayed = client.post(f"/v1/agents/{AGENT}/messages", json={"input": "one"})  # from the recording
        client.post(f"/v1/agents/{second_agent}/messages", json={"input": "two"})  # new: recorded
    assert replayed.headers["x-letta-mock-fixture"].endswith("0001-post-agents-messages.json")
    [new] = again.written
    recorded = load_fixture(new).exchanges[0]
    # The second agent is the client's second id; the server's new ids do not reuse the first file's numbers.
    assert recorded.request.path == "/v1/agents/agent-cccccccc-0000-4000-8000-000000000002/messages"
    ours = set(re.findall(r"00000000-0000-4000-8000-\d{12}", first))
    theirs = set(re.findall(r"00000000-0000-4000-8000-\d{12}", new.read_text()))
    assert ours
    assert theirs
    assert not ours & theirs


async def _odd_stream(scope: Any, receive: Any, send: Any) -> None:
    """An upstream whose stream is not Letta's framing: comments, CRLF line ends, a named event, split writes."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream; charset=utf-8")]})  # fmt: skip
    for part in (b": hello\r\n\r\n", b'data: {"message_type":"ping"}\r\n\r\n', b"event: error\r\ndata: {\"a\"",
                 b":1}\r\n\r\n", b"data: [DONE]\r\n\r\n"):  # fmt: skip
        await send({"type": "http.response.body", "body": part, "more_body": True})
        await asyncio.sleep(0.01)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def test_comments_line_ends_and_split_events_survive_recording_and_replay(
    serve: Callable[[Any], str], tmp_path: Path
) -> None:
    with LiveServer(_odd_stream) as odd:  # type: ignore[arg-type]
        recorder = Recorder(odd.url, tmp_path)
        with httpx.Client(base_url=serve(recorder)) as client:
            recorded = client.post("/v1/agents/x/messages", json={"streaming": True}).content
    stream = load_fixture(recorder.written[0]).exchanges[0].response.stream
    assert stream is not None
    assert stream.chunks is not None
    assert [chunk.text for chunk in stream.chunks][2:4] == ['event: error\r\ndata: {"a"', ":1}\r\n\r\n"]
    assert [(e.event, e.data, e.text) for e in stream.events] == [
        (None, {"message_type": "ping"}, None), ("error", {"a": 1}, None), (None, None, "[DONE]")]  # fmt: skip
    with httpx.Client(base_url=serve(create_app(fixtures=str(tmp_path), replay_speed=0))) as client:
        assert client.post("/v1/agents/x/messages", json={"streaming": True}).content == recorded
