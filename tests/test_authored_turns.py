"""Authored turns and request-matched rules, through the official Python SDK (strict, every response checked against
Letta's document by tests/contract.py) and raw SSE: the README's example says exactly what the agent does, streamed
or not, in history too; approvals and client tools pause and continue; the matchers; a miss; the admin API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml
from _sdk import AGENT, make_letta
from contract import ContractChecker
from letta_client import Letta
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.authored import Call, Match, MatchRule, Step, Turn
from mockserver.wire import sse

# The README's example, as written there (tests/test_authored_docs.py checks that it is).
README_RULES = """\
rules:
  - match: {input: "weather"}            # case-insensitive substring of the user's text
    turn:
      steps:
        - reasoning: "The user asks about the weather."
          tool_calls:
            - {name: get_weather, arguments: {city: Paris}, returns: "Sunny, 21 C"}
        - text: "It is sunny in Paris."
"""
DELETE_RULES = """\
rules:
  - name: delete
    match: {input: delete}
    turn:
      steps:
        - reasoning: "Deleting needs the user's approval."
          tool_calls:
            - {name: delete_file, arguments: {path: a.txt}, kind: approval, returns: "Deleted a.txt"}
        - text: "Done with a.txt."
"""


@pytest.fixture
def rules_app(request: pytest.FixtureRequest) -> Starlette:
    text = getattr(request, "param", README_RULES)
    return create_app(seed=1, rules=yaml.safe_load(text)["rules"])


@pytest.fixture
def url(serve: Callable[[Starlette], str], rules_app: Starlette) -> str:
    return serve(rules_app)


@pytest.fixture
def sdk(url: str, checker: ContractChecker) -> Iterator[Letta]:
    with make_letta(url, strict=True, checker=checker) as client:
        yield client


def admin(app: Starlette) -> httpx.AsyncClient:
    """The admin API in-process (not Letta's: not checked against Letta's document)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def contents(messages: list[Any]) -> list[tuple[Any, ...]]:
    """What each message says (ids and dates aside)."""
    out: list[tuple[Any, ...]] = []
    for m in messages:
        data = m if isinstance(m, dict) else m.model_dump(mode="json")
        kind = data["message_type"]
        if kind == "reasoning_message":
            out.append((kind, data["reasoning"]))
        elif kind == "assistant_message":
            out.append((kind, data["content"]))
        elif kind in ("tool_call_message", "approval_request_message"):
            out.append((kind, [(c["name"], c["arguments"]) for c in data["tool_calls"]]))
        elif kind == "tool_return_message":
            out.append((kind, data["name"], data["tool_return"], data["status"]))
        elif kind in ("user_message", "approval_response_message", "hidden_reasoning_message"):
            out.append((kind,))
    return out


WEATHER = [
    ("reasoning_message", "The user asks about the weather."),
    ("tool_call_message", [("get_weather", '{"city": "Paris"}')]),
    ("tool_return_message", "get_weather", "Sunny, 21 C", "success"),
    ("assistant_message", "It is sunny in Paris."),
]


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_the_readme_example_is_what_the_agent_does_and_what_history_lists(sdk: Letta, streaming: bool) -> None:
    if streaming:
        events = list(sdk.agents.messages.create(AGENT, input="What is the WEATHER like?", streaming=True))
        assert events[0].message_type == "ping"
        said = [e for e in events if e.message_type not in ("ping", "stop_reason", "usage_statistics")]
        assert [e.stop_reason for e in events if e.message_type == "stop_reason"] == ["end_turn"]
    else:
        response = sdk.agents.messages.create(AGENT, input="What is the WEATHER like?")
        said = response.messages
        assert response.stop_reason.stop_reason == "end_turn"
    assert contents(said) == WEATHER
    call = next(m for m in said if m.message_type == "tool_call_message")
    assert json.loads(call.tool_call.arguments) == {"city": "Paris"}
    history = list(sdk.agents.messages.list(AGENT))
    assert contents(history) == [("user_message",), *WEATHER]


def test_stream_tokens_chunks_the_authored_text(sdk: Letta) -> None:
    events = list(sdk.agents.messages.create(AGENT, input="weather", streaming=True, stream_tokens=True))
    texts = [e for e in events if e.message_type == "assistant_message"]
    thoughts = [e for e in events if e.message_type == "reasoning_message"]
    assert len(texts) > 1
    assert len({e.id for e in texts}) == 1
    assert "".join(e.content for e in texts) == "It is sunny in Paris."
    assert "".join(e.reasoning for e in thoughts) == "The user asks about the weather."
    deltas = [e.tool_call for e in events if e.message_type == "tool_call_message"]
    assert "".join(d.arguments or "" for d in deltas) == '{"city": "Paris"}'


