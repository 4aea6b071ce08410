"""Run a selection of Letta's own tests against one server URL and read back what happened to each test.

One pytest process (the harness venv's python, in the workspace), bounded by a global timeout (each test also by
pytest-timeout). The outcomes come from our plugin's JSON lines (written as each test ends, so a run that hits the
timeout still reports what it finished); a selected test with no line did not run to its end.

The server's model: ``served_models`` asks the server (``GET /v1/models/``, ``GET /v1/models/embedding``) for the
records of the handles the tests will be moved to, so ``llm_config`` bodies get the server's own endpoint; a server
that does not list them (the mock, today) gets the real server's records below.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .workspace import PLUGIN_MODULE, Workspace

__all__ = ["EMBEDDING", "MODEL", "Run", "TestResult", "collect", "run_selection", "served_models"]

MODEL = "openai-proxy/gpt-4o-mini"  # the stub model of tests/real_letta
EMBEDDING = "openai/text-embedding-3-small"
# The settings file both Letta's model_settings-based and llm_config-based tests read (LLM_CONFIG_FILE): a
# non-reasoning OpenAI model, like the stub's, so the tests expect what the stub does.
LLM_CONFIG_FILE = "openai-gpt-4o-mini.json"
PER_TEST_TIMEOUT_S = 120
# The real server's records of MODEL and EMBEDDING (GET /v1/models/ of Letta 0.16.8 under tests/real_letta).
FALLBACK_LLM_CONFIG: dict[str, Any] = {
    "handle": MODEL,
    "model": "gpt-4o-mini",
    "display_name": "gpt-4o-mini",
    "provider_name": "openai",
    "provider_category": "base",
    "model_endpoint_type": "openai",
    "model_endpoint": "http://127.0.0.1:18999/v1",
    "model_wrapper": None,
    "context_window": 128000,
}
FALLBACK_EMBEDDING_CONFIG: dict[str, Any] = {
    "handle": EMBEDDING,
    "embedding_model": "text-embedding-3-small",
    "embedding_endpoint_type": "openai",
    "embedding_endpoint": "http://127.0.0.1:18999/v1",
    "embedding_dim": 1536,
    "embedding_chunk_size": 300,
}


@dataclass
class TestResult:
    nodeid: str
    outcome: str  # passed, failed (in the test), error (in setup or teardown), skipped, not run
    phase: str = ""  # the phase that decided the outcome
    message: str = ""  # the crash message (assertion, exception) or skip reason
    where: str = ""  # file:line of the crash: the innermost frame in Letta's test files when there is one
    statement: str = ""  # the statement at `where`
    tail: str = ""  # the end of pytest's report
    duration: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Run:
    url: str
    results: dict[str, TestResult]
    seconds: float
    returncode: int | None  # None: killed by the global timeout
    output: str  # pytest's own output (the end of it)
    collect_errors: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results.values() if r.outcome == outcome)

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def served_models(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The server's llm_config of MODEL and embedding_config of EMBEDDING (the fallbacks when it lists none)."""

    def find(path: str, handle: str, fallback: dict[str, Any]) -> dict[str, Any]:
        try:
            response = httpx.get(url.rstrip("/") + path, timeout=10)
            listed = response.json() if response.status_code == 200 else []
        except (httpx.HTTPError, ValueError):
            listed = []
        if not isinstance(listed, list):
            return fallback
        found = [m for m in listed if isinstance(m, dict) and m.get("handle") == handle]
        return found[0] if found else fallback

    return (
        find("/v1/models/", MODEL, FALLBACK_LLM_CONFIG),
        find("/v1/models/embedding", EMBEDDING, FALLBACK_EMBEDDING_CONFIG),
    )


