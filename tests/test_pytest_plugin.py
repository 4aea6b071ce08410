"""The pytest plugin's fixtures, marker fields and options, exercised the way users meet them: in a separate pytest
run (pytester). Each inner test asserts what the fixture or setting must do, so a broken plugin fails it."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

# pytester's in-process runs forget every module first imported during them, and a later import makes a second copy
# (httpx keeps the first httpcore's exception classes, so the copy's errors would escape its mapping). Import here
# what the inner runs use, so the whole session keeps one of each.
import anyio.pytest_plugin  # noqa: F401
import httpcore  # noqa: F401
import letta_client  # noqa: F401
import pytest
import uvicorn.lifespan.off
import uvicorn.protocols.http.auto
import uvicorn.protocols.websockets.auto  # noqa: F401
from _local import ROOT

import mockserver.calls
import mockserver.live
import mockserver.testing  # noqa: F401

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
OTHER = "agent-00000000-0000-4000-8000-000000000001"
# The inner runs' configuration: no deprecation noise, and every warning (an unclosed socket included) an error.
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings =\n    error\n"


def run(pytester: pytest.Pytester, source: str, *args: str, ini: str = INI) -> pytest.RunResult:
    pytester.makeini(ini)
    pytester.makepyfile(textwrap.dedent(source).replace("AGENT_ID", AGENT).replace("OTHER_ID", OTHER))
    # The inner run turns every warning into an error, an unclosed socket's too: garbage that an earlier test of this
    # process left (which tests ran before depends on the order, and under xdist on the worker) is collected here,
    # where the session ignores it, not in the middle of the inner run.
    gc.collect()
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_letta_mock_url_serves_the_official_client_with_the_markers_controls(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest
        from letta_client import Letta

        @pytest.mark.letta_mock(seed=7, controls="scenario=tool_call")
        def test_tool_call(letta_mock_url):
            client = Letta(base_url=letta_mock_url, api_key="test", _strict_response_validation=True)
            events = list(client.agents.messages.create("AGENT_ID", input="weather?", streaming=True))
            assert [e.message_type for e in events][1:3] == ["reasoning_message", "tool_call_message"]

        def test_state_does_not_leak_between_tests(letta_mock_url):
            with Letta(base_url=letta_mock_url, api_key="test") as client:
                assert [m.message_type for m in client.agents.messages.list("AGENT_ID")] == ["system_message"]
        """,
    )
    result.assert_outcomes(passed=2)


