"""History as clients read it: send then list, Letta's cursor pagination as the SDKs walk it, runs, reset, compact.

Wire doc §8 (agent history), §10 (async runs and callbacks), §11 (reset), §12 (compact), §13 (runs), §14
(conversations), §18.8 (top-level messages). Every response is also checked against the OpenAPI document by the
clients' contract hook.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from _sdk import AGENT
from contract import ContractChecker
from letta_client import AsyncLetta, Letta
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockserver import LettaMockSyncClient, create_app
from mockserver.live import LiveServer

CONVERSATION = "conv-6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"


def send_turns(letta: Letta, count: int, agent_id: str = AGENT) -> None:
    for number in range(1, count + 1):
        letta.agents.messages.create(agent_id=agent_id, input=f"message {number}")


def stored_ids(items: list[Any]) -> list[str]:
    """Ids of the stored messages behind items, in first-seen order (items of one stored message share an id)."""
    return list(dict.fromkeys(item.id for item in items))


def kinds(items: list[Any]) -> list[str]:
    return [item.message_type for item in items]


def queries(responses: list[httpx.Response]) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(str(r.request.url)).query) for r in responses]


def wait_until(predicate: Callable[[], bool]) -> None:
    """Poll until ``predicate`` holds; fails (never times anything) if it does not within a generous bound."""
    for _ in range(1000):
        if predicate():
            return
        time.sleep(0.005)
    raise AssertionError("the condition never held")


# -- send then list ------------------------------------------------------------------------------------------


def test_listing_after_a_send_shows_the_system_prompt_the_input_and_the_reply(letta: Letta) -> None:
    letta.agents.messages.create(agent_id=AGENT, input="hello")
    items = list(letta.agents.messages.list(agent_id=AGENT))
    assert kinds(items) == ["system_message", "user_message", "reasoning_message", "assistant_message"]
    assert items[1].content == "hello"
    assert items[3].content == "You said: hello"


def test_listed_items_are_the_ones_the_send_returned(letta: Letta) -> None:
    response = letta.agents.messages.create(agent_id=AGENT, input="hello")
    items = list(letta.agents.messages.list(agent_id=AGENT))
    assert [m.model_dump() for m in items[-2:]] == [m.model_dump() for m in response.messages]


def test_a_streamed_turn_lists_exactly_as_it_was_streamed(letta: Letta) -> None:
    events = list(letta.agents.messages.create(agent_id=AGENT, input="hello", streaming=True))
    items = list(letta.agents.messages.list(agent_id=AGENT))
    assert [e.model_dump() for e in events[1:-2]] == [m.model_dump() for m in items[-2:]]


# -- pagination as the SDK walks it ----------------------------------------------------------------------------


def test_the_sdk_walks_the_whole_history_forwards_in_ascending_order(letta: Letta, checker: ContractChecker) -> None:
    send_turns(letta, 3)
    everything = list(letta.agents.messages.list(agent_id=AGENT, limit=100, order="asc"))
    seen: list[httpx.Response] = []
    checker.on_response = seen.append
    walked = list(letta.agents.messages.list(agent_id=AGENT, limit=2, order="asc"))
    assert [m.model_dump() for m in walked] == [m.model_dump() for m in everything]
    pages = [r.json() for r in seen]
    assert pages[-1] == []  # the SDK stops only on an empty page
    assert all(page for page in pages[:-1])
    # Each request after the first asks for what follows the last item of the page before it.
    assert [q.get("after") for q in queries(seen)] == [None] + [[page[-1]["id"]] for page in pages[:-1]]


async def test_the_async_sdk_walks_the_history_the_same_way(letta: Letta, async_letta: AsyncLetta) -> None:
    send_turns(letta, 3)
    walked = [item async for item in async_letta.agents.messages.list(agent_id=AGENT, limit=2, order="asc")]
    everything = list(letta.agents.messages.list(agent_id=AGENT, limit=100, order="asc"))
    assert [m.model_dump() for m in walked] == [m.model_dump() for m in everything]
    newest = [item async for item in async_letta.agents.messages.list(agent_id=AGENT, limit=2)]
    assert [m.model_dump() for m in newest] == [m.model_dump() for m in everything[-3:]]


def test_each_ascending_page_holds_limit_stored_messages(letta: Letta, checker: ContractChecker) -> None:
    send_turns(letta, 3)  # 7 stored messages: system, then (user, reply) three times
    seen: list[httpx.Response] = []
    checker.on_response = seen.append
    list(letta.agents.messages.list(agent_id=AGENT, limit=2, order="asc"))
    assert [len({item["id"] for item in r.json()}) for r in seen] == [2, 2, 2, 1, 0]


def test_the_sdk_reads_the_newest_page_then_stops_in_descending_order(letta: Letta, checker: ContractChecker) -> None:
    # Letta's default order is desc: the newest `limit` stored messages, chronological; `after` the newest is empty.
    send_turns(letta, 3)
    seen: list[httpx.Response] = []
    checker.on_response = seen.append
    walked = list(letta.agents.messages.list(agent_id=AGENT, limit=2))
    assert kinds(walked) == ["user_message", "reasoning_message", "assistant_message"]
    assert walked[0].content == "message 3"
    assert [r.json() for r in seen][1:] == [[]]
    assert queries(seen)[1]["after"] == [walked[-1].id]


def test_the_sdk_walks_backwards_from_before(letta: Letta, checker: ContractChecker) -> None:
    send_turns(letta, 3)
    everything = list(letta.agents.messages.list(agent_id=AGENT, order="asc"))
    newest = everything[-1].id
    seen: list[httpx.Response] = []
    checker.on_response = seen.append
    walked = list(letta.agents.messages.list(agent_id=AGENT, before=newest, limit=2))
    older = [item for item in everything if item.id != newest]
    assert sorted(stored_ids(walked)) == sorted(stored_ids(older))
    pages = [r.json() for r in seen]
    assert pages[-1] == []
    # Each next request asks for what precedes the first item of the page before it.
    assert [q["before"] for q in queries(seen)] == [[newest]] + [[page[0]["id"]] for page in pages[:-1]]
    # Pages go back in time; within a page items are chronological.
    starts = [everything.index(next(i for i in everything if i.id == page[0]["id"])) for page in pages[:-1]]
    assert starts == sorted(starts, reverse=True)


def test_after_returns_only_newer_stored_messages(letta: Letta) -> None:
    send_turns(letta, 2)
    everything = list(letta.agents.messages.list(agent_id=AGENT, order="asc"))
    first_user = everything[1]
    page = letta.agents.messages.list(agent_id=AGENT, after=first_user.id, order="asc", limit=100).items
    assert [m.model_dump() for m in page] == [m.model_dump() for m in everything[2:]]


def test_limit_counts_stored_messages_not_items(letta: Letta) -> None:
    send_turns(letta, 1)
    page = letta.agents.messages.list(agent_id=AGENT, limit=1).items
    # The newest stored message is the agent's step: reasoning and reply, two items sharing one id.
    assert kinds(page) == ["reasoning_message", "assistant_message"]
    assert len(stored_ids(page)) == 1


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_agent_history_is_chronological_whatever_the_order(asgi_client: httpx.AsyncClient, order: str) -> None:
    for text in ("one", "two"):
        await asgi_client.post(f"/v1/agents/{AGENT}/messages", json={"input": text})
    listed = (await asgi_client.get(f"/v1/agents/{AGENT}/messages", params={"order": order})).json()
    assert [item["message_type"] for item in listed] == ["system_message"] + [
        "user_message",
        "reasoning_message",
        "assistant_message",
    ] * 2
    assert [item["content"] for item in listed if item["message_type"] == "user_message"] == ["one", "two"]


def test_include_return_message_types_keeps_only_those_types(letta: Letta) -> None:
    send_turns(letta, 2)
    items = list(
        letta.agents.messages.list(agent_id=AGENT, include_return_message_types=["user_message", "assistant_message"])
    )
    assert kinds(items) == ["user_message", "assistant_message"] * 2


def test_the_type_filter_applies_after_the_limit(letta: Letta) -> None:
    send_turns(letta, 1)
    page = letta.agents.messages.list(agent_id=AGENT, limit=1, include_return_message_types=["user_message"]).items
    assert page == []  # the one newest stored message is the reply, which the filter drops


def test_history_of_one_agent_does_not_show_another_agents_messages(letta: Letta) -> None:
    other = "agent-00000000-0000-4000-8000-0000000000aa"
    send_turns(letta, 1)
    send_turns(letta, 1, agent_id=other)
    mine = list(letta.agents.messages.list(agent_id=AGENT))
    theirs = list(letta.agents.messages.list(agent_id=other))
    assert not set(stored_ids(mine)) & set(stored_ids(theirs))


# -- conversations (§14) ---------------------------------------------------------------------------------------


def test_a_conversation_lists_newest_first_when_asked_for_desc(letta: Letta) -> None:
    for text in ("one", "two"):
        list(letta.conversations.messages.create(conversation_id=CONVERSATION, input=text))
    items = letta.conversations.messages.list(conversation_id=CONVERSATION, order="desc").items
    # Newest stored message first; the items of one stored message keep their natural order.
    assert kinds(items) == ["reasoning_message", "assistant_message", "user_message"] * 2
    assert [i.content for i in items if i.message_type == "user_message"] == ["two", "one"]


def test_a_conversation_lists_oldest_first_when_asked_for_asc(letta: Letta) -> None:
    for text in ("one", "two"):
        list(letta.conversations.messages.create(conversation_id=CONVERSATION, input=text))
    items = list(letta.conversations.messages.list(conversation_id=CONVERSATION, order="asc"))
    assert kinds(items) == ["user_message", "reasoning_message", "assistant_message"] * 2
    assert [i.content for i in items if i.message_type == "user_message"] == ["one", "two"]


def test_the_default_conversation_lists_like_agent_history(letta: Letta) -> None:
    list(letta.conversations.messages.create(conversation_id="default", agent_id=AGENT, input="one"))
    list(letta.conversations.messages.create(conversation_id="default", agent_id=AGENT, input="two"))
    items = letta.conversations.messages.list(conversation_id="default", agent_id=AGENT, order="desc").items
    assert kinds(items)[-3:] == ["user_message", "reasoning_message", "assistant_message"]
    assert [i.content for i in items if i.message_type == "user_message"] == ["one", "two"]


def test_conversation_messages_stay_out_of_the_default_conversation(letta: Letta) -> None:
    list(letta.conversations.messages.create(conversation_id=CONVERSATION, agent_id=AGENT, input="elsewhere"))
    letta.agents.messages.create(agent_id=AGENT, input="here")
    default = list(letta.agents.messages.list(agent_id=AGENT, conversation_id="default"))
    assert [i.content for i in default if i.message_type == "user_message"] == ["here"]


# -- runs (§13) ------------------------------------------------------------------------------------------------


def test_run_messages_include_the_user_input_in_ascending_order_by_default(letta: Letta) -> None:
    send_turns(letta, 1)
    response = letta.agents.messages.create(agent_id=AGENT, input="second")
    items = list(letta.runs.messages.list(run_id=response.messages[0].run_id))
    assert kinds(items) == ["user_message", "reasoning_message", "assistant_message"]
    assert items[0].content == "second"


def test_run_messages_in_descending_order_are_newest_first_items_reversed(letta: Letta) -> None:
    response = letta.agents.messages.create(agent_id=AGENT, input="/tool weather")
    run_id = response.messages[0].run_id
    ascending = letta.runs.messages.list(run_id=run_id).items
    descending = letta.runs.messages.list(run_id=run_id, order="desc").items
    assert [m.model_dump() for m in descending] == [m.model_dump() for m in reversed(ascending)]


def test_run_messages_apply_the_runs_own_type_filter(letta: Letta) -> None:
    # Wire doc §13.2: no filter parameter; the request_config of the run decides.
    response = letta.agents.messages.create(
        agent_id=AGENT, input="hi", include_return_message_types=["assistant_message"]
    )
    assert kinds(response.messages) == ["assistant_message"]
    items = list(letta.runs.messages.list(run_id=response.messages[0].run_id))
    assert kinds(items) == ["assistant_message"]


def test_an_async_run_is_created_then_completes_and_its_messages_land_in_history(letta: Letta) -> None:
    run = letta.agents.messages.create_async(agent_id=AGENT, input="do it later")
    assert run.status == "created"
    wait_until(lambda: letta.runs.retrieve(run.id).status != "created")
    finished = letta.runs.retrieve(run.id)
    assert finished.status == "completed"
    assert finished.stop_reason == "end_turn"
    assert finished.completed_at is not None
    assert finished.metadata is not None
    assert finished.metadata["run_type"] == "send_message_async"
    run_items = list(letta.runs.messages.list(run_id=run.id))
    assert kinds(run_items) == ["user_message", "reasoning_message", "assistant_message"]
    history = list(letta.agents.messages.list(agent_id=AGENT))
    assert [m.model_dump() for m in history[-3:]] == [m.model_dump() for m in run_items]


def test_an_async_run_sent_while_approval_is_pending_fails(letta: Letta) -> None:
    letta.agents.messages.create(agent_id=AGENT, input="/approve")
    run = letta.agents.messages.create_async(agent_id=AGENT, input="ignore the approval")
    wait_until(lambda: letta.runs.retrieve(run.id).status != "created")
    failed = letta.runs.retrieve(run.id)
    assert failed.status == "failed"
    assert failed.stop_reason == "error"


# -- cancel (§9) -----------------------------------------------------------------------------------------------


def test_cancelling_a_finished_run_reports_it_cancelled_and_leaves_it_as_it_was(letta: Letta) -> None:
    response = letta.agents.messages.create(agent_id=AGENT, input="done already")
    run_id = response.messages[0].run_id
    assert letta.agents.messages.cancel(agent_id=AGENT, run_ids=[run_id]) == {run_id: "cancelled"}
    run = letta.runs.retrieve(run_id)
    assert run.status == "completed"
    assert run.stop_reason == "end_turn"


def test_cancel_without_run_ids_names_the_agents_last_run(letta: Letta) -> None:
    # With Redis (Letta Cloud) the last run is named even when it already finished (wire doc §18.4).
    response = letta.agents.messages.create(agent_id=AGENT, input="hi")
    assert letta.agents.messages.cancel(agent_id=AGENT) == {response.messages[0].run_id: "cancelled"}


def test_cancelling_a_run_waiting_for_approval_cancels_it_and_unblocks_the_agent(letta: Letta) -> None:
    waiting = letta.agents.messages.create(agent_id=AGENT, input="/approve")
    assert waiting.stop_reason.stop_reason == "requires_approval"
    run_id = waiting.messages[-1].run_id
    assert letta.agents.messages.cancel(agent_id=AGENT, run_ids=[run_id]) == {run_id: "cancelled"}
    run = letta.runs.retrieve(run_id)
    assert (run.status, run.stop_reason) == ("cancelled", "cancelled")
    after = letta.agents.messages.create(agent_id=AGENT, input="carry on")
    assert after.stop_reason.stop_reason == "end_turn"


def test_cancelling_a_pending_approval_stores_a_denial_in_history(letta: Letta) -> None:
    waiting = letta.agents.messages.create(agent_id=AGENT, input="/approve")
    letta.agents.messages.cancel(agent_id=AGENT, run_ids=[waiting.messages[-1].run_id])
    items = list(letta.agents.messages.list(agent_id=AGENT))
    assert kinds(items)[-2:] == ["approval_response_message", "tool_return_message"]
    assert items[-1].status == "error"
    assert items[-1].tool_call_id == waiting.messages[-1].tool_call.tool_call_id


# -- reset (§11) -----------------------------------------------------------------------------------------------


def test_reset_returns_the_agent_state_with_only_the_system_message_in_context(letta: Letta) -> None:
    send_turns(letta, 2)
    system = next(iter(letta.agents.messages.list(agent_id=AGENT)))
    state = letta.agents.messages.reset(agent_id=AGENT)
    assert state is not None
    assert state.id == AGENT
    assert state.message_ids == [system.id]


def test_reset_keeps_stored_history_listable(letta: Letta) -> None:
    send_turns(letta, 2)
    before = [m.model_dump() for m in letta.agents.messages.list(agent_id=AGENT)]
    letta.agents.messages.reset(agent_id=AGENT, add_default_initial_messages=True)
    assert [m.model_dump() for m in letta.agents.messages.list(agent_id=AGENT)] == before


def test_reset_clears_a_pending_approval(letta: Letta) -> None:
    letta.agents.messages.create(agent_id=AGENT, input="/approve")
    letta.agents.messages.reset(agent_id=AGENT)
    assert letta.agents.messages.create(agent_id=AGENT, input="hi").stop_reason.stop_reason == "end_turn"


# -- compact (§12) ---------------------------------------------------------------------------------------------


def test_compact_reduces_the_context_and_records_a_summary_in_history(letta: Letta) -> None:
    send_turns(letta, 4)
    result = letta.agents.messages.compact(agent_id=AGENT)
    # Letta's sliding window: evict up to the assistant message at 40 % of 9 (index 4): system + summary + 5.
    assert (result.num_messages_before, result.num_messages_after) == (9, 7)
    summaries = [i for i in letta.agents.messages.list(agent_id=AGENT) if i.message_type == "summary_message"]
    assert [s.summary for s in summaries] == [result.summary]


def test_compact_in_all_mode_keeps_only_the_system_prompt_and_the_summary(letta: Letta) -> None:
    send_turns(letta, 3)
    result = letta.agents.messages.compact(agent_id=AGENT, compaction_settings={"mode": "all"})
    assert (result.num_messages_before, result.num_messages_after) == (7, 2)


def test_compacting_again_with_nothing_new_returns_the_same_summary_and_count(letta: Letta) -> None:
    send_turns(letta, 3)
    first = letta.agents.messages.compact(agent_id=AGENT, compaction_settings={"mode": "all"})
    again = letta.agents.messages.compact(agent_id=AGENT, compaction_settings={"mode": "all"})
    assert again.summary == first.summary
    assert again.num_messages_before == again.num_messages_after == first.num_messages_after


@pytest.mark.parametrize("percentage", [-1e300, -1.0, 0.0, 1.5, 1e300])
def test_any_sliding_window_percentage_the_document_allows_is_answered(percentage: float) -> None:
    # The evicted share grows from the percentage in 10 % steps; from a huge negative one it once never reached 1,
    # and the loop held the server's event loop (every later request timed out; found by the self-fuzz). The read
    # timeout is a guard against that hang, not a speed target: the answer takes milliseconds.
    with LettaMockSyncClient(create_app(seed=1), timeout=60) as client:
        for turn in range(4):
            client.post(f"/v1/agents/{AGENT}/messages", json={"input": f"turn {turn}"})
        body = {"compaction_settings": {"sliding_window_percentage": percentage}}
        answer = client.post(f"/v1/agents/{AGENT}/summarize", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["num_messages_after"] <= answer.json()["num_messages_before"]


def test_compact_keeps_stored_history_listable(letta: Letta) -> None:
    send_turns(letta, 4)
    before = [m.model_dump() for m in letta.agents.messages.list(agent_id=AGENT)]
    letta.agents.messages.compact(agent_id=AGENT)
    after = [m.model_dump() for m in letta.agents.messages.list(agent_id=AGENT)]
    assert [m for m in after if m["message_type"] != "summary_message"] == before
    assert len(after) == len(before) + 1  # the summary


# -- top-level messages (§18.8) --------------------------------------------------------------------------------


def test_listing_all_messages_with_a_limit_returns_the_newest_chronologically(letta: Letta) -> None:
    send_turns(letta, 2)
    everything = letta.messages.list(order="asc", limit=100)
    newest = letta.messages.list(limit=2)
    assert [m.model_dump() for m in newest] == [m.model_dump() for m in everything[-3:]]


def test_listing_all_messages_spans_agents(letta: Letta) -> None:
    other = "agent-00000000-0000-4000-8000-0000000000bb"
    send_turns(letta, 1)
    send_turns(letta, 1, agent_id=other)
    items = letta.messages.list()
    per_agent = {
        AGENT: list(letta.agents.messages.list(agent_id=AGENT)),
        other: list(letta.agents.messages.list(agent_id=other)),
    }
    assert sorted(stored_ids(items)) == sorted(stored_ids(per_agent[AGENT] + per_agent[other]))


def test_retrieving_a_message_returns_all_its_items_as_a_list(letta: Letta) -> None:
    response = letta.agents.messages.create(agent_id=AGENT, input="hi")
    items = letta.messages.retrieve(response.messages[0].id)
    assert [m.model_dump() for m in items] == [m.model_dump() for m in response.messages]


def test_search_returns_the_matching_messages_with_their_stored_ids(letta: Letta) -> None:
    letta.agents.messages.create(agent_id=AGENT, input="apples are red")
    letta.agents.messages.create(agent_id=AGENT, input="pears are green")
    results = letta.messages.search(query="apples", search_mode="fts")
    user_hits = [r for r in results if r.message_type == "user_message"]
    assert [r.content for r in user_hits] == ["apples are red"]
    history = {i.id: i for i in letta.agents.messages.list(agent_id=AGENT)}
    assert {r.message_id for r in results} <= set(history)
    assert all(r.agent_id == AGENT for r in results)


def test_search_honours_its_limit_and_agent_filter(letta: Letta) -> None:
    other = "agent-00000000-0000-4000-8000-0000000000cc"
    letta.agents.messages.create(agent_id=AGENT, input="pears")
    letta.agents.messages.create(agent_id=other, input="pears too")
    assert len(letta.messages.search(query="pears", limit=1)) == 1
    results = letta.messages.search(query="pears", agent_id=other)
    assert results
    assert {r.agent_id for r in results} == {other}


def test_search_honours_its_date_window(letta: Letta) -> None:
    letta.agents.messages.create(agent_id=AGENT, input="plums")
    stored = list(letta.agents.messages.list(agent_id=AGENT))[-1].date
    assert letta.messages.search(query="plums", start_date=stored - timedelta(days=1))
    assert letta.messages.search(query="plums", end_date=stored - timedelta(days=1)) == []
    assert letta.messages.search(query="plums", start_date=stored + timedelta(days=1)) == []


def test_search_finds_nothing_for_text_nobody_wrote(letta: Letta) -> None:
    send_turns(letta, 2)
    assert letta.messages.search(query="xylophone") == []


# -- async-run callbacks (§10) ---------------------------------------------------------------------------------


class CallbackReceiver:
    """A tiny HTTP endpoint that records what is POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/callback", self.record, methods=["POST"])])

    async def record(self, request: Request) -> JSONResponse:
        self.received.append(await request.json())
        return JSONResponse({"ok": True})


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[CallbackReceiver, str]]:
    recorder = CallbackReceiver()
    with LiveServer(app=recorder.app) as server:
        yield recorder, server.url + "/callback"


