"""Two recorded sessions side by side: each exchange of one paired with the same exchange of the other (the n-th
request of the same step), their statuses and shapes compared, the differences grouped by Letta's operation.

A server that fails (a 5xx) is not something the mock imitates (it answers every request Letta's document allows):
such an exchange is reported as the server's failure, not as a difference. Letta 0.16.8 fails
``DELETE /v1/runs/{run_id}`` so, every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.conformance.recorder import Exchange
from mockserver.conformance.shapes import differences, shape_of

__all__ = ["Difference", "Report", "compare"]


@dataclass(frozen=True)
class Difference:
    operation: str
    step: str
    request: str  # "METHOD path" of the server's request (ids as sent)
    what: str

    def to_json(self) -> dict[str, str]:
        return {"operation": self.operation, "step": self.step, "request": self.request, "what": self.what}


@dataclass
class Report:
    """Per operation: how many exchanges were compared, and every difference found."""

    exchanges: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    server_failures: list[Difference] = field(default_factory=list)  # the server answered 5xx: not compared

    @property
    def differing(self) -> list[str]:
        return sorted({d.operation for d in self.differences})

    def for_operation(self, operation: str) -> list[Difference]:
        return [d for d in self.differences if d.operation == operation]

    def to_json(self) -> dict[str, Any]:
        return {"exchanges": self.exchanges, "differences": [d.to_json() for d in self.differences],
                "server_failures": [d.to_json() for d in self.server_failures]}  # fmt: skip


def _by_step(exchanges: Sequence[Exchange]) -> dict[str, list[Exchange]]:
    out: dict[str, list[Exchange]] = {}
    for exchange in exchanges:
        out.setdefault(exchange.step, []).append(exchange)
    return out


def compare(real: Sequence[Exchange], mock: Sequence[Exchange]) -> Report:
    """What differs between the server's exchanges (``real``) and the mock's, operation by operation."""
    report = Report()
    theirs, ours = _by_step(real), _by_step(mock)
    for step in dict.fromkeys([*theirs, *ours]):
        left, right = theirs.get(step, []), ours.get(step, [])
        for index in range(max(len(left), len(right))):
            a = left[index] if index < len(left) else None
            b = right[index] if index < len(right) else None
            if a is not None and b is not None and a.status >= 500 and b.status < 500:
                report.exchanges[a.operation] = report.exchanges.get(a.operation, 0) + 1
                what = f"the server failed ({a.status}{_detail(a)}); the mock answered {b.status}"
                report.server_failures.append(Difference(a.operation, step, f"{a.method} {a.path}", what))
                continue
            report.differences += _pair(step, a, b, report.exchanges)
    return report


def _pair(step: str, a: Exchange | None, b: Exchange | None, counts: dict[str, int]) -> list[Difference]:
    if a is None or b is None:
        one = a or b
        assert one is not None
        counts[one.operation] = counts.get(one.operation, 0) + 1
        side = "the server" if a is not None else "the mock"
        return [Difference(one.operation, step, f"{one.method} {one.path}", f"only {side} was sent this request")]
    counts[a.operation] = counts.get(a.operation, 0) + 1
    request = f"{a.method} {a.path}"
    if (a.method, a.operation) != (b.method, b.operation):
        what = f"the session sent {a.method} {a.operation} to the server, {b.method} {b.operation} to the mock"
        return [Difference(a.operation, step, request, what)]
    out = []
    if a.status != b.status:
        out.append(Difference(a.operation, step, request, f"status: the server answered {a.status}, the mock "
                              f"{b.status}{_detail(b)}"))  # fmt: skip
    shape_a, shape_b = shape_of(a.content_type, bytes(a.body)), shape_of(b.content_type, bytes(b.body))
    out += [Difference(a.operation, step, request, line) for line in differences(shape_a, shape_b)]
    return out


def _detail(exchange: Exchange) -> str:
    text = bytes(exchange.body[:200]).decode("utf-8", "replace").strip()
    return f" ({text})" if text and exchange.status >= 400 else ""
