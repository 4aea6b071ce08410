"""What a run says: per test, its outcome and *why* it failed; over the run, the causes ranked by how many tests
they stop, and the endpoints the tests use that a server does not route.

The cause of a failure is the request that ended it when there is one (an error answer that was the last request
of the failing phase, or whose status the crash message names: the SDK raised on it, or the test checked it) —
``POST /v1/agents/ -> 404`` — else the assertion or exception, keyed by where it was raised in Letta's test file
(one helper line = one behaviour). Ids in paths and messages are written as ``{agent_id}``, ``{conv_id}``, ...
so the same cause groups across tests.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .runner import Run, TestResult

__all__ = ["Cause", "cause", "endpoint_usage", "rank", "render", "routed_by", "template", "traces", "unlock_order"]

_PREFIXED_ID = re.compile(
    r"\b([a-z]+(?:[-_][a-z]+)*?)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE
)
_BARE_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_OBJECT_AT = re.compile(r" at 0x[0-9a-f]+")
_NUMBER = re.compile(r"\b\d+\b")
_MESSAGE_CHARS = 200


def template(text: str) -> str:
    """``/v1/agents/agent-1f…/messages`` -> ``/v1/agents/{agent_id}/messages`` (any text, any prefixed id)."""
    text = _PREFIXED_ID.sub(lambda m: "{" + m.group(1).lower().replace("-", "_") + "_id}", text)
    return _BARE_ID.sub("{uuid}", text)


def _first_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    text = _OBJECT_AT.sub("", template(lines[0] if lines else ""))
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


@dataclass(frozen=True)
class Cause:
    key: str  # what groups tests: "POST /v1/agents/ -> 404" or "assertion at file:line: message"
    request: dict[str, Any] | None = None  # the request that ended the test, if one did


def _is_error(call: dict[str, Any]) -> bool:
    return call["status"] is None or call["status"] >= 400


def cause(result: TestResult) -> Cause | None:
    """Why ``result`` did not pass (None when it passed or was skipped)."""
    if result.outcome in ("passed", "skipped"):
        return None
    if result.outcome == "not run":
        return Cause("did not finish within the run's timeout")
    calls = [c for c in result.requests if c["phase"] == result.phase]
    errors = [c for c in calls if _is_error(c)]
    if errors:
        last = errors[-1]
        named = last["status"] is not None and re.search(rf"\b{last['status']}\b", result.message)
        if last is calls[-1] or named:
            status = last["status"] if last["status"] is not None else "no answer"
            return Cause(f"{last['method']} {template(last['path'])} -> {status}", last)
    # Keyed by the file and statement (not the line: one helper called from many tests is one behaviour) and the
    # message with its numbers as N ("Expected N-N messages, got N"); the per-test table keeps the exact message.
    where = f" in {result.where.split(':')[0]}" if result.where else ""
    statement = f" `{_first_line(result.statement)}`" if result.statement else ""
    message = _first_line(result.message)
    if result.outcome == "error":
        label = f"error in {result.phase}"
    elif message.startswith(("AssertionError", "assert ", "Failed: DID NOT RAISE")):
        label = "assertion"
    else:
        label = "exception"
    return Cause(f"{label}{where}{statement}: {_NUMBER.sub('N', message)}")


@dataclass
class Ranked:
    cause: Cause
    tests: list[str] = field(default_factory=list)
    body_keys: set[str] = field(default_factory=set)  # top-level keys of the failing requests' JSON bodies
    details: Counter[str] = field(default_factory=Counter)  # the answers' bodies (start), most common first


def rank(results: Iterable[TestResult]) -> list[Ranked]:
    """The causes of the failures, the one stopping most tests first."""
    groups: dict[str, Ranked] = {}
    for result in results:
        found = cause(result)
        if found is None:
            continue
        group = groups.setdefault(found.key, Ranked(found))
        group.tests.append(result.nodeid)
        if found.request:
            group.body_keys.update(found.request.get("keys", ()))
            if found.request.get("detail"):
                group.details[_first_line(found.request["detail"])] += 1
    return sorted(groups.values(), key=lambda g: (-len(g.tests), g.cause.key))


def endpoint_usage(traces: dict[str, list[str]]) -> list[tuple[str, int]]:
    """``{nodeid: ["METHOD /template", ...]}`` -> each endpoint with the number of tests that use it."""
    counts: Counter[str] = Counter()
    for endpoints in traces.values():
        counts.update(set(endpoints))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def unlock_order(traces: dict[str, list[str]], routed: Callable[[str, str], bool]) -> list[tuple[str, int]]:
    """The unrouted endpoints in an order to add them, each with the number of tests all of whose endpoints are
    routed once it and those before it are: at each step the endpoint that completes the most tests (ties: the
    one the most tests use)."""
    needed = {n: {e for e in endpoints if not routed(*e.split(" ", 1))} for n, endpoints in traces.items()}
    added: set[str] = set()
    order: list[tuple[str, int]] = []
    remaining = set().union(*needed.values()) if needed else set()
    while remaining:

        def score(endpoint: str) -> tuple[int, int, str]:
            have = added | {endpoint}
            complete = sum(1 for need in needed.values() if need and need <= have)
            users = sum(1 for need in needed.values() if endpoint in need)
            return (complete, users, endpoint)

        best = max(sorted(remaining), key=lambda e: score(e)[:2])
        added.add(best)
        remaining.discard(best)
        order.append((best, score(best)[0]))
    return order


def traces(run: Run) -> dict[str, list[str]]:
    """The endpoints each test of ``run`` called, in first-use order (for the baseline file)."""
    out: dict[str, list[str]] = {}
    for nodeid, result in sorted(run.results.items()):
        seen: dict[str, None] = {}
        for call in result.requests:
            seen.setdefault(f"{call['method']} {template(call['path'])}", None)
        out[nodeid] = list(seen)
    return out


def routed_by(app: Any) -> Callable[[str, str], bool]:
    """Whether a Starlette ``app`` routes ``METHOD /path/{template}`` (a route matches path and method)."""
    from starlette.routing import Match

    def routed(method: str, path: str) -> bool:
        scope = {"type": "http", "method": method, "path": re.sub(r"\{[^}]*\}", "x", path)}
        return any(route.matches(scope)[0] == Match.FULL for route in app.routes)

    return routed


def _short(nodeid: str) -> str:
    return nodeid.removeprefix("integration_test_")


def render(
    run: Run,
    *,
    label: str,
    baseline: dict[str, list[str]] | None = None,
    routed: Callable[[str, str], bool] | None = None,
    per_test: bool = True,
) -> str:
    """The report of ``run`` as text: the summary, the per-test table, the ranked causes and (given the baseline's
    traces and a route check of the server) the endpoints the selection uses that the server does not route."""
    total = len(run.results)
    counts = {o: run.count(o) for o in ("passed", "failed", "error", "skipped", "not run")}
    summary = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    lines = [f"{label}: {counts['passed']} of {total} passed ({summary}) in {run.seconds:.0f} s against {run.url}"]
    if run.timed_out:
        lines.append("the run hit its global timeout: the tests marked 'not run' did not finish")
    lines += [f"collection error: {error[:500]}" for error in run.collect_errors]
    if per_test:
        lines.append("")
        width = max((len(_short(n)) for n in run.results), default=10)
        for nodeid, result in sorted(run.results.items()):
            found = cause(result)
            why = found.key if found else (result.message[:120] if result.outcome == "skipped" else "")
            if found and found.request is None and result.where:
                why = f"{result.where}: {_first_line(result.message)}"
            lines.append(f"  {_short(nodeid):<{width}}  {result.outcome:<7}  {why}")
    ranked = rank(run.results.values())
    if ranked:
        lines += ["", "what stops the failing tests, by the number of tests it stops:"]
        for group in ranked:
            keys = f"  body keys {{{', '.join(sorted(group.body_keys))}}}" if group.body_keys else ""
            lines.append(f"  {len(group.tests):>4}  {group.cause.key}{keys}")
            for detail, n in group.details.most_common(2):
                lines.append(f"          answer ({n}x): {detail}")
    if baseline and routed:
        selected = {n: e for n, e in baseline.items() if n in run.results}
        missing = [(e, n) for e, n in endpoint_usage(selected) if not routed(*e.split(" ", 1))]
        if missing:
            lines += ["", "endpoints the selection uses (against real Letta) that this server does not route:"]
            lines += [f"  {n:>4}  {e}" for e, n in missing]
            lines += [
                "",
                "an order to add them in, with the tests all of whose endpoints are then routed (cumulative):",
            ]
            lines += [f"  {n:>4}  + {endpoint}" for endpoint, n in unlock_order(selected, routed)]
    return "\n".join(lines)
