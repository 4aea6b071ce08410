"""The contract checker itself: it must reject what the document (read discriminator-aware) does not allow.

Without these, a checker that accepted everything would make every other test pass vacuously.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from contract import ContractChecker, ContractViolation, check_sse_body, validate_json_body, validate_stream_event

DATE = "2025-01-01T00:00:00+00:00"
PING = {"id": "ping-1", "date": DATE, "message_type": "ping", "run_id": "run-1"}
ASSISTANT = {"id": "message-1", "date": DATE, "message_type": "assistant_message", "content": "hi"}
STOP = {"message_type": "stop_reason", "stop_reason": "end_turn"}
USAGE = {"message_type": "usage_statistics", "completion_tokens": 1, "prompt_tokens": 2, "total_tokens": 3}
ERROR = {"message_type": "error_message", "run_id": "run-1", "error_type": "llm_error", "message": "boom"}


@pytest.mark.parametrize("event", [PING, ASSISTANT, STOP, USAGE], ids=["ping", "assistant", "stop", "usage"])
def test_a_well_formed_stream_event_passes(event: dict[str, Any]) -> None:
    validate_stream_event(event)


@pytest.mark.parametrize(
    "event",
    [
        {k: v for k, v in STOP.items() if k != "message_type"},
        {k: v for k, v in ASSISTANT.items() if k != "message_type"},
        {**STOP, "stop_reason": "bored"},
        {**ASSISTANT, "content": 5},
        {**ASSISTANT, "date": "yesterday"},
        {**USAGE, "prompt_tokens": "2"},
        {"message_type": "summary_message", "id": "message-1", "date": DATE, "summary": "s"},
        {"message_type": "mystery"},
        {**ASSISTANT, "message_type": "usage_statistics", "prompt_tokens": "x"},
    ],
    ids=[
        "stop reason without message_type",
        "message without message_type",
        "unknown stop reason",
        "content of the wrong type",
        "a date that is not a date",
        "usage count as a string",
        "a history-only type in a stream",
        "an unknown message_type",
        "checked against the member its message_type names",
    ],
)
def test_a_malformed_stream_event_is_a_violation(event: dict[str, Any]) -> None:
    with pytest.raises(ContractViolation):
        validate_stream_event(event)


def test_an_error_event_is_checked_against_letta_error_message() -> None:
    validate_stream_event(ERROR, error_event=True)
    with pytest.raises(ContractViolation):
        validate_stream_event({**ERROR, "seq_id": None}, error_event=True)


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        (b"data: " + b'{"message_type":"stop_reason","stop_reason":"end_turn"}' + b"\n\ndata: [DONE]\n\n", True),
        (b'event: error\ndata: {"message_type":"error_message","run_id":"r","error_type":"e","message":"m"}\n\n', True),
        (b'data: {"message_type":"stop_reason","stop_reason":"end_turn"}\n\n', True),
        (b'data: {"message_type":"stop_reason","stop_reason":"end_turn"}\n', False),
        (b'id: 1\ndata: {"message_type":"stop_reason","stop_reason":"end_turn"}\n\n', False),
        (b": keep-alive\n\n", False),
        (b"data: [DONE]\n\ndata: [DONE]\n\n", False),
        (b"event: cancelled\ndata: {}\n\n", False),
        (b"data: not json\n\n", False),
        (b'data:{"message_type":"stop_reason","stop_reason":"end_turn"}\n\n', False),
    ],
    ids=[
        "an event then DONE",
        "an error event",
        "no DONE",
        "no blank line at the end",
        "an id field",
        "a comment",
        "an event after DONE",
        "an event name other than error",
        "data that is not JSON",
        "no space after the colon",
    ],
)
def test_sse_framing_is_letta_s_exactly(body: bytes, valid: bool) -> None:
    if valid:
        check_sse_body(body.decode())
    else:
        with pytest.raises(ContractViolation):
            check_sse_body(body.decode())


@pytest.mark.parametrize(
    ("method", "template", "status", "body", "valid"),
    [
        ("GET", "/v1/agents/{agent_id}/messages", 200, [ASSISTANT], True),
        ("GET", "/v1/agents/{agent_id}/messages", 200, [{k: v for k, v in ASSISTANT.items() if k != "id"}], False),
        ("GET", "/v1/agents/{agent_id}/messages", 200, {"items": [ASSISTANT]}, False),
        ("POST", "/v1/agents/{agent_id}/messages", 200, {"messages": [], "stop_reason": STOP, "usage": USAGE}, True),
        ("POST", "/v1/agents/{agent_id}/messages", 200, {"messages": [], "stop_reason": STOP}, False),
        ("POST", "/v1/agents/{agent_id}/summarize", 200, {"summary": "s", "num_messages_before": 2}, False),
        ("POST", "/v1/messages/search", 200, [{"message_type": "user_message", "message_id": "m"}], False),
        ("GET", "/v1/runs/{run_id}", 200, {"id": "run-1234abcd", "agent_id": "a", "created_at": DATE}, True),
        ("GET", "/v1/runs/{run_id}", 200, {"id": "run_id", "agent_id": "a"}, False),
        ("POST", "/v1/agents/{agent_id}/messages", 422, {"detail": [{"loc": ["body"], "msg": "m", "type": "t"}]}, True),
        ("POST", "/v1/agents/{agent_id}/messages", 422, {"detail": [{"loc": ["body"], "msg": "m"}]}, False),
        ("POST", "/v1/agents/{agent_id}/messages", 404, {"detail": "Agent not found"}, True),
        ("POST", "/v1/agents/{agent_id}/messages", 404, {"error": "nope"}, False),
        ("POST", "/v1/agents/{agent_id}/messages", 500, {"detail": "An unknown error occurred"}, False),
    ],
)
def test_json_bodies_are_checked_against_the_operation_and_status(
    method: str, template: str, status: int, body: Any, valid: bool
) -> None:
    if valid:
        validate_json_body(method, template, status, body)
    else:
        with pytest.raises(ContractViolation):
            validate_json_body(method, template, status, body)


def test_the_hook_rejects_a_json_response_with_the_wrong_content_type() -> None:
    request = httpx.Request("GET", "http://mock/v1/agents/agent-123e4567-e89b-42d3-8456-426614174000/messages")
    response = httpx.Response(200, request=request, text="[]", headers={"content-type": "text/plain"})
    with pytest.raises(ContractViolation):
        ContractChecker().sync_hook(response)


def test_the_hook_rejects_a_stream_without_letta_s_content_type() -> None:
    request = httpx.Request("POST", "http://mock/v1/agents/agent-123e4567-e89b-42d3-8456-426614174000/messages")
    body = "data: [DONE]\n\n"
    response = httpx.Response(200, request=request, text=body, headers={"content-type": "text/event-stream"})
    with pytest.raises(ContractViolation):
        ContractChecker().sync_hook(response)
