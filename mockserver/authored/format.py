"""The rules format (version 1): what a rule file, a ``PUT /_mock/rules`` body and the marker's ``rules=[...]`` hold,
read into typed specs with every problem named by its path (``rules[2].turn.steps[0].tool_calls[0].arguments: not an
object``). Plain data in, plain data out: nothing here runs, and a document with any problem is refused whole.

    letta_mock_rules: 1                  # optional: the format's version
    rules:
      - name: weather                    # optional: how the dashboard and the journal name it
        match: {input: weather}          # all optional, combined with AND (``matching``)
        turn:                            # or turns: [...] | controls: "k=v; ..." | fixture: NAME
          steps:
            - reasoning: "The user asks about the weather."
              tool_calls:
                - {name: get_weather, arguments: {city: Paris}, returns: "Sunny, 21 C"}
            - text: "It is sunny in Paris."

docs/authored.md describes every field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, TypeVar

from mockserver.authored.specs import (
    CallSpec,
    Document,
    ErrorSpec,
    MatchSpec,
    RulesInvalid,
    RuleSpec,
    StepSpec,
    TurnSpec,
)
from mockserver.catalogue import IN_BAND_ERRORS
from mockserver.control import Controls, parse_controls
from mockserver.errors import ControlError
from mockserver.models import STOP_REASONS

if TYPE_CHECKING:
    import regex

__all__ = [
    "FORMAT_VERSION",
    "KINDS",
    "MAX_PATTERN",
    "CallSpec",
    "Document",
    "ErrorSpec",
    "MatchSpec",
    "RuleSpec",
    "RulesInvalid",
    "StepSpec",
    "TurnSpec",
    "read_rules",
]

FORMAT_VERSION = 1
VERSION_KEY = "letta_mock_rules"
KINDS = ("user", "approval", "tool_return")  # what a send is: a user's message, or an answer to pending tool calls
CALL_KINDS = ("server", "approval", "client")
MAX_PATTERN = 1000  # characters of an input_regex
USAGE_KEYS = ("completion_tokens", "prompt_tokens", "total_tokens", "step_count", "cached_input_tokens",
              "cache_write_tokens", "reasoning_tokens", "context_tokens")  # fmt: skip
PACE_KEYS = ("first_event_delay_ms", "token_delay_ms", "jitter_ms", "think_ms", "tool_ms", "ping_interval_ms", "seed")


FixtureTurns = Callable[[str], list[Any]]  # a recording's sends as raw turns (``author``)
T = TypeVar("T")


# -- reading --------------------------------------------------------------------------------------------------------


def read_rules(data: Any, *, source: str = "api", fixture_turns: FixtureTurns | None = None) -> Document:
    """A rules document — ``{"rules": [...]}`` or a bare list of rules — as specs; ``RulesInvalid`` naming every
    problem. ``fixture_turns`` reads ``fixture:`` rules' recordings."""
    reader = _Reader(fixture_turns, source)
    items: Any
    if isinstance(data, Sequence) and not isinstance(data, str):
        items, base = data, "rules"
    elif isinstance(data, Mapping):
        reader.keys(data, "", (VERSION_KEY, "rules"))
        version = data.get(VERSION_KEY, FORMAT_VERSION)
        if version != FORMAT_VERSION:
            reader.problem(VERSION_KEY, f"version {version!r} is not one this letta-mock reads ({FORMAT_VERSION})")
        items, base = data.get("rules"), "rules"
        if not isinstance(items, list):
            reader.problem("rules", "missing: a list of rules" if items is None else "not a list")
            items = []
    else:
        raise RulesInvalid(["the document is not an object with a 'rules' list"], source)
    rules = [reader.rule(raw, f"{base}[{index}]", index) for index, raw in enumerate(items)]
    if reader.problems:
        raise RulesInvalid(reader.problems, source)
    return Document(tuple(rule for rule in rules if rule is not None))


