"""Letta's own integration tests against letta-mock (tests/letta_itests/): the selection of Letta 0.16.8's tests of
the messages, conversations and runs API (and the agents, tools and blocks around them) that all pass against the
real server, run unchanged against a mock on a
real port, with the per-test table and the ranked causes of the failures printed; and the harness's own rules
(how it moves models, names causes, keeps its selection) checked without a server."""

from __future__ import annotations

import fnmatch
import json

import pytest
from letta_itests import report, runner, selection, workspace
from letta_itests.plugin import Served
from real_letta import Install

from mockserver.live import LiveServer

# Letta's tests that must pass against the mock: measured, not wished for. 0 of 109 before issue 9 (every test
# stopped in setup), 103 of 109 since; all 109 since the server tools of created agents take Letta's order of time
# (config.CREATED_TOOL_MS), so the six that cancel a run 0.5 s or 1.5 s after starting it catch it in flight. The
# selection then grew to 157 (Letta's tests of agents, tools and blocks over HTTP that pass against real Letta):
# 140 pass; the printed table ranks what stops the others (mostly endpoints the mock does not serve: /v1/blocks,
# /v1/folders, /v1/tags, an agent's block list; and tools whose code would have to run). Raise it when more pass.
PASS_FLOOR = 140
# Letta's sdk/*_test.py skip a test whose item an earlier test of the file failed to create: not a harness difference.
DEPENDENT_SKIP = "not found in test_items"
RUN_TIMEOUT_S = 600  # the whole selection against the mock: ~80 s on 2 shared cores, most of it Letta's imports


