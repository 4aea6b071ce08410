"""Our schemathesis checks (``mockserver.fuzz.checks``), each on a response that passes and on ones that break it:
what each says, and that each is skipped where it does not apply."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from broken_letta import BrokenLetta
from schemathesis import Response
from schemathesis.core.failures import Failure

from mockserver import create_app
from mockserver.fuzz import checks, history
from mockserver.fuzz.schema import letta_schema
from mockserver.fuzz.streams import Arrival, StreamBounds, StreamReading, check_event
from mockserver.fuzz.transport import contract_of, keep_reading
from mockserver.live import LiveServer
from mockserver.models import (
    AssistantMessage,
    LettaErrorMessage,
    LettaPing,
    LettaStopReason,
    LettaUsageStatistics,
    ReasoningMessage,
)
from mockserver.wire import sse

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
RUN = "run-6b0e4d2c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
MESSAGE = "message-7d9e2f10-5a6b-4c7d-8e9f-a0b1c2d3e4f5"
WHEN = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
SCHEMA = letta_schema("http://letta.invalid", spec="mock")


def case(label: str = "POST /v1/agents/{agent_id}/messages", **parts: Any) -> Any:
    operation = SCHEMA.find_operation_by_label(label)
    return operation.Case(path_parameters=parts.pop("path", {"agent_id": AGENT}), **parts)


def response(status: int, content: bytes, content_type: str = "application/json") -> Response:
    request = requests.Request("POST", "http://letta.invalid/v1").prepare()
    return Response(status, {"content-type": [content_type]}, content, request=request, elapsed=0.01, verify=True)


def stream(*events: Any) -> Response:
    return response(200, sse.encode_all(events), "text/event-stream; charset=utf-8")


def ping(seq_id: int | None = None) -> LettaPing:
    return LettaPing(id="ping-1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b", date=WHEN, run_id=RUN, seq_id=seq_id)


def assistant(text: str, otid: str = "7d9e2f10-5a6b-4c7d-8e9f-a0b1c2d3e481", seq_id: int | None = None) -> Any:
    return AssistantMessage(id=MESSAGE, date=WHEN, otid=otid, run_id=RUN, content=text, seq_id=seq_id)


STOP = LettaStopReason(stop_reason="end_turn")
USAGE = LettaUsageStatistics(step_count=1)
GOOD = (ping(), assistant("Hello"), assistant(" there"), STOP, USAGE, sse.DONE)


def failure(check: Any, resp: Response, the_case: Any | None = None, ctx: Any = None) -> Failure | None:
    try:
        result = check(ctx, resp, the_case or case())
    except Failure as found:
        return found
    assert result is None, "a check that applies returns None when it passes"
    return None


def message_of(check: Any, resp: Response, the_case: Any | None = None, ctx: Any = None) -> str:
    found = failure(check, resp, the_case, ctx)
    assert found is not None, f"{check.__name__} passed"
    return found.message


# -- letta_stream_events ---------------------------------------------------------------------------------------


def test_valid_events_pass_every_stream_check() -> None:
    for check in (checks.letta_stream_events, checks.letta_stream_grammar, checks.letta_stream_finished):
        assert failure(check, stream(*GOOD)) is None


def test_an_event_without_message_type_is_named_with_its_index() -> None:
    body = sse.encode_all(GOOD).replace(b'"message_type":"assistant_message",', b"", 1)
    resp = response(200, body, "text/event-stream")
    assert message_of(checks.letta_stream_events, resp).startswith("event #1 (None): at /: a stream event without")


def test_an_event_that_breaks_its_schema_says_where() -> None:
    body = sse.encode_all(GOOD).replace(b'"content":"Hello"', b'"content":7')
    text = message_of(checks.letta_stream_events, response(200, body, "text/event-stream"))
    assert text.startswith("event #1 (assistant_message): at /content:")


def test_an_error_event_must_come_as_event_error() -> None:
    error = LettaErrorMessage(run_id=RUN, error_type="internal_error", message="boom")
    unnamed = sse.encode(STOP) + b"data: " + error.model_dump_json().encode() + b"\n\n" + sse.encode(sse.DONE)
    text = message_of(checks.letta_stream_events, response(200, unnamed, "text/event-stream"))
    assert "error_message must come as (and only as) `event: error`" in text
    assert failure(checks.letta_stream_events, stream(ping(), STOP, error, sse.DONE)) is None


def test_the_stream_checks_skip_json_answers() -> None:
    for check in (checks.letta_stream_events, checks.letta_stream_grammar, checks.letta_stream_finished):
        assert check(None, response(200, b"{}"), case()) is True


# -- letta_stream_grammar --------------------------------------------------------------------------------------

BAD_ORDERS = {
    "no stop_reason": ((ping(), assistant("Hi"), USAGE, sse.DONE), "no stop_reason"),
    "usage first": ((ping(), assistant("Hi"), USAGE, STOP, sse.DONE), "['usage_statistics'] before the stop_reason"),
    "two stop reasons": ((ping(), assistant("Hi"), STOP, STOP, USAGE, sse.DONE), "not one of Letta's stream endings"),
    "done not last": ((ping(), STOP, sse.DONE, USAGE), "an event after [DONE]"),
    "a chunk after the stop": ((ping(), STOP, assistant("Hi"), USAGE, sse.DONE), "not one of Letta's stream endings"),
}


@pytest.mark.parametrize(("events", "says"), BAD_ORDERS.values(), ids=BAD_ORDERS.keys())
def test_a_stream_out_of_letta_s_order_is_reported(events: tuple[Any, ...], says: str) -> None:
    assert says in message_of(checks.letta_stream_grammar, stream(*events))


def test_pings_may_come_anywhere() -> None:
    assert failure(checks.letta_stream_grammar, stream(ping(), assistant("Hi"), ping(), STOP, ping(), USAGE,
                                                       sse.DONE)) is None  # fmt: skip


def test_an_error_after_the_first_chunk_may_end_the_body_without_done() -> None:
    error = LettaErrorMessage(run_id=RUN, error_type="internal_error", message="An error occurred")
    assert failure(checks.letta_stream_grammar, stream(ping(), assistant("Hi"), STOP, error)) is None


def test_token_chunks_of_one_message_must_share_their_otid() -> None:
    events = (ping(), assistant("Hel", otid="otid-1"), assistant("lo", otid="otid-2"), STOP, USAGE, sse.DONE)
    assert "chunks of one assistant_message" in message_of(checks.letta_stream_grammar, stream(*events))


def test_an_otid_names_one_message() -> None:
    other = ReasoningMessage(id=MESSAGE, date=WHEN, otid="otid-1", run_id=RUN, reasoning="hm")
    events = (ping(), other, assistant("Hi", otid="otid-1"), STOP, USAGE, sse.DONE)
    assert "shares otid 'otid-1'" in message_of(checks.letta_stream_grammar, stream(*events))


def test_seq_ids_of_a_background_stream_go_up_and_pings_may_repeat_the_last() -> None:
    good = (ping(1), assistant("Hi", seq_id=2), ping(2), assistant(" there", seq_id=3), STOP, USAGE, sse.DONE)
    assert failure(checks.letta_stream_grammar, stream(*good)) is None
    bad = (ping(1), assistant("Hi", seq_id=3), assistant(" there", seq_id=2), STOP, USAGE, sse.DONE)
    assert "has seq_id 2 after 3" in message_of(checks.letta_stream_grammar, stream(*bad))


def test_letta_s_framing_is_required() -> None:
    spaced = sse.encode_all(GOOD).replace(b'"message_type":"stop_reason"', b'"message_type": "stop_reason"')
    text = message_of(checks.letta_stream_grammar, response(200, spaced, "text/event-stream"))
    assert "not compact" in text


def test_a_resumed_stream_may_be_any_tail_of_a_stream() -> None:
    resume = case("POST /v1/runs/{run_id}/stream", path={"run_id": RUN}, body={"starting_after": 9})
    for events in ((), (sse.DONE,), (USAGE, sse.DONE), (assistant("Hi"), STOP, USAGE, sse.DONE)):
        assert failure(checks.letta_stream_grammar, stream(*events), resume) is None, events
    assert failure(checks.letta_stream_grammar, stream(STOP, sse.DONE), resume) is not None


# -- letta_stream_finished -------------------------------------------------------------------------------------


def read(outcome: str, events: tuple[Any, ...] = (ping(),)) -> Response:
    resp = stream(*events)
    reading = StreamReading(StreamBounds(timeout=2.5, max_events=40), content=bytearray(resp.content))
    contract = contract_of(SCHEMA)
    assert contract is not None
    for frame in sse.decode(resp.content):
        payload, problems = check_event(contract, frame)
        reading.arrivals.append(Arrival(len(reading.arrivals), frame, 0.1, payload, problems))
    reading.outcome = outcome  # type: ignore[assignment]
    keep_reading(resp.request, reading)
    return resp


@pytest.mark.parametrize(
    ("outcome", "says"),
    [
        ("timeout", "stream did not finish within 2.5 s (1 events, no [DONE])"),
        ("max_events", "stream did not finish within 40 events"),
        ("open_after_done", "the body stayed open 1 s after [DONE]"),
        ("dropped", "the connection broke after 1 events"),
    ],
)
def test_a_stream_that_does_not_finish_within_the_bounds_is_reported(outcome: str, says: str) -> None:
    assert message_of(checks.letta_stream_finished, read(outcome)).startswith(says)


def test_a_stream_schemathesis_cut_short_is_reported_too() -> None:
    resp = stream(ping())
    resp.stream_cut_short = True
    assert "schemathesis' request timeout" in message_of(checks.letta_stream_finished, resp)


# -- letta_error_shape -----------------------------------------------------------------------------------------


def test_letta_s_error_bodies_pass() -> None:
    bodies = [
        (422, {"detail": [{"loc": ["body", "input"], "msg": "Input should be a valid string", "type": "string_type"}]}),
        (404, {"detail": "Agent not found"}),
        (409, {"detail": {"code": "PENDING_APPROVAL", "message": "...", "pending_request_id": MESSAGE}}),
        (429, {"error": {"type": "llm_rate_limit", "message": "Rate limit exceeded", "detail": "..."}}),
    ]
    for status, body in bodies:
        assert failure(checks.letta_error_shape, response(status, json.dumps(body).encode())) is None


def test_the_real_server_s_422_repr_is_not_the_detail_list() -> None:
    body = {"trace_id": "", "detail": "[{'type': 'missing', 'loc': ('body',), 'msg': 'Field required'}]"}
    text = message_of(checks.letta_error_shape, response(422, json.dumps(body).encode()))
    assert text.startswith("422: detail is str, not a list of {loc, msg, type}")


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [(404, b"Not Found", "not a JSON object"), (400, b'{"message": "no"}', "neither {detail}"),
     (422, b'{"detail": [{"loc": "body"}]}', "detail[0] is not {loc: list, msg: str, type: str}")],
)  # fmt: skip
def test_other_error_bodies_are_not_letta_s(status: int, body: bytes, says: str) -> None:
    assert says in message_of(checks.letta_error_shape, response(status, body))


def test_the_error_shape_check_skips_successes() -> None:
    assert checks.letta_error_shape(None, response(200, b"{}"), case()) is True


# -- letta_history ---------------------------------------------------------------------------------------------


def history_context(parent: Any, parent_response: Response, *between: Any) -> Any:
    cases = [parent, *between]

    def find_all_cases() -> Any:
        return iter([*cases, listing_case])

    internals = SimpleNamespace(
        find_parent=lambda case_id: parent,
        find_response=lambda case_id: parent_response,
        find_all_cases=find_all_cases,
    )
    return SimpleNamespace(internals=internals)


SEND = case(body={"input": "Hello!"})
ANSWER = {"messages": [json.loads(assistant("Hi").model_dump_json())], "stop_reason": {"message_type": "stop_reason",
          "stop_reason": "end_turn"}, "usage": json.loads(USAGE.model_dump_json())}  # fmt: skip
listing_case = case("GET /v1/agents/{agent_id}/messages")


def listed(*ids: str) -> Response:
    return response(200, json.dumps([json.loads(assistant("Hi").model_dump_json()) | {"id": i} for i in ids]).encode())


def test_what_a_send_answered_must_be_in_the_history_listed_after_it() -> None:
    ctx = history_context(SEND, response(200, json.dumps(ANSWER).encode()))
    assert failure(checks.letta_history, listed(MESSAGE), listing_case, ctx) is None
    text = message_of(checks.letta_history, listed(), listing_case, ctx)
    assert text == f"1 of the 1 messages the send answered with are not in the history: ['{MESSAGE}']"


def test_the_history_check_skips_a_page_that_cannot_hold_everything() -> None:
    ctx = history_context(SEND, response(200, json.dumps(ANSWER).encode()))
    for query in ({"after": MESSAGE}, {"limit": 1}, {"order": "asc"}, {"include_return_message_types": ["x"]}):
        page = case("GET /v1/agents/{agent_id}/messages", query=query)
        assert checks.letta_history(ctx, listed(), page) is True, query


def test_the_history_check_skips_when_another_send_came_between() -> None:
    ctx = history_context(SEND, response(200, json.dumps(ANSWER).encode()), case(body={"input": "again"}))
    assert checks.letta_history(ctx, listed(), listing_case) is True


def test_a_completed_run_must_list_its_messages() -> None:
    run = case("GET /v1/runs/{run_id}", path={"run_id": RUN})
    run_response = response(200, json.dumps({"id": RUN, "status": "completed"}).encode())
    messages = case("GET /v1/runs/{run_id}/messages", path={"run_id": RUN})
    ctx = history_context(run, run_response)
    assert message_of(checks.letta_history, response(200, b"[]"), messages, ctx) == (
        f"run {RUN} is completed but lists no messages"
    )


# -- letta_history after a send, against a server ---------------------------------------------------------------


def sent(url: str, body: dict[str, Any]) -> tuple[Any, Response]:
    schema = letta_schema(url, operations=("send_message",))
    the_case = schema.find_operation_by_label("POST /v1/agents/{agent_id}/messages").Case(
        path_parameters={"agent_id": AGENT}, body=body
    )
    return the_case, the_case.call()


STATEFUL = SimpleNamespace(phase=SimpleNamespace(name="STATEFUL_TESTING"))
SENDS = [{"input": "Hello!"}, {"input": "Hello!", "streaming": True, "stream_tokens": True}]


@pytest.mark.parametrize("body", SENDS, ids=["json", "token stream"])
def test_after_a_stateful_send_the_check_finds_it_in_the_agent_s_history_and_its_run(
    serve: Any, body: dict[str, Any]
) -> None:
    the_case, answer = sent(serve(create_app(seed=1)), body)
    assert history.letta_history(STATEFUL, answer, the_case) is None


@pytest.fixture(scope="module")
def broken_url() -> Iterator[str]:
    # Its own socket: the plugin's session server resets whatever app it serves, and this is no letta-mock app.
    with LiveServer(BrokenLetta()) as server:  # type: ignore[arg-type]
        yield server.url


@pytest.mark.parametrize("body", SENDS, ids=["json", "token stream"])
def test_a_run_that_lists_nothing_after_a_send_is_reported(broken_url: str, body: dict[str, Any]) -> None:
    the_case, answer = sent(broken_url, body)  # its run listings are always empty
    text = message_of(history.letta_history, answer, the_case, STATEFUL)
    assert re.match(r"^(\d+) of the \1 messages the send answered with are not in run run-\S+ \(GET /v1/runs/", text)


def test_outside_the_stateful_phase_a_send_is_not_followed_up() -> None:
    assert history.letta_history(SimpleNamespace(phase=None), response(200, b"{}"), SEND) is True