def _environment(workspace: Workspace, url: str, log: Path) -> dict[str, str]:
    llm_config, embedding_config = served_models(url)
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")}
    home = workspace.root / "home"
    home.mkdir(exist_ok=True)
    return {
        **keep,
        "HOME": str(home),  # Letta's settings and config files land here, not in the user's ~/.letta
        "PYTHONPATH": str(workspace.plugin_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LETTA_SERVER_URL": url,
        "LLM_CONFIG_FILE": LLM_CONFIG_FILE,
        # The tests read these from their own process's Letta settings to decide whether the server has Redis
        # (background streams, conversation locks); the server under test always has it (tests/real_letta, the mock).
        "LETTA_REDIS_HOST": os.environ.get("LETTA_ITESTS_REDIS_HOST", "127.0.0.1"),
        "LETTA_REDIS_PORT": os.environ.get("LETTA_ITESTS_REDIS_PORT", os.environ.get("REALSERVER_REDIS_PORT", "56379")),
        "LETTA_ITESTS_LOG": str(log),
        "LETTA_ITESTS_MODEL": MODEL,
        "LETTA_ITESTS_EMBEDDING": EMBEDDING,
        "LETTA_ITESTS_LLM_CONFIG": json.dumps(llm_config),
        "LETTA_ITESTS_EMBEDDING_CONFIG": json.dumps(embedding_config),
    }


def _result(record: dict[str, Any]) -> TestResult:
    phases: dict[str, dict[str, Any]] = record.get("phases", {})
    result = TestResult(nodeid=record["nodeid"], outcome="passed", duration=record.get("duration", 0.0))
    result.requests = record.get("requests", [])
    for when in ("setup", "call", "teardown"):
        phase = phases.get(when)
        if phase is None or phase["outcome"] == "passed":
            continue
        if phase["outcome"] == "skipped":
            result.outcome = "skipped"
        else:
            result.outcome = "failed" if when == "call" else "error"
        result.phase, result.message = when, phase.get("message", "")
        result.where, result.statement = phase.get("where", ""), phase.get("statement", "")
        result.tail = phase.get("tail", "")
        break
    return result


def _stop(process: subprocess.Popen[str]) -> None:
    """End the pytest process and whatever it started (its own process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def collect(python: Path, workspace: Workspace, url: str, files: list[str], *, timeout_s: float = 300) -> list[str]:
    """The node ids of ``files`` (names in Letta's tests/ directory), as pytest collects them here."""
    command = [str(python), "-m", "pytest", "-p", PLUGIN_MODULE, "-p", "no:cacheprovider", "--collect-only", "-q"]
    done = subprocess.run(
        [*command, "-W", "ignore", *[f"tests/{name}" for name in files]],
        cwd=workspace.sdist_root,
        env=_environment(workspace, url, workspace.root / "collect.jsonl"),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    nodeids = [line.strip() for line in done.stdout.splitlines() if "::" in line and not line.startswith(" ")]
    if done.returncode != 0 or not nodeids:
        raise RuntimeError(f"collecting Letta's tests failed ({done.returncode}): {done.stdout[-3000:]}")
    return nodeids


def run_selection(
    python: Path,
    workspace: Workspace,
    url: str,
    nodeids: list[str],
    *,
    timeout_s: float,
    per_test_timeout_s: float = PER_TEST_TIMEOUT_S,
    extra_args: tuple[str, ...] = (),
) -> Run:
    """Run ``nodeids`` (relative to Letta's tests/ directory) against ``url``."""
    log = workspace.root / f"results-{time.monotonic_ns()}.jsonl"
    command = [
        str(python),
        "-m",
        "pytest",
        "-p",
        PLUGIN_MODULE,
        "-p",
        "no:cacheprovider",
        "-q",
        "-rN",
        "--no-header",
        f"--timeout={per_test_timeout_s:g}",
        "-W",
        "ignore",
        *extra_args,
        *[f"tests/{nodeid}" for nodeid in nodeids],
    ]
    started = time.monotonic()
    output_path = workspace.root / "pytest-output.txt"
    with output_path.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=workspace.sdist_root,
            env=_environment(workspace, url, log),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            returncode: int | None = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            _stop(process)
    seconds = time.monotonic() - started
    results: dict[str, TestResult] = {}
    collect_errors: list[str] = []
    if log.exists():
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if "collect_error" in record:
                collect_errors.append(f"{record['collect_error']}: {record['message']}")
            else:
                results[record["nodeid"]] = _result(record)
    for nodeid in nodeids:
        if nodeid not in results:
            results[nodeid] = TestResult(nodeid=nodeid, outcome="not run")
    text = output_path.read_text(errors="replace")
    return Run(url, results, seconds, returncode, text[-6000:], collect_errors)
