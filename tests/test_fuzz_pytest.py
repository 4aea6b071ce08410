"""The pytest recipes of docs/fuzz.md, run by pytester as a user would write them; ``case.call_and_validate()``
runs schemathesis' checks and ours. Clean against the mock; our checks' failures, by name, against the broken
double.

* a server at a known URL: ``schema = letta_schema(URL)`` and schemathesis' ``@schema.parametrize()``;
* the mock of the pytest plugin (its URL is a fixture): ``letta_schema(letta_mock_url)`` in a fixture and each
  operation's ``as_strategy()`` under Hypothesis' ``@given`` — ``schemathesis.pytest.from_fixture`` would be the
  natural way, but schemathesis 4.32.5's reads ``request.node._nodeid``, which pytest 9 no longer has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mockserver import create_app

AT_A_URL = """
import os

from mockserver.fuzz.schema import letta_schema
schema = letta_schema(os.environ["LETTA_URL"], operations=("send_message", "list_messages"), max_examples=5,
                      phases=("examples", "fuzzing"))


@schema.parametrize()
def test_the_server_keeps_its_contract(case):
    case.call_and_validate()
"""

WITH_THE_MOCK = """
import pytest
from hypothesis import HealthCheck, given, settings

from mockserver.fuzz import MESSAGES_OPERATIONS
from mockserver.fuzz.schema import letta_schema



@pytest.fixture
def letta_mock_schema(letta_mock_url):
    return letta_schema(letta_mock_url)


@pytest.mark.parametrize("operation_id", MESSAGES_OPERATIONS)
def test_the_mock_keeps_its_contract(letta_mock_schema, operation_id):
    operation = letta_mock_schema.find_operation_by_id(operation_id)
    # The document's own examples first (as @schema.parametrize() and letta-mock fuzz run them), then generated
    # cases, whose requests depend on what the server answered before.
    for cases in (*operation.get_strategies_from_examples(), operation.as_strategy()):

        @given(case=cases)
        @settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate()

        check()
"""

# The broken double's send_message flaw shows only in a streaming send. Generated cases alone do not reliably reach
# one: with max_examples=3 and derandomize, which bodies schemathesis draws depends on its feedback from what the
# server answered before, so any change in the mock's answers could flip the test (it did, twice). The recipe runs
# the document's examples first — three of send_message's four stream — so the flaw is met on every run, and our
# checks must still name it for the test to pass.
AGAINST_THE_BROKEN_DOUBLE = WITH_THE_MOCK.replace(
    """@pytest.fixture
def letta_mock_schema(letta_mock_url):
    return letta_schema(letta_mock_url)""",
    """@pytest.fixture
def letta_mock_schema():
    from broken_letta import BrokenLetta
    from mockserver.fuzz.streams import StreamBounds
    from mockserver.live import LiveServer

    with LiveServer(BrokenLetta()) as server:
        yield letta_schema(server.url, stream=StreamBounds(timeout=0.5))""",
).replace("MESSAGES_OPERATIONS)", '["send_message", "retrieve_stream_for_run"])')


def run(pytester: pytest.Pytester, source: str, **env: str) -> Any:
    """The recipe as a user's test file, run by pytest in a process of its own: in this one, what earlier tests left
    in Hypothesis' and schemathesis' global state changes what a recipe draws (seen: a broken send drawn clean)."""
    pytester.makepyfile(test_recipe=source)
    for name, value in env.items():
        pytester._monkeypatch.setenv(name, value)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=300)


def test_a_server_at_a_url_is_fuzzed_with_schemathesis_parametrize(pytester: pytest.Pytester, serve: Any) -> None:
    result = run(pytester, AT_A_URL, LETTA_URL=serve(create_app(seed=1)))
    result.assert_outcomes(passed=2)


def test_the_plugin_s_mock_is_fuzzed_with_each_operation_s_strategy(pytester: pytest.Pytester) -> None:
    result = run(pytester, WITH_THE_MOCK)
    result.assert_outcomes(passed=17)


def test_our_checks_fail_the_broken_double_by_name(pytester: pytest.Pytester) -> None:
    (pytester.path / "broken_letta.py").write_text((Path(__file__).parent / "broken_letta.py").read_text())
    result = run(pytester, AGAINST_THE_BROKEN_DOUBLE, PYTHONPATH=str(pytester.path))
    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    for says in ("Stream event breaks the document", "a stream event without message_type",
                 "Stream did not finish", "stream did not finish within 0.5 s"):  # fmt: skip
        assert says in output, says
