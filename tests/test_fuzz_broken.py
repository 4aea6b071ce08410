"""The proof: ``letta-mock fuzz`` against a deliberately broken Letta-like server (``broken_letta``) reports every
flaw by name, exits 1, and never waits on the stream that never ends; its JUnit and JSON reports count the same
failures.

Three short runs, side by side: the streams and statuses (examples and fuzzing), the invalid requests (coverage
of two cheap operations), the history (stateful, the operations of one chain). ``--stream-timeout 0.25`` bounds
the never-ending stream; ``--no-shrink`` reports failures as found.
"""

from __future__ import annotations

import collections
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from _local import LETTA_MOCK
from broken_letta import FLAWS, BrokenLetta

from mockserver.fuzz.document import operation_ids
from mockserver.live import LiveServer
from mockserver.openapi import openapi_document

HANG_GUARD_S = 300  # not a speed target: a run that hangs fails instead of stalling the suite
STREAM_TIMEOUT = 0.25  # each case of the never-ending stream, and of the body left open, waits this long
COMMON = ["--seed", "1", "--stream-timeout", str(STREAM_TIMEOUT), "--no-shrink"]
RUNS = {
    "streams": ["--phases", "examples,fuzzing", "--max-examples", "2"],
    "invalid": ["--phases", "coverage", "--operations", "search_all_messages,list_messages"],
    "history": ["--phases", "stateful", "--max-examples", "5",
                "--operations", "send_message,list_messages_for_run,summarize_messages"],
}  # fmt: skip


@dataclass
class Run:
    status: int
    stdout: str
    report: dict[str, Any]
    junit: ET.Element


def label_of(operation_id: str) -> str:
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            if operation is operation_ids(openapi_document())[operation_id]:
                return f"{method.upper()} {path}"
    raise KeyError(operation_id)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    out = tmp_path_factory.mktemp("broken")
    with LiveServer(BrokenLetta()) as server:  # type: ignore[arg-type]
        reports = {name: ["--report", f"json:{out / name}.json", "--report", f"junit:{out / name}.xml"]
                   for name in RUNS}  # fmt: skip
        started = {
            name: subprocess.Popen(
                [LETTA_MOCK, "fuzz", server.url, *COMMON, *argv, *reports[name]],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name, argv in RUNS.items()
        }
        found = {}
        for name, process in started.items():
            try:
                stdout, _ = process.communicate(timeout=HANG_GUARD_S)
            finally:
                process.kill()
            report = json.loads((out / f"{name}.json").read_text())
            found[name] = Run(process.returncode, stdout, report, ET.parse(out / f"{name}.xml").getroot())
        yield found


@pytest.mark.parametrize("name", RUNS)
def test_the_fuzzer_fails_the_broken_server(runs: dict[str, Run], name: str) -> None:
    assert runs[name].status == 1, runs[name].stdout[-3000:]
    assert runs[name].report["exit_status"] == 1


@pytest.mark.parametrize("flaw", FLAWS, ids=lambda flaw: f"{flaw.operation}: {flaw.what}")
def test_each_flaw_is_reported_by_its_check_on_its_operation(runs: dict[str, Run], flaw: Any) -> None:
    label = label_of(flaw.reported_on or flaw.operation)
    failed = {check for run in runs.values() for check in run.report["operations"].get(label, {})
              .get("failed_checks", [])}  # fmt: skip
    assert flaw.check in failed, f"{flaw.check} not among the failed checks of {label}: {sorted(failed)}"
    texts = [f"{f['title']}\n{f['message']}" for run in runs.values() for f in run.report["failures"]
             if f["operation"] == label]  # fmt: skip
    assert any(flaw.says in text for text in texts), texts
    assert any(flaw.check in run.stdout and label in run.stdout for run in runs.values())


def test_every_failure_comes_with_its_curl_and_commands_to_run_it_again(runs: dict[str, Run]) -> None:
    for run in runs.values():
        for failure in run.report["failures"]:
            assert failure["curl"].startswith("curl -X "), failure
            assert failure["rerun"].startswith("letta-mock fuzz http://127.0.0.1:")
            assert "--seed 1" in failure["rerun"]
            assert failure["replay"] == (f"letta-mock fuzz {failure['rerun'].split()[2]} --stream-timeout 0.25 "
                                         f"--replay {failure['case_id']}")  # fmt: skip
            assert f"{failure['replay']}    # " in run.stdout  # printed with the failure (test_fuzz_bounds runs it)
        assert "Reproduce with:" in run.stdout
        assert "st replay" not in run.stdout  # schemathesis' own hint: no crash file of its own is kept
        assert "Run the same cases again: letta-mock fuzz" in run.stdout


def test_the_stream_that_never_ends_was_cut_at_the_bound(runs: dict[str, Run]) -> None:
    stream = runs["streams"].report["operations"]["POST /v1/runs/{run_id}/stream"]
    assert stream["streams"] > 0
    assert STREAM_TIMEOUT <= stream["slowest_stream_s"] < STREAM_TIMEOUT + 1.0


def _junit_failures(junit: ET.Element) -> collections.Counter[tuple[str | None, str]]:
    found: collections.Counter[tuple[str | None, str]] = collections.Counter()
    for case in junit.iter("testcase"):
        for failure in case.findall("failure"):
            for line in (failure.text or "").splitlines():
                match = re.match(r"^- ST\d+ (.+)$", line)
                if match:
                    found[(case.get("name"), match.group(1))] += 1
    return found


@pytest.mark.parametrize("name", RUNS)
def test_the_junit_and_json_reports_count_the_same_failures(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    from_json = collections.Counter((f["group"], f["title"]) for f in run.report["failures"])
    assert from_json
    assert _junit_failures(run.junit) == from_json
    failing = {label for label, _ in from_json}
    assert int(run.junit.attrib["failures"]) == len(failing)
    assert sum(run.report["checks"][check].get("failed", 0) for check in run.report["checks"]) >= len(from_json)
