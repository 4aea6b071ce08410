"""``letta-mock fuzz`` keeps its word: ``--max-examples N`` bounds every phase as ``--help`` says, ``--max-cases``
bounds the whole run, and the replay command printed for each failure, run, reproduces it (and says when it is
fixed). Runs in-process (``main``) against the plugin's live server, except the replays, run as a user runs them."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis.cli.commands.run.executor  # noqa: F401 - loaded at collection: test_fuzz_cli.POLLUTER
from _local import LETTA_MOCK
from broken_letta import BrokenLetta

from mockserver import create_app
from mockserver.cli import main
from mockserver.fuzz import MESSAGES_OPERATIONS
from mockserver.fuzz.bounds import CaseBudget, CasesSpent, spread

STATEFUL_STEPS = 6  # schemathesis' longest scenario (DEFAULT_MAX_SCENARIO_STEPS), as --help says


def fuzz(url: str, tmp_path: Path, *argv: str) -> tuple[int, str, dict[str, Any]]:
    """A run as a user runs it (a process of its own: the in-process server then has this one to itself)."""
    report = tmp_path / "fuzz.json"
    done = subprocess.run([LETTA_MOCK, "fuzz", url, "--seed", "1", "--no-shrink", "--report", f"json:{report}", *argv],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    return done.returncode, done.stdout, json.loads(report.read_text())


def test_max_examples_bounds_every_phase_as_help_says(
    serve: Callable[[Any], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output, report = fuzz(serve(create_app(seed=1)), tmp_path, "--max-examples", "2")
    assert status == 0, output[-3000:]
    unit_phases = 3  # examples, coverage, fuzzing: at most N cases per operation each
    bound = 2 * len(MESSAGES_OPERATIONS) * unit_phases + 2 * STATEFUL_STEPS
    assert 0 < report["cases"] <= bound
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅  {phase} (in " in output, phase
    assert len(report["operations"]) == len(MESSAGES_OPERATIONS)
    with pytest.raises(SystemExit):
        main(["fuzz", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert (
        "at most N cases per operation in each of the examples, coverage and fuzzing phases, and N stateful "
        f"scenarios (of up to {STATEFUL_STEPS} requests each)" in said
    )


def test_max_cases_stops_the_whole_run(serve: Callable[[Any], str], tmp_path: Path) -> None:
    status, output, report = fuzz(serve(create_app(seed=1)), tmp_path, "--max-cases", "30")
    assert status == 0, output[-3000:]  # stopped by its bound, nothing failed: a clean run
    assert 0 < report["cases"] <= 30
    assert "Stopped at --max-cases 30: 30 requests sent" in output


def test_a_request_past_the_budget_inside_a_phase_still_ends_the_run_cleanly(
    serve: Callable[[Any], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # One more request of the case in flight (a check's own) after the last one: the engine is interrupted inside
    # the examples phase and never reports its end. Here every request is one past the budget.
    def past_the_budget(budget: CaseBudget) -> None:
        budget.sent = budget.limit
        raise CasesSpent

    import schemathesis.engine
    from schemathesis.engine import Status
    from schemathesis.engine.events import PhaseFinished

    real = schemathesis.engine.from_schema

    class Unended:  # the engine's events as they then come: the interrupted phase's end is not among them
        def __init__(self, events: Any) -> None:
            self.events, self.stop = events, events.stop

        def __iter__(self) -> Any:
            return (e for e in self.events if not (isinstance(e, PhaseFinished) and e.status == Status.INTERRUPTED))

    class Engine:
        def __init__(self, schema: Any) -> None:
            self.engine = real(schema)

        def execute(self) -> Unended:
            return Unended(self.engine.execute())

    monkeypatch.setattr(CaseBudget, "spend", past_the_budget)
    monkeypatch.setattr(schemathesis.engine, "from_schema", Engine)
    report = tmp_path / "fuzz.json"
    url = serve(create_app(seed=1))
    assert main(["fuzz", url, "--max-cases", "3", "--report", f"json:{report}"]) == 0
    out = capsys.readouterr().out
    assert "Examples (interrupted after" in out
    assert "Stopped at --max-cases 3: 3 requests sent" in out
    assert json.loads(report.read_text())["cases"] <= 3


def test_an_end_of_probing_the_console_never_saw_begin_does_not_stop_the_run(
    serve: Callable[[Any], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under load the budget's interruption reached schemathesis' console with an end of probing it had not opened,
    # and the console asserted. Here the engine's start of probing never reaches it.
    import schemathesis.engine
    from schemathesis.engine.events import PhaseStarted
    from schemathesis.engine.run import PhaseName

    real = schemathesis.engine.from_schema

    class Unstarted:
        def __init__(self, events: Any) -> None:
            self.events, self.stop = events, events.stop

        def __iter__(self) -> Any:
            return (e for e in self.events if not (isinstance(e, PhaseStarted) and e.phase.name == PhaseName.PROBING))

    class Engine:
        def __init__(self, schema: Any) -> None:
            self.engine = real(schema)

        def execute(self) -> Unstarted:
            return Unstarted(self.engine.execute())

    monkeypatch.setattr(schemathesis.engine, "from_schema", Engine)
    report = tmp_path / "fuzz.json"
    url = serve(create_app(seed=1))
    assert main(["fuzz", url, "--max-cases", "3", "--report", f"json:{report}"]) == 0
    assert json.loads(report.read_text())["cases"] <= 3


def test_the_coverage_phase_keeps_a_case_of_every_kind_first() -> None:
    cases = [SimpleNamespace(kind=kind, n=n) for n, kind in enumerate("aaaaabbbcaaad")]
    kept = spread(cases, 6, kind=lambda case: case.kind, family=lambda case: 0)
    assert [case.n for case in kept] == [0, 1, 5, 6, 8, 12]  # a, b, c and d first, then a second a and b
    assert spread(cases, 20, kind=lambda case: case.kind, family=lambda case: 0) == cases


def test_positive_and_negative_kinds_take_turns() -> None:
    cases = [SimpleNamespace(kind=kind, n=n) for n, kind in enumerate("ABCDEabc")]  # upper: positive, lower: negative
    kept = spread(cases, 4, kind=lambda case: case.kind, family=lambda case: case.kind.isupper())
    assert [case.kind for case in kept] == ["A", "B", "a", "b"]


def test_a_budget_stops_the_engine_at_its_last_request_and_refuses_one_more() -> None:
    stopped: list[int] = []
    budget = CaseBudget(2)
    budget.stop = lambda: stopped.append(budget.sent)
    budget.spend()
    assert not budget.spent
    budget.spend()
    assert budget.spent
    assert stopped == [2]
    with pytest.raises(CasesSpent):
        budget.spend()


# -- the replay command printed for each failure ---------------------------------------------------------------------


def run_printed(command: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run a command the fuzzer printed, word for word (in this process: ``main`` is what the command runs)."""
    words = shlex.split(command)
    assert words[:2] == ["letta-mock", "fuzz"]
    capsys.readouterr()
    status = main(words[1:])
    return status, capsys.readouterr().out