def test_an_async_run_posts_its_result_to_the_callback_url(
    letta: Letta, receiver: tuple[CallbackReceiver, str]
) -> None:
    recorder, url = receiver
    recorder.received.clear()
    run = letta.agents.messages.create_async(agent_id=AGENT, input="call me back", callback_url=url)
    wait_until(lambda: letta.runs.retrieve(run.id).callback_status_code is not None)
    finished = letta.runs.retrieve(run.id)
    assert finished.callback_status_code == 200
    assert finished.callback_sent_at is not None
    assert finished.callback_error is None
    assert len(recorder.received) == 1
    payload = recorder.received[0]
    assert set(payload) == {"run_id", "status", "completed_at", "metadata"}
    assert (payload["run_id"], payload["status"]) == (run.id, "completed")
    assert payload["completed_at"]
    assert payload["metadata"]["run_type"] == "send_message_async"
    result = payload["metadata"]["result"]
    assert set(result) >= {"messages", "stop_reason", "usage"}
    assert result["stop_reason"] == {"message_type": "stop_reason", "stop_reason": "end_turn"}
    # The run's messages as its listing has them, the user's input included (Letta's own callback test).
    assert [m["message_type"] for m in result["messages"]] == ["user_message", "reasoning_message", "assistant_message"]
    listed = letta.runs.messages.list(run.id)
    assert [m["id"] for m in result["messages"]] == [m.id for m in listed.items]


