"""The fuzzer's stream reading (``mockserver.fuzz.streams``, ``mockserver.fuzz.transport``): frames cut as their blank
line arrives, every event checked on arrival, and a reading that always ends — at ``[DONE]`` and the end of the
body, or at the time or event bound, whatever the server does."""

from __future__ import annotations

import copy
import time
from datetime import datetime, timezone
from typing import Any

import pytest
import schemathesis
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.contract import Contract
from mockserver.fuzz.schema import letta_schema
from mockserver.fuzz.streams import FrameSplitter, StreamBounds, read_stream
from mockserver.fuzz.transport import bind, reading_of
from mockserver.models import LettaPing, LettaStopReason, LettaUsageStatistics
from mockserver.openapi import openapi_document
from mockserver.wire import sse
from mockserver.wire.sse import decode

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
RUN = "run-6b0e4d2c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
WHEN = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
PING = sse.encode(LettaPing(id="ping-1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b", date=WHEN, run_id=RUN))
STOP = sse.encode(LettaStopReason(stop_reason="end_turn"))
USAGE = sse.encode(LettaUsageStatistics(completion_tokens=1, prompt_tokens=1, total_tokens=2, step_count=1))
DONE = sse.encode(sse.DONE)
CONTRACT = Contract(openapi_document())


