"""Against the real Letta 0.16.8 server (tests/real_letta): a session recorded through the proxy replays to
the official SDK byte for byte, its fixtures pass the drift check, and re-sent to the server they still fit."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _sdk import call, drain, every_item
from contract import SPEC_PATH
from letta_client import AsyncLetta, DefaultAsyncHttpxClient

from mockserver import create_app
from mockserver.contract import Contract
from mockserver.recording.check import check_paths, ours
from mockserver.recording.drift import check_live
from mockserver.recording.proxy import Recorder, upstream_facts

pytestmark = pytest.mark.real_letta

API_KEY = "sk-let-real-letta-record-7c3e9a1f"
MODEL = {"model": "openai-proxy/gpt-4o-mini", "embedding": "openai/text-embedding-3-small"}
Seen = list[tuple[str, str, int, bytes]]


async def session(url: str, seen: Seen) -> str:
    """Create an agent, send (JSON and a token stream), list it, run it async to its end and read its run."""

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        seen.append((response.request.method, response.request.url.path, response.status_code, response.content))

    client = AsyncLetta(base_url=url, api_key=API_KEY, _strict_response_validation=True, max_retries=0, timeout=60,
                        http_client=DefaultAsyncHttpxClient(event_hooks={"response": [keep]}))  # fmt: skip
    agent = await client.agents.create(name="letta-mock-record-test", **MODEL)  # type: ignore[arg-type]
    await client.agents.messages.create(agent.id, input="hello there")
    await drain(client.agents.messages.create(agent.id, input="tell me a story", streaming=True, stream_tokens=True))
    await every_item(client.agents.messages.list(agent.id))
    run = await client.agents.messages.create_async(agent.id, input="and another one")
    for _ in range(150):  # bounded: ~30 s
        if run.status not in ("created", "running"):
            break
        await asyncio.sleep(0.2)
        run = await client.runs.retrieve(run.id)
    assert run.status == "completed"
    await every_item(client.runs.messages.list(run.id))
    await call(client.close())
    return agent.id


async def test_a_session_recorded_from_real_letta_replays_byte_for_byte(
    real_letta_url: str, serve: Callable[[Any], str], tmp_path: Path
) -> None:
    version, _ = upstream_facts(real_letta_url, spec=False)
    assert version == "0.16.8"
    recorder = Recorder(real_letta_url, tmp_path, server_version=version)
    recorded: Seen = []
    await session(serve(recorder), recorded)
    assert recorder.refused == []
    assert len(recorder.written) == len(recorded)
    replayed: Seen = []
    await session(serve(create_app(fixtures=str(tmp_path), replay_speed=0)), replayed)
    assert [entry[:3] for entry in replayed] == [entry[:3] for entry in recorded]
    for ours_, theirs in zip(recorded, replayed, strict=True):
        assert ours_[3] == theirs[3], f"{ours_[0]} {ours_[1]} replayed other bytes"
    assert sum(1 for *_, body in recorded if body.startswith(b"data: ")) == 1
    text = "".join(path.read_text() for path in recorder.written)
    assert API_KEY not in text
    assert base64.b64encode(API_KEY.encode()).decode()[:20] not in text
    # What the real server sent fits Letta's document (with its documented quirks) and still fits the server.
    findings = check_paths([str(tmp_path)], [ours(), Contract.load(SPEC_PATH)], fidelity="server")
    assert [str(f) for f in findings] == []
    assert [str(f) for f in check_live([str(tmp_path)], real_letta_url)] == []
