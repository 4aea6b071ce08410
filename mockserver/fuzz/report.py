"""What a fuzz run found, per operation and per check: console lines and the JSON report.

schemathesis' own console output (progress per phase, each failure with its ``curl`` reproduction, the seed) and
its JUnit report stay as they are; ``Tally`` is one more event handler beside them that counts, from the same
engine events, the cases, statuses and streams of each operation and the verdicts of each check, adds those
tables to schemathesis' summary, and writes ``--report json:PATH``. Failures are schemathesis' (its statistic), so
every report counts the same ones.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemathesis.cli.commands.run.handlers.base import EventHandler
from schemathesis.engine import Status, events

from mockserver.fuzz.transport import reading_of

if TYPE_CHECKING:
    from schemathesis.cli.commands.run.context import ExecutionContext

    from mockserver.fuzz.bounds import CaseBudget

__all__ = ["OperationTally", "Tally", "failures_of"]


@dataclass
class OperationTally:
    cases: int = 0
    statuses: Counter[str] = field(default_factory=Counter)  # "2xx" -> count
    streams: int = 0
    stream_events: int = 0
    slowest_stream: float = 0.0
    failed_checks: set[str] = field(default_factory=set)


def failures_of(ctx: ExecutionContext, seed: int | None, rerun: str | None,
                replay: Callable[[str], str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Every unique failure schemathesis recorded, with its ``curl`` and how to run it again."""
    found = []
    for label, groups in sorted(ctx.statistic.failures.items()):
        for case_id, group in groups.items():
            for failure in group.failures:
                found.append({
                    "operation": failure.operation or label,
                    "group": label,  # where schemathesis (and its JUnit report) files it: "Stateful tests" for a chain
                    "title": failure.title,
                    "code": failure.code,
                    "type": type(failure).__name__,
                    "message": failure.message,
                    "case_id": case_id,
                    "status": group.response.status_code if group.response is not None else None,
                    "curl": group.code_sample,
                    "seed": seed,
                    "rerun": rerun,
                    "replay": replay(case_id) if replay is not None else None,
                })  # fmt: skip
    return found


