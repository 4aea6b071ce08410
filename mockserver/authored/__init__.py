"""Authored turns and request-matched rules: the test author says exactly what the agent does for the request it
gets (docs/authored.md).

    format    the rules format (version 1): documents read into typed specs, every problem named by its path
    specs     those specs (rules, matchers, turns, steps, calls)
    load      YAML (read safely) and JSON text and files; recordings as turns (``fixture:`` rules)
    builder   the same in typed Python (``MatchRule``, ``Match``, ``Turn``, ``Step``, ``Call``)
    matching  whether a rule's ``match`` fits a send, and why not (time-boxed regular expressions)
    ruleset   the rules in force, their order and counts; rule files re-read when they change
    plan      an authored turn as a ``scenarios.TurnPlan`` (what the engine runs)
    answer    the one call sending makes: how the rules answer a send
    author    a recorded session as rules (``letta-mock fixtures author``)
    routes    the admin API's ``/_mock/rules``

"Rules" is the user's word; in code the collection is a ``RuleSet`` and a built rule a ``MatchRule``, apart from
the ``Rules`` record of Letta's own profile rules (``mockserver.rules``).

This package is a public module (as ``mockserver.models`` is): ``__all__`` is what a user writes rules with — the
typed builder and the error a rule with a problem raises. Everything else is the implementation, imported from its
module (``mockserver.authored.answer``, ``mockserver.authored.ruleset``, ...); importing this package loads neither
Starlette nor the server. The builder is loaded on first use: a server reading no rules (which imports
``mockserver.authored.ruleset``, and so this package) does not pay for it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mockserver.authored.specs import RulesInvalid

if TYPE_CHECKING:
    from mockserver.authored.builder import Call, Match, MatchRule, Step, Turn

__all__ = ["Call", "Match", "MatchRule", "RulesInvalid", "Step", "Turn"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'mockserver.authored' has no attribute {name!r}")
    value = getattr(import_module("mockserver.authored.builder"), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
