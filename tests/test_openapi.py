"""Our OpenAPI document (mockserver/openapi.py): valid OpenAPI 3.2, faithful to Letta's, and true of the mock.

The last test hands the document, fetched from ``/openapi.json``, to schemathesis, which sends generated requests
to the app in-process and checks every answer against it, event streams included.
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import jsonschema_rs
import pytest
import schemathesis
from contract import SPEC_PATH
from hypothesis import HealthCheck, settings
from pydantic import ValidationError
from schemathesis import Case, CheckContext, Response, checks
from starlette.applications import Starlette
from starlette.routing import Route

from mockserver import create_app, models
from mockserver.app import routes
from mockserver.openapi import SSE_EVENT, openapi_document
from mockserver.wire import sse

DOCUMENT = openapi_document()
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
OPERATION_IDS = {
    "send_message", "list_messages", "create_agent_message_stream", "cancel_message", "create_agent_message_async",
    "reset_messages", "summarize_messages", "send_conversation_message", "list_conversation_messages",
    "retrieve_conversation_stream", "compact_conversation", "list_messages_for_run", "retrieve_stream_for_run",
    "list_all_messages", "retrieve_message", "search_all_messages", "retrieve_run", "check_health",
}  # fmt: skip
# The resources message flows stand on: agents, tools, conversations, runs.
RESOURCE_OPERATION_IDS = {
    "list_agents", "create_agent", "count_agents", "retrieve_agent", "modify_agent", "delete_agent",
    "list_tools_for_agent", "attach_tool_to_agent", "detach_tool_from_agent", "list_tools", "create_tool",
    "upsert_tool", "count_tools", "retrieve_tool", "modify_tool", "delete_tool", "create_conversation",
    "list_conversations", "retrieve_conversation", "update_conversation", "delete_conversation", "fork_conversation",
    "cancel_conversation", "list_runs", "list_active_runs", "delete_run", "retrieve_usage_for_run",
    "list_steps_for_run", "retrieve_agent_context_window", "retrieve_core_memory_block", "modify_core_memory_block",
    "recompile_conversation",
}  # fmt: skip
# Served under /v1 only to refuse with 405: Letta's message editing, which the mock does not offer.
UNDOCUMENTED = {
    ("PATCH", "/v1/agents/{agent_id}/messages/{message_id}"),
}
AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"


@cache
def upstream() -> dict[str, Any]:
    with SPEC_PATH.open() as spec:
        document: dict[str, Any] = json.load(spec)
    return document


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path) -> operation object."""
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    }


OURS = operations(DOCUMENT)
STREAMS = sorted(key for key, op in OURS.items() if "text/event-stream" in op["responses"]["200"]["content"])


def label(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


def ref_name(node: dict[str, Any]) -> str:
    return str(node["$ref"]).rsplit("/", 1)[-1]


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            elif key == "mapping":
                yield from value.values()
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


# -- validators over the document -------------------------------------------------------------------------------

_BASE = "urn:letta-mock"


@cache
def _registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([(_BASE, json.loads(json.dumps(DOCUMENT)))])


@cache
def validator(pointer: str) -> jsonschema_rs.Validator:
    """A validator for the schema at ``pointer`` (``/components/schemas/X``…) of the document."""
    return jsonschema_rs.validator_for({"$ref": f"{_BASE}#{pointer}"}, registry=_registry(), validate_formats=True)


def event_validator() -> jsonschema_rs.Validator:
    return validator(f"/components/schemas/{SSE_EVENT}")


def data_validator(event: str | None) -> jsonschema_rs.Validator:
    """The ``contentSchema`` of the event schema's branch for this event name (None: an unnamed event)."""
    branches = SCHEMAS[SSE_EVENT]["oneOf"]
    index = next(i for i, b in enumerate(branches) if b["properties"]["event"]["const"] == (event or "message"))
    return validator(f"/components/schemas/{SSE_EVENT}/oneOf/{index}/properties/data/contentSchema")


# -- the document itself ----------------------------------------------------------------------------------------


def test_document_is_valid_openapi_3_2_with_every_operation() -> None:
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))
    loaded.validate()  # against the OpenAPI 3.2 meta-schema
    assert len([result.ok() for result in loaded.get_all_operations()]) == 18 + len(RESOURCE_OPERATION_IDS)
    assert {operation["operationId"] for operation in OURS.values()} == OPERATION_IDS | RESOURCE_OPERATION_IDS
    assert DOCUMENT["openapi"] == "3.2.0"
    assert DOCUMENT["info"]["title"] == "letta-mock"