def test_every_fixture_does_what_its_name_says(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx
        import pytest
        from letta_client import AsyncLetta, Letta
        from starlette.applications import Starlette

        SEEN = {}

        def test_letta_mock_app_is_a_fresh_app_per_test(letta_mock_app):
            assert isinstance(letta_mock_app, Starlette)
            assert letta_mock_app.state.store.agents == {}
            assert SEEN.setdefault("app", letta_mock_app) is letta_mock_app

        def test_a_second_test_gets_another_app(letta_mock_app):
            assert SEEN["app"] is not letta_mock_app

        @pytest.mark.asyncio
        async def test_letta_mock_is_an_httpx_client_on_that_app_with_its_calls(letta_mock, letta_mock_app):
            assert isinstance(letta_mock, httpx.AsyncClient)
            assert letta_mock.app is letta_mock_app
            assert (await letta_mock.get("/v1/health/")).json()["status"] == "ok"
            assert letta_mock.calls.count == 1 and letta_mock.calls.last.operation == "check_health"

        def test_letta_mock_server_is_one_live_server_for_the_session(letta_mock_server, letta_mock_url):
            assert letta_mock_url == letta_mock_server.url and letta_mock_url.startswith("http://127.0.0.1:")
            assert SEEN.setdefault("server", letta_mock_server) is letta_mock_server
            assert httpx.get(letta_mock_url + "/v1/health/").status_code == 200

        def test_the_same_server_again(letta_mock_server):
            assert SEEN["server"] is letta_mock_server

        def test_letta_mock_client_is_the_strict_official_client(letta_mock_client, letta_mock_url):
            assert isinstance(letta_mock_client, Letta) and letta_mock_client._strict_response_validation
            assert str(letta_mock_client.base_url).rstrip("/") == letta_mock_url
            response = letta_mock_client.agents.messages.create("AGENT_ID", input="hi")
            assert response.messages[-1].message_type == "assistant_message"

        @pytest.mark.asyncio
        async def test_letta_mock_async_client_is_the_strict_async_client(letta_mock_async_client):
            assert isinstance(letta_mock_async_client, AsyncLetta)
            assert letta_mock_async_client._strict_response_validation
            stream = await letta_mock_async_client.agents.messages.create("AGENT_ID", input="hi", streaming=True)
            assert [e.message_type async for e in stream][-1] == "usage_statistics"

        def test_letta_mock_journal_is_this_tests_calls_on_the_live_server(letta_mock_client, letta_mock_journal):
            assert letta_mock_journal.count == 0
            letta_mock_client.agents.messages.list("AGENT_ID")
            assert letta_mock_journal.last.request.params == {"agent_id": "AGENT_ID"}

        @pytest.mark.asyncio
        async def test_letta_mock_journal_follows_the_in_process_app_when_used(letta_mock, letta_mock_journal):
            await letta_mock.get("/v1/agents/AGENT_ID/messages")
            assert letta_mock_journal.last.operation == "list_messages"

        def test_letta_mock_agent_id_is_the_default_agent(letta_mock_agent_id):
            assert letta_mock_agent_id == "agent-00000000-0000-4000-8000-000000000000"

        @pytest.mark.letta_mock(agents=["OTHER_ID"])
        def test_letta_mock_agent_id_is_the_first_closed_world_agent(letta_mock_agent_id):
            assert letta_mock_agent_id == "OTHER_ID"

        def test_letta_mock_errors_starts_empty(letta_mock_errors):
            assert letta_mock_errors.records == []
        """,
    )
    result.assert_outcomes(passed=12)


def test_the_loaded_plugin_imports_nothing_heavy_and_lists_its_options() -> None:
    code = (
        "import sys, mockserver.pytest_plugin\n"
        "print(sorted(m for m in ('httpx', 'starlette', 'uvicorn', 'letta_client', 'mockserver.app', 'hypothesis',"
        " 'schemathesis', 'strategies')"
        " if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=60, check=True, cwd="/",
    )  # fmt: skip
    for option in ("--letta-mock-seed", "--letta-mock-fidelity", "--letta-mock-agents", "--letta-mock-controls",
                   "--letta-mock-scenario", "--letta-mock-journal-size", "--letta-mock-port", "--letta-mock-no-report",
                   "letta_mock_seed (string)"):  # fmt: skip
        assert option in shown.stdout


# -- marker fields ------------------------------------------------------------------------------------------------


def test_each_marker_field_configures_the_mock(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest
        from letta_client import NotFoundError, UnprocessableEntityError

        RUNS = []

        @pytest.mark.letta_mock(seed=7)
        def test_seed_a(letta_mock_client):
            RUNS.append(letta_mock_client.agents.messages.create("AGENT_ID", input="hi").messages[0].id)

        @pytest.mark.letta_mock(seed=7)
        def test_seed_b_gives_the_same_ids(letta_mock_client):
            assert letta_mock_client.agents.messages.create("AGENT_ID", input="hi").messages[0].id == RUNS[0]

        @pytest.mark.letta_mock(agents=["AGENT_ID"])
        def test_agents_closes_the_world(letta_mock_client):
            letta_mock_client.agents.messages.list("AGENT_ID")
            with pytest.raises(NotFoundError):
                letta_mock_client.agents.messages.list("OTHER_ID")

        @pytest.mark.letta_mock(fidelity="server")
        def test_fidelity_server_answers_422_as_the_real_server(letta_mock_client):
            with pytest.raises(UnprocessableEntityError) as raised:
                letta_mock_client.agents.messages.list("AGENT_ID", order="sideways")
            assert isinstance(raised.value.body["detail"], str)  # the repr of the error list

        @pytest.mark.letta_mock(controls="scenario=reply; reply=From controls.")
        def test_controls_are_the_default_turn(letta_mock_client):
            message = letta_mock_client.agents.messages.create("AGENT_ID", input="hi").messages[-1]
            assert message.content == "From controls."

        @pytest.mark.letta_mock(controls={"reply": "Kept."}, scenario="reply")
        def test_scenario_goes_over_the_controls(letta_mock_client):
            messages = letta_mock_client.agents.messages.create("AGENT_ID", input="hi").messages
            assert [m.message_type for m in messages] == ["assistant_message"] and messages[0].content == "Kept."

        @pytest.mark.letta_mock(journal_size=2)
        def test_journal_size_bounds_the_journal(letta_mock_client, letta_mock_journal):
            for _ in range(3):
                letta_mock_client.agents.messages.list("AGENT_ID")
            assert letta_mock_journal.count == 2 and letta_mock_journal.first.id == 2

        @pytest.mark.letta_mock(script=[{"scenario": "reply", "reply": "First."}, "scenario=reply; reply=Second."])
        def test_script_list_scripts_the_default_agent(letta_mock_client, letta_mock_agent_id):
            replies = [letta_mock_client.agents.messages.create(letta_mock_agent_id, input="go").messages
                       for _ in range(3)]
            assert [r[-1].content for r in replies[:2]] == ["First.", "Second."]
            assert replies[2][0].message_type == "reasoning_message"  # the script is used up: the default again

        @pytest.mark.letta_mock(agents=["AGENT_ID", "OTHER_ID"], script={"OTHER_ID": [{"reply": "Only me."}]})
        def test_script_mapping_names_its_agents(letta_mock_client):
            assert letta_mock_client.agents.messages.create("OTHER_ID", input="x").messages[-1].content == "Only me."
            assert letta_mock_client.agents.messages.create("AGENT_ID", input="x").messages[-1].content != "Only me."
        """,
    )
    result.assert_outcomes(passed=9)


