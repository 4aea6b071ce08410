"""``letta-mock fixtures check``, the curated library, and the fixtures in pytest: run as users run them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from _local import LETTA_MOCK
from contract import SPEC_PATH as SPEC

from mockserver.recording.check import check_paths, ours
from mockserver.recording.drift import check_live
from mockserver.recording.library import curated_names, curated_root

CURATED = Path(str(curated_root()))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LETTA_MOCK, *args], capture_output=True, text=True, timeout=120, check=False)


def test_the_curated_library_passes_the_check_against_lettas_document() -> None:
    result = run("fixtures", "check", str(CURATED), "--spec", str(SPEC))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert f"no problems in {len(curated_names())} files (against letta-mock and" in result.stderr


def test_the_curated_library_has_a_fixture_per_scenario() -> None:
    names = set(curated_names())
    wanted = {"reply", "reasoning", "tool_call", "approval_round_trip", "client_tool", "long_stream_pings",
              "token_streaming", "compaction", "paginated_history", "async_run", "background_stream_resume",
              "error_mid_stream"}  # fmt: skip
    from mockserver.catalogue import IN_BAND_ERRORS
    from mockserver.recording.curate import STOP_REASONS

    assert wanted | {f"stop_reason_{r}" for r in STOP_REASONS} | {f"error_{e}" for e in IN_BAND_ERRORS} == names
    pings = json.loads((CURATED / "long_stream_pings.json").read_text())["exchanges"][0]["response"]["stream"]
    assert sum(1 for e in pings["events"] if e.get("data", {}).get("message_type") == "ping") >= 3


def edited_copy(tmp_path: Path, name: str, edit: str, into: str) -> Path:
    text = (CURATED / f"{name}.json").read_text()
    assert edit in text
    copy = tmp_path / f"{name}.json"
    copy.write_text(text.replace(edit, into, 1))
    return copy


def test_an_event_without_message_type_fails_the_check_naming_the_file_and_the_path(tmp_path: Path) -> None:
    # The chunk's text (what replay sends) loses the key; the kept events say it still has it.
    copy = edited_copy(tmp_path, "reply", '\\"message_type\\":\\"assistant_message\\",', "")
    result = run("fixtures", "check", str(copy), "--spec", str(SPEC))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{copy}: /exchanges/1/response/stream/events/1: a stream event without message_type" in "\n".join(lines)
    assert any("stream.events does not match what stream.chunks decode to" in line for line in lines)


def test_a_stream_without_stop_reason_fails_the_check(tmp_path: Path) -> None:
    text = json.loads((CURATED / "reasoning.json").read_text())
    stream = text["exchanges"][0]["response"]["stream"]
    stream["chunks"] = [c for c in stream["chunks"] if "stop_reason" not in c.get("text", "")]
    stream["events"] = [e for e in stream["events"] if e.get("data", {}).get("message_type") != "stop_reason"]
    copy = tmp_path / "reasoning.json"
    copy.write_text(json.dumps(text))
    findings = [str(f) for f in check_paths([str(copy)], [ours()])]
    assert findings == [
        f"{copy}: /exchanges/0/response/stream: not one of Letta's stream grammars: no stop_reason: "
        "['ping', 'reasoning_message', 'assistant_message', 'usage_statistics', '[DONE]'] [letta-mock]"
    ]


def test_a_body_that_breaks_the_document_is_named_by_its_json_path(tmp_path: Path) -> None:
    copy = edited_copy(tmp_path, "paginated_history", '"message_type": "user_message"', '"message_type": "user"')
    findings = [str(f) for f in check_paths([str(copy)], [ours()])]
    assert findings
    assert all(f.startswith(f"{copy}: /exchanges/") for f in findings)
    assert any("/response/json/" in f and "user" in f for f in findings)


def test_a_file_that_cannot_be_loaded_is_one_problem(tmp_path: Path) -> None:
    bad = tmp_path / "0001-bad.json"
    bad.write_text('{"letta_mock_fixture": 7}')
    result = run("fixtures", "check", str(bad))
    assert result.returncode == 1
    assert result.stdout.strip() == f"{bad}: /: fixture format version 7; letta-mock 0.1.0 reads version 1"


def test_check_live_against_the_mock_finds_no_drift_and_reports_a_changed_shape(serve: object) -> None:
    from mockserver import create_app

    url = serve(create_app(seed=1))  # type: ignore[operator]
    assert check_live(["approval_round_trip", "async_run", "token_streaming"], url) == []
    # A server whose streams lost their stop_reason, and one that no longer knows the agent.
    changed = create_app(seed=1, controls="fault=no_stop_reason")
    findings = [str(f) for f in check_live(["tool_call"], serve(changed))]  # type: ignore[operator]
    assert len(findings) == 1
    assert findings[0].startswith("tool_call: /exchanges/0/response/stream: stream skeleton: recorded [")
    assert "'stop_reason', 'usage_statistics'" in findings[0]
    closed = create_app(seed=1, agents=["agent-00000000-0000-4000-8000-00000000abcd"])
    findings = [str(f) for f in check_live(["reply"], serve(closed))]  # type: ignore[operator]
    assert findings[0].startswith("reply: /exchanges/0/response/status: recorded 200, the live server answered 404")


def test_fixtures_list_names_every_curated_fixture() -> None:
    result = run("fixtures", "list")
    assert result.returncode == 0
    listed = [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")]  # not requests
    assert listed == list(curated_names())
    assert "a tool call that waits for approval" in result.stdout


def test_serve_replays_a_curated_fixture_by_name(tmp_path: Path) -> None:
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [LETTA_MOCK, "serve", "--port", str(port), "--fixtures", "reply", "--replay-speed", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(1000):
            try:
                answer = httpx.post(url + "/v1/agents/agent-5e1f0c2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b/messages",
                                    json={"input": "Hello!"}, timeout=2)  # fmt: skip
                break
            except httpx.TransportError:
                time.sleep(0.01)
        assert answer.status_code == 200
        assert answer.headers["x-letta-mock-fixture"] == "reply#0"
        assert [m["message_type"] for m in answer.json()["messages"]] == ["assistant_message"]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "replaying reply" in (process.stdout.read() if process.stdout else "")


def test_serve_refuses_fixtures_it_cannot_load() -> None:
    result = run("serve", "--fixtures", "no_such_fixture_anywhere")
    assert result.returncode == 2
    assert "no_such_fixture_anywhere: no file, directory or curated fixture of that name" in result.stderr


def test_the_marker_replays_a_curated_fixture_in_a_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from letta_client import Letta

        @pytest.mark.letta_mock(fixtures="approval_round_trip", replay_speed=0)
        def test_approval(letta_mock_url):
            client = Letta(base_url=letta_mock_url, api_key="test", _strict_response_validation=True)
            agent = "agent-7f6e5d4c-3b2a-4190-8fed-cba987654321"
            events = list(client.agents.messages.create(agent, input="Delete the temporary files.", streaming=True))
            assert events[-2].stop_reason == "requires_approval"

        def test_the_next_test_gets_the_synthesizing_mock(letta_mock_url):
            client = Letta(base_url=letta_mock_url, api_key="test")
            agent = "agent-7f6e5d4c-3b2a-4190-8fed-cba987654321"
            assert client.agents.messages.create(agent, input="hi").stop_reason.stop_reason == "end_turn"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_a_cassette_records_the_first_run_and_replays_after(pytester: pytest.Pytester, serve: object) -> None:
    from mockserver import create_app

    upstream = serve(create_app(seed=4))  # type: ignore[operator]
    pytester.makepyfile(
        test_cassette=f"""
        import pytest
        from letta_client import Letta

        @pytest.mark.letta_mock(record="once", upstream="{upstream}")
        def test_talks(letta_mock_url):
            client = Letta(base_url=letta_mock_url, api_key="test", max_retries=0)
            agent = "agent-7f6e5d4c-3b2a-4190-8fed-cba987654321"
            response = client.agents.messages.create(agent, input="hello cassette")
            assert response.stop_reason.stop_reason == "end_turn"
        """
    )
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    first.assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_cassette" / "test_talks"
    assert [p.name for p in cassette.iterdir()] == ["0001-post-agents-messages.json"]
    recorded = (cassette / "0001-post-agents-messages.json").read_text()
    # The upstream is gone (another app behind its socket answers 404 to everything): replay needs nothing of it.
    serve(create_app(agents=[]))  # type: ignore[operator]
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--letta-mock-record-mode=none")
    again.assert_outcomes(passed=1)
    assert (cassette / "0001-post-agents-messages.json").read_text() == recorded
    shutil.rmtree(cassette)
    missing = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--letta-mock-record-mode=none")
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines(["*no letta-mock cassette at*record it with --letta-mock-record-mode=once*"])
