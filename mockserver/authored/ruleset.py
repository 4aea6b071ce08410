"""The rules in force, in the order they are consulted, with their counts; rule files re-read when they change.

Order: rules added at run time (the admin API, the ``letta_mock_rules`` fixture) first, newest decisions over
configured ones, then the configured rules (``serve --rules`` files and ``create_app(rules=...)``, the pytest marker's,
in the order given). ``PUT``/``POST``/``DELETE /_mock/rules`` replace, extend and clear the run-time rules; a rule
file's rules change with the file: it is looked at (one ``stat``) whenever rules are consulted, re-read when it
changed, and a bad edit keeps the rules it had (the log and ``GET /_mock/rules`` say why). ``POST /_mock/reset``
clears the run-time rules and every count.

Each rule counts its hits (the sends it answered) and its matches (the sends that reached it and fitted its other
matchers: what ``nth`` counts). Counts change only when a send is accepted (``Choice.use``), never for one refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.authored.format import RulesInvalid, RuleSpec, read_rules
from mockserver.authored.load import as_sources, fixture_turns, read_file
from mockserver.authored.matching import Check, SendView, checks_for, fits, reasons

__all__ = ["Choice", "NearMiss", "Rule", "RuleSet"]

log = logging.getLogger("letta_mock")


@dataclass(eq=False)
class Rule:
    spec: RuleSpec
    hits: int = 0
    matched: int = 0
    checks: tuple[Check, ...] = ()

    def __post_init__(self) -> None:
        self.checks = checks_for(self.spec.match)

    def as_json(self, index: int) -> dict[str, Any]:
        spec = self.spec
        answers = ("controls" if spec.controls is not None else "turn" if "turn" in spec.raw
                   else "fixture" if "fixture" in spec.raw else f"turns ({len(spec.turns)})")  # fmt: skip
        return {"index": index, "name": spec.name, "source": spec.source, "hits": self.hits, "matched": self.matched,
                "answers": answers, "rule": spec.raw}  # fmt: skip


@dataclass
class _Source:
    """Configured rules: a file's (watched) or given ones."""

    rules: list[Rule]
    path: Path | None = None
    stamp: tuple[int, int, int] | None = None
    problem: str | None = None  # why its last edit was not taken

    def changed(self) -> tuple[int, int, int] | None:
        """The file's new stamp when it changed since it was read (None: it did not)."""
        assert self.path is not None
        try:
            info = self.path.stat()
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            stamp = (0, 0, 0)  # gone: a new file in its place is read when it appears
        return stamp if stamp != self.stamp else None


@dataclass(frozen=True)
class NearMiss:
    rule: Rule
    index: int
    reason: str


@dataclass
class Choice:
    """The outcome of consulting the rules for one send: the rule that answers (if any) and every rule it reached
    that fitted (their ``nth`` counts); taken into account by ``use`` once the send is accepted."""

    rule: Rule | None
    counted: list[Rule] = field(default_factory=list)

    def use(self) -> None:
        for rule in self.counted:
            rule.matched += 1
        if self.rule is not None:
            self.rule.hits += 1


