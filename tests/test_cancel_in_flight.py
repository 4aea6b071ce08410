"""A run a client can catch in flight: the server tools of an agent a client created take Letta's order of time
(``created_tool_ms``, 2 s by default), so a cancel sent meanwhile lands while the run is active — as Letta's own
tests expect — while every other turn stays instant. A tool that started runs to its end and is reported; the run
stops at the next step, cancelled (Letta stops between steps)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from _sdk import make_letta
from contract import ContractChecker
from letta_client import Letta
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.config import CREATED_TOOL_MS, MockConfig
from mockserver.errors import ConfigurationError

TOOL = '''def roll_dice(num_sides: int) -> str:
    """Roll a die.

    Args:
        num_sides: how many sides
    """
    return "4"
'''
MODEL = {"model": "openai/gpt-4o-mini", "embedding": "openai/text-embedding-3-small"}
TOOL_MS = 600  # long enough to cancel in, short enough for the default tier


@pytest.fixture
def letta(serve: Callable[[Starlette], str]) -> Iterator[Letta]:
    with make_letta(serve(create_app(seed=3, created_tool_ms=TOOL_MS)), strict=True,
                    checker=ContractChecker()) as client:  # fmt: skip
        yield client


def created_agent_with_a_tool(letta: Letta) -> str:
    tool = letta.tools.create(source_code=TOOL)
    return letta.agents.create(name="dice", tool_ids=[tool.id], **MODEL).id


def cancel_later(letta: Letta, agent_id: str, delay: float = 0.2) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), letta.agents.messages.cancel(agent_id)))
    thread.start()
    return thread


def test_a_tool_turn_cancelled_in_flight_reports_its_tool_and_stops_cancelled(letta: Letta) -> None:
    agent_id = created_agent_with_a_tool(letta)
    canceller = cancel_later(letta, agent_id)
    answer = letta.agents.messages.create(agent_id, input="Call the roll_dice tool with 6 sides")
    canceller.join()
    assert [m.message_type for m in answer.messages] == ["tool_call_message", "tool_return_message"]
    assert answer.stop_reason.stop_reason == "cancelled"
    run = letta.runs.retrieve(str(answer.messages[0].run_id))
    assert (run.status, run.stop_reason) == ("cancelled", "cancelled")
    listed = [m.message_type for m in letta.agents.messages.list(agent_id, limit=3)]
    assert listed == ["user_message", "tool_call_message", "tool_return_message"]  # no second step


def test_a_background_stream_cancelled_in_flight_ends_cancelled_and_resumes_so(letta: Letta) -> None:
    agent_id = created_agent_with_a_tool(letta)
    canceller = cancel_later(letta, agent_id)
    events = list(letta.agents.messages.create(agent_id, input="Call the roll_dice tool", streaming=True,
                                               stream_tokens=True, background=True))  # fmt: skip
    canceller.join()
    kinds = [e.message_type for e in events]
    assert kinds[-3:] == ["tool_return_message", "stop_reason", "usage_statistics"]
    assert events[-2].stop_reason == "cancelled"
    resumed = list(letta.runs.messages.stream(str(events[0].run_id), starting_after=0))
    assert [e.stop_reason for e in resumed if e.message_type == "stop_reason"] == ["cancelled"]


def test_an_async_run_is_active_while_its_tool_runs(letta: Letta) -> None:
    agent_id = created_agent_with_a_tool(letta)
    run = letta.agents.messages.create_async(agent_id, input="Call the roll_dice tool")
    time.sleep(0.2)
    assert letta.runs.retrieve(run.id).status in ("created", "running")
    assert letta.agents.messages.cancel(agent_id) == {run.id: "cancelled"}
    assert letta.runs.retrieve(run.id).status == "cancelled"


def test_turns_without_a_server_tool_and_the_open_world_s_turns_do_not_wait(
    serve: Callable[[Starlette], str],
) -> None:
    # Were they to wait for the tool time, these sends would outlast the SDK's 60 s timeout.
    with make_letta(serve(create_app(seed=3, created_tool_ms=120_000)), strict=True,
                    checker=ContractChecker()) as letta:  # fmt: skip
        tool = letta.tools.create(source_code=TOOL)
        agent_id = letta.agents.create(name="plain", tool_ids=[tool.id], **MODEL).id
        assert letta.agents.messages.create(agent_id, input="hello").stop_reason.stop_reason == "end_turn"
        open_world = "agent-123e4567-e89b-42d3-8456-426614174000"
        answer = letta.agents.messages.create(open_world, input="/tool web_search")
        assert "tool_return_message" in [m.message_type for m in answer.messages]
        assert answer.stop_reason.stop_reason == "end_turn"


def test_the_setting_defaults_to_letta_s_order_of_time_and_refuses_nonsense() -> None:
    assert CREATED_TOOL_MS == 2000
    assert MockConfig.build().created_tool_ms == 2000
    for wrong in (-1, 1.5, True):
        with pytest.raises(ConfigurationError, match="created_tool_ms"):
            create_app(created_tool_ms=wrong)  # type: ignore[arg-type]