async def test_a_raw_stream_is_framed_as_letta_frames_it(url: str) -> None:
    body = {"input": "weather please", "streaming": True}
    async with (
        httpx.AsyncClient(base_url=url) as client,
        client.stream(
            "POST", f"/v1/agents/{AGENT}/messages", json=body, headers={"accept": "text/event-stream"}
        ) as response,
    ):
        raw = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert raw.endswith(b"data: [DONE]\n\n")
    frames = sse.decode(raw.decode())
    assert all(raw.count(f"data: {f.data}\n\n".encode()) >= 1 for f in frames)
    data = [json.loads(f.data) for f in frames if not f.done]
    said = [d for d in data if d["message_type"] not in ("ping", "stop_reason", "usage_statistics")]
    assert contents(said) == WEATHER


@pytest.mark.parametrize("rules_app", [DELETE_RULES], indirect=True)
@pytest.mark.parametrize("approve", [True, False], ids=["approved", "denied"])
def test_an_approval_step_pauses_and_the_authored_continuation_follows_the_answer(sdk: Letta, approve: bool) -> None:
    paused = list(sdk.agents.messages.create(AGENT, input="please delete a.txt", streaming=True))
    assert [e.message_type for e in paused][1:] == ["reasoning_message", "approval_request_message", "stop_reason",
                                                     "usage_statistics"]  # fmt: skip
    assert paused[-2].stop_reason == "requires_approval"
    request = paused[2]
    assert request.tool_call.arguments == '{"path":"a.txt"}'  # as the model wrote it (compact), wire doc §18
    decision = {"type": "approval", "tool_call_id": request.tool_call.tool_call_id, "approve": approve,
                "reason": None if approve else "not now"}  # fmt: skip
    answer = {"type": "approval", "approvals": [decision]}
    after = sdk.agents.messages.create(AGENT, messages=[answer])  # type: ignore[list-item]
    returned = ("Deleted a.txt", "success") if approve else ("Error: request to call tool denied. User reason: not now",
                                                             "error")  # fmt: skip
    named = "delete_file" if approve else None  # a denied call's return names no tool (Letta 0.16.8)
    assert contents(after.messages) == [("tool_return_message", named, *returned),
                                        ("assistant_message", "Done with a.txt.")]  # fmt: skip
    assert after.stop_reason.stop_reason == "end_turn"


FOLLOW_UP = (
    DELETE_RULES
    + """\
  - name: denied
    match: {kind: approval, tool: delete_file, approve: false}
    turn:
      steps:
        - text: "All right, I kept a.txt."
"""
)


@pytest.mark.parametrize("rules_app", [FOLLOW_UP], indirect=True)
def test_a_follow_up_rule_matched_on_the_answer_replaces_the_continuation(sdk: Letta, url: str) -> None:
    paused = sdk.agents.messages.create(AGENT, input="delete a.txt")
    call_id = paused.messages[-1].tool_calls[0].tool_call_id  # type: ignore[union-attr]
    denied = sdk.agents.messages.create(AGENT, messages=[{"type": "approval", "approvals": [  # type: ignore[list-item]
        {"type": "approval", "tool_call_id": call_id, "approve": False}]}])  # fmt: skip
    assert contents(denied.messages)[-1] == ("assistant_message", "All right, I kept a.txt.")
    listing = httpx.get(f"{url}/_mock/rules").json()
    assert {r["name"]: r["hits"] for r in listing["rules"]} == {"delete": 1, "denied": 1}
    journal = httpx.get(f"{url}/_mock/journal").json()
    assert [e["rule"] for e in journal] == ["delete", "denied"]


CLIENT_RULES = """\
rules:
  - match: {input: settings}
    turn:
      steps:
        - tool_calls: [{name: open_page, arguments: {page: settings}, kind: client}]
        - text: "The settings page is open."
"""


