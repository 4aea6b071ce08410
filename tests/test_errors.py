"""Every refusal: Letta's status and body shape, the offending field named, never a 500, and no state changed.

Wire doc §15 (catalogue and 422 shapes), §4 (send checks), §5 (approval conflicts), §9 (cancel), §13 (runs),
§1.1 (unknown routes, wrong methods). The default profile answers 422 in the OpenAPI document's
``HTTPValidationError`` shape; ``fidelity="server"`` answers as the real server does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import letta_client
import pytest
from _sdk import AGENT, make_letta
from contract import ContractChecker
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.catalogue import Texts

OTHER = "agent-00000000-0000-4000-8000-0000000000ff"  # an agent the closed world does not have
MESSAGE = "message-123e4567-e89b-42d3-8456-426614174000"
RUN = "run-123e4567-e89b-42d3-8456-426614174000"
SEND = f"/v1/agents/{AGENT}/messages"

PENDING_TEXT = (
    "CONFLICT: Cannot send a new message: The agent is waiting for approval on a tool call. "
    "Please approve or deny the pending request before continuing."
)
NOTHING_PENDING_TEXT = (
    "Cannot process approval response: No tool call is currently awaiting approval. "
    "Please send a regular message to interact with the agent."
)


async def snapshot(client: httpx.AsyncClient, app: Starlette) -> tuple[Any, ...]:
    """Everything a refused request must leave alone: the agent's history, all messages, and the runs."""
    history = await client.get(SEND, params={"order": "asc", "limit": 10_000})
    everything = await client.get("/v1/messages/", params={"order": "asc", "limit": 10_000})
    return history.json(), everything.json(), sorted(app.state.store.runs)


@pytest.fixture
def open_app() -> Starlette:
    return create_app(seed=1)


@pytest.fixture
def closed_app() -> Starlette:
    return create_app(seed=1, agents=[AGENT])


