"""``letta-mock``, run as a user runs it: a subprocess of the installed console script."""

from __future__ import annotations

import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from _local import LETTA_MOCK, listening, still_running

from mockserver.cli import COMMANDS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LETTA_MOCK, *args], capture_output=True, text=True, timeout=60, check=False)


def serve(*args: str) -> tuple[subprocess.Popen[str], int]:
    """``letta-mock serve ARGS`` on a free port, answering; its process and port."""

    def start(port: int) -> subprocess.Popen[str]:
        command = [LETTA_MOCK, "serve", "--port", str(port), *args]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ready(process: subprocess.Popen[str], port: int) -> None:
        wait_for_health(process, f"http://127.0.0.1:{port}")

    return listening(start, ready)


def wait_for_health(process: subprocess.Popen[str], url: str) -> httpx.Response:
    """Poll the health endpoint until the server answers (or the process dies)."""
    for _ in range(2000):
        still_running(process)
        try:
            return httpx.get(url + "/v1/health/", timeout=1)
        except httpx.TransportError:
            time.sleep(0.01)  # not listening yet
    raise AssertionError("letta-mock never answered")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    process, port = serve("--seed", "1")
    try:
        banner = process.stdout.readline()  # type: ignore[union-attr]
        yield process, port, banner
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_help_says_what_the_tool_is_and_how_to_start_it() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: letta-mock")
    assert "A mock Letta server for testing Letta clients" in result.stdout
    assert "serve" in result.stdout
    assert "letta-mock serve" in result.stdout  # an example to copy
    assert "Letta(base_url=" in result.stdout  # and how to point a client at it
    assert result.stderr == ""


# Installed with letta-mock, loaded only by what uses them (the official SDK: letta-mock conformance).
HEAVY = ("hypothesis", "schemathesis", "strategies", "letta_client")
_LOADED = """
import sys
from mockserver.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["record", "--help"], ["fixtures", "--help"],
                                  ["fixtures", "check", "--help"], ["fuzz", "--help"], ["conformance", "--help"]],
                         ids=" ".join)  # fmt: skip
def test_help_loads_neither_hypothesis_nor_schemathesis(argv: list[str]) -> None:
    code = _LOADED.format(heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, check=True)
    assert "usage: letta-mock" in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"


# What the top-level help needs is the list of commands: none of their modules, nor pydantic.
COMMAND_MODULES = ("pydantic", "mockserver.models", *(f"mockserver.cli.{c.module}" for c in COMMANDS))


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["bogus"], []], ids=lambda argv: " ".join(argv) or "-")
def test_the_top_level_help_builds_no_command(argv: list[str]) -> None:
    code = _LOADED.format(heavy=COMMAND_MODULES)
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, check=True)
    assert "letta-mock" in done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


_SERVED = """
import asyncio, sys, httpx
from mockserver.cli import serve
from mockserver import create_app

async def send():
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        answer = await client.post("/v1/agents/{agent}/messages", json={{"input": "hi", "streaming": True}})
        assert answer.status_code == 200, answer.text

asyncio.run(send())
print(sorted(m for m in {heavy!r} if m in sys.modules))
"""


def test_serving_loads_neither_hypothesis_nor_schemathesis() -> None:
    code = _SERVED.format(agent="agent-123e4567-e89b-42d3-8456-426614174000", heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


# What `letta-mock serve` does without: tooling, clients, the rules' parsers (no --rules), pages served on request,
# the admin API and dashboard until a request under /_mock/ (its first answers here are Letta's).
NOT_SERVING = (*HEAVY, "pytest", "rich", "httpx", "yaml", "regex", "mockserver.fuzz", "mockserver.conformance",
               "mockserver.recording", "mockserver.openapi", "mockserver.testing", "mockserver.live",
               "mockserver.pytest_plugin", "mockserver.hypothesis_hook", "mockserver.admin",
               "mockserver.dashboard")  # fmt: skip
# `letta-mock serve` as it runs, up to uvicorn listening; then its first requests, on the app uvicorn loaded.
_SERVE_PATH = """
import asyncio, sys
import uvicorn

async def get(app, path):
    sent = []
    async def receive():
        return {{"type": "http.request", "body": b"", "more_body": False}}
    async def send(message):
        sent.append(message)
    scope = {{"type": "http", "asgi": {{"version": "3.0"}}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 1)}}
    await app(scope, receive, send)
    return sent[0]["status"]

