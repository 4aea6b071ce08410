"""The pytest plugin, exercised the way users meet it: in a separate pytest run (pytester)."""

from __future__ import annotations

import pytest

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"


def test_letta_mock_url_serves_the_official_client_with_the_markers_controls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest
        from letta_client import Letta

        @pytest.mark.letta_mock(seed=7, controls="scenario=tool_call")
        def test_tool_call(letta_mock_url):
            client = Letta(base_url=letta_mock_url, api_key="test", _strict_response_validation=True)
            events = list(client.agents.messages.create("{AGENT}", input="weather?", streaming=True))
            assert [e.message_type for e in events][1:3] == ["reasoning_message", "tool_call_message"]

        def test_state_does_not_leak_between_tests(letta_mock_url):
            client = Letta(base_url=letta_mock_url, api_key="test")
            assert [m.message_type for m in client.agents.messages.list("{AGENT}")] == ["system_message"]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_letta_mock_is_an_in_process_client_of_a_fresh_app(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.letta_mock(agents=["{AGENT}"])
        async def test_closed_world(letta_mock):
            known = await letta_mock.get("/v1/agents/{AGENT}/messages")
            unknown = await letta_mock.get("/v1/agents/agent-00000000-0000-4000-8000-000000000001/messages")
            assert known.status_code == 200
            assert unknown.status_code == 404
            assert unknown.json() == {{"detail": "Agent not found"}}
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=auto")
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
