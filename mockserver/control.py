"""Controls: how a turn behaves, chosen on purpose — per request, per agent script, or for the whole server.

One small grammar everywhere: ``key=value`` pairs separated by ``;``. Per request in the ``X-Letta-Mock``
header, as JSON objects with the same keys in the admin API (``/_mock/``) and on the CLI (``--control``)::

    X-Letta-Mock: scenario=tool_call; stop_reason=max_steps; seed=7; token_delay_ms=15; fault=drop_after:3

Precedence, strongest first: the header, a trigger phrase typed in the message, the agent's next scripted turn,
the server defaults. Unknown keys and bad values are refused with 400 naming them, so a typo never silently
falls back to the default.

The keys are ``KEYS`` below; the values of ``scenario``, ``error`` and ``fault`` come from their tables
(``scenarios.SCENARIOS``, ``catalogue.ERRORS``, ``faults.FAULTS``), and so do the trigger phrases (``TRIGGERS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from difflib import get_close_matches
from typing import Any

from mockserver.catalogue import IN_BAND_ERRORS, KEEPALIVE_INTERVAL_MS
from mockserver.errors import ControlError
from mockserver.faults import FAULTS, Fault
from mockserver.models import STOP_REASONS
from mockserver.scenarios import SCENARIOS

__all__ = [
    "CONTROL_HEADER",
    "KEYS",
    "NO_CONTROLS",
    "TRIGGERS",
    "Controls",
    "Key",
    "Trigger",
    "parse_controls",
    "trigger_controls",
]

CONTROL_HEADER = "x-letta-mock"


@dataclass(frozen=True)
class Controls:
    """Every field None means "not set here", so layers merge by taking the first value that is set."""

    scenario: str | None = None
    stop_reason: str | None = None
    error: str | None = None
    error_at: str | None = None
    steps: int | None = None
    tokens: int | None = None
    tool: str | None = None
    reply: str | None = None
    seed: int | None = None
    first_event_delay_ms: int | None = None
    token_delay_ms: int | None = None
    jitter_ms: int | None = None
    think_ms: int | None = None
    tool_ms: int | None = None
    ping_interval_ms: int | None = None
    stall_ms: int | None = None
    fault: tuple[Fault, ...] | None = None
    retry_after: int | None = None

    def over(self, weaker: Controls) -> Controls:
        """These controls, with what they leave unset taken from ``weaker``."""
        if weaker is NO_CONTROLS:
            return self
        if self is NO_CONTROLS:
            return weaker
        merged = {}
        for name in _CONTROL_NAMES:
            value = getattr(self, name)
            merged[name] = getattr(weaker, name) if value is None else value
        return Controls(**merged)

    def get(self, name: str, default: Any) -> Any:
        value = getattr(self, name)
        return default if value is None else value

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = ",".join(map(str, value)) if f.name == "fault" else value
        return out


_CONTROL_NAMES = tuple(f.name for f in fields(Controls))
NO_CONTROLS = Controls()  # what a request without a header or trigger has (``over`` skips it: most sends)

# -- the keys -----------------------------------------------------------------------------------------------------


def _number(key: str, raw: Any) -> int:
    if isinstance(raw, bool) or not (isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit())):
        raise ValueError(f"{key} must be a whole number >= 0, not {raw!r}")
    return int(raw)


def _text(key: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"{key} must be text, not {raw!r}")
    return raw


def _one_of(*choices: str) -> Callable[[str, Any], str]:
    def choose(key: str, raw: Any) -> str:
        if raw not in choices:
            raise ValueError(f"{key} must be one of {', '.join(choices)}; not {raw!r}")
        return str(raw)

    return choose


def _faults(key: str, raw: Any) -> tuple[Fault, ...]:
    if not isinstance(raw, str):
        raise ValueError(f"fault must be text such as 'drop_after:3', not {raw!r}")
    faults = []
    for spec in filter(None, (s.strip() for s in raw.split(","))):
        name, *args = spec.split(":")
        kind = FAULTS.get(name)
        if kind is None:
            raise ValueError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
        least = min(kind.arity, 1)
        if not least <= len(args) <= kind.arity or not all(a.isdigit() for a in args):
            raise ValueError(f"fault {spec!r} must look like {kind.form}")
        numbers = [int(a) for a in args]
        if name == "http" and not 400 <= numbers[0] <= 599:
            raise ValueError(f"fault {spec!r}: the status must be 400-599")
        faults.append(Fault(name, numbers[0] if numbers else None, numbers[1] if len(numbers) > 1 else None))
    return tuple(faults)


@dataclass(frozen=True)
class Key:
    parse: Callable[[str, Any], Any]
    help: str
    group: str = "turn"  # what it shapes: the turn, its pacing, or its faults (the dashboard files it there)
    choices: tuple[str, ...] | None = None  # its values, when a table names them

    @classmethod
    def choice(cls, choices: tuple[str, ...], help: str) -> Key:
        return cls(_one_of(*choices), help, choices=choices)


KEYS: Mapping[str, Key] = {
    "scenario": Key.choice(tuple(SCENARIOS), "what the agent does: " + " | ".join(SCENARIOS)),
    "stop_reason": Key.choice(STOP_REASONS, "any of Letta's 13 stop reasons: the turn ends with it"),
    "error": Key.choice(IN_BAND_ERRORS, "an in-band error by Letta's type; an HTTP error when not streaming"),
    "error_at": Key.choice(("start", "mid"), "start (before the first agent chunk, default) | mid (after a step)"),
    "steps": Key(_number, "tool-calling steps before the reply (multi_step)"),
    "tokens": Key(_number, "reply length in words (long)"),
    "tool": Key(_text, "tool name (tool_call, approval, client_tool)"),
    "reply": Key(_text, "the assistant's text"),
    "seed": Key(_number, "seeds content choices (arbitrary scenario, jitter)"),
    "first_event_delay_ms": Key(_number, "pacing: before the first agent event (0 by default)", "pacing"),
    "token_delay_ms": Key(_number, "pacing: between events (0 by default)", "pacing"),
    "jitter_ms": Key(_number, "pacing: up to this much more per delay", "pacing"),
    "think_ms": Key(_number, "pacing: silence before the first step", "pacing"),
    "tool_ms": Key(
        _number, "pacing: how long each server tool runs before its return (a run can be cancelled then)", "pacing"
    ),
    "ping_interval_ms": Key(_number, f"keep-alive interval during silences (Letta: {KEEPALIVE_INTERVAL_MS})", "pacing"),
    "stall_ms": Key(_number, "how long stall faults stall", "faults"),
    "fault": Key(_faults, "comma-separated faults: " + ", ".join(kind.form for kind in FAULTS.values()), "faults"),
    "retry_after": Key(_number, "seconds, sent as Retry-After with http:<status> faults", "faults"),
}
# The keys are the fields of Controls, one for one.
assert list(KEYS) == [f.name for f in fields(Controls)]


def parse_controls(source: str | dict[str, Any] | None, *, where: str = "X-Letta-Mock") -> Controls:
    """Controls from ``key=value; …`` text or a JSON object; 400 naming every unknown key or bad value."""
    if source is None:
        return NO_CONTROLS
    pairs = _pairs(source, where) if isinstance(source, str) else list(source.items())
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, raw in pairs:
        try:
            values[key] = _value(key, raw)
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise ControlError(f"{where}: " + "; ".join(problems))
    return Controls(**values)


def _pairs(text: str, where: str) -> list[tuple[str, str]]:
    pairs = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ControlError(f"{where}: {part!r} is not key=value (known keys: {', '.join(KEYS)})")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _value(key: str, raw: Any) -> Any:
    if key not in KEYS:
        close = get_close_matches(key, KEYS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(KEYS)}"
        raise ValueError(f"unknown key {key!r} ({hint})")
    return KEYS[key].parse(key, raw)


# -- trigger phrases ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """A phrase typed as the message, for a chat box: ``/steps 3`` sets ``scenario=multi_step; steps=3``."""

    phrase: str
    usage: str
    help: str
    sets: Mapping[str, Any]
    argument: str | None = None  # the control its first word sets
    default: str | None = None  # the argument's value when no word follows


TRIGGERS: Mapping[str, Trigger] = {
    trigger.phrase: trigger
    for trigger in (
        *(
            Trigger(s.trigger, s.usage or s.trigger, s.help, {"scenario": s.name}, s.argument)
            for s in SCENARIOS.values()
            if s.trigger is not None
        ),
        Trigger(
            "/slow",
            "/slow",
            "45 s of thinking, with keep-alive pings",
            {"think_ms": 45000, "ping_interval_ms": KEEPALIVE_INTERVAL_MS},
        ),
        Trigger("/error", "/error TYPE", "an in-band error (default llm_error)", {}, "error", "llm_error"),
        Trigger("/stop", "/stop REASON", "the turn ends with this stop reason", {}, "stop_reason", "end_turn"),
        Trigger("/fault", "/fault SPEC", "faults on this response", {}, "fault", ""),
    )
}


def trigger_controls(text: str) -> Controls:
    """The controls of a trigger phrase typed as the message (``TRIGGERS``); other text sets nothing."""
    command, _, rest = text.strip().partition(" ")
    trigger = TRIGGERS.get(command)
    if trigger is None:
        return NO_CONTROLS
    values = dict(trigger.sets)
    word = rest.strip().split(" ", 1)[0]
    if trigger.argument is not None and (word or trigger.default is not None):
        values[trigger.argument] = word or trigger.default
    return parse_controls(values, where=f"trigger {command!r}")