def listen(server, sockets=None):
    server.config.load()  # everything uvicorn loads before it listens
    paths = ("/v1/health/", "/v1/agents/{agent}/messages")
    print([asyncio.run(get(server.config.loaded_app, path)) for path in paths])
    print(sorted(m for m in {modules!r} if m in sys.modules))

uvicorn.Server.run = listen
from mockserver.cli import main
sys.exit(main(["serve", "--port", "0", "--log-level", "warning"]))
"""


# The send path, which a server's first listing does without (its handler is apart: handlers/message_history).
SEND_PATH = ("mockserver.sending", "mockserver.engine", "mockserver.handlers.agent_messages")


@pytest.mark.parametrize("modules", [NOT_SERVING, SEND_PATH], ids=["not serving", "send path"])
def test_serve_imports_only_what_serving_needs(modules: tuple[str, ...]) -> None:
    # Start-up time is what `serve` imports (bench/bench_startup.py): none of these, up to its first answers (the
    # health check, then a listing).
    code = _SERVE_PATH.format(agent="agent-123e4567-e89b-42d3-8456-426614174000", modules=modules)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    statuses, loaded = done.stdout.splitlines()[-2:]
    assert statuses == "[200, 200]"
    assert loaded == "[]"


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="reads another process's limits: Linux")
def test_serve_may_open_as_many_files_as_the_system_allows_it() -> None:
    # Every open stream is a socket: a shell's soft limit (often 1024) must not cap the server below the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(soft, hard, 256)

    def start(port: int) -> subprocess.Popen[str]:
        command = [LETTA_MOCK, "serve", "--port", str(port)]
        limited = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))  # noqa: E731
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limited)

    def ready(process: subprocess.Popen[str], port: int) -> None:
        wait_for_health(process, f"http://127.0.0.1:{port}")

    process, _ = listening(start, ready)
    try:
        assert resource.prlimit(process.pid, resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_help_documents_every_option_with_its_default() -> None:
    result = run("serve", "--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--seed", "--agents", "--fidelity"):
        assert option in result.stdout
    assert "default: 127.0.0.1" in result.stdout
    assert "default: 8283" in result.stdout


def test_version_prints_the_package_version() -> None:
    from mockserver import __version__

    result = run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"letta-mock {__version__}")


def test_serve_answers_the_health_check(served: tuple[subprocess.Popen[str], int, str]) -> None:
    _, port, _ = served
    response = httpx.get(f"http://127.0.0.1:{port}/v1/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_serve_answers_the_messages_api(served: tuple[subprocess.Popen[str], int, str]) -> None:
    _, port, _ = served
    agent = "agent-123e4567-e89b-42d3-8456-426614174000"
    response = httpx.post(f"http://127.0.0.1:{port}/v1/agents/{agent}/messages", json={"input": "hi"})
    assert response.status_code == 200
    assert response.json()["stop_reason"]["stop_reason"] == "end_turn"


def test_serve_announces_where_it_listens(served: tuple[subprocess.Popen[str], int, str]) -> None:
    _, port, banner = served
    assert f"http://127.0.0.1:{port}" in banner


def test_serve_binds_only_the_loopback_address_by_default(served: tuple[subprocess.Popen[str], int, str]) -> None:
    # Linux routes all of 127.0.0.0/8 to lo: a server bound to 0.0.0.0 would accept on 127.0.0.2 as well.
    _, port, _ = served
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.2", port), timeout=5):
        pass


def test_serve_shuts_down_gracefully_when_terminated() -> None:
    process, port = serve()
    try:
        assert wait_for_health(process, f"http://127.0.0.1:{port}").status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    # uvicorn finishes its shutdown, then re-raises SIGTERM so the exit status still says what stopped it.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Finished server process" in stderr
    assert "Traceback" not in stderr


def test_a_bad_agent_id_is_a_clear_usage_error() -> None:
    result = run("serve", "--agents", "agent-123")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("letta-mock: error:")
    assert "'agent-123'" in result.stderr
    assert "agent-<uuid4>" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_fidelity_is_a_usage_error() -> None:
    result = run("serve", "--fidelity", "perfect")
    assert result.returncode == 2
    assert "invalid choice: 'perfect'" in result.stderr