def test_every_reference_resolves_and_every_component_is_used() -> None:
    used = {ref.rsplit("/", 1)[-1] for ref in refs(DOCUMENT)}
    assert all(ref.startswith("#/components/schemas/") for ref in refs(DOCUMENT))
    assert used == set(SCHEMAS)


def test_built_deterministically() -> None:
    assert json.dumps(openapi_document.__wrapped__()) == json.dumps(DOCUMENT)


async def test_served_at_openapi_json() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://mock") as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(DOCUMENT))


def test_not_built_at_start_up() -> None:
    code = "import sys; from mockserver import create_app; create_app(); print('mockserver.openapi' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_every_v1_route_is_documented() -> None:
    served = {
        (method, route.path.rstrip("/"))
        for route in routes()
        if isinstance(route, Route) and route.path.startswith("/v1/")
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(method, path.rstrip("/")) for method, path in OURS}
    assert documented <= served
    assert served - documented == UNDOCUMENTED


# Request bodies: the document accepts exactly what the models accept, including the rules pydantic leaves out of
# its schemas (tags of discriminated unions, Letta's rule for input messages without "type").
REQUESTS = [
    ({"messages": [{"role": "user", "content": "hi"}]}, True),
    ({"messages": [{"type": "message", "role": "user", "content": "hi"}]}, True),
    ({"messages": [{"type": None, "role": "user", "content": "hi"}]}, True),
    ({"messages": [{"role": "user", "content": "hi", "approve": True}]}, True),  # an approval, role ignored
    ({"messages": [{"approve": True, "approval_request_id": "approval-1"}]}, True),
    ({"messages": [{"type": "approval"}]}, True),
    ({"messages": [{"type": "tool_return", "tool_returns": []}]}, True),
    ({"messages": [{}]}, False),
    ({"messages": [{"type": None, "approve": True}]}, False),
    ({"messages": [{"type": "tool_return"}]}, False),
    ({"messages": [{"type": "other", "role": "user", "content": "hi"}]}, False),
    ({"input": [{"type": "omitted_reasoning"}]}, True),
    ({"input": [{}]}, False),
    ({"input": [{"text": "hi"}]}, False),
    ({"input": "hi", "messages": [{"role": "user", "content": "hi"}]}, True),  # one turn in the default profile
    ({}, True),
]


@pytest.mark.parametrize(("body", "valid"), REQUESTS, ids=[json.dumps(body) for body, _ in REQUESTS])
def test_request_schema_accepts_what_the_model_accepts(body: dict[str, Any], valid: bool) -> None:
    try:
        models.LettaStreamingRequest.model_validate_json(json.dumps(body), strict=True)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == valid
    assert validator("/components/schemas/LettaStreamingRequest").is_valid(body) == valid


# -- against Letta's document -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(OURS), ids=label)
def test_operation_exists_upstream_with_the_same_parameters(key: tuple[str, str]) -> None:
    ours, theirs = OURS[key], operations(upstream())[key]
    for field in ("operationId", "tags"):
        assert ours[field] == theirs[field]
    assert ours.get("deprecated", False) == theirs.get("deprecated", False)
    assert [(p["name"], p["in"]) for p in ours.get("parameters", [])] == [
        (p["name"], p["in"]) for p in theirs.get("parameters", [])
    ]
    for mine, their in zip(ours.get("parameters", []), theirs.get("parameters", []), strict=True):
        assert mine["required"] == their["required"]
        for keyword in ("pattern", "minLength", "maxLength", "default", "enum", "const"):
            assert mine["schema"].get(keyword) == their["schema"].get(keyword), (mine["name"], keyword)
    assert ("requestBody" in ours) == ("requestBody" in theirs)
    assert set(theirs["responses"]) - {"422"} <= set(ours["responses"])  # 422 only where the mock can answer it
    # Streams where Letta streams.
    assert ("text/event-stream" in ours["responses"]["200"]["content"]) == (
        "text/event-stream" in theirs["responses"]["200"]["content"]
    )


def test_every_operation_s_summary_is_letta_s(letta_full_spec: Path) -> None:
    # Summaries are prose, so the facts in tests/spec leave them out; the full document has them.
    theirs = operations(json.loads(letta_full_spec.read_text()))
    assert {label(key): OURS[key]["summary"] for key in OURS} == {label(key): theirs[key]["summary"] for key in OURS}


def message_type_names() -> list[str]:
    schemas = upstream()["components"]["schemas"]
    names = [ref_name(m) for union in ("LettaStreamingResponse", "LettaMessageUnion") for m in schemas[union]["oneOf"]]
    return list(dict.fromkeys(names))


