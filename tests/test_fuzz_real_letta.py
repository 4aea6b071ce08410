"""``letta-mock fuzz`` against the real Letta server (tests/real_letta): it terminates, reports what is wrong
with the real thing — its 422 body is a repr string, not the ``detail`` list its own document promises — and reads
its streams event by event. The agent it fuzzes with is created through the API and deleted after.

Kept short for CI: four operations (both send kinds, both listings), examples and fuzzing, two cases each, streams
bounded at 5 s (a resumed stream of a finished foreground run stays open on the real server).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from _local import LETTA_MOCK

HANG_GUARD_S = 600  # not a speed target: a run that hangs fails instead of stalling the suite


@pytest.mark.real_letta
def test_fuzzing_the_real_server_finds_its_422_shape_and_reads_its_streams(real_letta_url: str, tmp_path: Path) -> None:
    report = tmp_path / "real.json"
    command = [
        LETTA_MOCK, "fuzz", real_letta_url, "--spec", f"{real_letta_url}/openapi.json",
        "--operations", "send_message,create_agent_message_stream,list_messages,list_messages_for_run",
        "--phases", "examples,fuzzing", "--max-examples", "2", "--seed", "1", "--stream-timeout", "5",
        # The real server streams only to what looks like an SDK (wire doc §0 rule 11).
        "--header", "X-Stainless-Package-Version: 1.12.0",
        "--model", "openai-proxy/gpt-4o-mini", "--embedding", "openai/text-embedding-3-small",
        "--report", f"json:{report}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=HANG_GUARD_S, check=False)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    found = json.loads(report.read_text())

    shapes = [f for f in found["failures"] if f["title"] == "Not Letta's error shape"]
    assert any("422" in f["message"] and "detail is str" in f["message"] for f in shapes), found["failures"]

    for label in ("POST /v1/agents/{agent_id}/messages", "POST /v1/agents/{agent_id}/messages/stream"):
        operation = found["operations"][label]
        assert operation["streams"] > 0, label
        assert operation["stream_events"] > operation["streams"], label  # more than one event a stream
    assert found["checks"]["letta_stream_events"]["passed"] > 0

    created = [re.search(r"created agent (agent-\S+)", note) for note in found["notes"]]
    agent = next(match.group(1) for match in created if match)
    assert httpx.get(f"{real_letta_url}/v1/agents/{agent}", timeout=30).status_code == 404  # deleted after the run
