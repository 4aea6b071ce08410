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

AT_A_URL = '''
import os

from mockserver.fuzz.schema import letta_schema
schema = letta_schema(os.environ["LETTA_URL"], operations=("send_message", "list_messages"), max_examples=5,
                      phases=("examples", "fuzzing"))


@schema.parametrize()
def test_the_server_keeps_its_contract(case):
    case.call_and_validate()
'''

WITH_THE_MOCK = '''
import pytest
from hypothesis import HealthCheck, given, settings

from mockserver.fuzz import MESSAGES_OPERATIONS
from mockserver.fuzz.schema import letta_schema



@pytest.fixture
def letta_mock_schema(letta_mock_url):
    return letta_schema(letta_mock_url)


@pytest.mark.parametrize("operation_id", MESSAGES_OPERATIONS)
def test_the_mock_keeps_its_contract(letta_mock_schema, operation_id):
    @given(case=letta_mock_schema.find_operation_by_id(operation_id).as_strategy())
    @settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate()

    check()
'''

AGAINST_THE_BROKEN_DOUBLE = WITH_THE_MOCK.replace(
    '''@pytest.fixture
def letta_mock_schema(letta_mock_url):
    return letta_schema(letta_mock_url)''',
    '''@pytest.fixture
def letta_mock_schema():
    from broken_letta import BrokenLetta
    from mockserver.fuzz.streams import StreamBounds
    from mockserver.live import LiveServer

    with LiveServer(BrokenLetta()) as server:
        yield letta_schema(server.url, stream=StreamBounds(timeout=0.5))''',
).replace("MESSAGES_OPERATIONS)", '["send_message", "retrieve_stream_for_run"])').replace(
    # Three derandomized cases need not include a stream that reaches the flaw (a streaming send whose draws leave
    # the turn a step to take); ten do.
    "max_examples=3", "max_examples=10"
)


def run(pytester: pytest.Pytester, source: str, **env: str) -> Any:
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
