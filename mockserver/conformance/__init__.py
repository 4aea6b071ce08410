"""``letta-mock conformance``: does the mock still answer like a given Letta server?

One fixed session of official-SDK calls (``session``) is run against the server and against the mock in its
``--fidelity server`` profile; every exchange is recorded as the SDK read it (``recorder``) and the two recordings
are compared status by status and shape by shape (``shapes``, ``compare``). The ``real_letta`` test tier runs the
same session against the real Letta 0.16.8 and asserts there is no difference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mockserver.conformance.compare import Difference, Report, compare
from mockserver.conformance.recorder import Exchange, Recorder
from mockserver.conformance.session import STEPS, Outcome, run_session
from mockserver.rules import CONTRACT, Rules

__all__ = [
    "DEFAULT_EMBEDDING",
    "DEFAULT_MODEL",
    "DEFAULT_PROFILE_DIFFERENCES",
    "STEPS",
    "Conformance",
    "Difference",
    "Exchange",
    "Recording",
    "Report",
    "compare",
    "conform",
    "documented",
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


@dataclass
class Conformance:
    """The session against a server and against the mock, and what differs."""

    server: Recording
    mock: Recording
    report: Report


def conform(
    url: str,
    *,
    fidelity: str = "server",
    api_key: str | None = None,
    headers: dict[str, str] | None = None,
    model: str = DEFAULT_MODEL,
    embedding: str = DEFAULT_EMBEDDING,
    timeout: float = 60.0,
) -> Conformance:
    """Run the session against the server at ``url``, then against a fresh mock of the ``fidelity`` profile on a
    free local port, and compare the two."""
    from mockserver.live import LiveServer

    options = {"api_key": api_key, "headers": headers, "model": model, "embedding": embedding, "timeout": timeout}
    server = record_session(url, **options)  # type: ignore[arg-type]
    # The reference mock's tools run at once: only shapes are compared, and the command should not wait for them.
    with LiveServer(seed=1, fidelity=fidelity, created_tool_ms=0) as mock_server:
        mock = record_session(mock_server.url, **options)  # type: ignore[arg-type]
    return Conformance(server, mock, compare(server.exchanges, mock.exchanges))


# Where the default profile (the contract as Letta's document states it) answers otherwise than the real server,
# on purpose. The server profile has none of these.
_REPLY = (
    "the real server renders a letta_v1_agent's reply as a reasoning_message (wire doc §18.8); the default "
    "profile lists the message as it is stored"
)
_SUMMARY = (
    "the real server lists a compaction's summary as a user message packing it (wire doc §17.5); the default "
    "profile lists the summary_message of Letta's document"
)
# (operation, a regular expression the difference matches from its start, why, the field of ``rules.Rules`` that
# the server profile turns on to answer as the real server does)
DEFAULT_PROFILE_DIFFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("retrieve_message", r"\$\[(assistant|reasoning)_message\]|messages in order: the server sent "
     r"\['reasoning_message'\], the mock \['assistant_message'\]", _REPLY, "reply_as_reasoning"),
    ("search_all_messages", "", "a self-hosted Letta without Turbopuffer refuses message search (400); the default "
     "profile searches", "search_needs_turbopuffer"),
    ("list_messages", r"\$\[(summary|user)_message\]|messages in order: .*'user_message'\], the mock .*"
     r"'summary_message'\]$", _SUMMARY, "packed_summary"),
    ("list_steps_for_run", r"\$\[\]\.organization_id", "the real server sends a step's organization_id, which its "
     "document's Step does not allow", "steps_name_organization"),
)  # fmt: skip


def documented(difference: Difference, rules: Rules = CONTRACT) -> str | None:
    """Why a mock under ``rules`` (default: the default profile's) differs so, if it is one of
    ``DEFAULT_PROFILE_DIFFERENCES`` and its rule is off there (the server profile's are all on: it has none)."""
    for operation, pattern, why, rule in DEFAULT_PROFILE_DIFFERENCES:
        if difference.operation == operation and re.match(pattern, difference.what) and not getattr(rules, rule):
            return why
    return None
