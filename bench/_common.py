"""What the benchmark scripts share: finding the CLI and a free loopback port (scripts run as ``python bench/x.py``,
so this folder is on ``sys.path``)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"  # benchmarks only ever talk to loopback


def free_port() -> int:
    """A port the kernel considers free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def default_cli() -> str:
    """``letta-mock`` next to the running interpreter (the venv), else the first on PATH."""
    beside = Path(sys.executable).parent / "letta-mock"
    if beside.exists():
        return str(beside)
    found = shutil.which("letta-mock")
    if found is None:
        sys.exit("letta-mock not found next to this interpreter or on PATH; pass --cli")
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server process: SIGTERM, then SIGKILL if it has not gone within 5 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(url: str, script: str, *, connections: int, seconds: float, threads: int = 1) -> dict[str, Any]:
    """Run wrk with a Lua ``script`` whose ``done`` prints one ``WRKJSON {...}`` line; that line's figures."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
               "--latency", "-s", script, url]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    match = re.search(r"^WRKJSON (.*)$", output.stdout, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no figures from wrk:\n{output.stdout}\n{output.stderr}")
    figures: dict[str, Any] = json.loads(match.group(1))
    return figures
