"""``--spec`` takes a file, a URL or a name — ``letta`` (the server's own ``/openapi.json``) and ``mock``
(letta-mock's own document) — in ``letta-mock fixtures check`` as in ``letta-mock fuzz`` (tests/test_fuzz_cli.py,
tests/test_fuzz_document.py); every ``--help`` shows only paths a user has."""

from __future__ import annotations

import re
import subprocess

import pytest
from _local import LETTA_MOCK
from contract import SPEC_PATH

from mockserver.contract.names import spec_location


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LETTA_MOCK, *args], capture_output=True, text=True, timeout=120, check=False)


def test_a_name_is_a_location_and_anything_else_is_itself() -> None:
    assert spec_location("mock", None) is None
    assert spec_location("letta", "http://127.0.0.1:8283/") == "http://127.0.0.1:8283/openapi.json"
    assert spec_location("./letta", None) == "./letta"
    assert spec_location("https://x.test/openapi.json", None) == "https://x.test/openapi.json"
    with pytest.raises(ValueError, match="give the server"):
        spec_location("letta", None)


def test_fixtures_check_uses_ours_without_spec_and_a_live_server_s_own_with_spec_letta(letta_mock_url: str) -> None:
    plain = run("fixtures", "check", "reply")
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr.strip().endswith("no problems in 1 file (against letta-mock)")
    live = run("fixtures", "check", "reply", "--live", letta_mock_url, "--spec", "letta")
    assert live.returncode == 0, live.stdout + live.stderr
    assert f"(against letta-mock and {letta_mock_url}/openapi.json, live {letta_mock_url})" in live.stderr
    facts = run("fixtures", "check", "reply", "--spec", str(SPEC_PATH))
    assert facts.returncode == 0, facts.stdout + facts.stderr


def test_spec_letta_without_a_server_is_a_usage_error_saying_what_to_give() -> None:
    result = run("fixtures", "check", "reply", "--spec", "letta")
    assert result.returncode == 2
    assert "--spec letta: 'letta' names a server's own document (SERVER/openapi.json): give the server (--live)" in (
        result.stderr
    )


@pytest.mark.parametrize("argv", [["fuzz", "--help"], ["fixtures", "check", "--help"], ["fixtures", "--help"]])
def test_help_shows_only_paths_a_user_has(argv: list[str]) -> None:
    shown = run(*argv).stdout
    assert "shared" not in shown
    assert "letta-openapi.json" not in shown
    for path in re.findall(r"--spec ([^\s\]]+)", shown):
        assert path in ("letta", "mock", "FILE|URL|letta|mock") or path.startswith("http"), path
