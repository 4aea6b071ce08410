"""``letta-mock record``, run as a user runs it: a subprocess in front of a live mock."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mockserver import create_app
from mockserver.recording.format import load_fixture

LETTA_MOCK = str(Path(sys.executable).with_name("letta-mock"))
AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
KEY = "sk-let-cli-test-6c1d0e9f8a7b"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([LETTA_MOCK, "record", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    assert process.stdout is not None
    banner = process.stdout.readline()  # printed once the upstream was asked for its version
    assert banner, process.stderr.read() if process.stderr else ""
    return process, banner


def wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.01)
    raise AssertionError(f"nothing listens on {port}")


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err


def test_record_writes_each_exchange_and_says_how_many_when_it_stops(
    serve: Callable[[Any], str], tmp_path: Path
) -> None:
    upstream = serve(create_app(seed=1))
    port = free_port()
    process, banner = start("--upstream", upstream, "--out", str(tmp_path / "rec"), "--port", str(port))
    try:
        assert f"recording proxy on http://127.0.0.1:{port} -> {upstream} (Letta 0.16.8), mode new_episodes" in banner
        wait_until_listening(port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"authorization": f"Bearer {KEY}"}) as client:
            assert client.post(f"/v1/agents/{AGENT}/messages", json={"input": "hi"}).status_code == 200
            stream = client.post(f"/v1/agents/{AGENT}/messages", json={"input": "hi", "streaming": True})
            assert stream.text.endswith("data: [DONE]\n\n")
    finally:
        code, out, err = stop(process)
    assert code == 0, err
    assert "2 file(s) written" in out
    files = sorted((tmp_path / "rec").iterdir())
    assert [f.name for f in files] == ["0001-post-agents-messages.json", "0002-post-agents-messages.json"]
    fixture = load_fixture(files[0])
    assert fixture.server_version == "0.16.8"
    assert fixture.spec_sha256 is not None
    assert len(fixture.spec_sha256) == 64
    assert all(KEY not in f.read_text() for f in files)


def test_record_exits_1_when_it_refused_to_write_a_file(serve: Callable[[Any], str], tmp_path: Path) -> None:
    upstream = serve(create_app(seed=1))
    port = free_port()
    process, _ = start("--upstream", upstream, "--out", str(tmp_path), "--port", str(port))
    try:
        wait_until_listening(port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"authorization": f"Bearer {KEY}"}) as client:
            assert client.post(f"/v1/agents/{AGENT}/messages", json={"input": KEY}).status_code == 200
    finally:
        code, out, err = stop(process)
    assert code == 1
    assert "0 file(s) written" in out
    assert "refused: POST /v1/agents/" in err
    assert KEY not in err
    assert list(tmp_path.iterdir()) == []


def test_record_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([LETTA_MOCK, "record", *args], capture_output=True, text=True, timeout=60, check=False)

    same = run("--upstream", "http://127.0.0.1:8283", "--out", str(tmp_path), "--port", "8283")
    assert same.returncode == 2
    assert "cannot listen on its upstream's port 8283" in same.stderr
    bad = run("--upstream", "ftp://example.com", "--out", str(tmp_path))
    assert bad.returncode == 2
    assert "upstream must be an http(s) URL" in bad.stderr
    (tmp_path / "0001-x.json").write_text("[]")
    corrupt = run("--upstream", "http://127.0.0.1:9", "--out", str(tmp_path), "--port", str(free_port()))
    assert corrupt.returncode == 2
    assert "0001-x.json: not a letta-mock fixture" in corrupt.stderr
    assert run("--help").stdout.count("new_episodes") >= 2
