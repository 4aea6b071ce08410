"""Which of Letta's own tests the harness runs: the tests of the files whose subject is the messages,
conversations and runs API, less the groups excluded below (each with its reason), are the *selection*; it is
recorded as node ids in ``selection.txt`` (with the baseline against real Letta in its header) and every test in it
passed against the real Letta 0.16.8 server with the stub LLM when it was written.

``baseline.json`` beside it holds what each selected test asked of real Letta (its endpoints, in first-use order),
so a run against another server can tell which endpoints the selection needs that the server does not route.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "BASELINE_FILE",
    "CANDIDATE_FILES",
    "EXCLUDED",
    "SELECTION_FILE",
    "choose",
    "read_baseline",
    "read_selection",
    "write_baseline",
    "write_selection",
]

HERE = Path(__file__).resolve().parent
SELECTION_FILE = HERE / "selection.txt"
BASELINE_FILE = HERE / "baseline.json"

# Letta 0.16.8's tests whose subject is the messages, conversations and runs API, and the agents, tools and blocks
# around them, over HTTP.
CANDIDATE_FILES = (
    "integration_test_conversations_sdk.py",
    "integration_test_human_in_the_loop.py",
    "integration_test_send_message.py",
    "integration_test_send_message_v2.py",
    "integration_test_client_side_tools.py",
    "integration_test_cancellation.py",
    "integration_test_usage_tracking.py",
    "integration_test_override_model.py",
    "integration_test_multi_modal_tool_returns.py",
    "test_sdk_client.py",
    "sdk/tools_test.py",
    "sdk/blocks_test.py",
)
# Files of that subject left out whole (never collected here).
_DATABASE = "its fixtures reach into Letta's database in the test process (setup fails against a server elsewhere)"
EXCLUDED_FILES = {
    "integration_test_summarizer.py": "drives Letta's summarizer in-process (SyncServer, Letta's database), not "
    "over HTTP; its API-level compaction cases are in conversations_sdk's TestConversationCompact",
    "integration_test_agent_tool_graph.py": _DATABASE,
    "test_client.py": _DATABASE,
    "sdk/agents_test.py": "its create test checks the model handle it sent, which the harness moves to the served "
    "model, and the rest of the file needs what that test created",
}

# Groups of candidate tests left out, as fnmatch patterns over node ids, each with its one-line reason. The stub
# LLM (tests/real_letta/llm_stub.py) answers by rule, so tests of what a real model understands fail against
# real Letta too; so do tests that patch Letta's server code in their own process, which a server elsewhere never
# sees.
_IN_PROCESS = "patches Letta's server code in the test process (unittest.mock), which a server elsewhere never sees"
_MEMORY = "needs a model that remembers earlier turns; the stub answers each turn by rule"
_SYSTEM = "needs a model that follows its system prompt; the stub answers by rule"
_RACE = "races two requests into one turn; the stub's turn ends before the second arrives, so both succeed"
_CANCEL = "cancels a turn mid-stream; the stub's turn ends before the cancel arrives"
_PARALLEL = "asks the model for parallel tool calls; the stub makes one call a turn"
_SKIPS = "skips itself: marked skip in Letta 0.16.8, or for a non-reasoning model (the stub's gpt-4o-mini)"
_HANDLES = "overrides the model with a handle the stub's server does not offer (only openai-proxy/gpt-4o-mini)"
EXCLUDED: tuple[tuple[str, str], ...] = (
    ("integration_test_usage_tracking.py::*", "written for the pre-1.0 SDK (`AsyncLetta(token=...)`): setup fails"),
    ("integration_test_send_message.py::test_*agent_loop_error*", _IN_PROCESS),
    ("integration_test_human_in_the_loop.py::test_*_with_error", _IN_PROCESS),
    ("integration_test_send_message.py::test_token_streaming_*", _SKIPS),
    ("integration_test_send_message.py::test_background_token_streaming_*", _SKIPS),
    ("integration_test_send_message.py::test_inner_thoughts_toggle_interleaved*", _SKIPS),
    ("integration_test_send_message_v2.py::test_openai_prompt_cache_integration*", _SKIPS),
    ("integration_test_conversations_sdk.py::*::test_conversation_isolation", _MEMORY),
    ("integration_test_conversations_sdk.py::*::test_fork_conversation_via_rest_shares_*", _MEMORY),
    ("integration_test_conversations_sdk.py::*::test_fork_default_conversation_via_rest", _MEMORY),
    ("integration_test_client_side_tools.py::*::test_client_side_tool_full_flow*", _MEMORY),
    ("integration_test_client_side_tools.py::*::test_client_tool_overrides_server_tool*", _MEMORY),
    ("integration_test_conversations_sdk.py::*::test_*system_override_forces_response_content", _SYSTEM),
    ("integration_test_conversations_sdk.py::*::test_client_skills_are_rendered_*", _SYSTEM),
    ("integration_test_conversations_sdk.py::*::test_concurrent_messages_to_same_conversation", _RACE),
    ("integration_test_conversations_sdk.py::*::test_agent_direct_concurrent_requests_blocked", _RACE),
    ("integration_test_human_in_the_loop.py::test_approve_with_cancellation", _CANCEL),
    ("integration_test_human_in_the_loop.py::test_retry_with_summarization", _CANCEL),
    ("integration_test_human_in_the_loop.py::test_parallel_tool_calling", _PARALLEL),
    ("integration_test_send_message_v2.py::test_parallel_tool_calls*", _PARALLEL),
    (
        "integration_test_human_in_the_loop.py::test_invoke_tool_after_turning_off_requires_approval",
        "counts a real model's messages after a tool call (6 to 9); the stub's turn has 5",
    ),
    (
        "integration_test_human_in_the_loop.py::test_client_side_tool_call_request",
        "expects the model to repeat the client tool's return in an assistant message",
    ),
    (
        "integration_test_send_message.py::test_auto_summarize*",
        "needs a real model's context to fill (long turns) before Letta summarizes",
    ),
    ("sdk/*_test.py::test_list*", "runs after test_delete removed what it lists, and finds none (real Letta too)"),
    ("sdk/*_test.py::test_upsert?NOTSET?", _SKIPS),
    ("test_sdk_client.py::test_modify_message", _SKIPS),
    ("test_sdk_client.py::test_list_groups_for_agent", _SKIPS),
    ("test_sdk_client.py::test_preview_payload", _SKIPS),
    ("test_sdk_client.py::test_list_all_messages", _SKIPS),
    ("test_sdk_client.py::test_shared_blocks", "needs a model that edits its memory blocks on its own"),
    ("test_sdk_client.py::test_pydantic_*", "needs a model that calls a tool with structured arguments on its own"),
    ("integration_test_override_model.py::*::test_override_model_*cross_provider", _HANDLES),
    ("integration_test_override_model.py::*::test_override_model_changes_model_used", _HANDLES),
    ("integration_test_override_model.py::*::test_override_model_streaming", _HANDLES),
    ("integration_test_override_model.py::*::test_override_model_async", _HANDLES),
    ("integration_test_override_model.py::*::test_override_model_conversation", _HANDLES),
    ("integration_test_override_model.py::*::test_multiple_override_models_in_sequence", _HANDLES),
    ("integration_test_override_model.py::*::test_override_model_does_not_modify_agent_state", _HANDLES),
    (
        "integration_test_multi_modal_tool_returns.py::*::test_model_can_see_image_in_tool_return*",
        "needs a model that reads the text in an image",
    ),
)


def choose(collected: Iterable[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The selected node ids of ``collected`` (in order) and the excluded ones by the pattern that excludes them."""
    selected: list[str] = []
    excluded: dict[str, list[str]] = {}
    for nodeid in collected:
        pattern = next((p for p, _ in EXCLUDED if fnmatch.fnmatchcase(nodeid, p)), None)
        if pattern is None:
            selected.append(nodeid)
        else:
            excluded.setdefault(pattern, []).append(nodeid)
    return selected, excluded


def read_selection(path: Path = SELECTION_FILE) -> list[str]:
    """The node ids of a selection file (one a line; ``#`` starts a comment line)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def write_selection(path: Path, selected: list[str], excluded: dict[str, list[str]], header: list[str]) -> None:
    out = [f"# {line}" if line else "#" for line in header]
    out += ["#", "# Excluded (number of tests, pattern: reason):"]
    out += [f"#   all  {name}: {why}" for name, why in EXCLUDED_FILES.items()]
    for pattern, why in EXCLUDED:
        count = len(excluded.get(pattern, []))
        if count:
            out.append(f"#   {count:>3}  {pattern}: {why}")
    out += ["", *selected]
    path.write_text("\n".join(out) + "\n")


def read_baseline(path: Path = BASELINE_FILE) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    data: dict[str, list[str]] = json.loads(path.read_text())["endpoints"]
    return data


def write_baseline(path: Path, endpoints: dict[str, list[str]], about: dict[str, object]) -> None:
    path.write_text(json.dumps({**about, "endpoints": endpoints}, indent=1, sort_keys=True) + "\n")
