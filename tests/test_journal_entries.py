"""The journal writes each exchange's facts as they come (the scope's header list, query and body bytes) and reads
them into text, JSON and masks when asked; it changes its version when a reader should look again, and records
every message before it is sent. These pin what a reader sees, whatever the writing costs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from mockserver import create_app
from mockserver.faults import ConnectionDropped
from mockserver.journal import BODY_LIMIT, OPERATION, Entry, Journal, JournalMiddleware

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
SEND = f"/v1/agents/{AGENT}/messages"


@pytest.fixture
async def mock() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(seed=5)), base_url="http://t") as c:
        yield c


def journal_of(client: httpx.AsyncClient) -> Journal:
    journal: Journal = client._transport.app.state.journal  # type: ignore[attr-defined]
    return journal


# -- the request, read when asked ---------------------------------------------------------------------------------


async def test_the_request_is_read_from_what_the_scope_gave_with_its_secrets_masked(mock: httpx.AsyncClient) -> None:
    await mock.post(SEND, params={"a": "1", "b": "x y"}, json={"input": "hello"},
                    headers={"Authorization": "Bearer sk-123", "Cookie": "session=abc", "X-Other": "kept"})  # fmt: skip
    (entry,) = journal_of(mock).entries
    assert entry.query == "a=1&b=x+y"
    assert entry.headers["authorization"] == "<13 characters>"
    assert entry.headers["cookie"] == "<11 characters>"
    assert entry.headers["x-other"] == "kept"
    assert entry.params == {"agent_id": AGENT}
    assert entry.body == {"input": "hello"}
    assert entry.body is entry.body  # read once: every reader gets the same object
    detail = entry.detail()
    assert (detail["query"], detail["headers"], detail["params"], detail["body"]) == (
        entry.query, entry.headers, entry.params, entry.body)  # fmt: skip
    assert (entry.operation, entry.status, entry.state) == ("send_message", 200, "done")


@pytest.mark.parametrize(
    ("content", "read"),
    [
        (b"plain text", "plain text"),
        (b"{not json", "{not json"),
        (b"\xff\xfe not utf-8", "\ufffd\ufffd not utf-8"),
        (b"", None),
        (b'{"input":"' + b"x" * BODY_LIMIT + b'"}', {"_letta_mock": f"body of {BODY_LIMIT + 12} bytes not kept"}),
    ],
    ids=["text", "bad-json", "not-utf-8", "empty", "too-big"],
)
async def test_a_body_that_is_not_json_is_kept_as_text_and_one_too_big_as_a_note(
    mock: httpx.AsyncClient, content: bytes, read: Any
) -> None:
    await mock.post(SEND, content=content, headers={"content-type": "application/json"})
    (entry,) = journal_of(mock).entries
    assert entry.body == read
    assert entry.summary()["body"] == read


async def test_a_body_in_several_writes_is_read_whole(mock: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b'{"input"', b': "in ', b'parts"}'):
            yield part

    response = await mock.post(SEND, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 200
    (entry,) = journal_of(mock).entries
    assert entry.body == {"input": "in parts"}
    assert entry.headers["transfer-encoding"] == "chunked"


# -- versions: a reader polling ``since`` sees every change; every message is recorded before it is sent -----------


class Watched:
    """The app with a ``send`` that looks at the journal as each message leaves the app (before the client has it)."""

    def __init__(self, app: Any) -> None:
        self.app, self.state = app, app.state
        self.seen: list[tuple[str, bool, int, int, dict[str, Any]]] = []  # type, more_body, versions, summary

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        journal: Journal = self.app.state.journal

        async def watched(message: Any) -> None:
            if scope["path"].startswith("/v1/"):
                entry = journal.entries[-1]
                self.seen.append((message["type"], message.get("more_body", False), entry.version, journal.version,
                                  entry.detail()))  # fmt: skip
            await send(message)

        await self.app(scope, receive, watched)


@pytest.fixture
async def watched() -> AsyncIterator[tuple[httpx.AsyncClient, Watched]]:
    app = Watched(create_app(seed=5))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client, app


@pytest.mark.parametrize("request_kind", ["health", "send", "page", "404", "422"])
async def test_a_plain_answer_is_recorded_whole_and_published_before_its_last_write(
    watched: tuple[httpx.AsyncClient, Watched], request_kind: str
) -> None:
    client, app = watched
    journal = journal_of(client)
    before = journal.version
    response = await {
        "health": lambda: client.get("/v1/health/"),
        "send": lambda: client.post(SEND, json={"input": "hi"}),
        "page": lambda: client.get(SEND, params={"limit": 3}),
        "404": lambda: client.get("/v1/nothing"),
        "422": lambda: client.get(SEND, params={"limit": "many"}),
    }[request_kind]()
    (entry,) = journal.since(before)
    head, *_, (kind, more, version, latest, seen) = app.seen
    assert head[0] == "http.response.start"
    assert (kind, more) == ("http.response.body", False)
    assert seen["state"] == "done"
    assert seen != head[4]
    # A reader that polled as the head left (``since(head's version)``) sees the entry again before the last byte.
    assert version == latest > head[3]
    assert seen == entry.detail()  # and it was the whole record: nothing is written after it
    assert seen["response"]["body"] == response.json()
    assert entry.version == journal.version
    assert journal.since(entry.version) == []


async def test_a_stream_is_recorded_event_by_event_each_before_it_is_sent(
    watched: tuple[httpx.AsyncClient, Watched],
) -> None:
    client, app = watched
    journal = journal_of(client)
    response = await client.post(SEND, json={"input": "hi", "streaming": True, "stream_tokens": True})
    events = [line for line in response.text.split("\n") if line.startswith("data: ")]
    writes = [s for s in app.seen if s[0] == "http.response.body"]
    assert len(writes) >= 3
    versions = [version for _, _, version, _, _ in writes]
    assert versions == sorted(set(versions))  # every write is a change a poller sees
    assert all(version == latest for _, _, version, latest, _ in writes)
    sent = 0
    for (_, _, _, _, seen), chunk in zip(writes, _chunks(response.text, writes), strict=True):
        sent += chunk
        assert len(seen["response"]["stream"]) == sent  # the events of this write, and every earlier one
    (entry,) = journal.entries
    assert entry.event_count == len(events)
    assert writes[-1][4] == entry.detail()
    assert journal.counts() == {"send_message": 1}  # counted once, however many changes


def _chunks(text: str, writes: list[Any]) -> list[int]:
    """How many events each write carried, from the journal's own growth (checked against the body's total)."""
    counts = [len(seen["response"]["stream"]) for _, _, _, _, seen in writes]
    per = [after - before for before, after in zip([0, *counts], counts, strict=False)]
    assert sum(per) == text.count("data: ")
    return per


async def test_since_lists_an_exchange_once_for_each_poll_after_it_changed(mock: httpx.AsyncClient) -> None:
    journal = journal_of(mock)
    await mock.get("/v1/health/")
    first = journal.version
    await mock.post(SEND, json={"input": "hi"})
    await mock.get(SEND)
    assert [e.id for e in journal.since(0)] == [1, 2, 3]
    assert [e.id for e in journal.since(first)] == [2, 3]
    assert journal.since(journal.version) == []


# -- failures and drops, around a bare app ------------------------------------------------------------------------


def around(app: Any) -> tuple[JournalMiddleware, Journal]:
    journal = Journal(size=4)
    holder = SimpleNamespace(state=SimpleNamespace(journal=journal))
    middleware = JournalMiddleware(app)

    async def called(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await middleware({**scope, "app": holder}, receive, send)

    return called, journal  # type: ignore[return-value]


def http_scope(path: str = "/v1/agents/a-1/messages") -> dict[str, Any]:
    headers = [(b"host", b"t"), (b"authorization", b"Bearer k")]
    return {"type": "http", "method": "POST", "path": path, "query_string": b"x=1", "headers": headers, "state": {}}


async def nothing() -> dict[str, Any]:
    return {"type": "http.request", "body": b'{"input": "hi"}', "more_body": False}


async def drop(message: Any) -> None:
    pass


@pytest.mark.parametrize("when", ["before the head", "after the head", "after the body"])
async def test_a_failure_is_recorded_with_its_route_counted_once(when: str) -> None:
    async def failing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope[OPERATION], scope["path_params"] = "send_message", {"agent_id": "a-1"}
        await receive()
        if when != "before the head":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"a/b")]})
        if when == "after the body":
            await send({"type": "http.response.body", "body": b"{}"})
        raise RuntimeError("boom")

    app, journal = around(failing)
    with pytest.raises(RuntimeError):
        await app(http_scope(), nothing, drop)
    (entry,) = journal.entries
    assert (entry.state, entry.error, entry.operation) == ("failed", "RuntimeError: boom", "send_message")
    assert entry.status == (500 if when == "before the head" else 200)
    assert entry.params == {"agent_id": "a-1"}
    assert entry.body == {"input": "hi"}
    assert entry.headers == {"host": "t", "authorization": "<8 characters>"}
    assert entry.duration_ms is not None
    assert entry.version == journal.version  # the failure is a change a poller sees
    assert journal.counts() == {"send_message": 1}


async def test_a_drop_mid_stream_keeps_the_events_sent_and_says_dropped() -> None:
    async def dropping(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope[OPERATION] = "send_message"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream; charset=utf-8")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b'data: {"message_type":"ping"}\n\n', "more_body": True})
        raise ConnectionDropped("fault")

    app, journal = around(dropping)
    with pytest.raises(ConnectionDropped):
        await app(http_scope(), nothing, drop)
    (entry,) = journal.entries
    assert (entry.state, entry.event_count, [e.type for e in entry.events]) == ("dropped", 1, ["ping"])
    assert entry.body is None  # the app never read it
    assert entry.version == journal.version


async def test_a_body_the_app_stopped_reading_is_kept_as_far_as_it_came() -> None:
    parts = iter([b'{"input": ', b'"hi"}'])

    async def first_part() -> dict[str, Any]:
        return {"type": "http.request", "body": next(parts), "more_body": True}

    async def reads_once(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app, journal = around(reads_once)
    await app(http_scope(), first_part, drop)
    (entry,) = journal.entries
    assert (entry.body, entry.state, entry.operation, entry.params) == ('{"input": ', "done", None, {})


def test_an_entry_opened_by_hand_reads_as_the_middleware_s_do() -> None:
    journal = Journal(size=2)
    entry = journal.open("GET", "/v1/x", "q=1", {"cookie": "abc", "accept": "*/*"})
    assert isinstance(entry, Entry)
    assert (entry.query, entry.headers, entry.body, entry.params) == ("q=1", {"cookie": "<3 characters>",
                                                                      "accept": "*/*"}, None, {})  # fmt: skip
    assert (entry.events, entry.event_texts(), entry.duration_ms, entry.state) == ([], [], None, "open")
    assert "types" not in entry.summary()["response"]


@pytest.mark.parametrize(
    "scope",
    [{"type": "lifespan"}, {**http_scope(), "method": "OPTIONS"}, {**http_scope("/_mock/journal"), "method": "GET"}],
    ids=["lifespan", "preflight", "admin"],
)
async def test_what_is_not_an_exchange_of_letta_s_passes_through_unrecorded(scope: dict[str, Any]) -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware, journal = around(app)
    await middleware(scope, nothing, drop)
    assert seen == [scope["type"]]
    assert journal.entries == []