class RuleSet:
    def __init__(self, given: Sequence[Any] = (), *, on_miss: str = "synthesize") -> None:
        """``given``: rule files (paths) and rules (dicts, ``builder`` objects), in order. Raises ``RulesInvalid``
        naming every problem of every one."""
        self.on_miss = on_miss
        self.runtime: list[Rule] = []
        self.sources: list[_Source] = []
        problems: list[str] = []
        for path, items in as_sources(given):
            try:
                if path is not None:
                    source = _Source([], path)
                    source.stamp = source.changed()
                    source.rules = [Rule(spec) for spec in read_file(path).rules]
                else:
                    source = _Source([Rule(spec) for spec in _read(items, "given rules")])
            except RulesInvalid as error:
                problems += [f"{error.where}: {problem}" for problem in error.problems]
                continue
            self.sources.append(source)
        if problems:
            raise RulesInvalid(problems, "rules")
        self._lock = threading.Lock()
        self._order: tuple[Rule, ...] = ()
        self._arrange()

    # -- what is in force -----------------------------------------------------------------------------------

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules in the order they are consulted (files looked at first)."""
        self.refresh()
        return self._order

    @property
    def empty(self) -> bool:
        return not self.rules

    def _arrange(self) -> None:
        self._order = (*self.runtime, *(rule for source in self.sources for rule in source.rules))

    def refresh(self) -> None:
        """Re-read the rule files that changed; a file that no longer reads keeps its rules (and says why)."""
        for source in self.sources:
            if source.path is None:
                continue
            stamp = source.changed()
            if stamp is None:
                continue
            with self._lock:
                if source.changed() is None:  # another thread took the change
                    continue
                source.stamp = stamp
                try:
                    rules = [Rule(spec) for spec in read_file(source.path).rules]
                except RulesInvalid as error:
                    source.problem = str(error)
                    log.warning("letta-mock rules: %s changed but does not read; its %d rule(s) stay in force. %s",
                                source.path, len(source.rules), error)  # fmt: skip
                    continue
                source.rules, source.problem = rules, None
                self._arrange()
            log.info("letta-mock rules: %s re-read: %d rule(s)", source.path, len(rules))

    # -- changing the run-time rules ------------------------------------------------------------------------

    def replace(self, data: Any, source: str = "api") -> None:
        """The run-time rules are these (a document or a list of rules); ``RulesInvalid`` changes nothing."""
        rules = [Rule(spec) for spec in _read(data, source)]  # refused whole before anything changes
        with self._lock:
            self.runtime = rules
            self._arrange()

    def extend(self, data: Any, source: str = "api") -> None:
        rules = [Rule(spec) for spec in _read(data, source)]
        with self._lock:
            self.runtime = [*self.runtime, *rules]
            self._arrange()

    def reset(self) -> None:
        """As configured: no run-time rules, every count zero."""
        with self._lock:
            self.runtime = []
            for source in self.sources:
                source.rules = [Rule(rule.spec) for rule in source.rules]
            self._arrange()

    # -- consulting them ------------------------------------------------------------------------------------

    def choose(self, send: SendView, *, follow_ups: bool = False) -> Choice:
        """The first rule that fits ``send`` (its ``nth`` match, when it has one); nothing is counted yet.
        ``follow_ups``: only rules that say what they answer (``kind``, ``tool`` or ``approve``)."""
        counted: list[Rule] = []
        for rule in self.rules:
            if follow_ups and not rule.spec.match.follows_up:
                continue
            if not fits(rule.spec.match, send, rule.checks):
                continue
            counted.append(rule)
            nth = rule.spec.match.nth
            if nth is None or rule.matched + 1 == nth:
                return Choice(rule, counted)
        return Choice(None, counted)

    def near_miss(self, send: SendView) -> NearMiss | None:
        """The rule that came nearest to answering (fewest failing matchers; the first of equals) and why not."""
        best: tuple[float, int, Rule, str] | None = None
        for index, rule in enumerate(self.rules):
            failing = reasons(rule.spec.match, send, every=True)
            score: float = len(failing)
            nth = rule.spec.match.nth
            if not failing and nth is not None:  # every other matcher fits: nearer than any other miss
                failing, score = [f"nth: this would be match {rule.matched + 1} of the rule, which answers match "
                                  f"{nth}"], 0.5  # fmt: skip
            if failing and (best is None or score < best[0]):
                best = (score, index, rule, failing[0])
        return NearMiss(best[2], best[1], best[3]) if best is not None else None

    def as_json(self) -> dict[str, Any]:
        return {
            "on_miss": self.on_miss,
            "rules": [rule.as_json(index) for index, rule in enumerate(self.rules)],
            "files": [
                {"path": str(s.path), "rules": len(s.rules), "problem": s.problem}
                for s in self.sources
                if s.path is not None
            ],
        }


def _read(data: Any, source: str) -> tuple[RuleSpec, ...]:
    """Rules from a document (``{"rules": [...]}``) or a list of rules (dicts or ``builder`` objects)."""
    if isinstance(data, list | tuple):
        data = [item.as_dict() if hasattr(item, "as_dict") else item for item in data]
    return read_rules(data, source=source, fixture_turns=fixture_turns).rules