@pytest.mark.parametrize("rules_app", [CLIENT_RULES], indirect=True)
def test_a_client_tool_call_waits_for_the_clients_result(sdk: Letta) -> None:
    paused = sdk.agents.messages.create(AGENT, input="open the settings")
    request = paused.messages[-1]
    assert request.message_type == "approval_request_message"
    result = {"type": "tool", "tool_call_id": request.tool_calls[0].tool_call_id,  # type: ignore[union-attr]
              "tool_return": "opened", "status": "success"}  # fmt: skip
    after = sdk.agents.messages.create(AGENT, messages=[{"type": "tool_return", "tool_returns": [result]}])  # type: ignore[list-item]
    assert contents(after.messages) == [("tool_return_message", None, "opened", "success"),
                                        ("assistant_message", "The settings page is open.")]  # fmt: skip


MATCHERS = """\
rules:
  - name: sequence
    match: {input: count}
    turns:
      - steps: [{text: one}]
      - steps: [{text: two}]
  - name: second hello
    match: {input: hello, nth: 2}
    turn: {steps: [{text: "hello again"}]}
  - name: order number
    match: {input_regex: 'order #\\d{4}\\b'}
    turn: {steps: [{text: "found your order"}], stop_reason: max_steps}
  - name: controls
    match: {input: tool please}
    controls: "scenario=tool_call; tool=web_search; reply=searched"
"""


@pytest.mark.parametrize("rules_app", [MATCHERS], indirect=True)
def test_sequences_nth_regex_controls_and_fall_through(sdk: Letta, url: str) -> None:
    def say(text: str) -> list[tuple[Any, ...]]:
        return contents(sdk.agents.messages.create(AGENT, input=text).messages)

    assert [say("count")[-1][1] for _ in range(3)] == ["one", "two", "two"]  # in order, the last repeating
    assert say("hello") == [("reasoning_message", 'The user wrote "hello". I will answer directly.'),
                            ("assistant_message", "You said: hello")]  # the first hello falls through  # fmt: skip
    assert say("hello")[-1] == ("assistant_message", "hello again")
    assert say("hello")[-1] == ("assistant_message", "You said: hello")  # nth: only the 2nd
    ended = sdk.agents.messages.create(AGENT, input="where is order #1234 ?")
    assert (contents(ended.messages), ended.stop_reason.stop_reason) == ([("assistant_message", "found your order")],
                                                                         "max_steps")  # fmt: skip
    assert say("order #12345")[-1][1] == "You said: order #12345"  # \b: no match
    assert say("tool please")[-1] == ("assistant_message", "searched")
    hits = {r["name"]: (r["hits"], r["matched"]) for r in httpx.get(f"{url}/_mock/rules").json()["rules"]}
    assert hits == {"sequence": (3, 3), "second hello": (1, 3), "order number": (1, 1), "controls": (1, 1)}


KINDS = """\
rules:
  - name: returned
    match: {kind: tool_return, tool: open_page}
    turn: {steps: [{text: "thanks for the page"}]}
  - name: approved
    match: {kind: approval, approve: true}
    turn: {steps: [{text: "approved it"}]}
"""


@pytest.mark.parametrize("rules_app", [KINDS], indirect=True)
def test_kind_tool_and_approve_matchers(sdk: Letta) -> None:
    tools = [{"name": "open_page", "parameters": {"type": "object", "properties": {}}}]
    paused = sdk.agents.messages.create(AGENT, input="/client open_page", client_tools=tools)  # type: ignore[list-item]
    call_id = paused.messages[-1].tool_calls[0].tool_call_id  # type: ignore[union-attr]
    result = {"type": "tool", "tool_call_id": call_id, "tool_return": "ok", "status": "success"}
    after = sdk.agents.messages.create(AGENT, messages=[{"type": "tool_return", "tool_returns": [result]}])  # type: ignore[list-item]
    assert contents(after.messages)[-1] == ("assistant_message", "thanks for the page")
    paused = sdk.agents.messages.create(AGENT, input="/approve delete_file")
    call_id = paused.messages[-1].tool_calls[0].tool_call_id  # type: ignore[union-attr]
    decision = {"type": "approval", "approvals": [{"type": "approval", "tool_call_id": call_id, "approve": True}]}
    assert contents(sdk.agents.messages.create(AGENT, messages=[decision]).messages)[-1] == (  # type: ignore[list-item]
        "assistant_message",
        "approved it",
    )