def test_an_unreachable_callback_url_is_recorded_on_the_run_and_does_not_fail_it(letta: Letta) -> None:
    run = letta.agents.messages.create_async(agent_id=AGENT, input="hi", callback_url="http://127.0.0.1:1/nowhere")
    wait_until(lambda: letta.runs.retrieve(run.id).callback_error is not None)
    finished = letta.runs.retrieve(run.id)
    assert finished.status == "completed"
    assert finished.callback_status_code is None


# -- unknown cursors in the open world, and runs as they were started ------------------------------------------

MISSING = "message-00000000-0000-4000-8000-00000000dead"


@pytest.mark.parametrize("cursor", ["after", "before"])
async def test_in_the_open_world_an_unknown_cursor_gives_an_empty_page(
    asgi_client: httpx.AsyncClient, cursor: str
) -> None:
    # The open world's rule for cursors nobody stored (mockserver/store.py, Store.cursor); the closed world says 404.
    await asgi_client.post(f"/v1/agents/{AGENT}/messages", json={"input": "hi"})
    response = await asgi_client.get(f"/v1/agents/{AGENT}/messages", params={cursor: MISSING})
    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize("cursor", ["after", "before"])
async def test_a_conversation_ignores_an_unknown_cursor(asgi_client: httpx.AsyncClient, cursor: str) -> None:
    # Wire doc §14: for a conv-… id unknown cursors are silently ignored.
    await asgi_client.post(f"/v1/conversations/{CONVERSATION}/messages", json={"input": "hi"})
    whole = (await asgi_client.get(f"/v1/conversations/{CONVERSATION}/messages")).json()
    response = await asgi_client.get(f"/v1/conversations/{CONVERSATION}/messages", params={cursor: MISSING})
    assert (response.status_code, response.json()) == (200, whole)


