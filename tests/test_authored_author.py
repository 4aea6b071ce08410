"""``letta-mock fixtures author``: a session recorded from the real Letta 0.16.8 server (tests/recordings/
real_letta_session, made by tests/_authored_session.py through ``letta-mock record``) becomes rules that, replayed,
give byte-identical message contents: the same items in the same order with the same text, tool calls (arguments
and ids), returns, stop reasons and usage figures — streamed, token-streamed and not; the history lists the same."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from _local import LETTA_MOCK, ROOT

from mockserver import create_app
from mockserver.authored.author import author_document
from mockserver.authored.format import read_rules
from mockserver.models.messages import message_adapter, stream_event_adapter
from mockserver.recording.format import Exchange
from mockserver.recording.library import load_library
from mockserver.wire import sse
from mockserver.wire.tokens import reassemble

RECORDING = ROOT / "tests" / "recordings" / "real_letta_session"
IDS = {"id", "date", "otid", "step_id", "run_id", "seq_id", "sender_id", "approval_request_id"}  # not contents


def said(status: int, body: bytes, streamed: bool) -> tuple[list[str], str | None, dict[str, Any] | None]:
    """A send's answer as contents: each whole message as JSON without its ids and dates, the stop reason, usage."""
    assert status == 200, body[:300]
    if streamed:
        events = [stream_event_adapter.validate_json(f.data) for f in sse.decode(body.decode()) if not f.done]
    else:
        answer = json.loads(body)
        events = [*(message_adapter.validate_python(m) for m in answer["messages"]),
                  stream_event_adapter.validate_python(answer["stop_reason"]),
                  stream_event_adapter.validate_python(answer["usage"])]  # fmt: skip
    messages = [json.dumps(m.model_dump(mode="json", exclude=IDS)) for m in reassemble(events)
                if m.message_type != "ping"]  # fmt: skip
    stop = next((e.stop_reason for e in events if e.message_type == "stop_reason"), None)
    usage = next((e.model_dump(mode="json") for e in events if e.message_type == "usage_statistics"), None)
    return messages, stop, usage


def listed(body: Any) -> list[str]:
    return [json.dumps(message_adapter.validate_python(m).model_dump(mode="json", exclude=IDS)) for m in body
            if m["message_type"] != "system_message"]  # fmt: skip


async def replay(recording: str | Path, app: Any) -> list[tuple[Exchange, tuple[Any, ...], tuple[Any, ...]]]:
    """Send each recorded request to ``app``; each recorded send and list with what it answered then and now."""
    pairs = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        for entry in load_library([str(recording)]).entries:
            request, response = entry.exchange.request, entry.exchange.response
            if "/messages" not in request.path or request.path.endswith("/async"):
                continue
            answer = await client.request(request.method, request.path, params=request.query,
                                          json=request.json_body if request.method == "POST" else None)  # fmt: skip
            if request.method == "GET":
                pairs.append((entry.exchange, (listed(response.json_body),), (listed(answer.json()),)))
                continue
            streamed = response.stream is not None
            pairs.append((entry.exchange, said(response.status, response.body_bytes(), streamed),
                          said(answer.status_code, answer.content, streamed)))  # fmt: skip
    return pairs


async def test_a_real_letta_session_round_trips_through_authored_rules() -> None:
    authored = author_document(load_library([str(RECORDING)]), "real session")
    assert authored.skipped == []
    pairs = await replay(RECORDING, create_app(rules=authored.document["rules"]))
    assert len(pairs) == 9  # eight sends (JSON, token-streamed, streamed; approvals, a denial, a client tool), a list
    for exchange, recorded, replayed in pairs:
        assert replayed == recorded, f"{exchange.request.path} {exchange.request.json_body}"
    kinds = [json.loads(m)["message_type"] for _, (messages, *_), _ in pairs[:-1] for m in messages]
    assert {"tool_call_message", "tool_return_message", "approval_request_message", "assistant_message"} <= set(kinds)


def test_fixtures_author_writes_yaml_that_reads_back_as_the_same_rules(tmp_path: Path) -> None:
    done = subprocess.run([LETTA_MOCK, "fixtures", "author", str(RECORDING)], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# letta-mock rules authored from")
    document = yaml.safe_load(done.stdout)
    assert document == author_document(load_library([str(RECORDING)]), str(RECORDING)).document
    assert len(read_rules(document).rules[0].turns) == 8
    text = done.stdout
    assert "text: |-\n        Tool result received: {\n" in text  # several lines stay a block a person edits
    as_json = subprocess.run([LETTA_MOCK, "fixtures", "author", str(RECORDING), "--format", "json"],
                             capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert json.loads(as_json.stdout) == document


async def test_a_fixture_rule_answers_with_a_recordings_turns() -> None:
    # The curated approval round trip (recorded from letta-mock, normalised): its sends replayed through one rule.
    rules = [{"name": "recorded", "match": {"agent_id": "agent-cccccccc-*"}, "fixture": "approval_round_trip"}]
    pairs = await replay("approval_round_trip", create_app(rules=rules))
    sends = [(recorded, replayed) for exchange, recorded, replayed in pairs if exchange.request.method == "POST"]
    assert len(sends) == 2
    for recorded, replayed in sends:
        assert replayed == recorded


def test_a_fixture_rule_naming_no_recording_is_refused_with_its_path() -> None:
    from mockserver.authored import RulesInvalid

    with pytest.raises(RulesInvalid) as refused:
        read_rules([{"fixture": "no_such_fixture"}], fixture_turns=_turns)
    assert refused.value.problems[0].startswith("rules[0].fixture: ")


def _turns(name: str) -> list[Any]:
    from mockserver.authored.load import fixture_turns

    return fixture_turns(name)


@pytest.mark.real_letta
def test_a_fresh_real_letta_session_round_trips(real_letta_url: str, serve: Any, tmp_path: Path) -> None:
    import asyncio

    from _authored_session import session

    from mockserver.recording.proxy import Recorder, upstream_facts

    version, _ = upstream_facts(real_letta_url, spec=False)
    recorder = Recorder(real_letta_url, tmp_path, server_version=version)
    session(serve(recorder))
    assert recorder.refused == []
    authored = author_document(load_library([str(tmp_path)]), "fresh")
    pairs = asyncio.run(replay(tmp_path, create_app(rules=authored.document["rules"])))
    assert len(pairs) == 9
    for exchange, recorded, replayed in pairs:
        assert replayed == recorded, f"{exchange.request.path} {exchange.request.json_body}"
