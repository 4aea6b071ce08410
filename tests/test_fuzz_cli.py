"""``letta-mock fuzz``'s command line: every option documented, usage and connection problems exit 2 with a clear
message before anything is sent, and the run's own "run it again" command reproduces it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import schemathesis.cli.commands.run.executor  # noqa: F401 - see POLLUTER
from _local import LETTA_MOCK, ROOT, unused_port
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockserver.cli import build_parser, main
from mockserver.cli.fuzz import command_of, replay_command_of
from mockserver.fuzz import MESSAGES_OPERATIONS

OPTIONS = ["--spec", "--operations", "--checks", "--exclude-checks", "--max-examples", "--max-cases", "--replay",
           "--seed", "--header", "--auth", "--phases", "--stream-timeout", "--stream-max-events", "--workers",
           "--report", "--request-timeout", "--no-shrink", "--agent-id", "--conversation-id", "--run-id",
           "--message-id", "--no-create", "--model", "--embedding"]  # fmt: skip


def test_the_fuzz_command_is_listed() -> None:
    result = subprocess.run([LETTA_MOCK, "--help"], capture_output=True, text=True, check=True, timeout=60)
    assert "fuzz" in result.stdout
    assert "fuzz a Letta server with schemathesis" in result.stdout


def test_fuzz_help_documents_every_option_and_our_checks() -> None:
    result = subprocess.run([LETTA_MOCK, "fuzz", "--help"], capture_output=True, text=True, check=True, timeout=60)
    for option in OPTIONS:
        assert option in result.stdout, option
    for check in ("letta_stream_events", "letta_stream_grammar", "letta_stream_finished", "letta_error_shape",
                  "letta_history"):  # fmt: skip
        assert check in result.stdout
    assert "exit status: 0 nothing failed, 1 failures found, 2 a usage or connection error" in result.stdout


@pytest.mark.parametrize(
    "argv",
    [["--header", "no colon"], ["--report", "html:x.html"], ["--max-examples", "0"], ["--stream-timeout", "soon"]],
    ids=["header", "report", "max-examples", "stream-timeout"],
)
def test_a_malformed_option_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["fuzz", "http://127.0.0.1:1", *argv])
    assert exit_.value.code == 2
    assert "letta-mock fuzz: error: argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--checks", "not_a_check"], "--checks: unknown not_a_check"),
        (
            ["--operations", "create_agent_lol", "--spec", "mock"],
            "--operations: not in letta-mock's own document: create_agent_lol",
        ),
        (["--phases", "warmup"], "--phases: unknown warmup"),
        (["--spec", "/nonexistent/openapi.json"], "--spec /nonexistent/openapi.json: no such file"),
    ],
)
def test_a_wrong_choice_is_a_usage_error_before_anything_is_sent(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], letta_mock_url: str
) -> None:
    assert main(["fuzz", letta_mock_url, "--no-create", *argv]) == 2
    assert says in capsys.readouterr().err


def test_a_server_that_does_not_answer_is_a_connection_error(capsys: pytest.CaptureFixture[str]) -> None:
    with unused_port() as port:  # held, not listening: a connection is refused
        url = f"http://127.0.0.1:{port}"
        assert main(["fuzz", url]) == 2
    assert f"letta-mock fuzz: error: cannot connect to {url}" in capsys.readouterr().err


def test_without_spec_the_server_s_own_document_is_fuzzed(
    letta_mock_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "fuzz.json"
    assert main(["fuzz", letta_mock_url, "--max-cases", "3", "--report", f"json:{report}"]) == 0
    assert json.loads(report.read_text())["document"] == f"{letta_mock_url}/openapi.json"
    assert main(["fuzz", letta_mock_url, "--max-cases", "3", "--spec", "mock", "--report", f"json:{report}"]) == 0
    assert json.loads(report.read_text())["document"] == "letta-mock's own document"
    capsys.readouterr()


# pytester's in-process sessions (tests/test_pytest_plugin.py) give back sys.modules as they found it: schemathesis
# modules first loaded inside one (its pytest plugin loads engine.events, the reporters ...) are dropped, yet stay
# attributes of their packages. A later in-process fuzz then holds two copies of schemathesis' event classes (`from
# schemathesis.engine import events` finds the old one, `import schemathesis.engine.events` loads a new one), and
# the console, not recognising a start of probing from one copy, asserts on its end from the other. So under xdist
# whether it failed hung on which files a worker ran before. Loaded here, at collection, they are never dropped.
POLLUTER = """
    def test_an_in_process_pytest_session(pytester):
        pytester.makepyfile("def test_nothing():\\n    pass\\n")
        pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
"""


def test_an_in_process_pytest_session_before_in_this_process_leaves_fuzz_intact(tmp_path: Path) -> None:
    polluter = tmp_path / "test_polluter.py"
    polluter.write_text(textwrap.dedent(POLLUTER))
    done = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
                           "-n", "0", "-q", str(polluter),
                           f"{__file__}::test_without_spec_the_server_s_own_document_is_fuzzed"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 passed" in done.stdout


def test_a_server_without_its_own_document_is_told_which_spec_to_give(
    serve: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async def health(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    url = serve(Starlette(routes=[Route("/v1/health/", health)]))
    assert main(["fuzz", url]) == 2
    err = capsys.readouterr().err
    assert f"cannot load --spec letta from {url}/openapi.json" in err
    assert "--spec mock: letta-mock's own document; or a file" in err


def test_the_rerun_command_keeps_what_changes_the_cases() -> None:
    args = build_parser().parse_args(["fuzz", "http://x", "--spec", "doc.json", "--operations",
                                      "send_message,list_messages", "--header", "X-A: 1", "--max-examples", "3",
                                      "--agent-id", "agent-1"])  # fmt: skip
    assert command_of(args, 42) == [
        "letta-mock", "fuzz", "http://x", "--spec", "doc.json", "--header", "X-A: 1", "--operations",
        "send_message,list_messages", "--max-examples", "3", "--seed", "42", "--agent-id", "agent-1",
    ]  # fmt: skip
    defaults = build_parser().parse_args(["fuzz", "http://x"])
    assert defaults.operations == MESSAGES_OPERATIONS
    assert command_of(defaults, None) == ["letta-mock", "fuzz", "http://x", "--max-examples", "20"]
    bounded = build_parser().parse_args(["fuzz", "http://x", "--max-cases", "50", "--stream-timeout", "2.5",
                                         "--auth", "secret"])  # fmt: skip
    assert command_of(bounded, 7)[3:] == ["--stream-timeout", "2.5", "--max-examples", "20", "--max-cases", "50",
                                          "--seed", "7"]  # fmt: skip


def test_the_replay_command_keeps_what_reads_the_answers_and_never_prints_the_token() -> None:
    argv = ["fuzz", "http://x", "--spec", "doc.json", "--header", "X-A: 1", "--seed", "3", "--stream-timeout", "0.5",
            "--max-examples", "9", "--auth", "s3cret"]  # fmt: skip
    args = build_parser().parse_args(argv)
    command = replay_command_of(args, "AbC123")
    assert command == ("letta-mock fuzz http://x --spec doc.json --header 'X-A: 1' --stream-timeout 0.5 "
                       '--replay AbC123 --auth "$TOKEN"')  # fmt: skip
    assert "s3cret" not in command


def test_a_usage_error_is_found_before_the_server_is_asked(capsys: pytest.CaptureFixture[str]) -> None:
    with unused_port() as port:
        assert main(["fuzz", f"http://127.0.0.1:{port}", "--checks", "not_a_check"]) == 2
    assert "--checks: unknown not_a_check" in capsys.readouterr().err
