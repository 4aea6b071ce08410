"""``letta-mock record``, run as a user runs it: a subprocess in front of a live mock."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _local import LETTA_MOCK, listening, still_running, unused_port

from mockserver import create_app
from mockserver.recording.format import load_fixture

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
KEY = "sk-let-cli-test-6c1d0e9f8a7b"


def record(*args: str) -> tuple[subprocess.Popen[str], int, str]:
    """``letta-mock record ARGS`` on a free port, listening; its process, port and banner."""
    banners: list[str] = []

    def start(port: int) -> subprocess.Popen[str]:
        command = [LETTA_MOCK, "record", *args, "--port", str(port)]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ready(process: subprocess.Popen[str], port: int) -> None:
        assert process.stdout is not None
        banners.append(process.stdout.readline())  # printed once the upstream was asked for its version
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            still_running(process)
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.01)
        raise AssertionError(f"nothing listens on {port}")

    process, port = listening(start, ready)
    return process, port, banners[-1]


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err


def test_record_writes_each_exchange_and_says_how_many_when_it_stops(
    serve: Callable[[Any], str], tmp_path: Path
) -> None:
    upstream = serve(create_app(seed=1))
    process, port, banner = record("--upstream", upstream, "--out", str(tmp_path / "rec"))
    try:
        assert f"recording proxy on http://127.0.0.1:{port} -> {upstream} (Letta 0.16.8), mode new_episodes" in banner
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
    process, port, _ = record("--upstream", upstream, "--out", str(tmp_path))
    try:
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
    with unused_port() as port:  # it refuses the directory before it binds anything
        corrupt = run("--upstream", "http://127.0.0.1:9", "--out", str(tmp_path), "--port", str(port))
    assert corrupt.returncode == 2
    assert "0001-x.json: not a letta-mock fixture" in corrupt.stderr
    assert run("--help").stdout.count("new_episodes") >= 2