class Clock:
    """A clock the fake body moves: each read costs ``step`` seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Body:
    """A fake HTTP body: chunks, then the end (``b""``), a timeout, or an error."""

    def __init__(self, chunks: list[bytes], *, then: str = "end", clock: Clock | None = None, step: float = 0.1):
        self.chunks = list(chunks)
        self.then = then
        self.clock = clock
        self.step = step
        self.reads = 0

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        self.reads += 1
        if self.clock is not None:
            self.clock.now += self.step
        if self.chunks:
            return self.chunks.pop(0)
        if self.then == "timeout":
            raise TimeoutError
        if self.then == "drop":
            from urllib3.exceptions import ProtocolError

            raise ProtocolError("Connection broken: IncompleteRead(0 bytes read)")
        if self.then == "pings":
            return PING
        return b""


def test_frames_are_cut_where_their_blank_line_arrives_whatever_the_chunks() -> None:
    body = PING + STOP + USAGE + DONE
    for size in (1, 2, 3, 7, 64):
        splitter = FrameSplitter()
        frames = [f for i in range(0, len(body), size) for f in splitter.feed(body[i : i + size])]
        assert frames == decode(body), size


def test_a_crlf_split_between_chunks_is_one_line_break() -> None:
    splitter = FrameSplitter()
    frames = splitter.feed(b"data: [DONE]\r") + splitter.feed(b"\n\r\n")
    assert [f.data for f in frames] == ["[DONE]"]


def test_a_stream_ends_done_at_done_and_the_end_of_the_body() -> None:
    reading = read_stream(Body([PING, STOP + USAGE, DONE]), CONTRACT, StreamBounds())
    assert reading.outcome == "done"
    assert [a.type for a in reading.arrivals] == ["ping", "stop_reason", "usage_statistics", "[DONE]"]
    assert bytes(reading.content) == PING + STOP + USAGE + DONE


def test_each_event_is_checked_as_it_arrives_and_keeps_its_problems() -> None:
    nameless = PING.replace(b'"message_type":"ping",', b"")
    reading = read_stream(Body([PING, nameless, b"data: not json\n\n", STOP, USAGE, DONE]), CONTRACT, StreamBounds())
    problems = {a.index: [p.message for p in a.problems] for a in reading.arrivals if a.problems}
    assert problems == {1: ["a stream event without message_type"], 2: [problems[2][0]]}
    assert problems[2][0].startswith("event data is not JSON")


def test_a_stream_that_keeps_pinging_is_cut_at_the_time_bound() -> None:
    clock = Clock()
    body = Body([PING], then="pings", clock=clock, step=0.25)
    reading = read_stream(body, CONTRACT, StreamBounds(timeout=2.0, max_events=10_000), clock=clock)
    assert reading.outcome == "timeout"
    assert 2.0 <= reading.elapsed <= 2.25
    assert 7 <= len(reading.arrivals) <= 9


def test_a_silent_server_is_cut_by_the_read_timeout_left() -> None:
    given: list[float] = []
    reading = read_stream(Body([PING], then="timeout"), CONTRACT, StreamBounds(timeout=3.0), set_timeout=given.append)
    assert reading.outcome == "timeout"
    assert given
    assert all(0 < seconds <= 3.0 for seconds in given)


def test_a_stream_that_sends_too_many_events_is_cut_at_the_event_bound() -> None:
    reading = read_stream(Body([PING * 3] * 10, then="pings"), CONTRACT, StreamBounds(max_events=5))
    assert reading.outcome == "max_events"
    assert len(reading.arrivals) == 6  # the bound is checked per chunk; three events came in the last one


def test_a_body_open_after_done_is_waited_for_only_the_grace_time() -> None:
    clock = Clock()
    body = Body([PING, STOP + USAGE + DONE], then="pings", clock=clock, step=0.3)
    reading = read_stream(body, CONTRACT, StreamBounds(timeout=30, close_grace=1.0), clock=clock)
    assert reading.outcome == "open_after_done"
    assert reading.elapsed < 2.0


def test_a_broken_connection_ends_the_reading_and_says_why() -> None:
    reading = read_stream(Body([PING, b"data: {"], then="drop"), CONTRACT, StreamBounds())
    assert reading.outcome == "dropped"
    assert "IncompleteRead" in (reading.error or "")
    assert reading.complete == PING


def test_a_body_that_ends_without_done_is_eof() -> None:
    reading = read_stream(Body([PING, STOP]), CONTRACT, StreamBounds())
    assert (reading.outcome, reading.finished) == ("eof", True)


# -- through schemathesis, against the mock on a real socket -----------------------------------------------------


@pytest.fixture
def mock_url(serve: Any) -> str:
    app: Starlette = create_app(seed=1)
    url: str = serve(app)
    return url


@pytest.fixture
def send(mock_url: str) -> Any:
    schema = letta_schema(mock_url, operations=("send_message",), stream=StreamBounds(timeout=1.5, max_events=200))
    operation = schema.find_operation_by_label("POST /v1/agents/{agent_id}/messages")

    def call(controls: str = "", **body: Any) -> Any:
        body = {"input": "/tool weather", "streaming": True, "stream_tokens": True, **body}
        case = operation.Case(path_parameters={"agent_id": AGENT}, body=body)
        headers = {"X-Letta-Mock": controls} if controls else None
        started = time.monotonic()
        response = case.call(headers=headers)
        return response, reading_of(response.request), time.monotonic() - started

    return call


def test_the_transport_reads_a_whole_stream_and_hands_schemathesis_its_bytes(send: Any) -> None:
    response, reading, _ = send()
    assert reading.outcome == "done"
    assert [a.type for a in reading.arrivals][-3:] == ["stop_reason", "usage_statistics", "[DONE]"]
    assert response.content == bytes(reading.content)
    assert not response.stream_cut_short
    assert all(not a.problems for a in reading.arrivals)


@pytest.mark.parametrize(
    "controls",
    ["fault=silent_stall_after:3; stall_ms=60000", "fault=stall_after:3; stall_ms=60000; ping_interval_ms=50"],
    ids=["silent", "pinging"],
)
def test_a_stalled_stream_is_cut_at_the_stream_timeout_and_the_complete_events_handed_on(
    send: Any, controls: str
) -> None:
    response, reading, took = send(controls)
    assert reading.outcome == "timeout"
    assert took < 1.5 + 1.0  # the bound, not the server's 60 s
    assert response.content == reading.complete
    assert decode(response.content) == [a.frame for a in reading.arrivals]


def test_a_dropped_stream_is_dropped(send: Any) -> None:
    _, reading, _ = send("fault=drop_after:4")
    assert (reading.outcome, len(reading.arrivals)) == ("dropped", 4)


def test_a_schema_bound_once_keeps_its_transport_in_its_clones(mock_url: str) -> None:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi_document()),
                                            config=schemathesis.Config.from_dict({"base-url": mock_url}))  # fmt: skip
    bound = bind(schema, StreamBounds(timeout=2))
    clone = bound.include(operation_id=["send_message"])
    assert clone.transport is bound.transport
    assert clone.config.max_stream_events == StreamBounds().max_events + 1
