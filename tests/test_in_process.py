"""A synchronous in-process client (issue 15, item 9): the official SDK's ``Letta(http_client=...)`` on the mock with
no socket — ``mockserver.testing.LettaMockSyncClient`` and the plugin's ``letta_mock_http_client`` /
``letta_mock_inprocess_client`` — strict, streams included, event by event."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import letta_client
import pytest
from contract import ContractChecker
from letta_client import Letta

from mockserver import create_app
from mockserver.testing import IN_PROCESS_URL, LettaMockSyncClient


@pytest.fixture(autouse=True)
def no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection a test here tried to open would fail it: in process means no socket."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a socket connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def test_the_official_sdk_strict_on_the_in_process_mock(
    letta_mock_inprocess_client: Letta, letta_mock_agent_id: str, letta_mock_journal: Any
) -> None:
    client = letta_mock_inprocess_client
    assert client._strict_response_validation
    reply = client.agents.messages.create(letta_mock_agent_id, input="hello")
    assert [m.message_type for m in reply.messages] == ["reasoning_message", "assistant_message"]
    assert reply.stop_reason.stop_reason == "end_turn"
    history = [m.message_type for m in client.agents.messages.list(letta_mock_agent_id)]  # auto-paginated
    assert history == ["system_message", "user_message", "reasoning_message", "assistant_message"]
    letta_mock_journal.assert_called_once_with("send_message", input="hello")


@pytest.mark.letta_mock(scenario="tool_call", seed=3)
def test_a_stream_through_the_in_process_client_is_what_the_sdk_parses_strictly(
    letta_mock_inprocess_client: Letta, letta_mock_agent_id: str
) -> None:
    stream = letta_mock_inprocess_client.agents.messages.create(
        letta_mock_agent_id, input="weather?", streaming=True, stream_tokens=True
    )
    events = [event.message_type for event in stream]
    assert events[0] == "ping"
    assert "tool_call_message" in events
    assert "tool_return_message" in events
    assert events[-2:] == ["stop_reason", "usage_statistics"]
    stored = [m.message_type for m in letta_mock_inprocess_client.agents.messages.list(letta_mock_agent_id)]
    assert stored[-1] == "assistant_message"


def test_every_answer_fits_letta_s_document() -> None:
    checker = ContractChecker()
    with LettaMockSyncClient(create_app(seed=2), event_hooks={"response": [checker.sync_hook]}) as http:
        client = Letta(base_url=IN_PROCESS_URL, api_key="test", http_client=http, _strict_response_validation=True)
        agent = "agent-123e4567-e89b-42d3-8456-426614174000"
        client.agents.messages.create(agent, input="hi")
        list(client.agents.messages.create(agent, input="/tool web_search", streaming=True))
        list(client.agents.messages.list(agent))
        client.agents.messages.reset(agent)
    assert checker.checked == 5  # the listing auto-paginates: two pages


@pytest.mark.letta_mock(controls="fault=silent_stall_after:2; stall_ms=60000")
def test_a_stream_arrives_event_by_event_and_closing_it_hangs_up(
    letta_mock_inprocess_client: Letta, letta_mock_agent_id: str, letta_mock_journal: Any
) -> None:
    # The stream stalls for a minute after two events: they arrive while it is still open, and closing it ends it.
    started = time.monotonic()
    stream = letta_mock_inprocess_client.agents.messages.create(letta_mock_agent_id, input="hi", streaming=True)
    events = iter(stream)
    assert [next(events).message_type, next(events).message_type] == ["ping", "reasoning_message"]
    assert letta_mock_journal.last.response.state == "open"  # still streaming: nothing was buffered to its end
    stream.close()
    assert time.monotonic() - started < 30  # not the stall's minute
    reply = letta_mock_inprocess_client.agents.messages.list(letta_mock_agent_id)  # the client goes on
    assert [m.message_type for m in reply][-1] == "assistant_message"  # the turn ran on: a fault is the response's


def test_a_background_run_goes_on_between_requests(
    letta_mock_inprocess_client: Letta, letta_mock_agent_id: str
) -> None:
    run = letta_mock_inprocess_client.agents.messages.create_async(letta_mock_agent_id, input="later")
    for _ in range(200):
        if letta_mock_inprocess_client.runs.retrieve(run.id).status == "completed":
            break
        time.sleep(0.01)
    assert letta_mock_inprocess_client.runs.retrieve(run.id).status == "completed"


@pytest.mark.letta_mock(auth_token="s3cret-token")
def test_the_in_process_clients_carry_the_mock_s_token(
    letta_mock_inprocess_client: Letta, letta_mock_http_client: LettaMockSyncClient, letta_mock_agent_id: str
) -> None:
    assert letta_mock_inprocess_client.agents.messages.create(letta_mock_agent_id, input="hi").messages
    assert letta_mock_http_client.get("/_mock/journal").status_code == 200
    assert letta_mock_http_client.get("/_mock/journal", headers={"authorization": "Bearer no"}).status_code == 401


def test_the_mock_s_own_failure_reaches_the_sdk_as_a_500_and_the_plugin_keeps_it(
    letta_mock_inprocess_client: Letta, letta_mock_app: Any, letta_mock_agent_id: str, letta_mock_errors: Any
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the store exploded")

    letta_mock_app.state.store.add_message = explode
    with pytest.raises(letta_client.InternalServerError):
        letta_mock_inprocess_client.with_options(max_retries=0).agents.messages.create(letta_mock_agent_id, input="x")
    [record] = letta_mock_errors.take()  # logged on the client's own thread, which the plugin watches
    assert record.exc_info[1].args == ("the store exploded",)


def test_closing_the_client_stops_its_thread() -> None:
    http = LettaMockSyncClient(create_app())
    assert http.get("/v1/health/").json()["status"] == "ok"
    assert http.thread_name in {t.name for t in threading.enumerate()}
    http.close()
    assert http.thread_name not in {t.name for t in threading.enumerate()}
