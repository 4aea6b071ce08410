"""The rules format: every problem named by its path, YAML read safely, regexes bounded and time-boxed, the builder
equal to plain data, rule files at serve start (exit 2, nothing served) and re-read when they change."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml
from _local import LETTA_MOCK, ROOT, unused_port
from test_cli import serve

from mockserver import create_app
from mockserver.authored import Call, Match, MatchRule, RulesInvalid, Step, Turn
from mockserver.authored.format import read_rules
from mockserver.authored.load import parse_document, read_file
from mockserver.authored.matching import SendView, reasons
from mockserver.authored.ruleset import RuleSet
from mockserver.errors import ConfigurationError
from mockserver.models import STOP_REASONS

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"


def problems(data: object) -> list[str]:
    with pytest.raises(RulesInvalid) as refused:
        read_rules(data)
    return refused.value.problems


def test_every_problem_is_named_by_its_path() -> None:
    found = problems({"rules": [
        {"match": {"input": "a"}, "turn": {"steps": [{"text": "ok"}]}},
        {"match": {"imput": "a", "kind": "robot", "nth": 0}, "turns": []},
        {"turn": {"steps": [{"tool_calls": [{"name": "f", "arguments": [1, 2]}]},
                            {"tool_calls": [{"name": "g", "kind": "client", "returns": "x"}]}, {}],
                  "stop_reason": "end_of_days", "usage": {"prompt_tokens": -1}, "pace": {"fault": "no_done"}}},
        {"match": {"input_regex": "("}, "controls": "scenario=nope", "turn": {"steps": []}},
        {"turn": {"steps": [{"text": "x"}], "error": {"type": "llm_error", "at": "start"}}},
    ]})  # fmt: skip
    assert found == [
        "rules[1].match.imput: unknown field (did you mean 'input'?)",
        "rules[1].match.nth: not a whole number >= 1 (0)",
        "rules[1].match.kind: 'robot' is not one of user, approval, tool_return",
        "rules[1].turns: empty",
        "rules[2].turn.steps[0].tool_calls[0].arguments: not an object (a list)",
        "rules[2].turn.steps[1].tool_calls[0].returns: a client tool's result comes from the client",
        "rules[2].turn.steps[2]: empty: a step has reasoning, hidden_reasoning, text or tool_calls",
        f"rules[2].turn.stop_reason: 'end_of_days' is not one of {', '.join(STOP_REASONS)}",
        "rules[2].turn.usage.prompt_tokens: not a whole number >= 0 (-1)",
        "rules[2].turn.pace: fault: not pacing (pacing keys: first_event_delay_ms, token_delay_ms, jitter_ms, "
        "think_ms, tool_ms, ping_interval_ms, seed)",
        "rules[3].match.input_regex: does not compile: missing ) at position 1",
        "rules[3]: give only one of turn, turns, controls, fixture, not turn and controls",
        "rules[4].turn.error: at start comes before any step: leave the steps out, or use at: mid (after them)",
    ]


def test_how_a_turn_ends_must_be_coherent() -> None:
    waits = {"steps": [{"tool_calls": [{"name": "rm", "kind": "approval"}]}], "stop_reason": "end_turn"}
    assert problems([{"turn": waits}]) == ["rules[0].turn.stop_reason: the last step waits on the client (an approval "
                                           "or client call): the turn ends with requires_approval"]  # fmt: skip
    assert problems([{"turn": {"steps": [{"text": "x"}], "stop_reason": "requires_approval"}}]) == [
        "rules[0].turn.stop_reason: requires_approval needs an approval or client call in the last step"
    ]
    assert problems([{"turn": {}}]) == ["rules[0].turn.steps: missing: at least one step (or an error)"]
    assert problems([{"turn": {"steps": [{"text": "a"}, {"text": "b"}]}}]) == [
        "rules[0].turn.steps[0]: calls no tool, so the turn ends there: the steps after it would never run (say it "
        "in one step, or call a tool)"
    ]
    assert problems([{"turn": {"steps": [{"text": ""}]}}]) == ["rules[0].turn.steps[0].text: empty"]
    assert problems({"letta_mock_rules": 2, "rules": []}) == [
        "letta_mock_rules: version 2 is not one this letta-mock reads (1)"
    ]


def test_arguments_are_written_as_letta_writes_them_or_kept_as_given() -> None:
    calls = read_rules([{"turn": {"steps": [{"tool_calls": [
        {"name": "a", "arguments": {"city": "Zürich", "n": 1}},
        {"name": "b", "arguments": {"city": "Zürich"}, "kind": "approval"},
        {"name": "c", "arguments": '{ "kept" :  "as written" }'},
    ]}]}}]).rules[0].turns[0].steps[0].calls  # fmt: skip
    assert [c.arguments for c in calls] == ['{"city": "Z\\u00fcrich", "n": 1}', '{"city":"Zürich"}',
                                            '{ "kept" :  "as written" }']  # fmt: skip
    assert problems([{"turn": {"steps": [{"tool_calls": [{"name": "d", "arguments": "[1]"}]}]}}]) == [
        "rules[0].turn.steps[0].tool_calls[0].arguments: not an object (nor text holding a JSON object)"
    ]


def test_the_builder_is_the_same_plain_data() -> None:
    built = MatchRule(name="w", match=Match(input="weather", kind="user"), turn=Turn([
        Step(reasoning="r", tool_calls=[Call("get_weather", {"city": "Paris"}, returns="Sunny")]),
        Step(text="t")], usage={"prompt_tokens": 3}))  # fmt: skip
    plain = {"name": "w", "match": {"input": "weather", "kind": "user"}, "turn": {
        "steps": [{"reasoning": "r", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"},
                                                     "returns": "Sunny"}]}, {"text": "t"}],
        "usage": {"prompt_tokens": 3}}}  # fmt: skip
    assert built.as_dict() == plain
    assert read_rules([built.as_dict()]).rules[0].turns == read_rules([plain]).rules[0].turns


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rules: !!python/object/apply:os.system ['echo no']", "not YAML"),
        ("a: &x [1]\nrules: *x", "aliases (*name) are not read in rule files"),
        ("rules: [", "not YAML"),
    ],
)
def test_yaml_is_read_safely(text: str, problem: str) -> None:
    with pytest.raises(RulesInvalid) as refused:
        parse_document(text, where="rules.yaml")
    assert problem in str(refused.value)


def test_a_regex_is_bounded_and_cannot_stall_the_server(caplog: pytest.LogCaptureFixture) -> None:
    assert problems([{"match": {"input_regex": "a" * 1001}, "turn": {"steps": [{"text": "x"}]}}]) == [
        "rules[0].match.input_regex: 1001 characters: at most 1000"
    ]
    spec = read_rules([{"match": {"input_regex": "(a|aa)+$"}, "turn": {"steps": [{"text": "x"}]}}]).rules[0]
    send = SendView(AGENT, None, "a" * 5000 + "b", "user", None, None, dict)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, "letta_mock"):
        found = reasons(spec.match, send)
    assert time.perf_counter() - started < 5  # catastrophic backtracking, stopped (Python's re: hours)
    assert found == ["input_regex: '(a|aa)+$' timed out after 50 ms"]
    assert "timed out" in caplog.text


def test_bad_rules_are_a_configuration_error_naming_each_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - turn: {steps: [{tool_calls: [{name: f, arguments: 3}]}]}\n")
    with pytest.raises(ConfigurationError) as refused:
        create_app(rules=[str(bad), {"turn": {"steps": []}}])
    message = str(refused.value)
    assert f"{bad}: rules[0].turn.steps[0].tool_calls[0].arguments: not an object (a number)" in message
    assert "given rules: rules[0].turn.steps: missing: at least one step (or an error)" in message


def write(path: Path, text: str) -> None:
    path.write_text(text)
    stamp = time.time() + 1  # a new mtime even on a coarse clock
    os.utime(path, (stamp, stamp))


def test_a_rule_file_is_re_read_when_it_changes_and_a_bad_edit_keeps_the_old_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rules.yaml"
    write(path, "rules:\n  - {name: one, turn: {steps: [{text: first}]}}\n")
    rules = RuleSet([path])
    assert [r.spec.name for r in rules.rules] == ["one"]
    write(path, "rules:\n  - {name: two, turn: {steps: [{text: second}]}}\n  - {name: three, controls: reply=x}\n")
    assert [r.spec.name for r in rules.rules] == ["two", "three"]
    with caplog.at_level(logging.WARNING, "letta_mock"):
        write(path, "rules:\n  - {name: broken, turn: {steps: [{tool_calls: [{name: f, arguments: 1}]}]}}\n")
        assert [r.spec.name for r in rules.rules] == ["two", "three"]
    assert "does not read; its 2 rule(s) stay in force" in caplog.text
    assert "rules[0].turn.steps[0].tool_calls[0].arguments: not an object" in rules.as_json()["files"][0]["problem"]
    write(path, "rules:\n  - {name: fixed, turn: {steps: [{text: ok}]}}\n")
    assert [r.spec.name for r in rules.rules] == ["fixed"]
    assert rules.as_json()["files"][0]["problem"] is None


def test_a_json_rule_file_reads_as_json(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text('{"letta_mock_rules": 1, "rules": [{"name": "j", "turn": {"steps": [{"text": "hi"}]}}]}')
    assert [rule.name for rule in read_file(path).rules] == ["j"]
    path.write_text("rules: []")  # YAML is not JSON
    with pytest.raises(RulesInvalid, match="not JSON"):
        read_file(path)


def test_serve_refuses_a_bad_rule_file_with_exit_2_and_serves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - match: {input: 1}\n    turn: {steps: [{text: hi}]}\n")
    with unused_port() as port:  # held, so nothing else listens there: a connection proves serve did not
        done = subprocess.run([LETTA_MOCK, "serve", "--rules", str(bad), "--port", str(port)],
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 2
        assert f"{bad}: rules[0].match.input: not text (a number)" in done.stderr
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/v1/health/", timeout=1)


def test_serve_answers_with_a_rule_file_and_picks_up_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, yaml.safe_dump({"rules": [{"match": {"input": "ping"}, "turn": {"steps": [{"text": "pong"}]}}]}))
    server, port = serve("--rules", str(path), "--log-level", "warning")  # answering once it returns
    try:
        url = f"http://127.0.0.1:{port}/v1/agents/{AGENT}/messages"
        answer = httpx.post(url, json={"input": "ping"}, timeout=5)
        assert answer.json()["messages"][-1]["content"] == "pong"
        write(path, yaml.safe_dump({"rules": [{"match": {"input": "ping"}, "turn": {"steps": [{"text": "PONG"}]}}]}))
        assert httpx.post(url, json={"input": "ping"}, timeout=5).json()["messages"][-1]["content"] == "PONG"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_readme_example_is_the_one_the_tests_play() -> None:
    from test_authored_turns import README_RULES

    assert README_RULES in (ROOT / "README.md").read_text()
    script = (ROOT / "mockserver/dashboard/static/rules.js").read_text()  # the rules panel writes text, never HTML
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