def test_the_closest_marker_wins_field_by_field(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        pytestmark = pytest.mark.letta_mock(seed=3, controls="scenario=reply; reply=Module.")

        def test_module_marker(letta_mock_app):
            assert letta_mock_app.state.config.seed == 3
            assert letta_mock_app.state.defaults.reply == "Module."

        @pytest.mark.letta_mock(seed=4)
        def test_function_marker_overrides_one_field(letta_mock_app):
            assert letta_mock_app.state.config.seed == 4
            assert letta_mock_app.state.defaults.reply == "Module."
        """,
    )
    result.assert_outcomes(passed=2)


BAD_MARKERS = [
    ("letta_mock(sead=7)", "unknown field(s) sead (known: seed, fidelity, agents"),
    ("letta_mock(7)", "takes keyword fields only"),
    ("letta_mock(controls='scenaro=reply')", "letta-mock: controls: unknown key 'scenaro' (did you mean 'scenario'?)"),
    ("letta_mock(scenario='nope')", "letta-mock: scenario: scenario must be one of reply"),
    ("letta_mock(fidelity='exact')", "letta-mock: fidelity must be 'contract' or 'server', not 'exact'"),
    ("letta_mock(agents=['agent-1'])", "letta-mock: 'agent-1' is not an agent id"),
    ("letta_mock(script='reply')", "letta-mock: script must be a list of turns"),
    ("letta_mock(script=[{'scenario': 'x'}])", "letta-mock: script[0]: scenario must be one of"),
    ("letta_mock(journal_size=0)", "letta-mock: journal_size must be a whole number >= 1, not 0"),
]


def test_a_bad_marker_fails_the_test_naming_the_problem(pytester: pytest.Pytester) -> None:
    tests = "".join(
        f"@pytest.mark.{marker}\ndef test_live_{n}(letta_mock_url):\n    pass\n\n"
        f"@pytest.mark.{marker}\ndef test_in_process_{n}(letta_mock_app):\n    pass\n\n"
        for n, (marker, _) in enumerate(BAD_MARKERS)
    )
    result = run(pytester, "import pytest\n\n" + tests)
    result.assert_outcomes(errors=2 * len(BAD_MARKERS))
    for n, (_, message) in enumerate(BAD_MARKERS):
        for name in (f"test_live_{n}", f"test_in_process_{n}"):
            after = result.stdout.str().split(f"ERROR at setup of {name} ")[1].split("\n", 1)[1]
            section = after.split(" ERROR at setup of ")[0].split("short test summary")[0]
            assert message in section, (name, section)


# -- options ------------------------------------------------------------------------------------------------------

OPTION_TESTS = """
    import pytest

    def test_options(letta_mock_app):
        state = letta_mock_app.state
        assert state.config.seed == 11
        assert state.config.fidelity == "server"
        assert state.config.agents == ("AGENT_ID", "OTHER_ID")
        assert state.defaults.as_dict() == {"scenario": "tool_call", "token_delay_ms": 5}
        assert state.journal.size == 3

    @pytest.mark.letta_mock(seed=12, scenario="reply")
    def test_the_marker_beats_the_options(letta_mock_url, letta_mock_server):
        assert letta_mock_server.app.state.config.seed == 12
        assert letta_mock_server.app.state.defaults.as_dict() == {"scenario": "reply", "token_delay_ms": 5}
"""


def test_command_line_options_set_every_tests_mock(pytester: pytest.Pytester) -> None:
    result = run(
        pytester, OPTION_TESTS,
        "--letta-mock-seed", "11", "--letta-mock-fidelity", "server", "--letta-mock-agents", f"{AGENT},{OTHER}",
        "--letta-mock-controls", "token_delay_ms=5", "--letta-mock-scenario", "tool_call",
        "--letta-mock-journal-size", "3",
    )  # fmt: skip
    result.assert_outcomes(passed=2)


def test_ini_options_set_every_tests_mock_and_the_command_line_beats_them(pytester: pytest.Pytester) -> None:
    ini = INI + (
        f"letta_mock_seed = 99\nletta_mock_fidelity = server\nletta_mock_agents = {AGENT} {OTHER}\n"
        "letta_mock_controls = token_delay_ms=5\nletta_mock_scenario = tool_call\nletta_mock_journal_size = 3\n"
    )
    result = run(pytester, OPTION_TESTS, "--letta-mock-seed", "11", ini=ini)
    result.assert_outcomes(passed=2)


def test_a_bad_option_value_fails_naming_the_option(pytester: pytest.Pytester) -> None:
    result = run(pytester, "def test_it(letta_mock_app):\n    pass\n", "--letta-mock-seed", "seven")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*letta-mock: --letta-mock-seed 'seven': make ids and dates reproducible*"])


# -- the per-test reset -------------------------------------------------------------------------------------------


def test_the_live_server_starts_each_test_as_new(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx

        def test_first_changes_everything(letta_mock_url, letta_mock_client):
            httpx.put(letta_mock_url + "/_mock/defaults", json={"scenario": "reply", "reply": "Changed."})
            httpx.put(letta_mock_url + "/_mock/agents/AGENT_ID/script", json={"turns": [{"scenario": "approval"}]})
            letta_mock_client.agents.messages.create("OTHER_ID", input="hello")

        def test_second_sees_none_of_it(letta_mock_url, letta_mock_client, letta_mock_journal):
            assert letta_mock_journal.count == 0
            assert httpx.get(letta_mock_url + "/_mock/defaults").json() == {}
            assert httpx.get(letta_mock_url + "/_mock/agents/AGENT_ID/script").json()["turns"] == []
            assert httpx.get(letta_mock_url + "/_mock/agents").json() == []
            answer = letta_mock_client.agents.messages.create("AGENT_ID", input="hi")
            assert answer.stop_reason.stop_reason == "end_turn"
        """,
    )
    result.assert_outcomes(passed=2)


