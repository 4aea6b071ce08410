"""What ``letta-mock conformance`` prints: one line per operation (the differences under it), the server's own
failures, the steps that stopped, and a summary line."""

from __future__ import annotations

from collections.abc import Sequence

from mockserver.conformance.compare import Report
from mockserver.conformance.session import Outcome

__all__ = ["render", "summary"]


def summary(report: Report, operations: int) -> str:
    differing = len(report.differing)
    line = (f"conformance: {operations} operations compared, {operations - differing} match, {differing} differ "
            f"({len(report.differences)} differences)")  # fmt: skip
    if report.server_failures:
        line += f"; the server failed {len(report.server_failures)} request(s), not compared"
    return line


def render(report: Report, outcomes: dict[str, Sequence[Outcome]], *, verbose: bool = False) -> str:
    """The report as text: ``outcomes`` are the steps of each side (``server``, ``mock``)."""
    lines: list[str] = []
    for operation in sorted(report.exchanges):
        found = report.for_operation(operation)
        count = report.exchanges[operation]
        if not found:
            if verbose:
                lines.append(f"  ok    {operation} ({count} exchange{'s' if count != 1 else ''})")
            continue
        exchanges = len({(d.step, d.request) for d in found})
        lines.append(f"  DIFF  {operation} ({len(found)} difference(s) in {exchanges} of its {count} exchange(s))")
        seen: set[str] = set()
        for difference in found:
            if difference.what in seen:
                continue
            seen.add(difference.what)
            lines.append(f"          {difference.what}")
            lines.append(f"            at {difference.request} (step: {difference.step})")
    for failure in report.server_failures:
        lines.append(f"  FAIL  {failure.operation}: {failure.what}")
    for side, steps in outcomes.items():
        for outcome in steps:
            if outcome.error is not None:
                lines.append(f"  step stopped on the {side}: {outcome.step}: {outcome.error}")
    lines.append(summary(report, len(report.exchanges)))
    return "\n".join(lines)
