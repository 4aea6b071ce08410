"""The real Letta 0.16.8 server (../shared/real-letta/), for the tests that compare the mock with the thing it
imitates. Mark such tests ``@pytest.mark.real_letta`` and take ``real_letta_url``.

The fixture uses ``$REAL_LETTA_URL`` when it answers; otherwise it starts the server with ``up.sh`` (idempotent:
warm ~25 s, cold ~3 min, from package registries only). A failure to *start* it skips the tests that need it, with
up.sh's reason; a failure against a started server fails them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

__all__ = ["real_letta_url"]

REAL_LETTA = Path(__file__).resolve().parents[2] / "shared" / "real-letta"
START_TIMEOUT_S = 900
# Outside $HOME: up.sh runs PostgreSQL as its own user, which cannot enter root's home directory.
CACHE = os.environ.get("REALSERVER_CACHE", "/var/tmp/real-letta")
PORT = os.environ.get("REALSERVER_PORT", "8284")  # 8283 is letta-mock's (and Letta's) default


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url.rstrip("/") + "/v1/health/", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def real_letta_url() -> str:
    given = os.environ.get("REAL_LETTA_URL")
    if given and _healthy(given):
        return given.rstrip("/")
    up = REAL_LETTA / "up.sh"
    if not up.exists():
        pytest.skip(f"the real Letta server cannot start: {up} is missing")
    environment = {**os.environ, "REALSERVER_CACHE": CACHE, "REALSERVER_PORT": PORT}
    try:
        result = subprocess.run(
            ["bash", str(up)], capture_output=True, text=True, timeout=START_TIMEOUT_S, env=environment, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"the real Letta server did not start within {START_TIMEOUT_S} s")
    lines = result.stdout.splitlines()
    url = next((line.split("=", 1)[1] for line in lines if line.startswith("REAL_LETTA_URL=")), None)
    if result.returncode != 0 or url is None or not _healthy(url):
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"the real Letta server did not start (up.sh exit {result.returncode}): {reason}")
    os.environ["REAL_LETTA_URL"] = url  # for subprocesses of the tests
    return url.rstrip("/")