def test_letta_mock_is_an_in_process_client_of_a_fresh_app(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.letta_mock(agents=["AGENT_ID"])
        async def test_closed_world(letta_mock):
            known = await letta_mock.get("/v1/agents/AGENT_ID/messages")
            unknown = await letta_mock.get("/v1/agents/OTHER_ID/messages")
            assert known.status_code == 200
            assert unknown.status_code == 404
            assert unknown.json() == {"detail": "Agent not found"}
        """,
        "-o", "asyncio_mode=auto",
    )  # fmt: skip
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("layout", ["module", "package"])
def test_a_project_with_its_own_strategies_module_still_imports_hypothesis(
    pytester: pytest.Pytester, layout: str
) -> None:
    # `strategies` is a common name: letta-mock's Hypothesis entry point must not break a project that shadows it.
    own = "def numbers():\n    return 'mine'\n"
    if layout == "module":
        pytester.makepyfile(strategies=own)
    else:
        pytester.mkpydir("strategies").joinpath("__init__.py").write_text(own)
    pytester.makepyfile(
        """
        from hypothesis import given, strategies as st

        import strategies

        @given(st.integers())
        def test_hypothesis_works(number):
            assert strategies.numbers() == "mine"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_async_fixtures_work_under_pytest_asyncio_strict_and_under_anyio(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        async def exchange(letta_mock, letta_mock_async_client):
            assert (await letta_mock.get("/v1/agents/AGENT_ID/messages")).status_code == 200
            stream = await letta_mock_async_client.agents.messages.create("AGENT_ID", input="hi", streaming=True)
            return [event.message_type async for event in stream]

        @pytest.mark.asyncio
        async def test_pytest_asyncio(letta_mock, letta_mock_async_client):
            assert (await exchange(letta_mock, letta_mock_async_client))[0] == "ping"

        @pytest.mark.anyio
        async def test_anyio(letta_mock, letta_mock_async_client):
            assert (await exchange(letta_mock, letta_mock_async_client))[0] == "ping"
        """,
    )
    result.assert_outcomes(passed=1 + 1)  # anyio runs on asyncio, its default backend (the mock needs asyncio)


def test_the_readmes_pytest_example_passes(pytester: pytest.Pytester) -> None:

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## In pytest")[1].split("\n## ")[0]
    example = section.split("```python\n")[1].split("```")[0]
    result = run(pytester, example)
    result.assert_outcomes(passed=1)


def test_the_sdk_fixtures_say_what_to_install_when_letta_client_is_missing(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import sys\n\nsys.modules['letta_client'] = None  # as if not installed\n")
    result = run(
        pytester,
        """
        def test_sync(letta_mock_client):
            pass

        def test_async(letta_mock_async_client):
            pass
        """,
        "-rN",  # no short summary: it repeats the message, truncated or not depending on the terminal and $CI
    )
    result.assert_outcomes(errors=2)
    assert result.stdout.str().count("letta_mock_client needs the official SDK: pip install letta-client") == 2


def test_an_auth_token_guards_the_mock_and_the_plugins_clients_carry_it(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx
        import pytest

        pytestmark = pytest.mark.letta_mock(auth_token="t0ken")

        def test_the_sdk_client_carries_it(letta_mock_client, letta_mock_url):
            assert letta_mock_client.agents.messages.create("AGENT_ID", input="hi").messages
            assert httpx.get(f"{letta_mock_url}/v1/agents/AGENT_ID/messages").status_code == 401
            headers = {"authorization": "Bearer t0ken"}
            assert httpx.get(f"{letta_mock_url}/v1/agents/AGENT_ID/messages", headers=headers).status_code == 200

        async def test_the_async_clients_carry_it(letta_mock, letta_mock_async_client):
            assert (await letta_mock.get("/v1/agents/AGENT_ID/messages")).status_code == 200
            wrong = await letta_mock.get("/v1/agents/AGENT_ID/messages", headers={"authorization": "x"})
            assert wrong.status_code == 401
            assert (await letta_mock_async_client.agents.messages.list("AGENT_ID")).items

        @pytest.mark.letta_mock(auth_token=None)
        def test_a_closer_marker_opens_it_again(letta_mock_url):
            assert httpx.get(f"{letta_mock_url}/v1/agents/AGENT_ID/messages").status_code == 200
        """,
        "-o", "asyncio_mode=auto", "--letta-mock-auth-token", "from-the-command-line",
    )  # fmt: skip
    result.assert_outcomes(passed=3)


def test_the_plugins_own_errors_say_what_is_wrong_without_its_traceback(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.letta_mock(record="none")
        def test_a_cassette_nobody_recorded(letta_mock_url):
            pass

        @pytest.mark.letta_mock(agents=["agent-1"])
        def test_a_malformed_agent_id(letta_mock_app):
            pass

        @pytest.mark.letta_mock(cors_origins=["localhost:5173"])
        def test_an_origin_without_its_scheme(letta_mock_url):
            pass

        def test_the_mock_failing(letta_mock_client, letta_mock_server, letta_mock_agent_id):
            def explode(*args, **kwargs):
                raise RuntimeError("the store exploded")

            letta_mock_server.app.state.store.add_message = explode
            letta_mock_client.with_options(max_retries=0).agents.messages.create(letta_mock_agent_id, input="hi")
        """,
    )
    result.assert_outcomes(errors=3, failed=1)
    out = result.stdout.str()
    assert "no letta-mock cassette at " in out
    assert "record it with --letta-mock-record-mode=once" in out
    assert "letta-mock: 'agent-1' is not an agent id: expected 'agent-<uuid4>' in lower case" in out
    assert "letta-mock: cors origin 'localhost:5173': expected scheme://host[:port]" in out
    assert "MockServerError: letta-mock failed 1 time(s)" in out
    assert 'raise RuntimeError("the store exploded")' in out  # the mock's own failure, where it happened
    # Not a line of the plugin's source: no frame of it, no chained exception.
    assert not [line for line in out.splitlines() if line.startswith("mockserver/") or "pytest.fail(" in line]
    assert "pytest_plugin.py:" not in out
    assert "cassettes.py:" not in out
    assert "During handling of the above exception" not in out
