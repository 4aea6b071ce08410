"""``letta-mock conformance``: the session, the shape comparison and the command, without a real server — the mock
against itself (every answer matches) and against a deliberately altered mock (the alteration is reported, by
operation and key path). The real_letta tier runs the same session against the real server
(tests/test_conformance_real_letta.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from mockserver import create_app
from mockserver.cli import main
from mockserver.conformance import STEPS, compare, record_session
from mockserver.conformance.recorder import Exchange, operation_of
from mockserver.conformance.shapes import Shape, differences, json_shape, shape_of, stream_shape
from mockserver.live import LiveServer
from mockserver.operations import OPERATIONS


class Altered:
    """The server profile with one alteration: ``GET /v1/agents/{agent_id}`` answers without ``model_settings``
    and with ``last_stop_reason`` a number."""

    def __init__(self) -> None:
        self.app = create_app(seed=3, fidelity="server", created_tool_ms=0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = scope["type"] == "http" and scope["method"] == "GET"
        if not (wanted and re.fullmatch(r"/v1/agents/agent-[^/]+", scope["path"])):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        start, *bodies = held
        body = json.loads(b"".join(m.get("body", b"") for m in bodies))
        if isinstance(body, dict) and "model_settings" in body:
            del body["model_settings"]
            body["last_stop_reason"] = 7
        data = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})


def test_the_session_touches_every_operation_the_mock_serves() -> None:
    with LiveServer(seed=1, fidelity="server", created_tool_ms=0) as server:
        recording = record_session(server.url)
        server.check()
    assert [o.error for o in recording.outcomes if o.error] == []
    served = {o.operation_id for o in OPERATIONS}
    assert {e.operation for e in recording.exchanges} == served
    assert len(served) == 51
    # What it created is gone: the agent it made answers 404 (the session's last steps read what they deleted).
    assert [e.status for e in recording.exchanges if e.operation == "delete_agent"] == [200]


def test_the_mock_conforms_to_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with LiveServer(seed=2, fidelity="server", created_tool_ms=0) as server:
        status = main(["conformance", server.url])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.strip().splitlines()[-1] == ("conformance: 51 operations compared, 51 match, 0 differ (0 differences)")


def test_an_altered_mock_is_reported_by_operation_and_key_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with LiveServer(Altered()) as altered:  # type: ignore[arg-type]
        status = main(["conformance", altered.url, "--json", str(tmp_path / "out.json")])
    out = capsys.readouterr().out
    assert status == 1, out
    assert "DIFF  retrieve_agent" in out
    assert "$.model_settings: only the mock sends it (object)" in out
    assert "$.last_stop_reason: the server sends integer, the mock null" in out
    assert out.strip().splitlines()[-1].startswith("conformance: 51 operations compared, 50 match, 1 differ")
    written = json.loads((tmp_path / "out.json").read_text())
    assert {d["operation"] for d in written["differences"]} == {"retrieve_agent"}


def test_usage_and_connection_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance"]) == 2
    assert main(["conformance", "http://127.0.0.1:9"]) == 2  # nothing listens on the discard port
    assert "does not answer" in capsys.readouterr().err


def test_the_steps_are_listed_without_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == len(STEPS)
    assert listed[0] == "  1. health"


# -- shapes ------------------------------------------------------------------------------------------------------


def test_a_shape_is_key_paths_with_their_json_types_items_told_apart_by_message_type() -> None:
    value = {
        "a": None, "b": 1, "c": 1.5, "d": "x", "e": [], "status": "completed",
        "messages": [{"message_type": "user_message", "content": "hi"}, {"message_type": "assistant_message"}],
        "run-123e4567-e89b-42d3-8456-426614174000": "cancelled", "tools": [{"n": 1}, {"n": None}],
    }  # fmt: skip
    assert json_shape(value) == {
        "$": {"object"}, "$.a": {"null"}, "$.b": {"integer"}, "$.c": {"number"}, "$.d": {"string"},
        "$.e": {"array"}, "$.status": {"string=completed"}, "$.messages": {"array"},
        "$.messages[user_message]": {"object"}, "$.messages[user_message].message_type": {"string=user_message"},
        "$.messages[user_message].content": {"string"}, "$.messages[assistant_message]": {"object"},
        "$.messages[assistant_message].message_type": {"string=assistant_message"}, "$.<run-id>": {"string"},
        "$.tools": {"array"}, "$.tools[]": {"object"}, "$.tools[].n": {"integer", "null"},
    }  # fmt: skip


def test_a_stream_s_shape_is_its_events_and_their_order_token_chunks_and_later_pings_as_one() -> None:
    body = (
        'data: {"message_type":"ping","seq_id":null}\n\n'
        'data: {"message_type":"assistant_message","content":"a"}\n\n'
        'data: {"message_type":"assistant_message","content":"b"}\n\n'
        'data: {"message_type":"ping","seq_id":null}\n\n'
        'data: {"message_type":"stop_reason","stop_reason":"end_turn"}\n\n'
        "data: [DONE]\n\n"
    )
    shape = stream_shape(body)
    assert shape.skeleton == ["ping", "assistant_message", "stop_reason", "[DONE]"]
    assert shape.paths["stop_reason.stop_reason"] == {"string=end_turn"}
    assert shape_of("text/event-stream; charset=utf-8", body.encode()) == shape


def test_a_subtree_only_one_side_has_is_one_difference_at_its_root() -> None:
    real = Shape("json", json_shape({"settings": {"a": 1, "b": {"c": 2}}, "x": 1}))
    mock = Shape("json", json_shape({"settings": None, "x": "1"}))
    assert differences(real, mock) == [
        "$.settings: the server sends object, the mock null",
        "$.x: the server sends integer, the mock string",
    ]
    assert differences(Shape("json"), Shape("stream")) == ["the server answered json, the mock stream"]


def _exchange(step: str, operation: str, status: int, body: Any) -> Exchange:
    return Exchange(step, "GET", "/v1/x", operation, status, "application/json", bytearray(json.dumps(body).encode()))


def test_exchanges_pair_by_step_and_a_server_failure_is_not_a_difference() -> None:
    real = [_exchange("s", "retrieve_run", 200, {"a": 1}), _exchange("s", "delete_run", 500, {"detail": "x"}),
            _exchange("t", "list_runs", 200, [])]  # fmt: skip
    mock = [_exchange("s", "retrieve_run", 200, {"a": 1}), _exchange("s", "delete_run", 200, None)]
    report = compare(real, mock)
    assert [(d.operation, d.what) for d in report.differences] == [
        ("list_runs", "only the server was sent this request")
    ]
    assert [d.operation for d in report.server_failures] == ["delete_run"]
    assert report.exchanges == {"retrieve_run": 1, "delete_run": 1, "list_runs": 1}


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", "/v1/agents/count", "count_agents"),
        ("GET", "/v1/agents/agent-1", "retrieve_agent"),
        ("GET", "/v1/runs/active", "list_active_runs"),
        ("POST", "/v1/messages/search", "search_all_messages"),
        ("GET", "/v1/nothing", "GET /v1/nothing"),
    ],
)
def test_a_request_is_named_by_its_operation(method: str, path: str, operation: str) -> None:
    assert operation_of(method, path) == operation


def test_every_step_is_named_and_documented() -> None:
    import mockserver.conformance.session as session

    names = [step.name for step in STEPS]
    assert len(set(names)) == len(names)
    assert all(name in (session.__doc__ or "") for name in names)


def test_each_documented_difference_of_the_default_profile_is_a_rule_the_server_profile_turns_on() -> None:
    from mockserver.conformance import DEFAULT_PROFILE_DIFFERENCES
    from mockserver.rules import CONTRACT, Rules

    server = Rules.of("server", closed_world=False)
    for operation, _, _, rule in DEFAULT_PROFILE_DIFFERENCES:
        assert (getattr(server, rule), getattr(CONTRACT, rule)) == (True, False), (operation, rule)
