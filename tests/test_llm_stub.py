"""The LLM stub the real_letta tier's Letta talks to (tests/real_letta/llm_stub.py): its rules, one test each, and —
where ../shared/real-letta is beside the repository — the same answers, byte for byte but for ids and times, as the
stub the recorded fixtures and Letta's own tests (tests/letta_itests) were made with, over HTTP, on every route."""

from __future__ import annotations

import importlib.util
import json
import re
from types import ModuleType
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from real_letta import llm_stub
from real_letta.llm_stub import SUMMARY, decide


def chat(text: str, *tools: str, **extra: Any) -> dict[str, Any]:
    offered = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in tools]
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "tools": offered, **extra}


def test_a_tool_result_is_acknowledged() -> None:
    body = chat("hi")
    body["messages"].append({"role": "tool", "content": [{"type": "text", "text": "42"}], "tool_call_id": "c"})
    assert decide(body) == {"content": "Tool result received: 42"}


def test_a_summary_request_without_tools_gets_the_summary() -> None:
    system = {"role": "system", "content": "Summarize the evicted messages."}
    body = {"messages": [system, {"role": "user", "content": "x"}]}
    assert decide(body) == {"content": SUMMARY}
    assert decide({**body, "tools": chat("", "t")["tools"]})["content"].startswith("Hello from the stub!")


def test_use_tool_calls_an_offered_tool_with_paris() -> None:
    assert decide(chat("please USE_TOOL weather", "weather")) == {"tool": "weather", "arguments": '{"city":"Paris"}'}
    assert decide(chat("please USE_TOOL weather", "other"))["content"].startswith("Hello from the stub!")


def test_a_tool_asked_for_by_name_gets_arguments_from_its_schema() -> None:
    body = chat("Call the roll_dice tool with 16 sides", "send_message", "roll_dice")
    body["tools"][1]["function"]["parameters"] = {
        "type": "object",
        "properties": {"num_sides": {"type": "integer"}, "label": {"type": "string"}, "fair": {"type": "boolean"}},
        "required": ["num_sides", "fair"],
    }
    assert decide(body) == {"tool": "roll_dice", "arguments": '{"num_sides":16,"fair":true}'}
    assert decide({**body, "tool_choice": "none"})["content"].startswith("Hello")
    other = {"type": "function", "function": {"name": "send_message"}}
    assert decide({**body, "tool_choice": other})["tool"] == "send_message"  # forced elsewhere: rule 5


def test_a_forced_tool_is_called() -> None:
    assert decide(chat("hi", "a", "send_message", tool_choice="required")) == {
        "tool": "send_message",
        "arguments": '{"message":"Hello from the stub! You said: hi"}',
    }
    assert decide(chat("hi", "a", "b", tool_choice="any")) == {"tool": "a", "arguments": '{"city":"Paris"}'}


def test_a_json_schema_response_format_gets_an_object_of_that_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "number"},
            "kind": {"enum": ["x", "y"]},
            "items": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/item"}},
            "maybe": {"anyOf": [{"type": "null"}, {"const": 3}]},
        },
        "$defs": {"item": {"type": "object", "properties": {"s": {"type": "string", "default": "d"}}}},
    }
    body = chat("about 2.5 of them", response_format={"type": "json_schema", "json_schema": {"schema": schema}})
    assert json.loads(decide(body)["content"]) == {"n": 2.5, "kind": "x", "items": [{"s": "d"}, {"s": "d"}], "maybe": 3}


def test_anything_else_gets_the_hello_text() -> None:
    assert decide(chat("hi there")) == {"content": "Hello from the stub! You said: hi there"}
    assert decide({})["content"] == "Hello from the stub! You said: "


def test_embeddings_are_deterministic_unit_vectors() -> None:
    first = llm_stub.embeddings({"input": ["a", "b"], "dimensions": 8})
    assert first == llm_stub.embeddings({"input": ["a", "b"], "dimensions": 8})
    vectors = [item["embedding"] for item in first["data"]]
    assert vectors[0] != vectors[1]
    assert all(abs(sum(v * v for v in vector) - 1) < 1e-9 for vector in vectors)


# -- the same answers as the stub the fixtures were recorded with ----------------------------------------------------


@pytest.fixture(scope="module")
def reference(beside_repository: Any) -> ModuleType:
    path = beside_repository("shared/real-letta/llm_stub.py", "the reference LLM stub")
    found = importlib.util.spec_from_file_location("reference_llm_stub", path)
    assert found is not None
    assert found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def _normalised(text: str) -> str:
    text = re.sub(r"chatcmpl-stub[0-9a-f]{20}", "chatcmpl-stub-ID", text)
    text = re.sub(r"call_[0-9a-f]{24}", "call_ID", text)
    return re.sub(r'"created": ?\d+', '"created": 0', text)


