"""A port in use (issue 15, item 3): ``serve`` and ``record`` bind before they announce anything, and a clash is one
line naming the port, who answers there when it can tell, and ``--port`` — exit 2, no banner, no traceback."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest
from _local import LETTA_MOCK
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockserver.live import LiveServer


@pytest.fixture
def held() -> Iterator[int]:
    """A port another program holds: bound and listening, never answering."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def letta_like() -> Starlette:
    """What a real Letta server says about itself on the two addresses letta-mock asks."""
    return Starlette(routes=[
        Route("/openapi.json", lambda _: JSONResponse({"openapi": "3.1.0", "info": {"title": "Letta API"}})),
        Route("/v1/health/", lambda _: JSONResponse({"version": "0.16.8", "status": "ok"})),
    ])  # fmt: skip


def clash(command: str, port: int) -> subprocess.CompletedProcess[str]:
    extra = ["--upstream", "http://127.0.0.1:9", "--out", "unused"] if command == "record" else []
    return subprocess.run([LETTA_MOCK, command, *extra, "--port", str(port)], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


def assert_one_line(result: subprocess.CompletedProcess[str], port: int, who: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""  # no banner, no dashboard address: nothing was served
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # no traceback, no uvicorn log
    assert lines[0].startswith(f"letta-mock: error: port {port} on 127.0.0.1 is in use ({who}); choose another with "
                               "--port (")  # fmt: skip
    free = int(lines[0].rsplit("(", 1)[1].split()[0])
    assert free > port  # a port that was free when it looked


@pytest.mark.parametrize("command", ["serve", "record"])
def test_a_port_another_program_holds_is_one_line_and_exit_2(command: str, held: int) -> None:
    assert_one_line(clash(command, held), held, "another program holds it")


def test_a_port_a_letta_server_holds_says_so() -> None:
    with LiveServer(letta_like()) as letta:
        assert_one_line(clash("serve", letta.port), letta.port, "a Letta server (0.16.8) answers there")


def test_a_port_letta_mock_holds_says_so() -> None:
    with LiveServer() as mock:
        assert_one_line(clash("serve", mock.port), mock.port, "letta-mock answers there")
