"""How much a fuzz run sends: ``--max-examples`` per operation in every phase, ``--max-cases`` in all.

schemathesis bounds the fuzzing phase (Hypothesis' ``max_examples``) and the stateful phase (scenarios) by
``max-examples``; it sends every case the coverage phase derives from the document (~8,400 for the 17 messages
operations of ours) and every example the document gives. So the fuzzer bounds those two itself, with
schemathesis' own extension points:

* coverage: the bound schema's ``iter_coverage_cases`` keeps ``limit`` of the operation's cases, taken in turn from
  each kind (the parameter it varies, positive or negative, the scenario) so a small bound still covers every
  parameter and every way of breaking it (schemathesis still derives them all: ~10 s for the 17 operations);
* examples: a ``before_add_examples`` hook on the schema keeps the first ``limit`` of each operation's examples;
* ``CaseBudget``: the transport spends one per request and stops the engine at the last one (``--max-cases``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from itertools import zip_longest
from typing import Any

__all__ = ["CaseBudget", "CasesSpent", "bounded_coverage", "limit_examples", "spread"]


class CasesSpent(KeyboardInterrupt):
    """A request past the budget (only when workers race for the last one): the engine stops as interrupted."""


class CaseBudget:
    """``limit`` requests in all; ``stop`` (the engine's) is called when the last one is sent."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sent = 0
        self.stop: Callable[[], None] | None = None
        self._lock = threading.Lock()

    @property
    def spent(self) -> bool:
        return self.sent >= self.limit

    def spend(self) -> None:
        with self._lock:
            if self.sent >= self.limit:
                raise CasesSpent
            self.sent += 1
            last = self.sent == self.limit
        if last and self.stop is not None:
            self.stop()


def _data(case: Any) -> tuple[Any, str]:
    """A coverage case's phase data (what it varies) and generation mode ("positive" or "negative")."""
    meta = getattr(case, "meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", "")
    return getattr(getattr(meta, "phase", None), "data", None), str(mode)


def _kind(case: Any) -> tuple[str, str, str, str]:
    """What a coverage case varies: the parameter (location and name), positive or negative, and how (its scenario:
    a missing required property, a wrong type, an enum value outside the enum, an unexpected method ...)."""
    data, mode = _data(case)
    where = (str(getattr(data, "parameter_location", "")), str(getattr(data, "parameter", "")))
    return (*where, mode, str(getattr(data, "scenario", "")))


def _mode(case: Any) -> str:
    return _data(case)[1]


def spread(cases: list[Any], limit: int, kind: Callable[[Any], Any] = _kind,
           family: Callable[[Any], Any] = _mode) -> list[Any]:  # fmt: skip
    """``limit`` of ``cases``, in their order: one of each kind in turn, the kinds of each family (positive and
    negative cases) taking turns, so a small limit has both."""
    if len(cases) <= limit:
        return cases
    groups: dict[Any, dict[Any, list[tuple[int, Any]]]] = {}
    for index, case in enumerate(cases):
        groups.setdefault(family(case), {}).setdefault(kind(case), []).append((index, case))
    turns = [group for families in zip_longest(*(list(f.values()) for f in groups.values())) for group in families
             if group is not None]  # fmt: skip
    chosen: list[tuple[int, Any]] = []
    depth = 0
    while len(chosen) < limit:
        chosen += [group[depth] for group in turns if depth < len(group)][: limit - len(chosen)]
        depth += 1
    return [case for _, case in sorted(chosen, key=lambda pair: pair[0])]


def bounded_coverage(iter_coverage_cases: Callable[..., Iterator[Any]], limit: int) -> Callable[..., Iterator[Any]]:
    """A schema's ``iter_coverage_cases`` keeping ``limit`` cases per operation (``spread``)."""

    def bounded(self: Any, operation: Any, **kwargs: Any) -> Iterator[Any]:
        return iter(spread(list(iter_coverage_cases(self, operation, **kwargs)), limit))

    return bounded


def limit_examples(schema: Any, limit: int) -> None:
    """Register on ``schema`` a ``before_add_examples`` hook keeping the first ``limit`` examples per operation."""

    def before_add_examples(context: Any, examples: list[Any]) -> None:
        del examples[limit:]

    schema.hook(before_add_examples)