def test_each_failure_s_replay_command_reproduces_it_until_it_is_fixed(
    serve: Callable[[Any], str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # where failures are kept (mockserver.fuzz.replay)
    url = serve(BrokenLetta())  # type: ignore[arg-type]
    status, output, report = fuzz(url, tmp_path, "--stream-timeout", "0.5", "--phases", "examples",
                                  "--operations", "retrieve_run,retrieve_conversation_stream")  # fmt: skip
    assert status == 1, output[-3000:]
    assert "st replay" not in output  # schemathesis' own hint cannot work here
    failures = report["failures"]
    assert {failure["operation"] for failure in failures} == {
        "GET /v1/runs/{run_id}",
        "POST /v1/conversations/{conversation_id}/stream",
    }
    commands = {failure["replay"] for failure in failures}
    said = []
    for command in commands:
        assert f"{command}    # " in output  # printed with its failure
        again, replayed = run_printed(command, capsys)
        assert again == 1, replayed
        assert "FAILED" in replayed
        assert "st replay" not in replayed
        said.append(replayed)
    assert any("Server error" in text for text in said)
    assert any("Stream did not finish" in text for text in said)
    serve(create_app(seed=1))  # the server, fixed, at the same URL
    for command in commands:
        fixed, replayed = run_printed(command, capsys)
        assert fixed == 0, replayed
        assert "FIXED" in replayed.upper()


def test_a_replay_of_an_unknown_failure_says_so(
    serve: Callable[[Any], str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["fuzz", serve(create_app(seed=1)), "--replay", "nope42"]) == 2
    assert "no failure 'nope42' recorded for http://127.0.0.1:" in capsys.readouterr().err
