"""A small typed builder for rules in Python; each object's ``as_dict()`` is the plain-data format (``format``), so a
built rule and a YAML one are read by the same code::

    from mockserver.authored import Call, Match, MatchRule, Step, Turn

    MatchRule(
        match=Match(input="weather"),
        turn=Turn([
            Step(reasoning="The user asks about the weather.",
                 tool_calls=[Call("get_weather", {"city": "Paris"}, returns="Sunny, 21 C")]),
            Step(text="It is sunny in Paris."),
        ]),
    )
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

__all__ = ["Call", "Match", "MatchRule", "Step", "Turn"]


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item) for item in value]
    return value


class _Plain:
    _defaults: ClassVar[Mapping[str, Any]] = {}

    def as_dict(self) -> dict[str, Any]:
        """The fields that say something (not None, not the default), as plain data."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None or (f.name in self._defaults and value == self._defaults[f.name]):
                continue
            out[f.name] = _plain(value)
        return out


@dataclass(frozen=True)
class Call(_Plain):
    """A tool call: a server tool (runs, returns ``returns``), an ``approval`` one or a ``client`` one (waits)."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    kind: Literal["server", "approval", "client"] = "server"
    returns: str | None = None
    status: Literal["success", "error"] | None = None
    stdout: Sequence[str] | None = None
    stderr: Sequence[str] | None = None
    id: str | None = None
    _defaults: ClassVar[Mapping[str, Any]] = {"kind": "server"}


@dataclass(frozen=True)
class Step(_Plain):
    """One LLM call: reasoning (or hidden reasoning), text, tool calls."""

    reasoning: str | None = None
    text: str | None = None
    tool_calls: Sequence[Call] = ()
    hidden_reasoning: bool = False
    _defaults: ClassVar[Mapping[str, Any]] = {"tool_calls": (), "hidden_reasoning": False}


@dataclass(frozen=True)
class Turn(_Plain):
    """A whole turn: its steps, then how it ends."""

    steps: Sequence[Step] = ()
    stop_reason: str | None = None
    error: str | Mapping[str, str] | None = None
    usage: Mapping[str, int] | None = None
    pace: Mapping[str, int] | str | None = None


@dataclass(frozen=True)
class Match(_Plain):
    """What a send must be (every field given, AND)."""

    input: str | None = None
    input_regex: str | None = None
    agent_id: str | None = None
    conversation_id: str | None = None
    kind: Literal["user", "approval", "tool_return"] | None = None
    tool: str | None = None
    approve: bool | None = None
    body: Mapping[str, Any] | None = None
    nth: int | None = None


@dataclass(frozen=True)
class MatchRule(_Plain):
    """A rule: ``match`` -> a ``turn``, ``turns`` (in order, the last repeating), ``controls`` or a ``fixture``."""

    match: Match | Mapping[str, Any] | None = None
    turn: Turn | Mapping[str, Any] | None = None
    turns: Sequence[Turn | Mapping[str, Any]] | None = None
    controls: Mapping[str, Any] | str | None = None
    fixture: str | None = None
    name: str | None = None
