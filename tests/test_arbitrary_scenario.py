"""scenario=arbitrary: turns drawn by seed from the Hypothesis strategies, served like any other turn."""

from __future__ import annotations

from typing import Any

import pytest
from _streaming import AGENT, Mock, types
from contract import DONE

pytest_plugins = ["_stream_fixtures"]


def shapes(events: list[Any]) -> list[tuple[str, Any]]:
    """What a seed decides: the sequence of types and texts (ids and dates are the run's own)."""
    keep = ("content", "reasoning", "tool_call", "tool_return", "stop_reason", "state")
    return [(e.type, {k: e.payload.get(k) for k in keep}) for e in events if e.type not in ("ping", DONE)]


@pytest.mark.parametrize("seed", range(8))
def test_the_same_seed_serves_the_same_turn_and_it_is_valid(mock: Mock, seed: int) -> None:
    controls = f"scenario=arbitrary; seed={seed}; stop_reason=end_turn"
    first = mock.send("hi", controls=controls)  # framing and every event are checked against the document
    second = mock.send("hi", controls=controls)
    assert shapes(first) == shapes(second)
    assert types(first)[-3:] == ["stop_reason", "usage_statistics", DONE]
    assert first[-3].payload["stop_reason"] == "end_turn"
    run_id = first[0].payload["run_id"]
    assert {e.payload["run_id"] for e in first if e.type not in ("stop_reason", "usage_statistics", DONE)} == {run_id}


def test_different_seeds_serve_different_turns(mock: Mock) -> None:
    turns = [shapes(mock.send("hi", controls=f"scenario=arbitrary; seed={seed}")) for seed in range(6)]
    assert len({repr(turn) for turn in turns}) > 1


def test_an_arbitrary_turn_is_what_history_lists_afterwards(mock: Mock) -> None:
    events = mock.send("hi", controls="scenario=arbitrary; seed=3; stop_reason=end_turn")
    streamed = [e.payload for e in events if e.type not in ("ping", "stop_reason", "usage_statistics", DONE)]
    listed = mock.history()
    assert listed[-len(streamed) :] == streamed


def test_an_arbitrary_turn_that_stops_for_approval_leaves_the_agent_waiting(mock: Mock) -> None:
    events = mock.send("hi", controls="scenario=arbitrary; seed=0; stop_reason=requires_approval")
    assert events[-3].payload["stop_reason"] == "requires_approval"
    assert "approval_request_message" in types(events)
    refused = mock.http.post(f"/v1/agents/{AGENT}/messages", json={"input": "hello"})
    assert refused.status_code == 409


def test_an_arbitrary_turn_streams_tokens_when_asked_and_reassembles_to_what_history_lists(mock: Mock) -> None:
    controls = "scenario=arbitrary; seed=3; stop_reason=end_turn"
    events = mock.send("hi", controls=controls, stream_tokens=True)
    texts: dict[tuple[str, str], str] = {}
    for event in events:
        if event.type in ("reasoning_message", "assistant_message"):
            field = "reasoning" if event.type == "reasoning_message" else "content"
            if isinstance(event.payload[field], str):
                key = (event.payload["otid"], field)
                texts[key] = texts.get(key, "") + event.payload[field]
    listed = {
        (m["otid"], f): m[f] for m in mock.history() for f in ("reasoning", "content") if isinstance(m.get(f), str)
    }
    assert texts
    assert all(listed[key] == text for key, text in texts.items())
    chunked = [e for e in events if e.type in ("reasoning_message", "assistant_message")]
    assert len(chunked) > len(texts)  # more chunks than items: they came as fragments