def reachable_values(node: Any, schemas: dict[str, Any], seen: frozenset[str] = frozenset()) -> set[str]:
    """Every enum and const value under ``node``, following references (each component once)."""
    if isinstance(node, list):
        return set().union(*(reachable_values(item, schemas, seen) for item in node))
    if not isinstance(node, dict):
        return set()
    values: set[str] = set()
    for key, value in node.items():
        if key == "enum":
            values |= {json.dumps(v) for v in value}
        elif key == "const":
            values.add(json.dumps(value))
        elif key == "$ref" and ref_name(node) not in seen:
            values |= reachable_values(schemas[ref_name(node)], schemas, seen | {ref_name(node)})
        elif key not in ("default", "examples", "discriminator", "title", "description", "$ref"):
            values |= reachable_values(value, schemas, seen)
    return values


@pytest.mark.parametrize("name", message_type_names())
def test_message_type_agrees_with_upstream(name: str) -> None:
    theirs, ours = upstream()["components"]["schemas"][name], SCHEMAS[name]
    assert list(ours["properties"]) == list(theirs["properties"])
    # The model requires what Letta requires, message_type aside: it is the discriminator, which our models default
    # (Letta's too, except LettaErrorMessage's) and our document requires, as it requires every field the server
    # always sends: all but those left out when null.
    model = getattr(models, name)
    model_required = set(model.model_json_schema(mode="validation").get("required", []))
    assert model_required - {"message_type"} == set(theirs.get("required", [])) - {"message_type"}
    assert set(ours["required"]) == {field for field, info in model.model_fields.items() if info.exclude_if is None}
    assert set(theirs.get("required", [])) <= set(ours["required"])
    # The same enum and const values wherever they are: nested content parts and StopReasonType included.
    for field in theirs["properties"]:
        assert reachable_values(ours["properties"][field], SCHEMAS) == reachable_values(
            theirs["properties"][field], upstream()["components"]["schemas"]
        ), field


@pytest.mark.parametrize("name", ["StopReasonType", "MessageType"])
def test_named_enum_agrees_with_upstream(name: str) -> None:
    assert SCHEMAS[name]["enum"] == upstream()["components"]["schemas"][name]["enum"]


@pytest.mark.parametrize("key", STREAMS, ids=label)
def test_stream_has_an_event_schema(key: tuple[str, str]) -> None:
    assert ref_name(OURS[key]["responses"]["200"]["content"]["text/event-stream"]["itemSchema"]) == SSE_EVENT


FRAMES = [
    ({"data": sse.DONE}, True),
    ({"event": "message", "data": sse.DONE}, True),  # WHATWG parsers name unnamed events "message"
    ({"event": "error", "data": "{}"}, True),  # the data's JSON is its contentSchema's business
    ({"event": "error", "data": sse.DONE}, False),
    ({"event": "cancelled", "data": "{}"}, False),
    ({"data": "{}", "id": "1"}, False),
    ({"event": "error"}, False),
]


@pytest.mark.parametrize(("frame", "valid"), FRAMES, ids=[json.dumps(frame) for frame, _ in FRAMES])
def test_event_schema(frame: dict[str, str], valid: bool) -> None:
    assert event_validator().is_valid(frame) == valid


def test_event_data_schemas() -> None:
    error = models.LettaErrorMessage(run_id="run-1", error_type="internal_error", message="x").model_dump(mode="json")
    stop = models.LettaStopReason(stop_reason="end_turn").model_dump(mode="json")
    assert data_validator(None).is_valid(stop)
    assert not data_validator("error").is_valid(stop)
    assert data_validator("error").is_valid(error)
    assert not data_validator(None).is_valid(error)  # an error is always an `event: error`


# -- schemathesis against the app -------------------------------------------------------------------------------


def sse_events_conform(ctx: CheckContext | None, response: Response, case: Case | None) -> bool | None:
    """Each frame, decoded as the SDKs decode it, against the event schema, and its JSON against its content schema.

    schemathesis checks events too; this check names the offending field, and holds Letta's framing: ``[DONE]``
    only last.
    """
    if "text/event-stream" not in (response.headers.get("content-type") or [""])[0]:
        return None
    frames = sse.decode(response.content)
    for index, frame in enumerate(frames):
        fields = {"data": frame.data} if frame.event is None else {"event": frame.event, "data": frame.data}
        errors = [e.message for e in event_validator().iter_errors(fields)]
        assert not errors, f"event #{index} {fields}: {errors}"
        if frame.data == sse.DONE:
            assert index == len(frames) - 1, f"[DONE] is event #{index} of {len(frames)}"
            continue
        errors = [f"{e.instance_path}: {e.message}" for e in data_validator(frame.event).iter_errors(frame.json())]
        assert not errors, f"event #{index} {frame.data}: {errors}"
    return True


