"""The public API: the names users import are exactly these, each imports, and the docs use only them.

As httpx's ``tests/test_exported_members.py``: changing the public surface is a decision, made here on purpose.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from _local import ROOT

import mockserver
import mockserver.authored
import strategies

MOCKSERVER = [
    "create_app",
    "openapi_document",
    "Call",
    "Calls",
    "LettaMockClient",
    "LettaMockSyncClient",
    "in_process_sdk_client",
    "LiveServer",
    "MockServerError",
    "MESSAGES_OPERATIONS",
    "letta_schema",
    "ConfigurationError",
    "LettaMockError",
    "__version__",
]
STRATEGIES = [
    "agent_ids", "message_dates", "message_ids", "run_ids", "step_ids", "texts", "tool_arguments", "tool_call_ids",
    "tool_names", "approval_returns", "image_contents", "input_content_parts", "message_content_parts",
    "omitted_reasoning_contents", "reasoning_contents", "redacted_reasoning_contents", "summarized_reasoning_contents",
    "text_contents", "tool_call_contents", "tool_call_deltas", "tool_calls", "tool_return_contents", "tool_returns",
    "user_content_parts", "approval_request_messages", "approval_response_messages", "assistant_messages",
    "event_messages", "hidden_reasoning_messages", "messages", "reasoning_messages", "summary_messages",
    "system_messages", "token_chunks", "tool_call_messages", "tool_return_messages", "user_messages",
    "error_messages", "pings", "stop_reasons", "stream_events", "usage_statistics", "letta_responses", "runs",
    "approval_creates", "client_tools", "letta_async_requests", "letta_requests", "letta_streaming_requests",
    "message_creates", "tool_return_creates", "FAULTS", "FaultyTranscript", "TranscriptEvent", "decode_transcript",
    "encode_transcript", "faulty_sse_transcripts", "reassemble", "sse_transcripts", "authored_turns",
    "example_for_seed", "register_type_strategies",
]  # fmt: skip
# Authored turns are written with a builder of their own, a public module as Letta's shapes are: its ``Call`` is a
# tool call in a turn, not ``mockserver.Call`` (a call the journal recorded).
AUTHORED = ["Call", "Match", "MatchRule", "RulesInvalid", "Step", "Turn"]
# Modules a user may import by name besides the packages: Letta's shapes, the authored-turns builder, and the pytest
# plugin's entry point.
PUBLIC_MODULES = {"mockserver", "mockserver.models", "mockserver.authored", "mockserver.pytest_plugin", "strategies"}


@pytest.mark.parametrize(
    ("package", "names"), [(mockserver, MOCKSERVER), (mockserver.authored, AUTHORED), (strategies, STRATEGIES)]
)
def test_the_public_names_are_exactly_these_and_each_imports(package: object, names: list[str]) -> None:
    assert package.__all__ == names  # type: ignore[attr-defined]
    for name in names:
        assert getattr(package, name) is not None, name
    assert set(names) <= set(dir(package))


def test_the_strategies_export_nothing_else() -> None:
    # Their modules are private by name (``strategies._messages``): what is not in __all__ is not theirs to use.
    # Names that are not identifiers are no one's to import: pytest's assertion rewriting adds "@py_builtins" to a
    # package installed with the plugin's distribution (a non-editable install, as on a fresh clone).
    names = [n for n in dir(strategies) if n.isidentifier()]
    assert sorted(n for n in names if not n.startswith("_") and n not in strategies.__all__) == []


def test_importing_the_package_loads_neither_the_app_nor_the_fuzzer() -> None:
    code = (
        "import sys, mockserver\n"
        "print(sorted(m for m in ('starlette', 'schemathesis', 'mockserver.app') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'create_ap'"):
        mockserver.create_ap  # type: ignore[attr-defined]  # noqa: B018


IMPORTED = re.compile(r"(?:from|import)\s+(mockserver(?:\.\w+)*|strategies(?:\.\w+)*)")
NAMED = re.compile(r"`(mockserver(?:\.\w+)+)")


@pytest.mark.parametrize("path", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name)
def test_the_docs_send_users_to_public_names_only(path: object) -> None:
    text = path.read_text()  # type: ignore[attr-defined]
    used = set(IMPORTED.findall(text)) | set(NAMED.findall(text))
    assert used <= PUBLIC_MODULES | {f"mockserver.{name}" for name in MOCKSERVER}, sorted(used - PUBLIC_MODULES)
