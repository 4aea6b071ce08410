"""Controls: how a turn behaves, chosen on purpose — per request, per agent script, or for the whole server.

One small grammar everywhere: ``key=value`` pairs separated by ``;``. Per request in the ``X-Letta-Mock``
header, as JSON objects with the same keys in the admin API (``/_mock/``) and on the CLI (``--control``)::

    X-Letta-Mock: scenario=tool_call; stop_reason=max_steps; seed=7; token_delay_ms=15; fault=drop_after:3

Precedence, strongest first: the header, a trigger phrase typed in the message, the agent's next scripted turn,
the server defaults. Unknown keys and bad values are refused with 400 naming them, so a typo never silently
falls back to the default.

Keys:
    scenario        reply | reasoning | tool_call | multi_step | approval | client_tool | long | compaction |
                    hidden_reasoning | arbitrary
    stop_reason     any of Letta's 13 stop reasons: the turn ends with it
    error           an in-band error by Letta's error type (llm_error, llm_timeout, llm_rate_limit,
                    llm_authentication, llm_empty_response, internal_error, stream_incomplete,
                    context_window_overflow_in_system_prompt); as an HTTP error when not streaming
    error_at        start (before the first agent chunk, default) | mid (after the first step)
    steps           tool-calling steps before the reply (multi_step)      tool   tool name (tool_call, approval, …)
    tokens          reply length in words (long)                          reply  the assistant's text
    seed            seeds content choices (arbitrary scenario, jitter)
    first_event_delay_ms, token_delay_ms, jitter_ms, think_ms   pacing (all 0 by default, so suites stay fast)
    ping_interval_ms  keep-alive interval during silences (Letta: 20000)
    fault           comma-separated stream/HTTP faults, see ``Fault``
    retry_after     seconds, sent as Retry-After with http:<status> faults
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from mockserver.errors import BadRequest
from mockserver.models import STOP_REASONS

__all__ = [
    "ERROR_TYPES",
    "FAULT_KINDS",
    "SCENARIOS",
    "ControlError",
    "Controls",
    "Fault",
    "parse_controls",
    "trigger_controls",
]

Scenario = Literal[
    "reply", "reasoning", "tool_call", "multi_step", "approval", "client_tool", "long", "compaction",
    "hidden_reasoning", "arbitrary",
]  # fmt: skip
SCENARIOS: tuple[str, ...] = get_args(Scenario)

ERROR_TYPES = (
    "llm_error",
    "llm_timeout",
    "llm_rate_limit",
    "llm_authentication",
    "llm_empty_response",
    "internal_error",
    "stream_incomplete",
    "context_window_overflow_in_system_prompt",
)

# name -> whether it takes an argument
FAULT_KINDS: dict[str, bool] = {
    "drop_after": True,  # close the connection abruptly after N events
    "stall_after": True,  # after N events, stall for stall_ms with keep-alive pings
    "silent_stall_after": True,  # the same without pings
    "no_done": False,  # end the body without data: [DONE]
    "malformed": True,  # the Nth event's JSON is cut short
    "split": True,  # the Nth event is written in two TCP writes, split inside its JSON
    "no_stop_reason": False,
    "duplicate_stop_reason": False,
    "unknown_type": True,  # an event with an unknown message_type before the Nth event
    "http": True,  # http:<status>[:<attempts>] before the stream (attempts: how many tries fail)
    "slow_first_byte": True,  # ms before the response starts
}


class ControlError(BadRequest):
    """400: the control text names something unknown or a bad value."""


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: int | None = None
    attempts: int | None = None  # http faults: fail only the first `attempts` tries (None: every try)

    def __str__(self) -> str:
        text = self.kind if self.arg is None else f"{self.kind}:{self.arg}"
        return text if self.attempts is None else f"{text}:{self.attempts}"


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
    ping_interval_ms: int | None = None
    stall_ms: int | None = None
    fault: tuple[Fault, ...] | None = None
    retry_after: int | None = None

    def over(self, weaker: Controls) -> Controls:
        """These controls, with what they leave unset taken from ``weaker``."""
        merged = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in merged.items():
            if value is None:
                merged[name] = getattr(weaker, name)
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

    def faults(self, kind: str) -> list[Fault]:
        return [f for f in self.fault or () if f.kind == kind]


_INT_KEYS = {
    "steps", "tokens", "seed", "first_event_delay_ms", "token_delay_ms", "jitter_ms", "think_ms",
    "ping_interval_ms", "stall_ms", "retry_after",
}  # fmt: skip
_CHOICES: dict[str, tuple[str, ...]] = {
    "scenario": SCENARIOS,
    "stop_reason": STOP_REASONS,
    "error": ERROR_TYPES,
    "error_at": ("start", "mid"),
}
_TEXT_KEYS = {"tool", "reply"}
KNOWN_KEYS = tuple(f.name for f in dataclasses.fields(Controls))


def parse_controls(source: str | dict[str, Any] | None, *, where: str = "X-Letta-Mock") -> Controls:
    """Controls from ``key=value; …`` text or a JSON object; 400 naming every unknown key or bad value."""
    if source is None:
        return Controls()
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
            raise ControlError(f"{where}: {part!r} is not key=value (known keys: {', '.join(KNOWN_KEYS)})")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _value(key: str, raw: Any) -> Any:
    if key not in KNOWN_KEYS:
        from difflib import get_close_matches

        close = get_close_matches(key, KNOWN_KEYS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(KNOWN_KEYS)}"
        raise ValueError(f"unknown key {key!r} ({hint})")
    if key in _INT_KEYS:
        if isinstance(raw, bool) or not (isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit())):
            raise ValueError(f"{key} must be a whole number >= 0, not {raw!r}")
        return int(raw)
    if key in _CHOICES:
        if raw not in _CHOICES[key]:
            raise ValueError(f"{key} must be one of {', '.join(_CHOICES[key])}; not {raw!r}")
        return raw
    if key in _TEXT_KEYS:
        if not isinstance(raw, str):
            raise ValueError(f"{key} must be text, not {raw!r}")
        return raw
    return _faults(raw)  # key == "fault"


def _faults(raw: Any) -> tuple[Fault, ...]:
    if not isinstance(raw, str):
        raise ValueError(f"fault must be text such as 'drop_after:3', not {raw!r}")
    faults = []
    for spec in filter(None, (s.strip() for s in raw.split(","))):
        name, *args = spec.split(":")
        if name not in FAULT_KINDS:
            raise ValueError(f"unknown fault {name!r} (known: {', '.join(FAULT_KINDS)})")
        takes = FAULT_KINDS[name]
        limit = 2 if name == "http" else (1 if takes else 0)
        if len(args) > limit or (takes and not args) or not all(a.isdigit() for a in args):
            form = "http:<status>[:<attempts>]" if name == "http" else (f"{name}:<N>" if takes else name)
            raise ValueError(f"fault {spec!r} must look like {form}")
        numbers = [int(a) for a in args]
        if name == "http" and not 400 <= numbers[0] <= 599:
            raise ValueError(f"fault {spec!r}: the status must be 400-599")
        faults.append(Fault(name, numbers[0] if numbers else None, numbers[1] if len(numbers) > 1 else None))
    return tuple(faults)


def trigger_controls(text: str) -> Controls:
    """Controls a front-end developer can type into a chat box (documented in the README):

    ``/tool NAME`` ``/approve [NAME]`` ``/client NAME`` ``/steps N`` ``/long [WORDS]`` ``/slow`` ``/compact``
    ``/reasoning`` ``/hidden`` ``/error TYPE`` ``/stop REASON`` ``/fault SPEC`` ``/arbitrary [SEED]``.
    A message that is not a trigger sets nothing.
    """
    command, _, rest = text.strip().partition(" ")
    rest = rest.strip()
    table: dict[str, dict[str, Any]] = {
        "/tool": {"scenario": "tool_call"},
        "/approve": {"scenario": "approval"},
        "/client": {"scenario": "client_tool"},
        "/steps": {"scenario": "multi_step"},
        "/long": {"scenario": "long"},
        "/slow": {"think_ms": 45000, "ping_interval_ms": 20000},
        "/compact": {"scenario": "compaction"},
        "/reasoning": {"scenario": "reasoning"},
        "/hidden": {"scenario": "hidden_reasoning"},
        "/arbitrary": {"scenario": "arbitrary"},
        "/error": {},
        "/stop": {},
        "/fault": {},
    }
    if command not in table:
        return Controls()
    values = dict(table[command])
    word = rest.split(" ", 1)[0] if rest else ""
    if command == "/steps" and word:
        values["steps"] = word
    elif command == "/long" and word:
        values["tokens"] = word
    elif command == "/arbitrary" and word:
        values["seed"] = word
    elif command == "/error":
        values["error"] = word or "llm_error"
    elif command == "/stop":
        values["stop_reason"] = word or "end_turn"
    elif command == "/fault":
        values["fault"] = word
    return parse_controls(values, where=f"trigger {command!r}")
