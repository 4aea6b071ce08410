"""The plugin's journal helpers (respx-style), the mock's failures raised in the test that caused them, the
journal in a failing test's report, and one live server per pytest-xdist worker — each in a pytester run."""

from __future__ import annotations

import socket

import pytest
from test_pytest_plugin import AGENT, INI, run


def test_the_journal_helpers_say_what_the_mock_was_sent_and_answered(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        from unittest.mock import ANY

        import httpx
        import pytest

        def test_request_and_response(letta_mock_client, letta_mock_journal):
            letta_mock_client.agents.messages.create("AGENT_ID", input="hello", max_steps=3)
            letta_mock_client.agents.messages.list("AGENT_ID", limit=2)
            calls = letta_mock_journal
            assert calls.count == len(calls) == 2 and calls.called
            first, last = calls.first, calls.last
            assert first.operation == "send_message" and first.request.method == "POST"
            assert first.request.json == {"input": "hello", "max_steps": 3}
            assert first.request.params == {"agent_id": "AGENT_ID"}
            assert first.response.status_code == 200
            assert first.response.json["stop_reason"]["stop_reason"] == "end_turn"
            assert first.request.headers["authorization"].endswith("characters>")  # never the key itself
            assert last.request.query == {"limit": "2"} and last.fields["limit"] == "2"
            assert [m["message_type"] for m in last.response.json][-1] == "assistant_message"
            assert [c.operation for c in calls] == ["send_message", "list_messages"] and calls[-1].id == last.id

        def test_what_a_stream_sent(letta_mock_client, letta_mock_journal):
            list(letta_mock_client.agents.messages.create("AGENT_ID", input="/tool web_search", streaming=True))
            response = letta_mock_journal.last.response
            assert response.message_types == ["ping", "reasoning_message", "tool_call_message", "tool_return_message",
                                              "reasoning_message", "assistant_message", "stop_reason",
                                              "usage_statistics", "[DONE]"]
            assert response.events[-1] == "[DONE]" and response.events[2]["tool_calls"][0]["name"] == "web_search"
            assert response.offsets_ms == sorted(response.offsets_ms)
            assert response.stop_reason == "end_turn" and response.state == "done"
            assert letta_mock_journal.streams == [response.events]

        def test_filtered_views(letta_mock_client, letta_mock_journal):
            for text in ("one", "two"):
                letta_mock_client.agents.messages.create("AGENT_ID", input=text)
            letta_mock_client.agents.messages.list("OTHER_ID")
            assert letta_mock_journal.of("send_message").count == 2
            assert letta_mock_journal.where("send_message", input="two").last.request.json == {"input": "two"}
            assert letta_mock_journal.where(agent_id="OTHER_ID").count == 1
            assert letta_mock_journal.of("cancel_message").called is False

        def test_assertions_that_hold(letta_mock_client, letta_mock_journal):
            letta_mock_client.agents.messages.create("AGENT_ID", input="hi")
            letta_mock_client.agents.messages.list("AGENT_ID")
            letta_mock_client.agents.messages.list("AGENT_ID", after="message-00000000-0000-4000-8000-000000000001")
            calls = letta_mock_journal
            call = calls.assert_called_once_with("send_message", agent_id="AGENT_ID", input="hi")
            assert call.response.status_code == 200
            calls.assert_called_once_with("send_message", input=ANY)
            calls.assert_called_once("send_message")
            calls.assert_called("list_messages")
            calls.assert_called_times(2, "list_messages", agent_id="AGENT_ID")
            calls.assert_called_with("list_messages", after=ANY)
            calls.assert_not_called("cancel_message")
            calls.assert_not_called("send_message", input="bye")

        def test_assertions_that_fail_say_what_the_mock_saw(letta_mock_client, letta_mock_journal):
            letta_mock_client.agents.messages.create("AGENT_ID", input="hello")
            with pytest.raises(AssertionError) as raised:
                letta_mock_journal.assert_called_once_with("send_message", input="goodbye")
            message = str(raised.value)
            assert "expected exactly one call of send_message with input='goodbye'" in message
            assert "the mock saw 1 call(s) of send_message, 0 with those fields" in message
            assert '#1 POST /v1/agents/AGENT_ID/messages send_message {"input":"hello"} -> 200' in message
            for check in (lambda: letta_mock_journal.assert_not_called("send_message"),
                          lambda: letta_mock_journal.assert_called("list_messages"),
                          lambda: letta_mock_journal.assert_called_times(2, "send_message"),
                          lambda: letta_mock_journal.assert_called_with("send_message", input="x")):
                with pytest.raises(AssertionError, match="the mock saw"):
                    check()

        def test_last_of_nothing_says_so(letta_mock_journal):
            with pytest.raises(AssertionError, match="the mock received no call"):
                letta_mock_journal.last

        def test_a_dropped_connection_is_marked(letta_mock_url, letta_mock_journal):
            with pytest.raises(httpx.RemoteProtocolError):
                httpx.post(letta_mock_url + "/v1/agents/AGENT_ID/messages", timeout=10,
                           json={"input": "hi", "streaming": True}, headers={"X-Letta-Mock": "fault=drop_after:2"})
            assert letta_mock_journal.last.response.state == "dropped"
            assert letta_mock_journal.last.response.message_types == ["ping", "reasoning_message"]
        """,
    )
    result.assert_outcomes(passed=7)


# -- the mock's failures ------------------------------------------------------------------------------------------

FAILING_MOCK = """
    import pytest
    from letta_client import InternalServerError

    @pytest.fixture
    def broken(monkeypatch):
        def explode(self, *args, **kwargs):
            raise RuntimeError("the store exploded")
        monkeypatch.setattr("mockserver.store.Store.agent", explode)

    def test_live_server(letta_mock_client, broken):
        with pytest.raises(InternalServerError):
            letta_mock_client.with_options(max_retries=0).agents.messages.list("AGENT_ID")

    async def test_in_process(letta_mock, broken):
        response = await letta_mock.get("/v1/agents/AGENT_ID/messages")
        assert response.status_code == 500 and response.json() == {"detail": "An unknown error occurred"}

    def test_the_test_failed_too(letta_mock_client, broken):
        letta_mock_client.with_options(max_retries=0).agents.messages.list("AGENT_ID")

    def test_taken_on_purpose(letta_mock_client, broken, letta_mock_errors):
        with pytest.raises(InternalServerError):
            letta_mock_client.with_options(max_retries=0).agents.messages.list("AGENT_ID")
        (record,) = letta_mock_errors.take()
        assert record.exc_info[1].args == ("the store exploded",)

    def test_the_next_test_is_clean(letta_mock_client):
        assert letta_mock_client.agents.messages.list("AGENT_ID").items[0].message_type == "system_message"
"""


def test_the_mocks_own_failure_fails_the_test_that_caused_it_with_its_traceback(pytester: pytest.Pytester) -> None:
    result = run(pytester, FAILING_MOCK, "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=2, failed=3)
    out = result.stdout.str()
    for name in ("test_live_server", "test_in_process", "test_the_test_failed_too"):
        section = out.split(f"_ {name} _")[1].split("\n__")[0]
        assert "MockServerError: letta-mock failed 1 time(s) while answering this test's requests" in section
        assert "letta-mock failed on GET /v1/agents/" in section
        assert "RuntimeError: the store exploded" in section
        assert "in explode" in section
    assert "the test then failed with InternalServerError" in out.split("_ test_the_test_failed_too _")[1]


OTHER_THREADS_FAILURE = """
    import logging, threading

    def test_another_servers_late_failure_is_not_this_tests(letta_mock_client):
        late = threading.Thread(target=lambda: logging.getLogger("letta_mock").error("another server failed"),
                                name="letta-mock-elsewhere")
        late.start()
        late.join()
        letta_mock_client.agents.messages.list("AGENT_ID")

    def test_this_tests_own_thread_is_watched(letta_mock_client):
        logging.getLogger("letta_mock").error("failed on the test's thread")
"""


def test_a_test_is_failed_only_by_its_own_threads_and_its_servers(pytester: pytest.Pytester) -> None:
    result = run(pytester, OTHER_THREADS_FAILURE)
    result.assert_outcomes(passed=1, failed=1)
    assert "failed on the test's thread" in result.stdout.str()
    assert "another server failed" not in result.stdout.str()


def test_a_live_server_checks_its_failures_outside_pytest() -> None:
    import httpx

    from mockserver.live import LiveServer, MockServerError
    from mockserver.store import Store

    with LiveServer() as server, pytest.MonkeyPatch.context() as patch:
        server.check()  # nothing failed yet
        patch.setattr(Store, "agent", lambda *a, **k: 1 / 0)
        assert httpx.get(f"{server.url}/v1/agents/{AGENT}/messages").status_code == 500
        assert len(server.errors) == 1
        with pytest.raises(MockServerError, match="ZeroDivisionError") as raised:
            server.check()
        assert isinstance(raised.value.__cause__, ZeroDivisionError)
        server.check()  # checked: forgotten


# -- the report of a failing test ---------------------------------------------------------------------------------

REPORTED = """
    def test_fails(letta_mock_client):
        letta_mock_client.agents.messages.create("AGENT_ID", input="/tool web_search", streaming=True).close()
        list(letta_mock_client.agents.messages.create("AGENT_ID", input="hi", streaming=True))
        letta_mock_client.agents.messages.list("AGENT_ID", limit=1)
        assert False, "the client got it wrong"

    def test_passes(letta_mock_client):
        letta_mock_client.agents.messages.list("AGENT_ID")
"""


def test_a_failing_tests_report_shows_the_mocks_journal_for_that_test(pytester: pytest.Pytester) -> None:
    result = run(pytester, REPORTED)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*- letta-mock journal (this test's exchanges) -*",
        f'#1 POST /v1/agents/{AGENT}/messages send_message {{"input":"/tool web_search","streaming":true}} -> 200 '
        "SSE *",
        f'#2 POST /v1/agents/{AGENT}/messages send_message {{"input":"hi","streaming":true}} -> 200 SSE 6 events '
        "[ping, reasoning_message, assistant_message, stop_reason, usage_statistics, [DONE]]",
        f"#3 GET /v1/agents/{AGENT}/messages?limit=1 list_messages -> 200 *",
    ])  # fmt: skip
    assert result.stdout.str().count("letta-mock journal") == 1  # only the failing test's


def test_the_report_leaves_the_journal_out_when_asked(pytester: pytest.Pytester) -> None:
    result = run(pytester, REPORTED, "--letta-mock-no-report")
    result.assert_outcomes(passed=1, failed=1)
    assert "letta-mock journal" not in result.stdout.str()


# -- pytest-xdist -------------------------------------------------------------------------------------------------

XDIST = """
    import os, time

    import pytest

    @pytest.mark.parametrize("n", range(6))
    def test_alone_on_its_workers_server(n, letta_mock_client, letta_mock_url, letta_mock_journal):
        worker = os.environ["PYTEST_XDIST_WORKER"]
        with open(f"seen-{worker}-{n}.txt", "w") as out:
            out.write(letta_mock_url)
        letta_mock_client.agents.messages.create("AGENT_ID", input=f"test {n}")
        time.sleep(0.05)  # the other worker's tests run meanwhile: they must not show up here
        items = letta_mock_client.agents.messages.list("AGENT_ID").items
        assert [m.content for m in items if m.message_type == "user_message"] == [f"test {n}"]
        assert letta_mock_journal.count == 2
"""


def _free_pair() -> int:
    """A port P with P and P+1 free now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two free consecutive ports")


def test_each_xdist_worker_has_its_own_server(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(XDIST.replace("AGENT_ID", AGENT))
    # Hypothesis and schemathesis are not used here; their start-up (~2 s a process) is paid by three processes.
    quick = ["-p", "no:hypothesispytest", "-p", "no:schemathesis"]
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *quick, "-n", "2", timeout=120)
    result.assert_outcomes(passed=6)
    seen: dict[str, set[str]] = {}
    for path in pytester.path.glob("seen-*.txt"):
        seen.setdefault(path.name.split("-")[1], set()).add(path.read_text())
    assert sorted(seen) == ["gw0", "gw1"]
    assert all(len(urls) == 1 for urls in seen.values())  # one server per worker for its whole session
    assert len({next(iter(urls)) for urls in seen.values()}) == 2


def test_a_fixed_port_is_offset_by_the_xdist_worker_number(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _free_pair()
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    result = run(
        pytester,
        f"""
        def test_port(letta_mock_url):
            assert letta_mock_url == "http://127.0.0.1:{base + 1}"
        """,
        "--letta-mock-port", str(base),
    )  # fmt: skip
    result.assert_outcomes(passed=1)
