"""``letta-mock fuzz URL --replay ID``: send a failure's requests again and run its checks, ours included.

Every fuzz run records each failure with schemathesis' crash handler: the whole sequence of requests that led to it
(a stateful chain too) and the checks that failed, one file per failing check, under ``crash_directory(url)``
(``$XDG_CACHE_HOME/letta-mock/fuzz/<server>/crashes``; nothing is written where the run runs). A replay loads the
files of one case id, sends the sequence again through the fuzzer's own transport (streams read as they arrive,
within their bounds), re-runs exactly the recorded checks and prints schemathesis' replay report. Exit status:
1 the failure is still there (or is flaky), 0 it is fixed, 2 there is nothing to replay or it could not be sent.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

__all__ = ["crash_directory", "replay"]


def crash_directory(url: str) -> Path:
    """Where the runs against ``url`` keep their failures (schemathesis adds ``crashes/``)."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "letta-mock" / "fuzz" / (re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "server")


def _crashes_of(directory: Path, case_id: str) -> list[Any]:
    from schemathesis.reporting.crashes import MANIFEST_FILENAME, CrashFile

    found = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
        if path.name == MANIFEST_FILENAME:
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("case_id") == case_id:
            found.append(CrashFile.from_dict(data))
    return found


def _merged(crashes: list[Any]) -> Any:
    """One case that failed several checks is one file per check: one sequence, all of their checks."""
    first = crashes[0]
    checks = [check for crash in crashes for check in crash.sequence[-1].checks]
    return replace(first, sequence=[*first.sequence[:-1], replace(first.sequence[-1], checks=checks)])


def replay(schema: Any, url: str, case_id: str) -> int:
    """Replay the failure ``case_id`` of an earlier run against ``url`` with ``schema`` (``letta_schema``'s)."""
    from schemathesis.cli.commands.replay.executor import ReplayStatus, replay_crash_file
    from schemathesis.cli.commands.replay.output import render_replay

    directory = crash_directory(url) / "crashes"
    crashes = _crashes_of(directory, case_id)
    if not crashes:
        print(f"letta-mock fuzz: error: no failure {case_id!r} recorded for {url} (in {directory}); a run lists the "
              "ids of its failures", file=sys.stderr)  # fmt: skip
        return 2
    crash = _merged(crashes)
    started = time.monotonic()
    outcome = replay_crash_file(crash, base_url=url, project_config=schema.config, schema=schema)
    # Without its case id, schemathesis' report leaves out its `st replay ID` line: that command cannot work here.
    render_replay(crashes=[replace(crash, case_id="")], outcomes=[outcome], source=case_id, base_url=url,
                  duration_ms=int((time.monotonic() - started) * 1000), output_config=schema.config.output)  # fmt: skip
    if outcome.status in (ReplayStatus.FAILED, ReplayStatus.FLAKY):
        return 1
    return 2 if outcome.status is ReplayStatus.ERRORED else 0