class _Reader:
    def __init__(self, fixture_turns: FixtureTurns | None, source: str) -> None:
        self.problems: list[str] = []
        self.fixture_turns = fixture_turns
        self.source = source

    def problem(self, path: str, text: str) -> None:
        self.problems.append(f"{path}: {text}")

    def keys(self, data: Mapping[str, Any], path: str, known: Sequence[str]) -> None:
        for key in data:
            if key not in known:
                close = get_close_matches(str(key), known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known)
                self.problem(_join(path, str(key)), f"unknown field ({hint})")

    def mapping(self, value: Any, path: str, known: Sequence[str]) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.problem(path, "not an object")
            return None
        self.keys(value, path, known)
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, *, empty: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(_join(path, key), f"not text ({_kind(value)})")
            return None
        if not empty and not value:
            self.problem(_join(path, key), "empty")
        return value

    def choice(self, data: Mapping[str, Any], key: str, path: str, choices: Sequence[str]) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if value not in choices:
            self.problem(_join(path, key), f"{value!r} is not one of {', '.join(choices)}")
            return None
        return str(value)

    def flag(self, data: Mapping[str, Any], key: str, path: str) -> bool | None:
        value = data.get(key)
        if value is not None and not isinstance(value, bool):
            self.problem(_join(path, key), f"not true or false ({_kind(value)})")
            return None
        return value

    def listed(self, data: Mapping[str, Any], key: str, path: str, read: Callable[[Any, str], T | None]) -> list[T]:
        """The items of a list field (absent: none), each read at its own path; the ones that read."""
        value = data.get(key, [])
        where = _join(path, key)
        if not isinstance(value, list):
            self.problem(where, f"not a list ({_kind(value)})")
            return []
        return [item for item in (read(raw, f"{where}[{i}]") for i, raw in enumerate(value)) if item is not None]

    def controls(self, value: Any, path: str, allowed: Sequence[str] | None = None) -> Controls | None:
        if not isinstance(value, str | Mapping):
            self.problem(path, "not controls ('key=value; ...' or an object)")
            return None
        try:
            parsed = parse_controls(value if isinstance(value, str) else dict(value), where=path)
        except ControlError as error:
            self.problem(path, str(error.detail).removeprefix(f"{path}: "))
            return None
        extra = [key for key in parsed.as_dict() if allowed is not None and key not in allowed]
        if extra:
            self.problem(path, f"{', '.join(extra)}: not pacing (pacing keys: {', '.join(allowed or ())})")
            return None
        return parsed

    # -- a rule ---------------------------------------------------------------------------------------------

    def rule(self, raw: Any, path: str, index: int) -> RuleSpec | None:
        data = self.mapping(raw, path, ("name", "match", "turn", "turns", "controls", "fixture"))
        if data is None:
            return None
        before = len(self.problems)
        name = self.text(data, "name", path, empty=False) or f"rules[{index}]"
        match = self.match(data.get("match", {}), _join(path, "match"))
        answers = [key for key in ("turn", "turns", "controls", "fixture") if key in data]
        if len(answers) != 1:
            what = "one of turn, turns, controls, fixture"
            self.problem(path, f"says what to answer with {what}" if not answers else f"give only {what}, not "
                         f"{' and '.join(answers)}")  # fmt: skip
            return None
        turns: list[TurnSpec | None] = []
        controls = None
        if "turn" in data:
            turns = [self.turn(data["turn"], _join(path, "turn"))]
        elif "turns" in data:
            listed = data["turns"]
            if not isinstance(listed, list) or not listed:
                self.problem(_join(path, "turns"), "not a list of turns" if not isinstance(listed, list) else "empty")
            else:
                turns = [self.turn(turn, f"{_join(path, 'turns')}[{i}]") for i, turn in enumerate(listed)]
        elif "controls" in data:
            controls = self.controls(data["controls"], _join(path, "controls"))
        else:
            turns = self.fixture(data["fixture"], _join(path, "fixture"))
        if len(self.problems) > before or match is None:
            return None
        kept = tuple(turn for turn in turns if turn is not None)
        return RuleSpec(name, match, kept, controls, self.source, raw)

    def fixture(self, value: Any, path: str) -> list[TurnSpec | None]:
        if not isinstance(value, str) or not value:
            self.problem(path, "not a recording's path or curated name")
            return []
        if self.fixture_turns is None:
            self.problem(path, "recordings cannot be read here")
            return []
        try:
            raw_turns = self.fixture_turns(value)
        except (OSError, ValueError) as error:
            self.problem(path, str(error))
            return []
        if not raw_turns:
            self.problem(path, f"{value} holds no send this letta-mock can author a turn from")
        return [self.turn(turn, f"{path}({value})[{i}]") for i, turn in enumerate(raw_turns)]

    def match(self, raw: Any, path: str) -> MatchSpec | None:
        known = ("input", "input_regex", "agent_id", "conversation_id", "kind", "tool", "approve", "body", "nth")
        data = self.mapping(raw, path, known)
        if data is None:
            return None
        text = self.text(data, "input", path)
        pattern = self.pattern(data.get("input_regex"), _join(path, "input_regex"))
        body = data.get("body")
        if body is not None and not isinstance(body, Mapping):
            self.problem(_join(path, "body"), "not an object (top-level request fields and their values)")
            body = None
        nth = data.get("nth")
        if nth is not None and (isinstance(nth, bool) or not isinstance(nth, int) or nth < 1):
            self.problem(_join(path, "nth"), f"not a whole number >= 1 ({nth!r})")
            nth = None
        return MatchSpec(
            input=text.lower() if text is not None else None, input_regex=pattern,
            agent_id=self.text(data, "agent_id", path, empty=False),
            conversation_id=self.text(data, "conversation_id", path, empty=False),
            kind=self.choice(data, "kind", path, KINDS), tool=self.text(data, "tool", path, empty=False),
            approve=self.flag(data, "approve", path), body=dict(body) if body is not None else None, nth=nth,
        )  # fmt: skip

    def pattern(self, value: Any, path: str) -> regex.Pattern[str] | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(path, f"not text ({_kind(value)})")
            return None
        if len(value) > MAX_PATTERN:
            self.problem(path, f"{len(value)} characters: at most {MAX_PATTERN}")
            return None
        import regex  # here: a server without rules does not pay for loading it

        try:
            return regex.compile(value)  # compiled once; each search is time-boxed (``matching``)
        except regex.error as error:
            self.problem(path, f"does not compile: {error}")
            return None

    # -- a turn ---------------------------------------------------------------------------------------------

    def turn(self, raw: Any, path: str) -> TurnSpec | None:
        data = self.mapping(raw, path, ("steps", "stop_reason", "error", "usage", "pace"))
        if data is None:
            return None
        before = len(self.problems)
        steps = self.listed(data, "steps", path, self.step)
        stop = self.choice(data, "stop_reason", path, STOP_REASONS)
        error = self.error(data.get("error"), _join(path, "error"))
        usage = self.usage(data.get("usage"), _join(path, "usage"))
        pace = self.controls(data["pace"], _join(path, "pace"), PACE_KEYS) if "pace" in data else Controls()
        if len(self.problems) > before:
            return None
        self.coherent(steps, stop, error, path)
        return TurnSpec(tuple(steps), stop, error, usage, pace or Controls())

    def coherent(self, steps: list[StepSpec], stop: str | None, error: ErrorSpec | None, path: str) -> None:
        """What only the whole turn can say is wrong: how it ends."""
        if error is not None:
            if stop is not None:
                self.problem(_join(path, "stop_reason"), f"an error ends the turn with its own ({error.type})")
            if error.at == "start" and steps:
                self.problem(_join(path, "error"), "at start comes before any step: leave the steps out, or "
                             "use at: mid (after them)")  # fmt: skip
            if error.at == "mid" and not steps:
                self.problem(_join(path, "error"), "at mid comes after the steps: give at least one")
            return
        if not steps:
            self.problem(_join(path, "steps"), "missing: at least one step (or an error)")
            return
        for index, step in enumerate(steps[:-1]):
            if not step.calls:  # Letta's loop: a step that calls no tool ends the turn (wire doc §2.3)
                self.problem(f"{_join(path, 'steps')}[{index}]", "calls no tool, so the turn ends there: the steps "
                             "after it would never run (say it in one step, or call a tool)")  # fmt: skip
        waits = steps[-1].waits
        if waits and stop not in (None, "requires_approval"):
            self.problem(_join(path, "stop_reason"), "the last step waits on the client (an approval or client "
                         "call): the turn ends with requires_approval")  # fmt: skip
        if stop == "requires_approval" and not waits:
            self.problem(_join(path, "stop_reason"), "requires_approval needs an approval or client call in the "
                         "last step")  # fmt: skip

    def step(self, raw: Any, path: str) -> StepSpec | None:
        data = self.mapping(raw, path, ("reasoning", "hidden_reasoning", "text", "tool_calls"))
        if data is None:
            return None
        before = len(self.problems)
        # Empty text is no message at all (a model that says nothing): leave the field out.
        reasoning = self.text(data, "reasoning", path, empty=False)
        hidden = self.flag(data, "hidden_reasoning", path) or False
        text = self.text(data, "text", path, empty=False)
        calls = self.listed(data, "tool_calls", path, self.call)
        if len(self.problems) > before:
            return None
        if reasoning is None and not hidden and text is None and not calls:
            self.problem(path, "empty: a step has reasoning, hidden_reasoning, text or tool_calls")
            return None
        return StepSpec(reasoning, hidden, text, tuple(calls))

    def call(self, raw: Any, path: str) -> CallSpec | None:
        known = ("name", "arguments", "kind", "returns", "status", "stdout", "stderr", "id")
        data = self.mapping(raw, path, known)
        if data is None:
            return None
        before = len(self.problems)
        name = self.text(data, "name", path, empty=False)
        if name is None and "name" not in data:
            self.problem(_join(path, "name"), "missing")
        kind = self.choice(data, "kind", path, CALL_KINDS) or "server"
        arguments = self.arguments(data.get("arguments", {}), _join(path, "arguments"), kind)
        returns = self.text(data, "returns", path)
        status = self.choice(data, "status", path, ("success", "error")) or "success"
        outputs = [self.lines(data.get(key), _join(path, key)) for key in ("stdout", "stderr")]
        call_id = self.text(data, "id", path, empty=False)
        if kind == "client":
            for key in ("returns", "status", "stdout", "stderr"):
                if key in data:
                    self.problem(_join(path, key), "a client tool's result comes from the client")
        if len(self.problems) > before or name is None or arguments is None:
            return None
        return CallSpec(name, arguments, kind, returns, status, outputs[0], outputs[1], call_id)  # type: ignore[arg-type]

    def arguments(self, value: Any, path: str, kind: str) -> str | None:
        """The call's JSON text. An object is written as Letta writes it: a server tool's call as the server
        re-serialises it (``json.dumps``), an approval's or client tool's as the model wrote it (compact JSON, as
        Letta 0.16.8 shows them from an OpenAI-compatible model). A string is kept as written, if it is a JSON
        object (for text no object writes back to, e.g. one recorded)."""
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                self.problem(path, "not an object (nor text holding a JSON object)")
                return None
            return value
        if not isinstance(value, Mapping):
            self.problem(path, f"not an object ({_kind(value)})")
            return None
        try:
            if kind == "server":
                return json.dumps(value)
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as error:
            self.problem(path, f"not JSON: {error}")
            return None

    def lines(self, value: Any, path: str) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
            self.problem(path, "not a list of text lines")
            return None
        return tuple(value)

    def error(self, raw: Any, path: str) -> ErrorSpec | None:
        if raw is None:
            return None
        data = {"type": raw} if isinstance(raw, str) else self.mapping(raw, path, ("type", "at"))
        if data is None:
            return None
        kind = data.get("type")
        if kind not in IN_BAND_ERRORS:
            where = path if isinstance(raw, str) else _join(path, "type")
            self.problem(where, f"{kind!r} is not one of Letta's error types ({', '.join(IN_BAND_ERRORS)})")
            return None
        at = self.choice(data, "at", path, ("start", "mid")) or "start"
        return ErrorSpec(str(kind), at)  # type: ignore[arg-type]

    def usage(self, raw: Any, path: str) -> dict[str, int] | None:
        if raw is None:
            return None
        data = self.mapping(raw, path, USAGE_KEYS)
        if data is None:
            return None
        out: dict[str, int] = {}
        for key, value in data.items():
            if key in USAGE_KEYS:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    self.problem(_join(path, key), f"not a whole number >= 0 ({value!r})")
                else:
                    out[key] = value
        return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)  # fmt: skip