@pytest.mark.real_letta
def test_letta_own_integration_tests_against_the_mock(
    real_letta_install: Install, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real-letta install (its venv, the sdist) is what Letta's tests run with; they run against the mock, so no
    # real server is started.
    nodeids = selection.read_selection()
    sdist = real_letta_install.sdist
    python = workspace.ensure_venv(sdist, real_letta_install.venv)
    space = workspace.open_workspace(sdist)
    try:
        with LiveServer(seed=1) as server:
            run = runner.run_selection(python, space, server.url, nodeids, timeout_s=RUN_TIMEOUT_S)
            table = report.render(
                run, label="letta-mock", baseline=selection.read_baseline(), routed=report.routed_by(server.app)
            )
    finally:
        space.close()
    with capsys.disabled():
        print("\n" + table)
    assert not run.timed_out, f"Letta's tests did not finish within {RUN_TIMEOUT_S} s against the mock:\n{table}"
    assert not run.collect_errors, table
    unfinished = [n for n, r in run.results.items() if r.outcome == "not run"
                  or (r.outcome == "skipped" and DEPENDENT_SKIP not in r.message)]  # fmt: skip
    assert not unfinished, (
        f"selected tests that did not run to an outcome (the harness differs from the baseline):\n{table}"
    )
    assert run.count("passed") >= PASS_FLOOR, f"fewer of Letta's tests pass against the mock than measured:\n{table}"


SERVED = Served(
    model="openai-proxy/gpt-4o-mini",
    embedding="openai/text-embedding-3-small",
    llm_config=runner.FALLBACK_LLM_CONFIG,
    embedding_config=runner.FALLBACK_EMBEDDING_CONFIG,
)


def test_every_model_a_test_names_becomes_the_served_one() -> None:
    body = {
        "name": "supervisor",
        "model": "anthropic/claude-sonnet-4-5-20250929",
        "embedding": "openai/text-embedding-ada-002",
        "compaction_settings": {"model": "openai/gpt-4o-mini", "mode": "all"},
        "model_settings": {"provider_type": "anthropic", "thinking": {"type": "enabled"}, "temperature": 0.5},
        "messages": [{"role": "user", "content": "use model/x please"}],
    }
    moved = SERVED.rewrite(body)
    assert moved["model"] == moved["compaction_settings"]["model"] == "openai-proxy/gpt-4o-mini"
    assert moved["embedding"] == "openai/text-embedding-3-small"
    assert moved["model_settings"] == {"provider_type": "openai", "temperature": 0.5}
    assert moved["messages"] == body["messages"]  # what the test says is never touched
    assert moved["compaction_settings"]["mode"] == "all"


def test_an_llm_config_keeps_its_tuning_and_takes_the_served_identity() -> None:
    config = {
        "model": "gpt-4o",
        "model_endpoint_type": "openai",
        "model_endpoint": "https://api.openai.com/v1",
        "context_window": 1_000_000,
        "temperature": 0.1,
    }
    moved = SERVED.rewrite({"llm_config": config})["llm_config"]
    assert moved["model"] == "gpt-4o-mini"
    assert moved["model_endpoint"] == "http://127.0.0.1:18999/v1"
    assert moved["context_window"] == 128000  # no larger than the served model's
    assert moved["temperature"] == 0.1


def test_the_same_provider_s_settings_and_bare_names_stay() -> None:
    body = {"model_settings": {"provider_type": "openai", "reasoning": {"reasoning_effort": "low"}}, "model": "gpt"}
    assert SERVED.rewrite(body) == body


def test_paths_and_messages_name_ids_by_their_kind() -> None:
    path = "/v1/conversations/conv-1f2e3d4c-0000-4000-8000-000000000001/messages"
    assert report.template(path) == "/v1/conversations/{conv_id}/messages"
    assert report.template("agent-1f2e3d4c-0000-4000-8000-000000000001") == "{agent_id}"
    assert report.template("1f2e3d4c-0000-4000-8000-000000000001") == "{uuid}"


def _result(outcome: str, phase: str, message: str, requests: list[dict[str, object]]) -> runner.TestResult:
    return runner.TestResult("f.py::t", outcome, phase, message, "f.py:9", "assert 'x' in y", requests=requests)


def test_the_cause_is_the_error_answer_that_ended_the_test() -> None:
    calls = [
        {"phase": "setup", "method": "PUT", "path": "/v1/tools/", "status": 200},
        {"phase": "setup", "method": "POST", "path": "/v1/agents/", "status": 404, "keys": ["model", "name"]},
    ]
    found = report.cause(_result("error", "setup", "letta_client.NotFoundError: Error code: 404", calls))
    assert found is not None
    assert found.key == "POST /v1/agents/ -> 404"


def test_an_expected_error_answer_followed_by_a_failed_check_is_an_assertion() -> None:
    calls = [
        {"phase": "call", "method": "GET", "path": "/v1/runs/", "status": 404},
        {"phase": "call", "method": "GET", "path": "/v1/health/", "status": 200},
    ]
    found = report.cause(_result("failed", "call", "AssertionError: assert 'x' in 'y'\nmore", calls))
    assert found is not None
    assert found.key == "assertion in f.py `assert 'x' in y`: AssertionError: assert 'x' in 'y'"


def test_causes_rank_by_the_number_of_tests_they_stop() -> None:
    one = {"phase": "setup", "method": "PUT", "path": "/v1/tools/", "status": 404, "keys": ["source_code"]}
    two = {"phase": "setup", "method": "POST", "path": "/v1/agents/", "status": 404, "keys": ["model"]}
    results = [
        runner.TestResult("a", "error", "setup", "", requests=[one]),
        runner.TestResult("b", "error", "setup", "", requests=[two]),
        runner.TestResult("c", "error", "setup", "", requests=[two]),
        runner.TestResult("d", "passed"),
    ]
    ranked = report.rank(results)
    assert [(g.cause.key, len(g.tests)) for g in ranked] == [
        ("POST /v1/agents/ -> 404", 2),
        ("PUT /v1/tools/ -> 404", 1),
    ]
    assert ranked[0].body_keys == {"model"}


def test_the_selection_holds_no_excluded_test_and_matches_its_baseline() -> None:
    nodeids = selection.read_selection()
    assert len(nodeids) == len(set(nodeids))
    assert {n.split("::")[0] for n in nodeids} <= set(selection.CANDIDATE_FILES)
    excluded = [n for n in nodeids for pattern, _ in selection.EXCLUDED if fnmatch.fnmatchcase(n, pattern)]
    assert not excluded
    baseline = json.loads(selection.BASELINE_FILE.read_text())
    assert set(baseline["endpoints"]) == set(nodeids)
    assert f"{len(nodeids)} of {len(nodeids)} passed" in selection.SELECTION_FILE.read_text()


def test_the_unlock_order_adds_first_what_completes_most_tests() -> None:
    traces = {
        "a": ["POST /v1/agents/", "GET /v1/health/"],
        "b": ["POST /v1/agents/", "PUT /v1/tools/"],
        "c": ["POST /v1/agents/", "PUT /v1/tools/"],
    }
    order = report.unlock_order(traces, lambda method, path: path == "/v1/health/")
    assert order == [("POST /v1/agents/", 1), ("PUT /v1/tools/", 3)]
