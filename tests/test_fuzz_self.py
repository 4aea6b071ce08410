"""Self-fuzz: ``letta-mock fuzz`` against the mock itself, with our document and with Letta's, every phase,
positive and negative data — no failures. And the requests the documents refuse that the mock used to accept.

For each document, two runs side by side, each against its own ``letta-mock serve`` (``--seed 1``: the same cases
every time):

* the whole coverage phase (``--phases coverage``, unbounded: ~8,400 cases per document, every parameter of every
  operation valid and not, most of them the large send and compaction bodies);
* every phase bounded by ``--max-examples 10``: at most 10 cases per operation in each of the examples, coverage
  and fuzzing phases (the coverage cases one of each kind in turn) and 10 stateful scenarios — the bound a user
  sets, and still every operation past its 4xx and refused its negative data.

Every check runs, schemathesis' routing checks included: a 405 names every method its URL is served with, and a
template never names a literal sibling (``PATCH …/messages/async`` is a 405, not the message "async").
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _local import LETTA_MOCK, listening, still_running
from contract import SPEC_PATH

from mockserver import create_app
from mockserver.fuzz import MESSAGES_OPERATIONS

HANG_GUARD_S = 600  # not a speed target: a run that hangs fails instead of stalling the suite
MAX_EXAMPLES = 10
STATEFUL_STEPS = 6  # schemathesis' longest scenario
RUNS = {"coverage": ["--phases", "coverage", "--max-examples", "1000000"],  # the whole phase
        "bounded": ["--max-examples", str(MAX_EXAMPLES)]}  # fmt: skip
DOCUMENTS = {"ours": ["--spec", "mock"], "Letta's": ["--spec", str(SPEC_PATH)]}
STREAMING = ("POST /v1/agents/{agent_id}/messages", "POST /v1/agents/{agent_id}/messages/stream",
             "POST /v1/conversations/{conversation_id}/messages", "POST /v1/conversations/{conversation_id}/stream",
             "POST /v1/runs/{run_id}/stream")  # fmt: skip
AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"


def serve() -> tuple[subprocess.Popen[str], str]:
    def start(port: int) -> subprocess.Popen[str]:
        return subprocess.Popen([LETTA_MOCK, "serve", "--port", str(port), "--seed", "1", "--log-level", "warning"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip

    def ready(process: subprocess.Popen[str], port: int) -> None:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/health/", timeout=1)
                return
            except httpx.HTTPError:
                still_running(process)
                time.sleep(0.1)
        process.kill()
        raise RuntimeError("letta-mock serve did not answer")

    process, port = listening(start, ready)
    return process, f"http://127.0.0.1:{port}"


Found = dict[tuple[str, str], tuple[int, str, dict[str, Any]]]  # (document, run) -> status, output, report


@pytest.fixture(scope="module")
def self_fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Found]:
    out = tmp_path_factory.mktemp("self-fuzz")
    keys = [(document, run) for document in DOCUMENTS for run in RUNS]
    servers = {key: serve() for key in keys}
    try:
        reports = {key: out / f"{key[0]}-{key[1]}.json" for key in keys}
        runs = {
            key: subprocess.Popen(
                [
                    LETTA_MOCK,
                    "fuzz",
                    servers[key][1],
                    *DOCUMENTS[key[0]],
                    *RUNS[key[1]],
                    "--seed",
                    "1",
                    "--report",
                    f"json:{reports[key]}",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for key in keys
        }
        found = {}
        for key, process in runs.items():
            try:
                stdout, _ = process.communicate(timeout=HANG_GUARD_S)
            finally:
                process.kill()
            found[key] = (process.returncode, stdout, json.loads(reports[key].read_text()))
        yield found
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_mock_fuzzes_clean(self_fuzz: Found, document: str, run: str) -> None:
    status, stdout, report = self_fuzz[document, run]
    assert report["failures"] == [], stdout[-6000:]
    assert status == 0, stdout[-3000:]
    assert "No issues found" in stdout
    for noise in ("Failed to extract data", "Traceback", "st replay"):  # a clean run says nothing else
        assert noise not in stdout, noise


def _exercised(operations: dict[str, Any], checks: dict[str, Any]) -> None:
    """Every operation past its 4xx and refused its negative data, every stream read, every check of ours run."""
    assert len(operations) == len(MESSAGES_OPERATIONS)
    for label, counts in operations.items():
        assert counts["statuses"].get("2xx", 0) > 0, label  # past every 4xx
        assert counts["statuses"].get("4xx", 0) > 0, label  # negative data refused
    for label in STREAMING:
        assert operations[label]["streams"] > 0, label
    for check in ("letta_stream_events", "letta_stream_grammar", "letta_stream_finished", "letta_error_shape",
                  "letta_history"):  # fmt: skip
        assert checks[check].get("passed", 0) > 0, check


def _sum(a: Any, b: Any) -> Any:
    """Two reports' counts added up, key by key."""
    if isinstance(a, dict) or isinstance(b, dict):
        a, b = a or {}, b or {}
        return {key: _sum(a.get(key, 0), b.get(key, 0)) for key in a.keys() | b.keys()}
    return a + b


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_phase_and_operation_was_exercised(self_fuzz: Found, document: str) -> None:
    _, coverage, whole = self_fuzz[document, "coverage"]
    _, bounded, report = self_fuzz[document, "bounded"]
    assert "✅  Coverage (in " in coverage
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅  {phase} (in " in bounded, phase
    assert whole["cases"] > 5000
    both = {part: _sum(whole[part], report[part]) for part in ("operations", "checks")}
    _exercised(both["operations"], both["checks"])


@pytest.mark.parametrize("document", DOCUMENTS)
def test_max_examples_bounds_every_phase_and_still_reaches_every_operation(self_fuzz: Found, document: str) -> None:
    report = self_fuzz[document, "bounded"][2]
    # At most what --max-examples promises, and at least a full coverage share of every operation.
    assert report["cases"] <= MAX_EXAMPLES * (3 * len(MESSAGES_OPERATIONS) + STATEFUL_STEPS)
    for label, counts in report["operations"].items():
        assert counts["cases"] >= MAX_EXAMPLES, label
    _exercised(report["operations"], report["checks"])


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
    (
        "POST",
        f"/v1/agents/{AGENT}/summarize",
        {"compaction_settings": {"sliding_window_percentage": 0.5, "model_settings": {"provider_type": "anthropic"}}},
    ),
    ("POST", f"/v1/agents/{AGENT}/summarize", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ACCEPTED, ids=[f"{m} {p} {b}" for m, p, b in ACCEPTED])
async def test_what_the_document_allows_still_works(method: str, path: str, body: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(seed=1)), base_url="http://m") as client:
        headers = {"content-type": "application/json"}
        response = await client.request(method, path, content=json.dumps(body), headers=headers)
    assert response.status_code == 200, response.text