class Tally(EventHandler["ExecutionContext"]):
    """Counts per operation and per check; adds them to the summary; writes the JSON report if asked."""

    def __init__(self, *, target: str, document: str, seed: int | None, rerun: str | None = None,
                 json_paths: tuple[Path, ...] = (), notes: tuple[str, ...] = (), budget: CaseBudget | None = None,
                 our_links: Collection[tuple[str, str]] = (),
                 replay: Callable[[str], str] | None = None) -> None:  # fmt: skip
        self.target = target
        self.document = document
        self.seed = seed
        self.rerun = rerun
        self.json_paths = json_paths
        self.notes = notes
        self.budget = budget
        self.replay = replay
        self.our_links = our_links
        self.unfollowed = 0  # chained requests of our links that found nothing to take (an empty page, a stream)
        self.operations: dict[str, OperationTally] = {}
        self.checks: dict[str, Counter[str]] = {}  # check name -> {"passed": n, "failed": n}
        self.started = time.monotonic()
        self.duration = 0.0

    def handle_event(self, ctx: ExecutionContext, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            self._scenario(event)
        elif isinstance(event, events.EngineFinished):
            self.duration = time.monotonic() - self.started
            self._drop_unfollowed_links(ctx)
            for line in self.lines(ctx):
                ctx.add_summary_line(line)

    def _scenario(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        for case_id, node in recorder.cases.items():
            tally = self.operations.setdefault(node.value.operation.label, OperationTally())
            tally.cases += 1
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            if response is not None:
                tally.statuses[f"{response.status_code // 100}xx"] += 1
                reading = reading_of(response.request)
                if reading is not None:
                    tally.streams += 1
                    tally.stream_events += len(reading.arrivals)
                    tally.slowest_stream = max(tally.slowest_stream, reading.elapsed)
            for check in recorder.checks.get(case_id, []):
                verdict = {Status.SUCCESS: "passed", Status.FAILURE: "failed"}.get(check.status, "errored")
                self.checks.setdefault(check.name, Counter())[verdict] += 1
                if check.status == Status.FAILURE:
                    tally.failed_checks.add(check.name)

    def _drop_unfollowed_links(self, ctx: ExecutionContext) -> None:
        """Our links (``document.add_links``) find nothing to take in an empty page or a stream: that says nothing
        about the server, so it is counted here rather than listed as schemathesis' "Failed to extract data"."""
        found = ctx.statistic.extraction_failures
        kept = [f for f in found if (f.source, f.target) not in self.our_links]
        self.unfollowed += len(found) - len(kept)
        found[:] = kept

    # -- what is shown and written ------------------------------------------------------------------------------

    def lines(self, ctx: ExecutionContext) -> list[str]:
        width = max((len(label) for label in self.operations), default=10)
        out = ["", "letta-mock fuzz, per operation (cases, statuses, streams read):"]
        for label, tally in sorted(self.operations.items()):
            statuses = " ".join(f"{k} {v}" for k, v in sorted(tally.statuses.items()))
            streams = f"  streams {tally.streams} ({tally.stream_events} events, slowest {tally.slowest_stream:.2f} s)"
            verdict = f"  FAILED: {', '.join(sorted(tally.failed_checks))}" if tally.failed_checks else ""
            out.append(f"  {label.ljust(width)}  {tally.cases:4d} cases  {statuses}"
                       f"{streams if tally.streams else ''}{verdict}")  # fmt: skip
        out.append("letta-mock fuzz, per check (responses passed / failed):")
        name_width = max((len(name) for name in self.checks), default=10)
        for name, counts in sorted(self.checks.items()):
            mark = "✘" if counts["failed"] else "✔"
            errored = f" / {counts['errored']} errored" if counts["errored"] else ""
            out.append(f"  {mark} {name.ljust(name_width)}  {counts['passed']} / {counts['failed']}{errored}")
        if self.budget is not None and self.budget.spent:
            out.append(f"Stopped at --max-cases {self.budget.limit}: {self.budget.sent} requests sent")
        if self.unfollowed:
            out.append(f"Links not followed: {self.unfollowed} chained requests found nothing to take "
                       "(an empty page, a streamed answer)")  # fmt: skip
        if ctx.statistic.failures and self.replay is not None:
            out.append("Replay a failure (its requests again, its checks, ours included):")
            for label, groups in sorted(ctx.statistic.failures.items()):
                for case_id, group in groups.items():
                    titles = ", ".join(sorted({f.title for f in group.failures}))
                    out.append(f"  {self.replay(case_id)}    # {label}: {titles}")
        if ctx.statistic.failures and self.rerun:
            out.append(f"Run the same cases again: {self.rerun}")
        out += [f"Note: {note}" for note in self.notes]
        return out

    def document_for(self, ctx: ExecutionContext) -> dict[str, Any]:
        failures = failures_of(ctx, self.seed, self.rerun, self.replay)
        return {
            "target": self.target,
            "document": self.document,
            "seed": self.seed,
            "rerun": self.rerun,
            "exit_status": int(ctx.exit_code),
            "duration_s": round(self.duration, 3),
            "cases": sum(t.cases for t in self.operations.values()),
            "operations": {
                label: {
                    "cases": t.cases,
                    "statuses": dict(t.statuses),
                    "streams": t.streams,
                    "stream_events": t.stream_events,
                    "slowest_stream_s": round(t.slowest_stream, 3),
                    "failed_checks": sorted(t.failed_checks),
                }
                for label, t in sorted(self.operations.items())
            },
            "checks": {name: dict(counts) for name, counts in sorted(self.checks.items())},
            "failures": failures,
            "notes": list(self.notes),
        }

    def shutdown(self, ctx: ExecutionContext) -> None:
        for path in self.json_paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.document_for(ctx), indent=2) + "\n")
