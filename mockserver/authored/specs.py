"""What a rules document reads into (``format``): typed, immutable specs of rules, their matchers and their turns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mockserver.control import Controls

if TYPE_CHECKING:  # compiled where a rule has an input_regex (``format``): a server without rules loads no regex
    import regex

__all__ = ["CallSpec", "Document", "ErrorSpec", "MatchSpec", "RuleSpec", "RulesInvalid", "StepSpec", "TurnSpec"]


class RulesInvalid(ValueError):
    """A rules document with problems, each ``path: what`` (all of them, not the first)."""

    def __init__(self, problems: Sequence[str], where: str = "rules") -> None:
        self.problems = list(problems)
        self.where = where
        head = f"{where}: {len(self.problems)} problem(s)"
        super().__init__(head + "".join(f"\n  {p}" for p in self.problems))


# -- the specs ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallSpec:
    name: str
    arguments: str  # the JSON text the call carries
    kind: Literal["server", "approval", "client"] = "server"
    returns: str | None = None
    status: Literal["success", "error"] = "success"
    stdout: tuple[str, ...] | None = None
    stderr: tuple[str, ...] | None = None
    id: str | None = None


@dataclass(frozen=True)
class StepSpec:
    reasoning: str | None = None
    hidden_reasoning: bool = False
    text: str | None = None
    calls: tuple[CallSpec, ...] = ()

    @property
    def waits(self) -> bool:
        """Its calls wait on the client (an approval, a client tool's result)."""
        return any(call.kind != "server" for call in self.calls)


@dataclass(frozen=True)
class ErrorSpec:
    type: str
    at: Literal["start", "mid"] = "start"


@dataclass(frozen=True)
class TurnSpec:
    steps: tuple[StepSpec, ...]
    stop_reason: str | None = None
    error: ErrorSpec | None = None
    usage: Mapping[str, int] | None = None
    pace: Controls = field(default_factory=Controls)


@dataclass(frozen=True)
class MatchSpec:
    input: str | None = None  # lower-cased: a case-insensitive substring
    input_regex: regex.Pattern[str] | None = None
    agent_id: str | None = None
    conversation_id: str | None = None
    kind: str | None = None
    tool: str | None = None
    approve: bool | None = None
    body: Mapping[str, Any] | None = None
    nth: int | None = None

    @property
    def follows_up(self) -> bool:
        """It says which answers it takes (the client's decision or result), so it may take over a paused turn."""
        return self.kind not in (None, "user") or self.tool is not None or self.approve is not None


@dataclass(frozen=True)
class RuleSpec:
    name: str
    match: MatchSpec
    turns: tuple[TurnSpec, ...] = ()  # in order, the last repeating; empty for a controls rule
    controls: Controls | None = None
    source: str = "api"  # where it came from: a file, the admin API, create_app, the marker
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)  # as given (GET /_mock/rules shows it)


@dataclass(frozen=True)
class Document:
    rules: tuple[RuleSpec, ...]