async def test_on_miss_error_names_the_nearest_rule_and_why(client_for: Callable[..., httpx.AsyncClient]) -> None:
    app = create_app(rules=yaml.safe_load(MATCHERS)["rules"], on_miss="error")
    client = client_for(app)
    missed = await client.post(f"/v1/agents/{AGENT}/messages", json={"input": "good morning", "streaming": True})
    assert missed.status_code == 404  # before the stream starts, as replay's near miss
    assert missed.json()["near_miss"] == {"rule": "sequence", "index": 0, "source": "given rules",
                                          "reason": "input: 'good morning' does not contain 'count'"}  # fmt: skip
    body = (await client.post(f"/v1/agents/{AGENT}/messages", json={"input": "say hello"})).json()
    assert body["near_miss"]["rule"] == "second hello"
    assert body["near_miss"]["reason"] == "nth: this would be match 1 of the rule, which answers match 2"
    assert "nearest is rules[1] 'second hello' (given rules), which does not match: nth" in body["detail"]
    assert (await client.post(f"/v1/agents/{AGENT}/messages", json={"input": "count"})).status_code == 200
    # A miss uses nothing up: the refused send was not counted.
    listing = (await admin(app).get("/_mock/rules")).json()["rules"]
    assert [(r["name"], r["hits"], r["matched"]) for r in listing][:2] == [("sequence", 1, 1), ("second hello", 0, 0)]


async def test_put_get_post_delete_rules_with_hit_counts(client_for: Callable[..., httpx.AsyncClient]) -> None:
    app = create_app()
    client, letta = admin(app), client_for(app)
    put = await client.put("/_mock/rules", content=README_RULES, headers={"content-type": "application/yaml"})
    assert put.status_code == 200
    assert put.json()["rules"][0]["hits"] == 0
    await letta.post(f"/v1/agents/{AGENT}/messages", json={"input": "weather"})
    more = MatchRule(name="hi", match=Match(input="hi"), turn=Turn([Step(text="hello!")])).as_dict()
    posted = await client.post("/_mock/rules", json={"rules": [more]})
    assert [(r["name"], r["hits"]) for r in posted.json()["rules"]] == [("rules[0]", 1), ("hi", 0)]
    wrong = {"match": {"input": 3}, "turn": {"steps": [{"tool_calls": [{"name": "x", "arguments": [1]}]}]}}
    bad = {"rules": [more, wrong]}
    refused = await client.put("/_mock/rules", json=bad)
    assert refused.status_code == 422
    assert [(d["loc"], d["msg"]) for d in refused.json()["detail"]] == [
        (["body", "rules", 1, "match", "input"], "rules[1].match.input: not text (a number)"),
        (["body", "rules", 1, "turn", "steps", 0, "tool_calls", 0, "arguments"],
         "rules[1].turn.steps[0].tool_calls[0].arguments: not an object (a list)"),
    ]  # fmt: skip
    kept = (await client.get("/_mock/rules")).json()["rules"]
    assert [(r["name"], r["hits"]) for r in kept] == [("rules[0]", 1), ("hi", 0)]  # the old rules, untouched
    assert (await client.delete("/_mock/rules")).json()["rules"] == []
    assert (await client.post("/_mock/reset")).status_code == 200


