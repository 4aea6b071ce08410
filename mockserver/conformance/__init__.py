"""``letta-mock conformance``: does the mock still answer like a given Letta server?

One fixed session of official-SDK calls (``session``) is run against the server and against the mock in its
``--fidelity server`` profile; every exchange is recorded as the SDK read it (``recorder``) and the two recordings
are compared status by status and shape by shape (``shapes``, ``compare``). The ``real_letta`` test tier runs the
same session against the real Letta 0.16.8 and asserts there is no difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.conformance.compare import Difference, Report, compare
from mockserver.conformance.recorder import Exchange, Recorder
from mockserver.conformance.session import STEPS, Outcome, run_session

__all__ = [
    "DEFAULT_EMBEDDING",
    "DEFAULT_MODEL",
    "STEPS",
    "Difference",
    "Exchange",
    "Recording",
    "Report",
    "compare",
    "record_session",
]

DEFAULT_MODEL = "openai-proxy/gpt-4o-mini"
DEFAULT_EMBEDDING = "openai/text-embedding-3-small"


@dataclass
class Recording:
    """One run of the session against one server: every exchange, and how each step ended."""

    url: str
    exchanges: list[Exchange]
    outcomes: list[Outcome]


def record_session(
    url: str,
    *,
    api_key: str | None = None,
    headers: dict[str, str] | None = None,
    model: str = DEFAULT_MODEL,
    embedding: str = DEFAULT_EMBEDDING,
    timeout: float = 60.0,
) -> Recording:
    """Run the session against the server at ``url`` with the official SDK (no retries: the first answer counts)."""
    import httpx
    from letta_client import Letta

    recorder = Recorder(httpx.HTTPTransport())
    client: Any = Letta(
        base_url=url.rstrip("/"),
        api_key=api_key or "letta-mock-conformance",
        max_retries=0,
        timeout=timeout,
        default_headers=headers or None,
        http_client=httpx.Client(transport=recorder, timeout=timeout),
    )
    try:
        outcomes = run_session(client, recorder, model=model, embedding=embedding)
    finally:
        client.close()
    return Recording(url, recorder.exchanges, outcomes)