def run_of(stream: Any) -> str:
    """The run a stream belongs to, read from its first event after reading the stream to its end."""
    events = list(stream)
    run_id: str = events[0].run_id
    return run_id


def test_runs_record_how_they_were_started(letta: Letta) -> None:
    sent = letta.agents.messages.create(agent_id=AGENT, input="hi").messages[0].run_id
    streamed = run_of(letta.agents.messages.create(agent_id=AGENT, input="hi", streaming=True))
    with pytest.warns(DeprecationWarning, match="deprecated"):
        deprecated = run_of(letta.agents.messages.stream(agent_id=AGENT, input="hi"))
    talk = run_of(letta.conversations.messages.create(conversation_id=CONVERSATION, input="hi"))
    background = letta.agents.messages.create_async(agent_id=AGENT, input="hi").id
    runs = {
        name: letta.runs.retrieve(run_id)
        for name, run_id in [
            ("send", sent),
            ("stream", streamed),
            ("deprecated", deprecated),
            ("conversation", talk),
            ("async", background),
        ]
    }
    assert {name: run.metadata["run_type"] for name, run in runs.items()} == {
        "send": "send_message",
        "stream": "send_message",
        "deprecated": "send_message_streaming",
        "conversation": "send_conversation_message",
        "async": "send_message_async",
    }
    assert {name: run.background for name, run in runs.items()} == {
        "send": False,
        "stream": False,
        "deprecated": False,
        "conversation": False,
        "async": True,
    }
    assert runs["conversation"].conversation_id == CONVERSATION
    assert runs["send"].conversation_id is None


async def test_routes_are_also_served_under_latest(asgi_client: httpx.AsyncClient) -> None:
    await asgi_client.post(f"/latest/agents/{AGENT}/messages", json={"input": "hi"})
    latest = await asgi_client.get(f"/latest/agents/{AGENT}/messages")
    assert latest.json() == (await asgi_client.get(f"/v1/agents/{AGENT}/messages")).json()
    assert [item["message_type"] for item in latest.json()][-1] == "assistant_message"


async def test_a_conversation_send_with_streaming_false_answers_json(asgi_client: httpx.AsyncClient) -> None:
    body = {"input": "hi", "agent_id": AGENT, "streaming": False}
    response = await asgi_client.post("/v1/conversations/default/messages", json=body)
    assert response.headers["content-type"] == "application/json"
    assert response.json()["stop_reason"] == {"message_type": "stop_reason", "stop_reason": "end_turn"}