REQUESTS: list[tuple[str, str, Any]] = [
    ("GET", "/v1/models", None),
    ("GET", "/v1/models/gpt-4o-mini", None),
    ("GET", "/v1/models/other", None),
    ("GET", "/health", None),
    ("POST", "/v1/chat/completions", chat("hello")),
    ("POST", "/chat/completions", chat("USE_TOOL t", "t", stream=True)),
    ("POST", "/v1/chat/completions", chat("run `t` twice", "t", stream=True, stream_options={"include_usage": True})),
    ("POST", "/v1/chat/completions", chat("two words", stream=True, stream_options={"include_usage": True})),
    ("POST", "/v1/chat/completions", chat("x", "send_message", tool_choice="required")),
    ("POST", "/v1/embeddings", {"input": "hello", "dimensions": 16}),
    ("POST", "/embeddings", {"input": [[1, 2, 3]], "encoding_format": "base64", "dimensions": 4}),
    ("POST", "/v1/embeddings", {"input": ["a", {"b": 1}]}),
    ("DELETE", "/v1/files/x", None),
    ("POST", "/v1/chat/completions", "not json"),
]


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS])
async def test_every_route_answers_as_the_reference_does(
    reference: ModuleType, method: str, path: str, body: Any
) -> None:
    sent = {"content": body} if isinstance(body, str) else {"json": body} if body is not None else {}
    answers = []
    for app in (llm_stub.app(None), reference.app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://stub") as client:
            response = await client.request(method, path, **sent)
        answers.append((response.status_code, response.headers.get("content-type"), _normalised(response.text)))
    assert answers[0] == answers[1]


_schemas = st.recursive(
    st.sampled_from(
        [
            {"type": "string"},
            {"type": "integer"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "null"},
            {"enum": ["a", 1]},
            {"const": "c"},
            {"default": 7},
            {"type": ["null", "integer"]},
            {"$ref": "#/$defs/d"},
            {},
        ]
    ),
    lambda inner: st.one_of(
        st.builds(
            lambda p, r: {"type": "object", "properties": p, **({"required": r} if r else {})},
            st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
            st.lists(st.sampled_from(["a", "b", "z"]), max_size=2),
        ),
        st.builds(lambda i, n: {"type": "array", "items": i, "minItems": n}, inner, st.integers(0, 2)),
        st.builds(lambda o: {"anyOf": o}, st.lists(inner, min_size=1, max_size=3)),
    ),
    max_leaves=8,
)
_texts = st.sampled_from(
    [
        "hi",
        "USE_TOOL a",
        "USE_TOOL send_message",
        "call the a tool 3 times",
        "Invoke `b` -1.5",
        "execute send_message",
        "use a2 please",
        "run 'c'",
        "please summarize",
        "",
    ]
)
_tool_choice = st.sampled_from(
    [
        None,
        "none",
        "auto",
        "required",
        "any",
        {"type": "function", "function": {"name": "a"}},
        {"name": "b"},
        {"type": "function", "function": {"name": "zzz"}},
    ]
)


@st.composite
def _bodies(draw: st.DrawFn) -> dict[str, Any]:
    tools = draw(st.lists(st.sampled_from(["a", "b", "send_message", "a2"]), max_size=3))
    schema = draw(_schemas)
    body: dict[str, Any] = {
        "messages": [
            *draw(
                st.lists(
                    st.sampled_from(
                        [
                            {"role": "system", "content": "You summarize evicted messages"},
                            {"role": "developer", "content": [{"type": "text", "text": "plain"}]},
                        ]
                    ),
                    max_size=1,
                )
            ),
            {"role": "user", "content": draw(_texts)},
            *draw(
                st.lists(
                    st.sampled_from([{"role": "tool", "content": "done"}, {"role": "assistant", "content": None}]),
                    max_size=1,
                )
            ),
        ],
        "tools": [
            {"type": "function", "function": {"name": n, "parameters": {**schema, "$defs": {"d": {}}}}} for n in tools
        ],
    }
    choice = draw(_tool_choice)
    if choice is not None:
        body["tool_choice"] = choice
    if draw(st.booleans()):
        body["response_format"] = {"type": "json_schema", "json_schema": {"schema": {**schema, "$defs": {"d": {}}}}}
    if draw(st.booleans()):
        body["functions"] = [{"name": "b", "parameters": schema}]
    return body


def test_the_rules_decide_as_the_reference_s_on_drawn_requests(reference: ModuleType) -> None:
    @settings(max_examples=150, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_bodies())
    def check(body: dict[str, Any]) -> None:
        assert decide(body) == reference.decide(body)

    check()