@pytest.fixture
async def closed(closed_app: Starlette, client_for: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    client = client_for(closed_app)
    await client.post(SEND, json={"input": "some history"})
    return client


@pytest.fixture
async def opened(open_app: Starlette, client_for: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    client = client_for(open_app)
    await client.post(SEND, json={"input": "some history"})
    return client


def assert_validation_error(response: httpx.Response, loc: list[Any], type_: str | None = None) -> None:
    """422 in the document's shape, one item naming ``loc`` (and, if given, of ``type_``)."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"detail"}
    assert isinstance(body["detail"], list)
    assert body["detail"]
    for item in body["detail"]:
        assert set(item) == {"loc", "msg", "type"}
        assert isinstance(item["msg"], str)
        assert item["msg"]
    named = [item for item in body["detail"] if item["loc"] == loc]
    assert named, f"no error names {loc}: {body['detail']}"
    if type_ is not None:
        assert type_ in {item["type"] for item in named}


# -- 422: the request is not what the document allows -----------------------------------------------------------

Request = tuple[str, str, dict[str, Any]]
JSON = "application/json"


def post(path: str, body: Any = None, *, raw: bytes | None = None, content_type: str | None = JSON) -> Request:
    if raw is not None:
        headers = {} if content_type is None else {"content-type": content_type}
        return "POST", path, {"content": raw, "headers": headers}
    return "POST", path, {} if body is None else {"json": body}


def get(path: str, **params: Any) -> Request:
    return "GET", path, {"params": params}


SEARCH = "/v1/messages/search"
APPROVE = {"type": "approval", "approvals": [{"type": "approval", "tool_call_id": "call_1", "approve": True}]}

# (what is wrong, the request, loc naming the offending field, pydantic error type or None when not pinned)
INVALID: list[tuple[str, Request, list[Any], str | None]] = [
    ("malformed JSON", post(SEND, raw=b'{"input": '), ["body", 10], "json_invalid"),
    ("bytes that are not UTF-8", post(SEND, raw=b"\xff\xfe"), ["body", 0], "json_invalid"),
    ("a JSON array for a body", post(SEND, []), ["body"], "model_type"),
    ("a JSON null for a body", post(SEND, raw=b"null"), ["body"], "model_type"),
    ("no body where one is required", post(SEND), ["body"], "missing"),
    ("a string for an integer", post(SEND, {"input": "x", "max_steps": "5"}), ["body", "max_steps"], "int_type"),
    ("a string for a boolean", post(SEND, {"input": "x", "streaming": "true"}), ["body", "streaming"], "bool_type"),
    ("a number for the input", post(SEND, {"input": 5}), ["body", "input"], "string_type"),
    ("an object for the messages", post(SEND, {"messages": {"role": "user"}}), ["body", "messages"], "list_type"),
    (
        "a message without content",
        post(SEND, {"messages": [{"role": "user"}]}),
        ["body", "messages", 0, "content"],
        "missing",
    ),
    (
        "a message with an unknown role",
        post(SEND, {"messages": [{"role": "robot", "content": "x"}]}),
        ["body", "messages", 0, "role"],
        "literal_error",
    ),
    (
        "a message of an unknown type",
        post(SEND, {"messages": [{"type": "bogus", "role": "user", "content": "x"}]}),
        ["body", "messages", 0],
        "union_tag_invalid",
    ),
    (
        "a content part of an unknown type",
        post(SEND, {"messages": [{"role": "user", "content": [{"type": "video", "url": "x"}]}]}),
        ["body", "messages", 0, "content", 0],
        "union_tag_invalid",
    ),
    (
        "an unknown message type to return",
        post(SEND, {"input": "x", "include_return_message_types": ["bogus"]}),
        ["body", "include_return_message_types", 0],
        None,
    ),
    ("a search without a query", post(SEARCH, {}), ["body", "query"], "missing"),
    ("a search limit above 100", post(SEARCH, {"query": "x", "limit": 101}), ["body", "limit"], "less_than_equal"),
    (
        "a naive search date",
        post(SEARCH, {"query": "x", "start_date": "2025-01-01T00:00:00"}),
        ["body", "start_date"],
        "timezone_aware",
    ),
    (
        "run ids that are not a list",
        post(f"/v1/agents/{AGENT}/messages/cancel", {"run_ids": "run-1"}),
        ["body", "run_ids"],
        "list_type",
    ),
    (
        "a reset flag that is not a boolean",
        ("PATCH", f"/v1/agents/{AGENT}/reset-messages", {"json": {"add_default_initial_messages": 1}}),
        ["body", "add_default_initial_messages"],
        "bool_type",
    ),
    (
        "an unknown compaction mode",
        post(f"/v1/agents/{AGENT}/summarize", {"compaction_settings": {"mode": "some"}}),
        ["body", "compaction_settings", "mode"],
        "literal_error",
    ),
    (
        "a resume cursor that is not an integer",
        post(f"/v1/runs/{RUN}/stream", {"starting_after": "3"}),
        ["body", "starting_after"],
        "int_type",
    ),
    ("a limit that is not a number", get(SEND, limit="abc"), ["query", "limit"], "int_parsing"),
    ("an empty limit", get(SEND, limit=""), ["query", "limit"], "int_parsing"),
    ("a limit in other digits", get(SEND, limit="\u0661\u0662"), ["query", "limit"], "int_parsing"),
    ("a limit with an underscore", get(SEND, limit="1_000"), ["query", "limit"], "int_parsing"),
    ("a negative limit", get(SEND, limit="-1"), ["query", "limit"], "greater_than_equal"),
    ("a very negative limit", get(SEND, limit="-100"), ["query", "limit"], "greater_than_equal"),
    ("a limit beyond 64 bits", get(SEND, limit="99999999999999999999999"), ["query", "limit"], "less_than_equal"),
    ("a limit one past 64 bits", get(SEND, limit=str(2**63)), ["query", "limit"], "less_than_equal"),
    ("a negative limit of all messages", get("/v1/messages/", limit="-5"), ["query", "limit"], "greater_than_equal"),
    (
        "a negative limit of a run's messages",
        get(f"/v1/runs/{RUN}/messages", limit="-1"),
        ["query", "limit"],
        "greater_than_equal",
    ),
    (
        "a negative limit of a conversation",
        get("/v1/conversations/default/messages", agent_id=AGENT, limit="-1"),
        ["query", "limit"],
        "greater_than_equal",
    ),
    ("runs listed zero at a time", get("/v1/runs/", limit="0"), ["query", "limit"], "greater_than_equal"),
    ("runs listed beyond 1000", get("/v1/runs/", limit="1001"), ["query", "limit"], "less_than_equal"),
    (
        "a text/plain body",
        post(SEND, raw=b'{"input": "hi"}', content_type="text/plain"),
        ["body"],
        "model_attributes_type",
    ),
    (
        "a form body",
        post(SEND, raw=b"input=hi", content_type="application/x-www-form-urlencoded"),
        ["body"],
        "model_attributes_type",
    ),
    (
        "a JSON body without a content type",
        post(SEND, raw=b'{"input": "hi"}', content_type=None),
        ["body"],
        "model_attributes_type",
    ),
    (
        "a JSON body declared as XML",
        post(SEND, raw=b'{"input": "hi"}', content_type="application/xml"),
        ["body"],
        "model_attributes_type",
    ),
    ("a whitespace body", post(f"/v1/agents/{AGENT}/summarize", raw=b"\r\r"), ["body", 2], "json_invalid"),
    ("an unknown order", get(SEND, order="sideways"), ["query", "order"], "literal_error"),
    ("an unknown order_by", get(SEND, order_by="id"), ["query", "order_by"], "literal_error"),
    ("an include_err that is not a boolean", get(SEND, include_err="maybe"), ["query", "include_err"], "bool_parsing"),
    (
        "an unknown message type in a list filter",
        get(SEND, include_return_message_types=["assistant_message", "bogus"]),
        ["query", "include_return_message_types", 1],
        None,
    ),
    ("a malformed agent id", post("/v1/agents/agent-123/messages", {"input": "x"}), ["path", "agent_id"], None),
    (
        "an agent id that is not a version-4 uuid",
        get("/v1/agents/agent-123e4567-e89b-12d3-a456-426614174000/messages"),
        ["path", "agent_id"],
        "string_pattern_mismatch",
    ),
    (
        "an upper-case agent id",
        get("/v1/agents/agent-123E4567-E89B-42D3-8456-426614174000/messages"),
        ["path", "agent_id"],
        "string_pattern_mismatch",
    ),
    ("a malformed message id", get("/v1/messages/message-1"), ["path", "message_id"], None),
    ("a malformed conversation id", get("/v1/conversations/conv-1/messages"), ["path", "conversation_id"], None),
]


@pytest.mark.parametrize(("request_", "loc", "type_"), [pytest.param(*case[1:], id=case[0]) for case in INVALID])
@pytest.mark.parametrize("world", ["open", "closed"])
async def test_an_invalid_request_is_refused_with_422_naming_the_field_and_changes_nothing(
    world: str,
    opened: httpx.AsyncClient,
    closed: httpx.AsyncClient,
    open_app: Starlette,
    closed_app: Starlette,
    request_: Request,
    loc: list[Any],
    type_: str | None,
) -> None:
    client, app = (opened, open_app) if world == "open" else (closed, closed_app)
    before = await snapshot(client, app)
    method, path, request_args = request_
    assert_validation_error(await client.request(method, path, **request_args), loc, type_)
    assert await snapshot(client, app) == before


async def test_a_validation_error_names_every_offending_field(opened: httpx.AsyncClient) -> None:
    response = await opened.post(SEND, json={"input": "x", "max_steps": "5", "streaming": "no"})
    assert_validation_error(response, ["body", "max_steps"])
    assert_validation_error(response, ["body", "streaming"])


@pytest.mark.parametrize(("path", "loc", "type_", "form"), [
    ("/v1/agents/agent-1/messages", ["path", "agent_id"], "string_too_short", "an agent id is agent-<uuid4>"),
    ("/v1/agents/agent-123E4567-E89B-42D3-8456-426614174000", ["path", "agent_id"], "string_pattern_mismatch",
     "an agent id is agent-<uuid4> in lower case"),
    ("/v1/messages/message-1", ["path", "message_id"], "string_too_short", "a message id is message-<uuid4>"),
    ("/v1/conversations/conv-1/messages", ["path", "conversation_id"], "string_pattern_mismatch",
     "a conversation id is default, conv-<uuid4> or agent-<uuid4>"),
    ("/v1/tools/tool-1", ["path", "tool_id"], "string_too_short", "a tool id is tool-<uuid4>"),
])  # fmt: skip
async def test_a_malformed_id_names_the_form_an_id_has_in_letta_s_422_shape(
    opened: httpx.AsyncClient, path: str, loc: list[str], type_: str, form: str
) -> None:
    response = await opened.get(path)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert set(error) == {"loc", "msg", "type"}  # Letta's ValidationError: loc, msg, type
    assert (error["loc"], error["type"]) == (loc, type_)
    assert form in error["msg"]
    assert "e.g. " + loc[1].removesuffix("_id").replace("conversation", "conv") + "-123e4567-" in error["msg"]


async def test_the_sdk_raises_unprocessable_entity_for_a_refused_body(letta: Any) -> None:
    with pytest.raises(letta_client.UnprocessableEntityError) as raised:
        letta.agents.messages.create(agent_id=AGENT, input="x", extra_body={"max_steps": "5"})
    assert raised.value.status_code == 422
    assert [item["loc"] for item in raised.value.body["detail"]] == [["body", "max_steps"]]


# -- 404: unknown resources in a closed world (§15.1) ----------------------------------------------------------

NOT_HERE = f"Agent with ID {OTHER} not found"
NO_CURSOR = f"No message found with id '{MESSAGE}' for agent '{AGENT}'."

# (operation, the request, Letta's exact detail text)
UNKNOWN: list[tuple[str, Request, str]] = [
    ("send", post(f"/v1/agents/{OTHER}/messages", {"input": "x"}), NOT_HERE),
    ("stream", post(f"/v1/agents/{OTHER}/messages/stream", {"input": "x"}), NOT_HERE),
    ("list", get(f"/v1/agents/{OTHER}/messages"), "Agent not found"),
    ("send async", post(f"/v1/agents/{OTHER}/messages/async", {"input": "x"}), "Agent not found"),
    ("summarize", post(f"/v1/agents/{OTHER}/summarize", {}), NOT_HERE),
    ("conversation send", post("/v1/conversations/default/messages", {"input": "x", "agent_id": OTHER}), NOT_HERE),
    ("an unknown after cursor", get(SEND, after=MESSAGE), NO_CURSOR),
    ("an unknown before cursor", get(SEND, before=MESSAGE), NO_CURSOR),
    ("an unknown message", get(f"/v1/messages/{MESSAGE}"), f"Message with id {MESSAGE} not found."),
]


@pytest.mark.parametrize(("request_", "detail"), [pytest.param(*case[1:], id=case[0]) for case in UNKNOWN])
async def test_an_unknown_resource_in_a_closed_world_is_404_with_letta_s_text(
    closed: httpx.AsyncClient, closed_app: Starlette, request_: Request, detail: str
) -> None:
    before = await snapshot(closed, closed_app)
    method, path, request_args = request_
    response = await closed.request(method, path, **request_args)
    assert (response.status_code, response.json()) == (404, {"detail": detail})
    assert await snapshot(closed, closed_app) == before


@pytest.mark.parametrize(
    ("method", "path", "prefix"),
    [
        pytest.param("PATCH", f"/v1/agents/{OTHER}/reset-messages", "Agent not found with id=", id="reset"),
        pytest.param("GET", f"/v1/runs/{RUN}", "Run not found with id=", id="run"),
        pytest.param("GET", f"/v1/runs/{RUN}/messages", "Run not found with id=", id="run messages"),
        pytest.param("POST", f"/v1/runs/{RUN}/stream", "Run not found with id=", id="run stream"),
        pytest.param(
            "GET",
            "/v1/conversations/conv-123e4567-e89b-42d3-8456-426614174000/messages",
            "",
            id="conversation",
        ),
    ],
)
async def test_an_unknown_resource_whose_text_embeds_a_query_is_404_with_its_stable_prefix(
    closed: httpx.AsyncClient, closed_app: Starlette, method: str, path: str, prefix: str
) -> None:
    # Only the prefix of these texts is stable on the real server (wire doc §17, "Not confirmed").
    before = await snapshot(closed, closed_app)
    response = await closed.request(method, path, json={} if method != "GET" else None)
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}
    assert response.json()["detail"].startswith(prefix)
    assert await snapshot(closed, closed_app) == before


async def test_a_malformed_run_id_in_a_closed_world_is_400_invalid_argument(
    closed: httpx.AsyncClient, closed_app: Starlette
) -> None:
    before = await snapshot(closed, closed_app)
    response = await closed.get("/v1/runs/run_id")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "INVALID_ARGUMENT: Invalid run ID format: run_id. Expected format: 'run-<uuid4>'"
    }
    assert await snapshot(closed, closed_app) == before


async def test_cancel_for_an_agent_with_nothing_to_cancel_in_a_closed_world_is_409(
    closed: httpx.AsyncClient, closed_app: Starlette
) -> None:
    # The real server answers 409 here even for an unknown agent id, never 404 (wire doc §9).
    before = await snapshot(closed, closed_app)
    response = await closed.post(f"/v1/agents/{OTHER}/messages/cancel", json={})
    assert response.status_code == 409
    assert response.json() == {"detail": f"CONFLICT: No active runs to cancel for agent {OTHER}"}
    assert await snapshot(closed, closed_app) == before


def test_the_sdk_raises_not_found_for_an_unknown_agent(
    serve: Callable[[Starlette], str], closed_app: Starlette
) -> None:
    with (
        make_letta(serve(closed_app), strict=True, checker=ContractChecker()) as letta,
        pytest.raises(letta_client.NotFoundError) as raised,
    ):
        letta.agents.messages.create(agent_id=OTHER, input="hi")
    assert raised.value.body == {"detail": f"Agent with ID {OTHER} not found"}


# -- routes and methods (§1.1) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [JSON, "application/json; charset=utf-8", "Application/JSON",
                                          "application/vnd.api+json"])  # fmt: skip
async def test_a_body_declared_as_json_in_any_of_its_spellings_is_parsed(
    opened: httpx.AsyncClient, content_type: str
) -> None:
    response = await opened.post(SEND, content=b'{"input": "hi"}', headers={"content-type": content_type})
    assert response.status_code == 200, response.text


async def test_server_fidelity_parses_a_body_without_a_content_type_as_the_real_server_does(
    server: httpx.AsyncClient,
) -> None:
    # Letta 0.16.8 (FastAPI) reads a body that names no content type as JSON; the contract profile refuses it.
    response = await server.patch(f"/v1/agents/{AGENT}/reset-messages", content=b"{}")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", SEND, "GET, HEAD, POST"),
        ("OPTIONS", SEND, "GET, HEAD, POST"),
        ("DELETE", f"/v1/agents/{AGENT}/messages/stream", "POST"),
        ("PUT", f"/v1/agents/{AGENT}", "DELETE, GET, HEAD, PATCH"),
    ],
)
async def test_a_405_names_every_method_its_path_serves(
    opened: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await opened.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize(("word", "allowed"), [("async", "POST"), ("cancel", "POST"), ("stream", "POST")])
async def test_a_method_a_literal_path_does_not_serve_is_405_not_a_message_of_that_name(
    opened: httpx.AsyncClient, word: str, allowed: str
) -> None:
    # The document's /messages/{message_id} names only message ids: PATCH .../messages/async is not a message.
    response = await opened.patch(f"/v1/agents/{AGENT}/messages/{word}", json={"content": "x"})
    assert (response.status_code, response.headers["allow"]) == (405, allowed)
    assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize("path", [f"/v1/agents/{AGENT}/messages/async", "/v1/messages/search", "/v1/agents/count"])
async def test_a_path_of_a_literal_and_a_template_allows_the_literal_s_methods(
    opened: httpx.AsyncClient, path: str
) -> None:
    response = await opened.request("OPTIONS", path)
    served = {"/v1/agents/count": "GET, HEAD"}.get(path, "POST")
    assert (response.status_code, response.headers["allow"]) == (405, served)


@pytest.mark.parametrize("word", ["async", "cancel", "stream"])
async def test_server_fidelity_patching_a_word_that_is_not_a_message_id_is_422_naming_the_path(
    server: httpx.AsyncClient, word: str
) -> None:
    # Letta's FastAPI tries PATCH .../messages/{message_id} and checks the id before it refuses message editing.
    response = await server.patch(f"/v1/agents/{AGENT}/messages/{word}", json={"content": "x"})
    assert response.status_code == 422
    assert "message_id" in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", SEND),
        ("PUT", SEND),
        ("GET", f"/v1/agents/{AGENT}/messages/cancel"),
        ("GET", f"/v1/agents/{AGENT}/messages/async"),
        ("POST", f"/v1/agents/{AGENT}/reset-messages"),
        ("GET", f"/v1/runs/{RUN}/stream"),
        ("POST", f"/v1/agents/{AGENT}/messages/{MESSAGE}"),
    ],
)
async def test_a_wrong_method_is_405_method_not_allowed(
    opened: httpx.AsyncClient, open_app: Starlette, method: str, path: str
) -> None:
    before = await snapshot(opened, open_app)
    response = await opened.request(method, path)
    assert (response.status_code, response.json()) == (405, {"detail": "Method Not Allowed"})
    assert response.headers["content-type"] == "application/json"
    assert await snapshot(opened, open_app) == before


async def test_editing_a_message_is_405_because_messages_are_immutable(opened: httpx.AsyncClient) -> None:
    response = await opened.patch(f"/v1/agents/{AGENT}/messages/{MESSAGE}", json={"content": "changed"})
    assert response.status_code == 405
    assert response.json() == {
        "detail": "Message editing is no longer supported. Messages are immutable as they may be shared across "
        "multiple conversations via forking."
    }


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v2/agents", f"/v1/agents/{AGENT}/message", "/"])
async def test_an_unknown_route_is_404_not_found_in_json(opened: httpx.AsyncClient, path: str) -> None:
    response = await opened.get(path)
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    assert response.headers["content-type"] == "application/json"


# -- 413: a body over the limit ---------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["with content-length", "chunked"])
async def test_a_body_over_the_limit_is_413_and_changes_nothing(
    client_for: Callable[..., httpx.AsyncClient], declared: bool
) -> None:
    app = create_app(seed=1, max_body_bytes=1000)
    client = client_for(app)
    before = await snapshot(client, app)
    body = json.dumps({"input": "x" * 2000}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 256):
            yield body[start : start + 256]

    response = await client.post(SEND, content=body if declared else chunks())
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}
    assert isinstance(response.json()["detail"], str)
    assert await snapshot(client, app) == before


async def test_a_body_at_the_limit_is_accepted(client_for: Callable[..., httpx.AsyncClient]) -> None:
    body = json.dumps({"input": "x"}).encode()
    client = client_for(create_app(seed=1, max_body_bytes=len(body)))
    assert (await client.post(SEND, content=body, headers={"content-type": JSON})).status_code == 200


# -- never a 500 ---------------------------------------------------------------------------------------------------

GARBAGE = [
    b"",
    b"{",
    b"}",
    b'"a string"',
    b"12345",
    b"true",
    b"[" * 10_000 + b"]" * 10_000,
    b'{"input": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    b'{"messages": [null]}',
    b'{"messages": [[]]}',
    b'{"messages": [{"type": null}]}',
    b'{"messages": [{"type": 5, "role": "user", "content": "x"}]}',
    b'{"messages": [{"type": "approval", "approvals": [{"type": "nope"}]}]}',
    b'{"messages": [{"type": "tool_return", "tool_returns": [{}]}]}',
    b'{"input": [{"type": "image", "source": {"type": "url"}}]}',
    b'{"input": "x", "max_steps": 1e400}',
    b'{"input": "x", "max_steps": 99999999999999999999999999999}',
    b'{"input": "\\ud800"}',
    b'{"input": "x", "client_tools": [{"parameters": []}]}',
]


@pytest.mark.parametrize("body", GARBAGE, ids=[repr(b[:40]) for b in GARBAGE])
@pytest.mark.parametrize("path", [SEND, f"/v1/agents/{AGENT}/messages/stream", f"/v1/agents/{AGENT}/messages/async"])
async def test_garbage_bodies_are_refused_with_a_4xx_and_never_a_500(
    opened: httpx.AsyncClient, open_app: Starlette, path: str, body: bytes
) -> None:
    before = await snapshot(opened, open_app)
    response = await opened.post(path, content=body, headers={"content-type": "application/json"})
    # The contract hook already fails the test on any 5xx; a refusal must also be a client error.
    if response.status_code != 200:
        assert 400 <= response.status_code < 500, response.text
        assert await snapshot(opened, open_app) == before


HOSTILE: list[tuple[str, str, str, bytes | None]] = [
    ("invalid UTF-8", "POST", SEND, b'{"input": "\xff\xfe"}'),
    ("a raw NUL byte in a string", "POST", SEND, b'{"input": "a\x00b"}'),
    ("a byte-order mark", "POST", SEND, b'\xef\xbb\xbf{"input": "x"}'),
    ("trailing bytes after the JSON", "POST", SEND, b'{"input": "x"} and more'),
    ("NaN", "POST", SEND, b'{"input": NaN}'),
    ("a number beyond a float", "POST", f"/v1/runs/{RUN}/stream", b'{"starting_after": 1e999}'),
    ("a NUL in an id", "GET", f"/v1/agents/{AGENT}%00/messages", None),
    ("a 10,000-character id", "GET", f"/v1/agents/{'a' * 10_000}/messages", None),
    ("a non-ASCII character in an id", "GET", "/v1/messages/message-123e4567-e89b-42d3-8456-42661417400%C3%A9", None),
    ("an empty path segment", "GET", f"/v1//agents/{AGENT}/messages", None),
    ("a later repeat of limit that is negative", "GET", f"{SEND}?limit=1&limit=-1", None),
    ("a NUL as a message type", "GET", f"{SEND}?include_return_message_types=%00", None),
    ("source code that does not parse", "POST", "/v1/tools/", b'{"source_code": "def f(:\n  pass"}'),
    ("source code nested past the parser", "POST", "/v1/tools/", b'{"source_code": "' + b"(" * 5000 + b'"}'),
]


@pytest.mark.parametrize(("method", "path", "body"), [pytest.param(*case[1:], id=case[0]) for case in HOSTILE])
async def test_a_hostile_request_is_a_clean_4xx_in_letta_s_shape_and_changes_nothing(
    opened: httpx.AsyncClient, open_app: Starlette, method: str, path: str, body: bytes | None
) -> None:
    before = await snapshot(opened, open_app)
    response = await opened.request(method, path, content=body, headers={"content-type": JSON})
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"detail"}
    assert await snapshot(opened, open_app) == before


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "-1"},
        {"limit": "99999999999999999999"},
        {"limit": ""},
        {"after": ""},
        {"before": "not-an-id"},
        {"after": "message-" + "0" * 36},
        {"order": ""},
        {"include_return_message_types": ""},
    ],
)
async def test_odd_query_values_never_cause_a_500(opened: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await opened.get(SEND, params=params)
    assert response.status_code < 500


# -- approvals (§5) -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("world", ["open", "closed"])
async def test_a_plain_message_while_approval_is_pending_is_409_pending_approval(
    world: str, opened: httpx.AsyncClient, closed: httpx.AsyncClient, open_app: Starlette, closed_app: Starlette
) -> None:
    client, app = (opened, open_app) if world == "open" else (closed, closed_app)
    waiting = (await client.post(SEND, json={"input": "/approve"})).json()
    assert waiting["stop_reason"]["stop_reason"] == "requires_approval"
    request = waiting["messages"][-1]
    assert request["message_type"] == "approval_request_message"
    before = await snapshot(client, app)
    response = await client.post(SEND, json={"input": "never mind"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": {"code": "PENDING_APPROVAL", "message": PENDING_TEXT, "pending_request_id": request["id"]}
    }
    assert await snapshot(client, app) == before


async def test_a_streamed_message_while_approval_is_pending_fails_in_band(opened: httpx.AsyncClient) -> None:
    # Streaming sends report the conflict inside an HTTP 200 stream (wire doc §6.5a, §17.10).
    await opened.post(SEND, json={"input": "/approve"})
    history = (await opened.get(SEND)).json()
    response = await opened.post(SEND, json={"input": "never mind", "streaming": True})
    assert response.status_code == 200
    frames = [block for block in response.text.split("\n\n") if block]
    assert json.loads(frames[0].removeprefix("data: "))["message_type"] == "ping"
    assert frames[1] == 'data: {"message_type":"stop_reason","stop_reason":"error"}'
    assert frames[2].startswith("event: error\ndata: ")
    error = json.loads(frames[2].split("data: ", 1)[1])
    assert (error["error_type"], error["message"]) == ("internal_error", PENDING_TEXT)
    assert frames[3:] == ["data: [DONE]"]
    assert (await opened.get(SEND)).json() == history


def test_the_sdk_raises_on_the_in_band_error_of_a_stream(letta: Any) -> None:
    letta.agents.messages.create(agent_id=AGENT, input="/approve")
    stream = letta.agents.messages.create(agent_id=AGENT, input="never mind", streaming=True)
    with pytest.raises(letta_client.APIStatusError) as raised:
        list(stream)
    assert raised.value.body["message"] == PENDING_TEXT


async def test_an_approval_with_nothing_pending_in_a_closed_world_is_400(
    closed: httpx.AsyncClient, closed_app: Starlette
) -> None:
    before = await snapshot(closed, closed_app)
    response = await closed.post(SEND, json={"messages": [APPROVE]})
    assert (response.status_code, response.json()) == (400, {"detail": NOTHING_PENDING_TEXT})
    assert await snapshot(closed, closed_app) == before


async def test_an_approval_naming_an_unknown_tool_call_in_a_closed_world_is_400(
    closed: httpx.AsyncClient, closed_app: Starlette
) -> None:
    await closed.post(SEND, json={"input": "/approve"})
    before = await snapshot(closed, closed_app)
    response = await closed.post(SEND, json={"messages": [APPROVE]})  # call_1 is not the pending call's id
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid tool call IDs")
    assert await snapshot(closed, closed_app) == before


async def test_approving_the_pending_call_runs_the_tool_and_continues(opened: httpx.AsyncClient) -> None:
    waiting = (await opened.post(SEND, json={"input": "/approve"})).json()
    call_id = waiting["messages"][-1]["tool_call"]["tool_call_id"]
    approval = {"type": "approval", "approvals": [{"type": "approval", "tool_call_id": call_id, "approve": True}]}
    response = await opened.post(SEND, json={"messages": [approval]})
    assert response.status_code == 200
    body = response.json()
    assert body["messages"][0]["message_type"] == "tool_return_message"
    assert body["messages"][0]["tool_call_id"] == call_id
    assert body["stop_reason"]["stop_reason"] == "end_turn"


# -- fidelity="server": the real server's quirks -------------------------------------------------------------------


@pytest.fixture
def server_app() -> Starlette:
    return create_app(seed=1, fidelity="server")


@pytest.fixture
def server(server_app: Starlette, client_for: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    return client_for(server_app, fidelity="server")


async def test_server_fidelity_422_is_a_repr_string_of_the_error_list(
    server: httpx.AsyncClient, server_app: Starlette
) -> None:
    before = await snapshot(server, server_app)
    response = await server.post(SEND, json={"input": "x", "max_steps": []})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"trace_id", "detail"}
    assert body["trace_id"] == ""
    assert body["detail"].startswith("[{")
    assert "'loc': ('body', 'max_steps')" in body["detail"]
    assert await snapshot(server, server_app) == before


async def test_server_fidelity_malformed_json_names_the_character_offset(server: httpx.AsyncClient) -> None:
    response = await server.post(SEND, content=b'{"input": ')
    assert response.status_code == 422
    assert "'loc': ('body', 10)" in response.json()["detail"]
    assert "'type': 'json_invalid'" in response.json()["detail"]


@pytest.mark.parametrize(
    "agent_id",
    ["agent-123", "agent-123e4567-e89b-12d3-a456-426614174000", "agent-123e4567-e89b-42d3-8456-4266141740000"],
    ids=["too short", "not version 4", "too long"],
)
async def test_server_fidelity_bad_path_ids_get_the_pattern_message_and_an_example(
    server: httpx.AsyncClient, agent_id: str
) -> None:
    response = await server.get(f"/v1/agents/{agent_id}/messages")
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"trace_id", "detail", "examples"}
    assert body["examples"] == ["agent-123e4567-e89b-42d3-8456-426614174000"]
    assert "'type': 'string_pattern_mismatch'" in body["detail"]
    assert "'loc': ('path', 'agent_id')" in body["detail"]
    assert "String should match pattern 'agent-{uuid4}'" in body["detail"]


async def test_server_fidelity_refuses_an_empty_message_list_with_messages_must_not_be_empty(
    server: httpx.AsyncClient, server_app: Starlette
) -> None:
    # A route check after validation (wire doc §4 step 2): a plain-string detail, no trace_id.
    before = await snapshot(server, server_app)
    response = await server.post(SEND, json={"messages": []})
    assert (response.status_code, response.json()) == (422, {"detail": "Messages must not be empty"})
    assert await snapshot(server, server_app) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Must specify either 'input' or 'messages'."),
        (
            {"input": "x", "messages": [{"role": "user", "content": "y"}]},
            "Cannot specify both 'input' and 'messages'. Use one or the other.",
        ),
    ],
    ids=["neither", "both"],
)
async def test_server_fidelity_requires_exactly_one_of_input_and_messages(
    server: httpx.AsyncClient, server_app: Starlette, body: dict[str, Any], message: str
) -> None:
    # The request model's own rule, so it is a validation error in the repr shape (wire doc §15.2).
    before = await snapshot(server, server_app)
    response = await server.post(SEND, json=body)
    assert response.status_code == 422
    assert response.json()["trace_id"] == ""
    assert "'loc': ('body',)" in response.json()["detail"]
    assert message in response.json()["detail"]
    assert await snapshot(server, server_app) == before


@pytest.mark.parametrize(
    "body",
    [{"input": "x", "messages": [{"role": "user", "content": "y"}]}, {}],
    ids=["both input and messages", "neither"],
)
async def test_the_default_profile_accepts_every_body_the_document_allows(
    opened: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    # The OpenAPI document does not encode Letta's one-of rule, and the SDK's generated tests send both or neither.
    response = await opened.post(SEND, json=body)
    assert response.status_code == 200


async def test_server_fidelity_refuses_streaming_options_without_streaming(server: httpx.AsyncClient) -> None:
    response = await server.post(SEND, json={"input": "x", "stream_tokens": True, "include_pings": False})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Streaming options set without streaming enabled. stream_tokens can only be true when "
        "streaming=true; include_pings can only be set to false when streaming=true. Either set streaming=true or "
        "use default values for streaming options."
    }


@pytest.mark.parametrize(
    "user_agent", ["curl/8.5.0", "python-requests/2.32.0", "Mozilla/5.0 (X11; Linux x86_64)", "nobody"]
)
async def test_server_fidelity_refuses_streaming_for_callers_that_are_not_an_sdk(
    server: httpx.AsyncClient, server_app: Starlette, user_agent: str
) -> None:
    before = await snapshot(server, server_app)
    response = await server.post(SEND, json={"input": "x", "streaming": True}, headers={"user-agent": user_agent})
    assert (response.status_code, response.json()) == (
        422,
        {"detail": "streaming=true is only supported for SDK v1.0+ clients."},
    )
    assert await snapshot(server, server_app) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"user-agent": "curl/8.5.0", "x-stainless-package-version": "1.12.1"},
        {"user-agent": "letta-client/1.3.0"},
        {"user-agent": "@letta-ai/letta-client/1.12.0"},
    ],
    ids=["stainless header", "python sdk agent", "typescript sdk agent"],
)
async def test_server_fidelity_streams_for_callers_that_look_like_an_sdk(
    server: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await server.post(SEND, json={"input": "x", "streaming": True}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"


def test_server_fidelity_streams_for_the_official_sdk(serve: Callable[[Starlette], str], server_app: Starlette) -> None:
    with make_letta(serve(server_app), strict=True, checker=ContractChecker(fidelity="server")) as letta:
        events = list(letta.agents.messages.create(agent_id=AGENT, input="hi", streaming=True))
    assert [e.message_type for e in events][-2:] == ["stop_reason", "usage_statistics"]


async def test_server_fidelity_cancel_with_nothing_running_names_the_agent_s_last_run(
    server: httpx.AsyncClient,
) -> None:
    # A Letta server with Redis (what background streams need) names the last run even when it finished (§18.4);
    # the 409 is for an agent that never ran (tests/test_stream_state.py).
    sent = (await server.post(SEND, json={"input": "finished"})).json()
    run_id = sent["messages"][0]["run_id"]
    response = await server.post(f"/v1/agents/{AGENT}/messages/cancel", json={})
    assert (response.status_code, response.json()) == (200, {run_id: "cancelled"})
    run = (await server.get(f"/v1/runs/{run_id}")).json()
    assert (run["status"], run["stop_reason"]) == ("completed", "end_turn")


async def test_server_fidelity_compacting_with_nothing_to_fold_is_400(server: httpx.AsyncClient) -> None:
    # Wire doc §12: nothing to summarize leaves Letta with a null summary its answer model refuses: a 400 with
    # pydantic's message.
    response = await server.post(f"/v1/agents/{AGENT}/summarize", json={})
    assert response.status_code == 400
    assert response.json() == {"detail": Texts.NO_SUMMARY}
    assert response.json()["detail"].startswith("1 validation error for CompactionResponse\nsummary\n")


async def test_compacting_right_after_a_reset_in_a_closed_world_is_400(
    closed: httpx.AsyncClient, closed_app: Starlette
) -> None:
    await closed.patch(f"/v1/agents/{AGENT}/reset-messages", json={})
    before = await snapshot(closed, closed_app)
    response = await closed.post(f"/v1/agents/{AGENT}/summarize", json={})
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    assert await snapshot(closed, closed_app) == before


async def test_server_fidelity_refuses_to_resume_a_run_that_was_not_streamed_in_the_background(
    server: httpx.AsyncClient,
) -> None:
    sent = (await server.post(SEND, json={"input": "hi"})).json()
    response = await server.post(f"/v1/runs/{sent['messages'][0]['run_id']}/stream", json={})
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "INVALID_ARGUMENT: Run was not created in background mode, so it cannot be retrieved."},
    )


async def test_an_answer_to_a_tool_call_the_agent_is_not_waiting_for_is_400_in_the_open_world(
    asgi_client: httpx.AsyncClient,
) -> None:
    pending = await asgi_client.post(SEND, json={"input": "/approve"})
    assert pending.json()["stop_reason"]["stop_reason"] == "requires_approval"
    answer = {"type": "approval", "approvals": [{"type": "approval", "tool_call_id": "call_nope", "approve": True}]}
    response = await asgi_client.post(SEND, json={"messages": [answer]})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid tool call IDs: ['call_nope']")
    # Still waiting: a plain message is refused.
    assert (await asgi_client.post(SEND, json={"input": "hi"})).status_code == 409


@pytest.mark.parametrize("value", [5.0, 0.0])
async def test_an_integral_float_is_an_integer_as_json_schema_says(
    asgi_client: httpx.AsyncClient, value: float
) -> None:
    response = await asgi_client.post(SEND, json={"input": "hi", "max_steps": value})
    assert response.status_code == 200


async def test_a_fractional_float_is_not_an_integer(asgi_client: httpx.AsyncClient) -> None:
    response = await asgi_client.post(SEND, json={"input": "hi", "max_steps": 5.5})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "max_steps"]


@pytest.mark.parametrize("path", [f"/v1/agents/{AGENT}/summarize", "/v1/conversations/default/compact"])
async def test_a_null_compaction_body_is_the_empty_request_the_document_allows(
    asgi_client: httpx.AsyncClient, path: str
) -> None:
    response = await asgi_client.post(path, content=b"null", headers={"content-type": "application/json"})
    assert response.status_code == 200


async def test_server_fidelity_writes_run_completion_times_without_a_timezone_as_letta_does(
    server: httpx.AsyncClient,
) -> None:
    sent = await server.post(SEND, json={"input": "hi"})
    run_id = sent.json()["messages"][0]["run_id"]
    run = (await server.get(f"/v1/runs/{run_id}")).json()
    assert run["created_at"].endswith("Z")
    assert run["completed_at"] is not None
    assert not run["completed_at"].endswith("Z")
    assert "+" not in run["completed_at"]
