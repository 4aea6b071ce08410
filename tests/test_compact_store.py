"""The store keeps a stored message as its items' JSON and a run long over as its values (``records``): what it
lists, retrieves and shows is what freshly validated objects give, byte for byte, whether a run is recent (an
object, its log kept) or long over (its values kept, its log cut to its outcome)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import create_app
from mockserver.bodies import JsonItems, joined
from mockserver.models import LettaStopReason, LettaUsageStatistics, Run
from mockserver.models.messages import message_adapter
from mockserver.records import StoredMessage, freeze, thaw
from mockserver.store.messages import pack
from mockserver.store.runs import Outcome
from strategies import messages, runs, stop_reasons, usage_statistics

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


@given(st.lists(messages(), min_size=1, max_size=4))
def test_a_stored_message_keeps_each_item_s_json_and_rebuilds_items_that_serialise_to_it(items: list[Any]) -> None:
    stored = StoredMessage("message-1", 1, "agent-1", None, None, WHEN, items)
    assert stored.json == tuple(item.model_dump_json().encode() for item in items)
    assert stored.types == tuple(item.message_type for item in items)
    rebuilt = stored.items
    assert [type(item) for item in rebuilt] == [type(item) for item in items]
    assert [item.model_dump_json().encode() for item in rebuilt] == list(stored.json)
    assert [item.model_dump(mode="json") for item in rebuilt] == [item.model_dump(mode="json") for item in items]


@given(runs())
def test_a_frozen_run_thaws_to_the_same_run(run: Run) -> None:
    values = freeze(run)
    first, second = thaw(Run, values), thaw(Run, values)
    assert first.model_dump_json() == run.model_dump_json()
    assert first.model_dump() == run.model_dump()
    # A dict or model many runs share is each thawed run's own copy.
    if first.metadata is not None:
        first.metadata["changed"] = True
        assert "changed" not in (second.metadata or {})
        assert thaw(Run, values).model_dump_json() == run.model_dump_json()


@given(stop_reasons(), usage_statistics())
def test_a_dropped_log_keeps_its_stop_reason_and_usage_as_they_were_logged(
    stop: LettaStopReason, usage: LettaUsageStatistics
) -> None:
    outcome = Outcome([], stop, usage)
    assert len(outcome) == 3
    got = list(outcome)
    assert [e.model_dump_json() for e in got[:2]] == [stop.model_dump_json(), usage.model_dump_json()]
    assert got[2] == "[DONE]" == outcome[-1]
    assert outcome[0].model_dump_json() == stop.model_dump_json()
    assert outcome[1:] == got[1:]


def test_a_dropped_log_lists_the_run_s_items_but_the_user_s_input() -> None:
    from mockserver.models import AssistantMessage, UserMessage

    user = UserMessage(id="message-1", date=WHEN, content="hi")
    reply = AssistantMessage(id="message-2", date=WHEN, content="hello")
    stored = [StoredMessage("message-1", 1, "a", None, None, WHEN, [user]),
              StoredMessage("message-2", 2, "a", None, None, WHEN, [reply])]  # fmt: skip
    outcome = Outcome(stored, None, None)
    assert len(outcome) == 2
    assert outcome[0].model_dump_json() == reply.model_dump_json()
    assert list(outcome)[1] == "[DONE]"


@given(st.lists(st.lists(messages(), min_size=1, max_size=3), min_size=1, max_size=4), st.binary(max_size=64))
def test_packed_messages_unpack_to_the_very_bytes(batches: list[list[Any]], zdict: bytes) -> None:
    stored = [StoredMessage(f"message-{n}", n, "agent-1", None, None, WHEN, items) for n, items in enumerate(batches)]
    for message, packed in zip(stored, pack(stored, zdict), strict=True):
        assert len(packed) == len(message.json)
        assert packed.unpacked() == list(message.json) == list(packed) == [packed[i] for i in range(len(packed))]
        assert packed.unpacked(packed.block.unpacked()) == list(message.json)


# -- a whole store, recent and long over --------------------------------------------------------------------------

AGENT_BODY = {"name": "compact", "memory_blocks": [{"label": "human", "value": "Ada"}]}
SCENARIOS = ["reply", "reasoning", "tool_call", "multi_step", "approval", "hidden_reasoning", "long"]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.sampled_from(SCENARIOS), st.booleans()),  # (scenario, streamed)
        st.tuples(st.just("modify"), st.text("abc xyz", min_size=1, max_size=8), st.none()),
        st.tuples(st.just("reset"), st.none(), st.none()),
        st.tuples(st.just("compact"), st.none(), st.none()),
        st.tuples(st.just("delete_run"), st.integers(0, 20), st.none()),
        st.tuples(st.just("admin_reset"), st.none(), st.none()),
    ),
    max_size=10,
)


async def _apply(client: httpx.AsyncClient, agent_id: str, step: tuple[Any, ...]) -> str:
    kind, value, flag = step
    run_ids = [run["id"] for run in (await client.get(f"/v1/runs/?agent_id={agent_id}&limit=1000")).json()]
    base = f"/v1/agents/{agent_id}"
    if kind == "send":
        headers = {"X-Letta-Mock": f"scenario={value}"}
        answer = await client.post(f"{base}/messages", json={"input": "hello there", "streaming": flag},
                                   headers=headers)  # fmt: skip
        return f"{answer.status_code} {answer.text if answer.status_code != 200 else ''}"
    if kind == "modify":
        answer = await client.patch(f"{base}/core-memory/blocks/human", json={"value": value})
    elif kind == "reset":
        answer = await client.patch(f"{base}/reset-messages", json={})
    elif kind == "compact":
        answer = await client.post(f"{base}/summarize", json={})
    elif kind == "delete_run":
        if not run_ids:
            return "none"
        answer = await client.delete(f"/v1/runs/{run_ids[value % len(run_ids)]}")
    else:
        answer = await client.post("/_mock/reset")
    return f"{answer.status_code} {answer.text}"


async def _reads(client: httpx.AsyncClient, agent_id: str, run_ids: list[str]) -> list[tuple[str, int, str]]:
    base = f"/v1/agents/{agent_id}"
    paths = [
        f"{base}/messages?limit=1000", f"{base}/messages?limit=1000&order=asc",
        f"{base}/messages?limit=3&include_return_message_types=assistant_message",
        "/v1/messages/?limit=1000", f"/v1/runs/?agent_id={agent_id}&limit=1000", f"{base}/context",
        # the runs listing's filters, which read frozen runs' fields without making them again
        "/v1/runs/?stop_reason=end_turn&limit=1000", "/v1/runs/?statuses=completed&statuses=failed&order=asc",
        f"/v1/runs/?agent_ids={agent_id}&agent_ids=agent-00000000-0000-4000-8000-000000000000&background=false",
        "/v1/runs/?stop_reason=requires_approval&limit=5", "/v1/runs/?active=true",
    ]  # fmt: skip
    listed = (await client.get(f"{base}/messages?limit=1000")).json()
    message_ids = list(dict.fromkeys(item["id"] for item in listed)) if isinstance(listed, list) else []
    paths += [f"/v1/messages/{message_id}" for message_id in message_ids]
    for run_id in run_ids:
        paths += [f"/v1/runs/{run_id}", f"/v1/runs/{run_id}/messages", f"/v1/runs/{run_id}/steps",
                  f"/v1/runs/{run_id}/usage"]  # fmt: skip
    got = []
    for path in paths:
        answer = await client.get(path)
        got.append((path, answer.status_code, answer.text))
    search = await client.post("/v1/messages/search", json={"query": "hello", "agent_id": agent_id})
    got.append(("search", search.status_code, search.text))
    return got


def _validated(body: str) -> None:
    """Every item a listing answers is what a freshly validated model serialises to."""
    items = json.loads(body)
    for item in items:
        assert json.loads(message_adapter.validate_python(item).model_dump_json()) == item


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
async def test_what_the_store_answers_is_the_same_for_recent_and_long_over_runs(steps: list[tuple[Any, ...]]) -> None:
    """Stores given the same requests: one keeps every run's log (objects) and every message's JSON as it was made,
    the others drop each log as soon as its run ends (every run kept as its values, every log as its outcome) and
    pack every stored message, or all but the newest three in blocks of two. They answer every read alike."""
    answers = []
    for bound, pack_beyond, block in ((10_000, 10_000, 16), (0, 0, 1), (0, 3, 2)):
        app = create_app(seed=5)
        app.state.store.log_bound = bound
        app.state.store.pack_beyond = pack_beyond  # 0 (and blocks of 1): every stored message packed once stored
        app.state.store.pack_block = block
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            agent_id = (await client.post("/v1/agents", json=AGENT_BODY)).json()["id"]
            done = [await _apply(client, agent_id, step) for step in steps]
            run_ids = [r.run.id for r in sorted(app.state.store.runs.values(), key=lambda r: r.number)]
            reads = await _reads(client, agent_id, run_ids)
            if bound == 0:
                # Each log was dropped once the next run ended (a streamed one still read when it ended waits).
                older = sorted(app.state.store.runs.values(), key=lambda r: r.number)[:-1]
                assert all(r.frozen is not None and r.log_dropped for r in older if not r.active)
            for path, status, body in reads:
                if status == 200 and "/messages" in path and "search" not in path:
                    _validated(body)
            answers.append((done, reads))
    kept, dropped, partly = answers
    assert kept == dropped == partly


# -- the listing's own work ----------------------------------------------------------------------------------------


@given(st.lists(st.binary(max_size=8), max_size=6))
def test_a_listing_s_body_is_its_items_joined_as_a_json_array(items: list[bytes]) -> None:
    assert joined(items) == b"[" + b",".join(items) + b"]" == bytes(JsonItems(tuple(items)))


async def test_a_query_read_before_is_answered_alike_and_each_caller_s_copy_is_its_own() -> None:
    app = create_app(seed=1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await client.post("/v1/agents/agent-123e4567-e89b-42d3-8456-426614174000/messages", json={"input": "hi"})
        path = "/v1/agents/agent-123e4567-e89b-42d3-8456-426614174000/messages"
        params = {"limit": "2", "include_return_message_types": "assistant_message"}
        first, second = await client.get(path, params=params), await client.get(path, params=params)
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        assert [item["message_type"] for item in first.json()] == ["assistant_message"]
        for _ in range(2):  # an invalid query is refused every time, never remembered
            refused = await client.get(path, params={"limit": "-1"})
            assert refused.status_code == 422


def test_page_query_copies_are_independent() -> None:
    from starlette.requests import Request

    from mockserver.history import page_query

    scope = {"type": "http", "query_string": b"limit=3&order=asc", "headers": []}
    first = page_query(Request(scope))
    first["types"] = ["assistant_message"]
    second = page_query(Request(scope))
    assert second == {"before": None, "after": None, "limit": 3, "order": "asc", "types": None}
