"""Self-fuzz: ``letta-mock fuzz`` against the mock itself, with our document and with Letta's, every phase,
positive and negative data — no failures. And the requests the documents refuse that the mock used to accept.

``--max-examples 5``: at most 5 cases per operation in each of the examples, coverage and fuzzing phases (the
coverage cases one of each kind in turn: every parameter, valid and not) and 5 stateful scenarios; both documents
run side by side, each against its own ``letta-mock serve``. ``--seed 1``: the same cases every time. Every check
runs, schemathesis' routing checks included: a 405 names every method its URL is served with, and a template never
names a literal sibling (``PATCH …/messages/async`` is a 405, not the message "async"). The whole coverage phase
(~8,400 cases per document) is a by-hand run: ``letta-mock fuzz URL --spec mock --phases coverage --max-examples
100000`` (docs/fuzz.md).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from contract import SPEC_PATH

from mockserver import create_app
from mockserver.fuzz import MESSAGES_OPERATIONS

LETTA_MOCK = str(Path(sys.executable).with_name("letta-mock"))
HANG_GUARD_S = 600  # not a speed target: a run that hangs fails instead of stalling the suite
MAX_EXAMPLES = 5
STATEFUL_STEPS = 6  # schemathesis' longest scenario
SELF_FUZZ = ["--max-examples", str(MAX_EXAMPLES), "--seed", "1"]
DOCUMENTS = {"ours": ["--spec", "mock"], "Letta's": ["--spec", str(SPEC_PATH)]}
STREAMING = ("POST /v1/agents/{agent_id}/messages", "POST /v1/agents/{agent_id}/messages/stream",
             "POST /v1/conversations/{conversation_id}/messages", "POST /v1/conversations/{conversation_id}/stream",
             "POST /v1/runs/{run_id}/stream")  # fmt: skip
AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def serve() -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen([LETTA_MOCK, "serve", "--port", str(port), "--seed", "1", "--log-level", "warning"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/v1/health/", timeout=1)
            return process, url
        except httpx.HTTPError:
            if process.poll() is not None:
                why = process.stderr.read() if process.stderr else ""
                raise RuntimeError(f"letta-mock serve exited: {why}") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("letta-mock serve did not answer")


@pytest.fixture(scope="module")
def self_fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, str, dict[str, Any]]]]:
    out = tmp_path_factory.mktemp("self-fuzz")
    servers = {name: serve() for name in DOCUMENTS}
    try:
        commands = {name: [LETTA_MOCK, "fuzz", servers[name][1], *argv, *SELF_FUZZ, "--report",
                           f"json:{out / name}.json"] for name, argv in DOCUMENTS.items()}  # fmt: skip
        runs = {
            name: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for name, command in commands.items()
        }
        found = {}
        for name, process in runs.items():
            try:
                stdout, _ = process.communicate(timeout=HANG_GUARD_S)
            finally:
                process.kill()
            found[name] = (process.returncode, stdout, json.loads((out / f"{name}.json").read_text()))
        yield found
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_mock_fuzzes_clean(self_fuzz: dict[str, tuple[int, str, dict[str, Any]]], document: str) -> None:
    status, stdout, report = self_fuzz[document]
    assert report["failures"] == [], stdout[-6000:]
    assert status == 0, stdout[-3000:]
    assert "No issues found" in stdout
    for noise in ("Failed to extract data", "Traceback", "st replay"):  # a clean run says nothing else
        assert noise not in stdout, noise


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_phase_and_operation_was_exercised(
    self_fuzz: dict[str, tuple[int, str, dict[str, Any]]], document: str
) -> None:
    _, stdout, report = self_fuzz[document]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅  {phase} (in " in stdout, phase
    operations = report["operations"]
    assert len(operations) == len(MESSAGES_OPERATIONS)
    # At most what --max-examples promises, and at least a full coverage share of every operation.
    assert report["cases"] <= MAX_EXAMPLES * (3 * len(MESSAGES_OPERATIONS) + STATEFUL_STEPS)
    for label, counts in operations.items():
        assert counts["cases"] >= MAX_EXAMPLES, label
    for label, counts in operations.items():
        assert counts["statuses"].get("2xx", 0) > 0, label  # past every 4xx
        assert counts["statuses"].get("4xx", 0) > 0, label  # negative data refused
    for label in STREAMING:
        assert operations[label]["streams"] > 0, label
    for check in ("letta_stream_events", "letta_stream_grammar", "letta_stream_finished", "letta_error_shape",
                  "letta_history"):  # fmt: skip
        assert report["checks"][check].get("passed", 0) > 0, check


# -- what the documents refuse, the mock refuses (it used to accept these) ---------------------------------------

REFUSED = [
    ("POST", f"/v1/agents/{AGENT}/messages", {"input": "hi", "enable_thinking": False}, ["body", "enable_thinking"]),
    ("POST", f"/v1/agents/{AGENT}/messages/stream", {"input": "hi", "enable_thinking": False},
     ["body", "enable_thinking"]),
    ("POST", f"/v1/agents/{AGENT}/messages/async", {"input": "hi", "enable_thinking": False},
     ["body", "enable_thinking"]),
    ("PATCH", f"/v1/agents/{AGENT}/reset-messages", None, ["body"]),
    ("POST", f"/v1/agents/{AGENT}/summarize", {"compaction_settings": {"sliding_window_percentage": None}},
     ["body", "compaction_settings", "sliding_window_percentage"]),
    ("POST", f"/v1/agents/{AGENT}/summarize", {"compaction_settings": {"model_settings": {}}},
     ["body", "compaction_settings", "model_settings"]),
    ("POST", f"/v1/agents/{AGENT}/messages",
     {"input": [{"type": "summarized_reasoning", "id": "r", "summary": [], "encrypted_content": None}]},
     ["body", "input", 0, "summarized_reasoning", "encrypted_content"]),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "loc"), REFUSED, ids=[f"{m} {p} {b}" for m, p, b, _ in REFUSED])
async def test_a_request_the_document_refuses_is_a_422_naming_the_field(
    method: str, path: str, body: Any, loc: list[Any]
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(seed=1)), base_url="http://m") as client:
        response = await client.request(method, path, json=body) if body is not None else await client.request(
            method, path)  # fmt: skip
    assert response.status_code == 422, response.text
    assert loc in [item["loc"] for item in response.json()["detail"]], response.json()


ACCEPTED = [
    ("PATCH", f"/v1/agents/{AGENT}/reset-messages", {}),  # what the SDKs send
    ("POST", f"/v1/agents/{AGENT}/messages", {"input": "hi", "enable_thinking": "false"}),
    ("POST", f"/v1/agents/{AGENT}/summarize",
     {"compaction_settings": {"sliding_window_percentage": 0.5, "model_settings": {"provider_type": "anthropic"}}}),
    ("POST", f"/v1/agents/{AGENT}/summarize", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ACCEPTED, ids=[f"{m} {p} {b}" for m, p, b in ACCEPTED])
async def test_what_the_document_allows_still_works(method: str, path: str, body: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(seed=1)), base_url="http://m") as client:
        headers = {"content-type": "application/json"}
        response = await client.request(method, path, content=json.dumps(body), headers=headers)
    assert response.status_code == 200, response.text