def _stream(body: bytes) -> Any:
    return SimpleNamespace(headers={"content-type": ["text/event-stream; charset=utf-8"]}, content=body)


STOP = b'data: {"message_type":"stop_reason","stop_reason":"end_turn"}\n\n'
ERROR = b'{"message_type":"error_message","run_id":"run-1","error_type":"internal_error","message":"x"}'
BAD_STREAMS = {
    "unnamed error": b"data: " + ERROR + b"\n\n",
    "[DONE] not last": b"data: [DONE]\n\n" + STOP,
    "unknown stop reason": STOP.replace(b"end_turn", b"finished"),
    "missing field": b'data: {"message_type":"stop_reason"}\n\n',
    "not JSON": b"data: hello\n\n",
}


def test_sse_check_accepts_letta_framing() -> None:
    assert sse_events_conform(None, _stream(STOP + b"event: error\ndata: " + ERROR + b"\n\ndata: [DONE]\n\n"), None)


@pytest.mark.parametrize("body", BAD_STREAMS.values(), ids=BAD_STREAMS.keys())
def test_sse_check_rejects(body: bytes) -> None:
    with pytest.raises((AssertionError, json.JSONDecodeError)):
        sse_events_conform(None, _stream(body), None)


class MockErrors(logging.Handler):
    """Errors the mock logs: its own bugs, including those of background work that no response shows."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


MOCK_ERRORS = MockErrors()


def no_mock_errors_logged(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    # A background task's error may surface during a later case; the message names the request that failed.
    records, MOCK_ERRORS.records = MOCK_ERRORS.records, []
    assert not records, "\n".join(MOCK_ERRORS.format(r) for r in records)
    return True


@pytest.fixture(scope="module", autouse=True)
def _mock_errors() -> Iterator[None]:
    logger = logging.getLogger("letta_mock")
    logger.addHandler(MOCK_ERRORS)
    yield
    logger.removeHandler(MOCK_ERRORS)


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    sse_events_conform,
    no_mock_errors_logged,
]


EXAMPLES = 15  # per operation and world; the coverage phase is off: ~1300 requests per send operation, a minute


def served_document(app: Starlette) -> schemathesis.BaseSchema:
    """The document as ``app`` serves it, ready for a short schemathesis run against ``app``."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(max_examples=EXAMPLES)
    schema.config.phases.update(phases=["examples", "fuzzing"])
    return schema


# The open world answers every well-formed id; the closed world knows one agent (the document's example id) and
# answers the 400/404/409s the document lists.
OPEN_WORLD = served_document(create_app(seed=1))
CLOSED_WORLD = served_document(create_app(seed=1, agents=[AGENT]))
RUN = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@OPEN_WORLD.parametrize()
@RUN
def test_open_world_mock_keeps_its_document(case: Case) -> None:
    case.call_and_validate(checks=CHECKS)


@CLOSED_WORLD.parametrize()
@RUN
def test_closed_world_mock_keeps_its_document(case: Case) -> None:
    case.call_and_validate(checks=CHECKS)


# Bugs schemathesis found, kept fixed.


async def test_async_run_records_an_unparsable_callback_url() -> None:
    MOCK_ERRORS.records.clear()
    app = create_app(seed=1)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        body = {"input": "hi", "callback_url": "http://mock/\ncallback"}
        run = (await client.post(f"/v1/agents/{AGENT}/messages/async", json=body)).json()
        answer = (await client.get(f"/v1/runs/{run['id']}")).json()
    assert answer["callback_error"] is not None
    assert not MOCK_ERRORS.records


RUN_ID_REQUESTS = [
    ("GET", "/v1/runs/run-xyz", None),
    ("GET", "/v1/runs/run-xyz/messages", None),
    ("POST", "/v1/runs/run-xyz/stream", None),
    ("POST", "/v1/conversations/default/stream", {"run_id": "run-xyz"}),
]


@pytest.mark.parametrize(("method", "path", "body"), RUN_ID_REQUESTS, ids=[f"{m} {p}" for m, p, _ in RUN_ID_REQUESTS])
async def test_open_world_answers_any_run_id(method: str, path: str, body: dict[str, str] | None) -> None:
    MOCK_ERRORS.records.clear()
    transport = httpx.ASGITransport(app=create_app(seed=1), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        response = await client.request(method, path, json=body)
    assert response.status_code == 200
    assert not MOCK_ERRORS.records
