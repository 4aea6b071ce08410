"""The fixture format: what a file holds, how it reads back, and what it refuses."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Literal

import pytest

from mockserver.recording.format import (
    Chunk,
    Event,
    Exchange,
    Fixture,
    FixtureError,
    RecordedRequest,
    RecordedResponse,
    Stream,
    body_fields,
    dumps,
    events_of,
    parse_fixture,
)
from mockserver.recording.library import curated_names, curated_root, load_library
from mockserver.wire.sse import DONE, encode

PING = b'data: {"message_type":"ping","run_id":"run-1"}\n\n'
STOP = b'data: {"message_type":"stop_reason","stop_reason":"end_turn"}\n\n'


def stream_fixture(chunks: list[tuple[float, bytes]], end: Literal["complete", "dropped"] = "complete") -> Fixture:
    stream = Stream(chunks=[Chunk.of(at, data) for at, data in chunks], events=events_of(chunks), end=end)
    request = RecordedRequest(method="POST", path="/v1/agents/a/messages", json={"input": "hi"})
    response = RecordedResponse(status=200, headers={"content-type": "text/event-stream; charset=utf-8"}, stream=stream)
    return Fixture(letta_mock_version="0", exchanges=[Exchange(request=request, response=response)])


def test_a_stream_reads_back_as_the_same_chunks_with_their_offsets() -> None:
    chunks = [(1.5, PING), (20.25, STOP[:10]), (20.3, STOP[10:] + b"data: [DONE]\n\n")]
    again = parse_fixture(dumps(stream_fixture(chunks)), "mem")
    stream = again.exchanges[0].response.stream
    assert stream is not None
    assert stream.timed() == [(1.5, PING), (20.2, STOP[:10]), (20.3, STOP[10:] + b"data: [DONE]\n\n")]
    assert [e.at_ms for e in stream.events] == [1.5, 20.3, 20.3]  # an event is complete at its blank line
    assert stream.events[2].text == DONE


def test_a_chunk_that_splits_a_character_is_kept_as_base64_and_the_event_still_parses() -> None:
    body = 'data: {"message_type":"assistant_message","content":"naïve ☕"}\n\n'.encode()
    cut = body.index("☕".encode()) + 1
    chunks = [(0.0, body[:cut]), (1.0, body[cut:])]
    fixture = parse_fixture(dumps(stream_fixture(chunks)), "mem")
    stream = fixture.exchanges[0].response.stream
    assert stream is not None
    assert stream.chunks is not None
    assert stream.chunks[0].base64 is not None
    assert stream.chunks[1].base64 is not None
    assert stream.body() == body
    assert stream.events[0].data["content"] == "naïve ☕"


def test_each_chunk_and_event_is_one_line_of_the_file() -> None:
    text = dumps(stream_fixture([(0.0, PING), (1.0, STOP)]))
    lines = [line.strip() for line in text.splitlines()]
    assert any(line.startswith('{"at_ms": 0.0, "text": "data: {') for line in lines)
    assert sum(1 for line in lines if line.startswith('{"at_ms": 1.0, "data": {"message_type": "stop_reason"')) == 1
    assert json.loads(text)["letta_mock_fixture"] == 1


def test_a_hand_written_stream_of_events_is_framed_as_letta_frames_it() -> None:
    events = [Event(data={"message_type": "ping"}), Event(event="error", data={"a": 1}), Event(text=DONE)]
    stream = Stream(events=events)
    assert stream.body() == b'data: {"message_type":"ping"}\n\nevent: error\ndata: {"a":1}\n\ndata: [DONE]\n\n'


def test_json_bodies_keep_their_exact_text_only_when_the_compact_form_differs() -> None:
    assert body_fields(b'{"a":1}', "application/json") == {"json": {"a": 1}}
    assert body_fields(b'{"a": 1}', "application/json") == {"json": {"a": 1}, "text": '{"a": 1}'}
    assert body_fields(b'{"a": 1}', "application/json", exact=False) == {"json": {"a": 1}}
    assert body_fields(b"plain", "text/plain") == {"text": "plain"}
    assert body_fields(b"\xff\x00", None) == {"base64": base64.b64encode(b"\xff\x00").decode()}
    assert body_fields(b"null", "application/json") == {"json": None}
    assert body_fields(b"", "application/json") == {}


def test_a_json_null_body_is_a_body() -> None:
    fixture = Fixture(
        letta_mock_version="0",
        exchanges=[Exchange(request=RecordedRequest(method="POST", path="/x", json=None),
                            response=RecordedResponse(status=200, json=None))],
    )  # fmt: skip
    again = parse_fixture(dumps(fixture), "mem").exchanges[0]
    assert again.request.has_json
    assert again.request.body_bytes() == b"null"
    assert again.response.body_bytes() == b"null"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not JSON"),
        ('{"exchanges": []}', "not a letta-mock fixture"),
        ('{"letta_mock_fixture": 2, "letta_mock_version": "9", "exchanges": []}', "fixture format version 2"),
        ('{"letta_mock_fixture": 1, "letta_mock_version": "0", "exchanges": []}', "at exchanges"),
        (
            '{"letta_mock_fixture": 1, "letta_mock_version": "0", "exchanges": [{"request": {"method": "GET", '
            '"path": "/v1/health/", "bodyy": 1}, "response": {"status": 200}}]}',
            "exchanges/0/request/bodyy",
        ),
        (
            '{"letta_mock_fixture": 1, "letta_mock_version": "0", "exchanges": [{"request": {"method": "GET", '
            '"path": "/x"}, "response": {"status": 200, "stream": {"chunks": [{"at_ms": 0}]}}}]}',
            "exactly one of text and base64",
        ),
    ],
)
def test_an_unusable_file_is_refused_naming_it_and_why(text: str, reason: str) -> None:
    with pytest.raises(FixtureError, match=r"^broken\.json: ") as raised:
        parse_fixture(text, "broken.json")
    assert reason in raised.value.reason


def test_a_corrupt_file_in_a_directory_is_refused_at_load(tmp_path: Path) -> None:
    good = dumps(stream_fixture([(0.0, PING + STOP + encode(DONE))]))
    (tmp_path / "0001-good.json").write_text(good)
    (tmp_path / "0002-bad.json").write_text(good[:-20])
    with pytest.raises(FixtureError, match=r"0002-bad\.json: not JSON"):
        load_library([str(tmp_path)])


@pytest.mark.parametrize("name", ["../fixtures/reply", "reply.json", "Reply", "a/../../reply", "../../etc/nope"])
def test_a_name_cannot_reach_outside_the_curated_folder(name: str) -> None:
    # A path that exists is a path; anything else must be a plain curated name, never a way out of its folder.
    with pytest.raises(FixtureError, match="no such file or directory"):
        load_library([name])


def test_an_unknown_name_suggests_the_curated_ones_close_to_it() -> None:
    with pytest.raises(FixtureError, match="did you mean approval_round_trip"):
        load_library(["approval_roundtrip"])


def test_every_curated_fixture_loads_by_name_and_is_normalised() -> None:
    names = curated_names()
    assert len(names) >= 30
    assert "approval_round_trip" in names
    for name in names:
        library = load_library([name])
        assert library.entries
        assert all(entry.fixture.normalised for entry in library.entries)
        assert all(entry.where == name for entry in library.entries)
    assert curated_root().joinpath("approval_round_trip.json").is_file()
