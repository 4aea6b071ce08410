"""Faults for client resilience tests: what a client — the official SDK or raw httpx — sees for each one.

A fault changes one response, never the run behind it (``mockserver.faults``), so after every fault the run has
finished normally in the store. Clients here are unchecked (``checked=False``): breaking the contract is the point;
``test_the_contract_check_rejects_what_the_stream_faults_break`` shows the checked clients would notice.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from _streaming import AGENT, Mock, drain, drain_until_error, types
from contract import DONE, StreamContractError, check_grammar, parse_stream
from letta_client import (
    APIResponseValidationError,
    APITimeoutError,
    AsyncLetta,
    BadRequestError,
    InternalServerError,
    Letta,
    RateLimitError,
)

from mockserver.app import create_app

pytest_plugins = ["_stream_fixtures"]

NORMAL = ["ping", "reasoning_message", "assistant_message", "stop_reason", "usage_statistics"]


@pytest.fixture(params=["sync-loose", "sync-strict", "async-loose", "async-strict"])
async def raw_sdk(request: pytest.FixtureRequest, mock: Mock) -> AsyncIterator[Any]:
    """Each of the four official clients, without the contract check and without retries."""
    kind, mode = request.param.split("-")
    if kind == "sync":
        yield mock.sdk(strict=mode == "strict", checked=False)
    else:
        async with mock.async_sdk(strict=mode == "strict", checked=False) as client:
            yield client


def send(client: Letta | AsyncLetta, controls: str, text: str = "hi", **body: Any) -> Any:
    return client.agents.messages.create(
        AGENT, input=text, streaming=True, extra_headers={"X-Letta-Mock": controls}, **body
    )


def raw_events(mock: Mock, controls: str, text: str = "hi", *, validate: bool = True, **body: Any) -> list[Any]:
    """The events of a faulty stream: framing checked (and schemas, if ``validate``), not the grammar."""
    response = mock.http.post(
        f"/v1/agents/{AGENT}/messages",
        json={"input": text, "streaming": True, **body},
        headers={"X-Letta-Mock": controls},
    )
    assert response.status_code == 200, response.text
    return parse_stream(response.content, validate=validate)


def last_run(mock: Mock) -> dict[str, Any]:
    run_id = next(m["run_id"] for m in reversed(mock.history()) if m["run_id"])
    return mock.run(run_id)


# -- the fault changes the response, not the run ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    ["drop_after:2", "no_done", "malformed:2", "split:2", "no_stop_reason", "duplicate_stop_reason", "unknown_type:2"],
)
def test_after_a_stream_fault_the_run_has_finished_normally_in_the_store(fault: str, mock: Mock) -> None:
    try:
        with mock.http.stream(
            "POST",
            f"/v1/agents/{AGENT}/messages",
            json={"input": "hi", "streaming": True},
            headers={"X-Letta-Mock": f"fault={fault}"},
        ) as response:
            response.read()
    except httpx.RemoteProtocolError:
        assert fault.startswith("drop_after")
    run = last_run(mock)
    assert (run["status"], run["stop_reason"]) == ("completed", "end_turn")
    assert [m["message_type"] for m in mock.history()][-3:] == [
        "user_message",
        "reasoning_message",
        "assistant_message",
    ]


@pytest.mark.parametrize(
    "fault", ["no_done", "malformed:2", "no_stop_reason", "duplicate_stop_reason", "unknown_type:2"]
)
def test_the_contract_check_rejects_what_the_stream_faults_break(fault: str, mock: Mock) -> None:
    with pytest.raises(StreamContractError):
        list(send(mock.sdk(), f"fault={fault}"))


# -- drop_after ---------------------------------------------------------------------------------------------------


async def test_drop_after_n_delivers_n_events_then_the_sdk_raises_remote_protocol_error(raw_sdk: Any) -> None:
    received, error = await drain_until_error(send(raw_sdk, "fault=drop_after:3"))
    assert types(received) == ["ping", "reasoning_message", "assistant_message"]
    assert isinstance(error, httpx.RemoteProtocolError)  # not wrapped: the SDK does not retry a stream (§16)


def test_drop_after_n_closes_the_connection_after_exactly_n_whole_events(mock: Mock) -> None:
    body = b""
    with pytest.raises(httpx.RemoteProtocolError):  # noqa: PT012  # the bytes before the drop are the point
        with mock.http.stream(
            "POST",
            f"/v1/agents/{AGENT}/messages",
            json={"input": "hi", "streaming": True},
            headers={"X-Letta-Mock": "fault=drop_after:2"},
        ) as response:
            for piece in response.iter_raw():
                body += piece
    assert types(parse_stream(body)) == ["ping", "reasoning_message"]


def test_a_drop_can_be_asked_for_with_the_fault_trigger_phrase(mock: Mock) -> None:
    received = []
    with pytest.raises(httpx.RemoteProtocolError):  # noqa: PT012
        for event in mock.sdk(checked=False).agents.messages.create(AGENT, input="/fault drop_after:1", streaming=True):
            received.append(event)
    assert types(received) == ["ping"]


# -- stalls -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stall_ms", "pings"), [(10, 0), (30, 1), (50, 2), (60, 3), (90, 4)])
def test_stall_after_n_fills_the_stall_with_one_keep_alive_ping_per_interval(
    stall_ms: int, pings: int, mock: Mock
) -> None:
    events = raw_events(mock, f"fault=stall_after:2; stall_ms={stall_ms}; ping_interval_ms=20")
    assert types(events) == ["ping", "reasoning_message", *["ping"] * pings, *NORMAL[2:], DONE]
    run_id = events[0].payload["run_id"]
    keep_alives = [e.payload for e in events[2 : 2 + pings]]
    assert all(p["run_id"] == run_id and p["seq_id"] is None for p in keep_alives)
    assert len({p["id"] for p in [events[0].payload, *keep_alives]}) == 1 + pings  # a new id per ping


def test_silent_stall_after_n_sends_nothing_during_the_stall(mock: Mock) -> None:
    events = raw_events(mock, "fault=silent_stall_after:2; stall_ms=50; ping_interval_ms=20")
    assert types(events) == [*NORMAL, DONE]
    assert check_grammar(events) == "done"


async def test_the_sdk_yields_the_keep_alive_pings_of_a_stall(raw_sdk: Any) -> None:
    events = await drain(send(raw_sdk, "fault=stall_after:1; stall_ms=45; ping_interval_ms=20"))
    assert types(events) == ["ping", "ping", "ping", *NORMAL[1:]]


def test_keep_alive_pings_of_a_stall_in_a_background_stream_carry_the_last_seq_id(mock: Mock) -> None:
    # Wire doc §6.4 and §6.8: a keep-alive ping's seq_id is the last seq_id seen in the stream.
    events = raw_events(mock, "fault=stall_after:2; stall_ms=45; ping_interval_ms=20", background=True)
    assert types(events)[:4] == ["ping", "reasoning_message", "ping", "ping"]
    assert [e.payload["seq_id"] for e in events[:4]] == [1, 2, 2, 2]


# -- the end of the stream ----------------------------------------------------------------------------------------


async def test_no_done_ends_the_body_after_usage_and_the_sdk_reads_to_the_end(raw_sdk: Any, mock: Mock) -> None:
    assert types(await drain(send(raw_sdk, "fault=no_done"))) == NORMAL
    assert types(raw_events(mock, "fault=no_done")) == NORMAL


async def test_no_stop_reason_leaves_the_stop_reason_out_and_keeps_usage_and_done(raw_sdk: Any, mock: Mock) -> None:
    assert types(await drain(send(raw_sdk, "fault=no_stop_reason"))) == [*NORMAL[:3], "usage_statistics"]
    assert types(raw_events(mock, "fault=no_stop_reason")) == [*NORMAL[:3], "usage_statistics", DONE]


async def test_duplicate_stop_reason_sends_the_stop_reason_twice(raw_sdk: Any, mock: Mock) -> None:
    events = await drain(send(raw_sdk, "fault=duplicate_stop_reason"))
    assert types(events) == [*NORMAL[:4], "stop_reason", "usage_statistics"]
    assert events[3] == events[4]
    raw = raw_events(mock, "fault=duplicate_stop_reason")
    assert raw[3] == raw[4]
    assert raw[-1].done


async def test_faults_combine_when_listed_with_commas(raw_sdk: Any) -> None:
    controls = "fault=stall_after:1,no_stop_reason,no_done; stall_ms=25; ping_interval_ms=20"
    assert types(await drain(send(raw_sdk, controls))) == ["ping", "ping", *NORMAL[1:3], "usage_statistics"]


# -- malformed, split and unknown events -----------------------------------------------------------------------


async def test_a_malformed_event_makes_the_sdk_raise_json_decode_error(raw_sdk: Any) -> None:
    received, error = await drain_until_error(send(raw_sdk, "fault=malformed:2"))
    assert types(received) == ["ping"]
    assert isinstance(error, json.JSONDecodeError)  # not an SDK error class (wire doc §7)


def test_a_malformed_event_is_cut_half_way_and_the_stream_goes_on(mock: Mock) -> None:
    response = mock.http.post(
        f"/v1/agents/{AGENT}/messages",
        json={"input": "hi", "streaming": True},
        headers={"X-Letta-Mock": "fault=malformed:2"},
    )
    blocks = response.text.split("\n\n")
    assert blocks[1].startswith('data: {"id":"message-')
    with pytest.raises(json.JSONDecodeError):
        json.loads(blocks[1].removeprefix("data: "))
    assert [json.loads(b.removeprefix("data: "))["message_type"] for b in blocks[2:5]] == NORMAL[2:]
    assert blocks[5:] == ["data: [DONE]", ""]


def test_a_split_event_arrives_in_two_pieces_that_join_into_the_normal_stream(mock: Mock) -> None:
    pieces: list[bytes] = []
    with mock.http.stream(
        "POST",
        f"/v1/agents/{AGENT}/messages",
        json={"input": "hi", "streaming": True},
        headers={"X-Letta-Mock": "fault=split:2"},
    ) as response:
        pieces = list(response.iter_raw())
    body = b"".join(pieces)
    events = parse_stream(body)
    assert types(events) == [*NORMAL, DONE]
    # Each write is its own HTTP chunk, so the second event's bytes never come in one piece.
    second = body.index(b"data: ", 1)
    end = body.index(b"\n\n", second) + 2
    starts = {sum(map(len, pieces[:i])) for i in range(len(pieces) + 1)}
    assert any(second < start < end for start in starts)


async def test_the_sdk_parses_a_split_event_whole(raw_sdk: Any) -> None:
    events = await drain(send(raw_sdk, "fault=split:2"))
    assert types(events) == NORMAL
    assert events[1].reasoning == 'The user wrote "hi". I will answer directly.'


async def test_an_unknown_event_type_is_yielded_as_the_first_union_member_by_loose_clients(mock: Mock) -> None:
    events = await drain(send(mock.sdk(strict=False, checked=False), "fault=unknown_type:2"))
    assert types(events) == ["ping", "mock_unknown_event", *NORMAL[1:]]
    assert type(events[1]).__name__ == "SystemMessage"  # wire doc §7: the first member, data kept


async def test_an_unknown_event_type_makes_strict_clients_raise_a_validation_error(mock: Mock) -> None:
    async with mock.async_sdk(strict=True, checked=False) as client:
        received, error = await drain_until_error(send(client, "fault=unknown_type:2"))
    assert types(received) == ["ping"]
    assert isinstance(error, APIResponseValidationError)
    assert error.body["message_type"] == "mock_unknown_event"


def test_an_unknown_event_comes_before_the_nth_event_in_letta_s_framing(mock: Mock) -> None:
    events = raw_events(mock, "fault=unknown_type:3", validate=False)
    assert types(events) == ["ping", "reasoning_message", "mock_unknown_event", *NORMAL[2:], DONE]
    assert events[2].event is None


# -- HTTP errors before the stream --------------------------------------------------------------------------------


async def test_http_429_before_the_stream_is_letta_s_rate_limit_body(raw_sdk: Any, mock: Mock) -> None:
    with pytest.raises(RateLimitError) as raised:
        await drain(send(raw_sdk, "fault=http:429"))
    assert raised.value.status_code == 429
    assert raised.value.body == {
        "error": {
            "type": "llm_rate_limit",
            "message": "Rate limit exceeded for LLM model provider. Please wait before making another request.",
            "detail": "letta-mock: simulated HTTP 429",
        }
    }
    assert mock.calls() == {"send_message": 1}
    assert [m["message_type"] for m in mock.history()] == ["system_message"]  # no run, nothing stored


def test_http_503_with_retry_after_sends_the_header_and_a_detail_body(mock: Mock) -> None:
    response = mock.http.post(
        f"/v1/agents/{AGENT}/messages",
        json={"input": "hi", "streaming": True},
        headers={"X-Letta-Mock": "fault=http:503; retry_after=7"},
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "letta-mock: simulated HTTP 503"}
    with pytest.raises(InternalServerError) as raised:
        list(send(mock.sdk(checked=False), "fault=http:503; retry_after=7"))
    assert raised.value.status_code == 503


def test_http_fault_applies_to_non_streaming_requests_too(mock: Mock) -> None:
    with pytest.raises(RateLimitError):
        mock.sdk().agents.messages.create(AGENT, input="hi", extra_headers={"X-Letta-Mock": "fault=http:429"})


async def test_http_503_for_one_attempt_fails_the_first_try_and_the_sdk_retry_succeeds(mock: Mock) -> None:
    async with mock.async_sdk(max_retries=2) as client:
        events = await drain(send(client, "fault=http:503:1"))
    assert types(events) == NORMAL
    attempts = mock.journal("send_message")
    assert [a["response"]["status"] for a in attempts] == [503, 200]
    assert attempts[0]["body"] == attempts[1]["body"]  # the same request, sent again
    assert attempts[1]["response"]["content_type"] == "text/event-stream; charset=utf-8"


@pytest.mark.parametrize("count", ["abc", "1.5", "-1", "\u00b2".encode("latin-1"), " "])
async def test_a_retry_count_that_is_no_whole_number_counts_as_the_first_try(count: str | bytes) -> None:
    # The header is the client's: a bad one must not fail its send (it once answered 500).
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        url = f"/v1/agents/{AGENT}/messages"
        plain = await client.post(url, json={"input": "hi"}, headers={"x-stainless-retry-count": count})
        faulted = await client.post(
            url, json={"input": "hi"}, headers={"x-stainless-retry-count": count, "X-Letta-Mock": "fault=http:503:1"}
        )
        retried = await client.post(
            url, json={"input": "hi"}, headers={"x-stainless-retry-count": "1", "X-Letta-Mock": "fault=http:503:1"}
        )
    assert (plain.status_code, faulted.status_code, retried.status_code) == (200, 503, 200)


# -- slow first byte ----------------------------------------------------------------------------------------------


async def test_slow_first_byte_delays_the_response_without_changing_it(raw_sdk: Any) -> None:
    assert types(await drain(send(raw_sdk, "fault=slow_first_byte:30"))) == NORMAL


def test_slow_first_byte_beyond_the_client_timeout_raises_a_timeout(mock: Mock) -> None:
    client = mock.sdk(checked=False).with_options(timeout=0.05)
    with pytest.raises(APITimeoutError):
        list(send(client, "fault=slow_first_byte:1000"))


# -- bad controls: 400 naming them ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("controls", "named"),
    [
        ("scenaro=reply", "unknown key 'scenaro' (did you mean 'scenario'?)"),
        ("colour=red", "unknown key 'colour'"),
        ("token_delay_ms=fast", "token_delay_ms must be a whole number >= 0, not 'fast'"),
        ("stop_reason=done", "stop_reason must be one of"),
        ("scenario=bogus", "scenario must be one of"),
        ("error=oops", "error must be one of"),
        ("fault=drop_after", "fault 'drop_after' must look like drop_after:<N>"),
        ("fault=no_done:3", "fault 'no_done:3' must look like no_done"),
        ("fault=explode:1", "unknown fault 'explode'"),
        ("fault=http:200", "the status must be 400-599"),
        ("scenario", "'scenario' is not key=value"),
    ],
)
async def test_a_bad_control_is_refused_with_400_naming_it(
    controls: str, named: str, mock: Mock, sdk_client: Any
) -> None:
    with pytest.raises(BadRequestError) as raised:
        await drain(send(sdk_client, controls))
    assert raised.value.status_code == 400
    assert raised.value.body["detail"].startswith("X-Letta-Mock: ")
    assert named in raised.value.body["detail"]
    assert [m["message_type"] for m in mock.history()] == ["system_message"]  # nothing happened


def test_every_problem_in_the_header_is_named_at_once(mock: Mock) -> None:
    response = mock.http.post(
        f"/v1/agents/{AGENT}/messages",
        json={"input": "hi", "streaming": True},
        headers={"X-Letta-Mock": "scenario=bogus; colour=red; seed=-1"},
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert all(part in detail for part in ("scenario must be one of", "unknown key 'colour'", "seed must be"))


def test_a_bad_trigger_phrase_value_is_refused_with_400_naming_the_trigger(mock: Mock) -> None:
    response = mock.http.post(f"/v1/agents/{AGENT}/messages", json={"input": "/stop whenever", "streaming": True})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("trigger '/stop': stop_reason must be one of")


def test_a_stream_fault_on_a_non_streaming_request_is_refused_with_400(mock: Mock) -> None:
    with pytest.raises(BadRequestError) as raised:
        mock.sdk().agents.messages.create(AGENT, input="hi", extra_headers={"X-Letta-Mock": "fault=drop_after:2"})
    assert "stream faults need a streaming request" in raised.value.body["detail"]


async def test_an_sdk_client_sends_the_control_header_on_every_request_when_configured(mock: Mock) -> None:
    client = Letta(
        base_url=mock.url,
        api_key="test",
        max_retries=0,
        default_headers={"X-Letta-Mock": "scenario=reply; fault=no_done"},
    )
    try:
        assert types(list(client.agents.messages.create(AGENT, input="hi", streaming=True))) == [
            "ping",
            "assistant_message",
            "stop_reason",
            "usage_statistics",
        ]
    finally:
        client.close()
