"""The official TypeScript SDK against authored turns (tests/node/authored.test.mjs): the README's rule installed
through the admin API; a JSON send, a token stream, an approval round trip. Skipped only when Node.js is absent."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from test_node_sdk import NODE_DIR, node_sdk

__all__ = ["node_sdk"]

SUITE = NODE_DIR / "authored.test.mjs"


def test_the_typescript_sdk_reads_authored_turns(node_sdk: Path, letta_mock_url: str) -> None:
    result = subprocess.run(
        [str(node_sdk), "--test", "--test-reporter=tap", SUITE.name],
        cwd=NODE_DIR, env={**os.environ, "LETTA_MOCK_URL": letta_mock_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    tests = len(re.findall(r"^test\(", SUITE.read_text(), flags=re.MULTILINE))
    failures = "\n".join(re.findall(r"^not ok .*?\n(?:  .*\n)*", result.stdout, flags=re.MULTILINE))
    assert result.returncode == 0, (failures or result.stdout[-6000:]) + result.stderr[-2000:]
    assert f"# pass {tests}\n" in result.stdout, result.stdout[-3000:]
    assert "# fail 0\n" in result.stdout, result.stdout[-3000:]