async def test_admin_rules_keep_the_auth_token() -> None:
    client = admin(create_app(auth_token="s3cret"))
    assert (await client.get("/_mock/rules")).status_code == 401
    assert (await client.put("/_mock/rules", json={"rules": []})).status_code == 401
    ok = await client.get("/_mock/rules", headers={"authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_a_created_agents_unknown_server_tool_returns_lettas_error(checker: ContractChecker, serve: Any) -> None:
    rule = MatchRule(turn=Turn([Step(tool_calls=[Call("launch_rocket", {"to": "moon"})]), Step(text="Oops.")]))
    with make_letta(serve(create_app(rules=[rule])), strict=True, checker=checker) as sdk:
        agent = sdk.agents.create(name="authored-unknown-tool", include_base_tools=True)
        said = contents(sdk.agents.messages.create(agent.id, input="go").messages)
        names = [t.name for t in agent.tools]  # in the agent's order
        assert said[1] == (
            "tool_return_message",
            "launch_rocket",
            f"[ToolConstraintError] Cannot call launch_rocket, valid tools include: {names!r}.",
            "error",
        )
        # In the open world any tool name goes, returning what the turn says (here: the mock's echo).
        open_world = contents(sdk.agents.messages.create(AGENT, input="go").messages)
        assert open_world[1][3] == "success"


ENDINGS = """\
rules:
  - match: {input: fail}
    turn:
      steps: [{reasoning: "trying", text: "partial"}]
      error: {type: llm_timeout, at: mid}
  - match: {input: usage}
    turn:
      steps: [{hidden_reasoning: true, text: "counted"}]
      usage: {prompt_tokens: 42, completion_tokens: 7}
"""


@pytest.mark.parametrize("rules_app", [ENDINGS], indirect=True)
def test_errors_usage_and_hidden_reasoning(sdk: Letta) -> None:
    events = list(sdk.agents.messages.create(AGENT, input="usage", streaming=True))
    usage = next(e for e in events if e.message_type == "usage_statistics")
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (42, 7, 49)
    assert [e.message_type for e in events][1:3] == ["hidden_reasoning_message", "assistant_message"]
    from letta_client import APIStatusError

    seen: list[Any] = []

    def read() -> None:
        seen.extend(sdk.agents.messages.create(AGENT, input="fail", streaming=True))

    with pytest.raises(APIStatusError) as failed:
        read()
    assert [e.message_type for e in seen][1:] == ["reasoning_message", "assistant_message", "stop_reason"]
    assert seen[-1].stop_reason == "llm_api_error"
    assert failed.value.body["error_type"] == "internal_error"  # after a chunk, Letta names any error so (§6.5b)


def test_background_runs_resume_and_filters_apply_to_authored_turns(sdk: Letta) -> None:
    events = list(sdk.agents.messages.create(AGENT, input="weather", streaming=True, background=True))
    run_id = events[0].run_id
    assert [e.seq_id for e in events if e.message_type == "reasoning_message"] == [2]  # numbered (wire doc §6.8)
    again = list(sdk.runs.messages.stream(run_id, starting_after=0))
    assert contents([e for e in again if e.message_type not in ("ping", "stop_reason", "usage_statistics")]) == WEATHER
    only = sdk.agents.messages.create(AGENT, input="weather", include_return_message_types=["assistant_message"])
    assert contents(only.messages) == [WEATHER[-1]]


def test_async_sends_are_answered_by_rules_too(sdk: Letta, url: str) -> None:
    run = sdk.agents.messages.create_async(AGENT, input="weather")
    for _ in range(100):
        if sdk.runs.retrieve(run.id).status == "completed":
            break
    messages = list(sdk.runs.messages.list(run.id))
    assert contents(messages)[1:] == WEATHER
    assert httpx.get(f"{url}/_mock/rules").json()["rules"][0]["hits"] == 1


def test_a_scripted_reply_after_an_approval_is_said(sdk: Letta, url: str) -> None:
    script = {"turns": [{"scenario": "approval"}, {"reply": "Done."}]}
    assert httpx.put(f"{url}/_mock/agents/{AGENT}/script", json=script).status_code == 200
    paused = sdk.agents.messages.create(AGENT, input="tidy up")
    call_id = paused.messages[-1].tool_calls[0].tool_call_id  # type: ignore[union-attr]
    decision = {"type": "approval", "approvals": [{"type": "approval", "tool_call_id": call_id, "approve": True}]}
    after = sdk.agents.messages.create(AGENT, messages=[decision])  # type: ignore[list-item]
    assert contents(after.messages)[-1] == ("assistant_message", "Done.")
    assert httpx.get(f"{url}/_mock/agents/{AGENT}/script").json()["turns"] == []


@pytest.mark.letta_mock(rules=[MatchRule(name="marked", match=Match(input="weather"), turn=Turn([Step(text="sun")]))])
def test_the_marker_and_the_fixture_add_rules(letta_mock_client: Letta, letta_mock_rules: Any, letta_mock_journal: Any,
                                               letta_mock_agent_id: str) -> None:  # fmt: skip
    said = letta_mock_client.agents.messages.create(letta_mock_agent_id, input="weather?")
    assert contents(said.messages) == [("assistant_message", "sun")]
    assert letta_mock_journal.last.rule == "marked"
    letta_mock_rules.add({"name": "added", "match": {"input": "weather"}, "turn": {"steps": [{"text": "rain"}]}})
    said = letta_mock_client.agents.messages.create(letta_mock_agent_id, input="weather?")
    assert contents(said.messages) == [("assistant_message", "rain")]  # run-time rules come first
    assert letta_mock_rules.hits == {"added": 1, "marked": 1}
    assert letta_mock_journal.last.rule == "added"
