"""The official TypeScript SDK against the live mock: tests/node/sdk.test.mjs (node's own test runner) drives every
agents.messages method, conversations, runs and messages, iterating streams and auto-paginating. ``npm ci``
installs the SDK pinned by tests/node/package-lock.json once per session. Skipped only when Node.js is absent."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
SUITE = NODE_DIR / "sdk.test.mjs"


@pytest.fixture(scope="session")
def node_sdk() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js is not installed (node and npm are needed for the TypeScript SDK test)")
    installed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_DIR, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
    return Path(node)


def test_the_typescript_sdk_drives_every_method_against_the_mock(node_sdk: Path, letta_mock_url: str) -> None:
    run_suite(node_sdk, letta_mock_url, SUITE)


def run_suite(node_sdk: Path, letta_mock_url: str, suite: Path) -> None:
    """Run a node test file of tests/node against the mock: every test in it passes."""
    result = subprocess.run(
        [str(node_sdk), "--test", "--test-reporter=tap", suite.name],
        cwd=NODE_DIR, env={**os.environ, "LETTA_MOCK_URL": letta_mock_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    tests = len(re.findall(r"^test\(", suite.read_text(), flags=re.MULTILINE))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f"# pass {tests}\n" in result.stdout, result.stdout[-3000:]
    assert "# fail 0\n" in result.stdout, result.stdout[-3000:]
