"""The official TypeScript SDK against authored turns (tests/node/authored.test.mjs): the README's rule installed
through the admin API; a JSON send, a token stream, an approval round trip. Skipped only when Node.js is absent."""

from __future__ import annotations

from pathlib import Path

from test_node_sdk import NODE_DIR, node_sdk, run_suite

__all__ = ["node_sdk"]


def test_the_typescript_sdk_reads_authored_turns(node_sdk: Path, letta_mock_url: str) -> None:
    run_suite(node_sdk, letta_mock_url, NODE_DIR / "authored.test.mjs")
