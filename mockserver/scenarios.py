"""The scenario table: what the default agent can be asked to do, each row a name, a trigger phrase and a planner.

A planner turns an ``Ask`` (the turn's input text and the controls a planner reads) into a ``TurnPlan``: the steps
the agent takes, each an LLM call with optional reasoning, text and tool calls. Planners are pure: no
randomness, no clock, no state, so the same ask gives the same plan. Tools are called only when a scenario asks
for them, so a client that merely *offers* tools is never left with a pending approval.

To add a scenario: one ``Scenario`` row in ``SCENARIOS`` and its planner. The control grammar (``scenario=``),
the trigger phrases, ``letta-mock serve --help`` and the README (checked by a test) follow the table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from mockserver.catalogue import COMPLETED_STOP_REASONS
from mockserver.errors import ControlError
from mockserver.models import LettaResponse, StopReasonType
from mockserver.schema_values import value_for

__all__ = [
    "DEFAULT_SCENARIO",
    "SCENARIOS",
    "Ask",
    "PlannedCall",
    "PlannedError",
    "Scenario",
    "Step",
    "ToolSpec",
    "TurnPlan",
    "tool_result",
]

CallKind = Literal["server", "approval", "client"]


@dataclass
class PlannedCall:
    name: str
    arguments: str  # JSON text, as the model would produce it
    kind: CallKind = "server"
    # What the tool returns when it runs (a server tool, or an approved one); None: ``tool_result``'s answer.
    returns: str | None = None
    status: Literal["success", "error"] = "success"
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    call_id: str | None = None  # the tool_call_id; None: a new one


@dataclass
class Step:
    """One LLM call: optional reasoning, optional text, and the tool calls it makes."""

    reasoning: str | None = None
    text: str | None = None
    calls: list[PlannedCall] = field(default_factory=list)
    hidden_reasoning: bool = False  # an OpenAI reasoning model's omitted reasoning, sent first
    terminal: bool = False  # its tool calls end the turn (a legacy agent's send_message)


@dataclass
class PlannedError:
    error_type: str
    at: Literal["start", "mid"] = "start"


@dataclass
class TurnPlan:
    steps: list[Step]
    stop_reason: StopReasonType | None = None  # forced: the turn ends with it after the first step
    error: PlannedError | None = None
    compaction: bool = False  # a context compaction happens before the first step
    think_ms: int = 0  # silence before the first step (keep-alive pings fill it)
    arbitrary: LettaResponse | None = None  # a whole turn handed over by a turn source (scenario "arbitrary")
    # The step after which a forced stop reason or a mid-stream error ends the turn: the first as the controls force
    # them; an authored turn's last.
    ends_after: int = 0
    usage: dict[str, int] | None = None  # figures the turn's usage statistics report, over the counted ones
    label: str | None = None  # who authored it (a rule's name), for the journal
    pace: dict[str, Any] | None = None  # an authored turn's own pacing controls, which its continuation keeps too

    def after(self, index: int) -> TurnPlan | None:
        """The rest of the turn once the client answers the calls step ``index`` waits on; None when nothing is
        left (wire doc §6.9: the agent goes on with its next step)."""
        rest = self.steps[index + 1 :]
        if not rest:
            return None
        return TurnPlan(
            rest, stop_reason=self.stop_reason, error=self.error, ends_after=max(self.ends_after - index - 1, 0),
            usage=self.usage, label=self.label, pace=self.pace,
        )  # fmt: skip


@dataclass(frozen=True)
class ToolSpec:
    """A tool the agent has: its name, its parameters' JSON schema, and whether a call waits for approval."""

    name: str
    parameters: dict[str, object] = field(default_factory=dict)
    needs_approval: bool = False


@dataclass(frozen=True)
class Ask:
    """What a planner sees of a turn: the user's text, the words after a trigger phrase, the client tools offered,
    and the controls that shape content."""

    text: str
    words: tuple[str, ...] = ()  # the words after a trigger phrase ("/tool weather {}" -> ("weather", "{}"))
    offered: tuple[str, ...] = ()  # names of the request's client tools
    tools: tuple[ToolSpec, ...] = ()  # the agent's own tools (and the client tools' schemas), by name
    tool: str | None = None
    reply: str | None = None
    steps: int | None = None
    tokens: int | None = None
    seed: int | None = None
    stop_reason: str | None = None


Planner = Callable[[Ask], TurnPlan]


@dataclass(frozen=True)
class Scenario:
    name: str
    plan: Planner
    help: str
    trigger: str | None = None  # the phrase typed as a message, e.g. "/steps"
    usage: str | None = None  # how the trigger is typed, e.g. "/steps N"
    argument: str | None = None  # the control the trigger's first word sets ("steps"); None: the planner reads it
    whole_turn: bool = False  # plans the whole turn, a continuation after tool results included


# -- what tools return ----------------------------------------------------------------------------------------------

_CANNED_RESULTS = {
    "send_message": "None",  # a legacy agent's reply tool returns nothing
    "weather": "Sunny, 24 C",
    "get_weather": "Sunny, 24 C",
    "web_search": "Top result: Letta is a platform for stateful agents.",
    "delete_file": "Deleted.",
}


def tool_result(call: PlannedCall) -> str:
    """What a server tool returns: what the plan says, else fixed text for the documented example tools, else an
    echo."""
    if call.returns is not None:
        return call.returns
    if call.name in _CANNED_RESULTS:
        return _CANNED_RESULTS[call.name]
    return json.dumps({"tool": call.name, "arguments": json.loads(call.arguments or "{}"), "status": "ok"})


# -- planners -----------------------------------------------------------------------------------------------------

_LOREM = (
    "Letta agents keep their memory between turns so every reply can build on what came before and the "
    "conversation stays coherent across sessions while tools extend what the agent can do"
).split()


def _thought(text: str) -> str:
    if not text:
        return "No new input; I will greet the user."
    snippet = text if len(text) <= 80 else text[:77] + "..."
    return f'The user wrote "{snippet}". I will answer directly.'


def _echo(ask: Ask) -> str:
    return ask.reply or (f"You said: {ask.text}" if ask.text else "Hello! How can I help you today?")


def _reply(ask: Ask) -> TurnPlan:
    return TurnPlan([Step(text=_echo(ask))])


def _reasoning(ask: Ask) -> TurnPlan:
    return TurnPlan([Step(reasoning=_thought(ask.text), text=_echo(ask))])


def _hidden_reasoning(ask: Ask) -> TurnPlan:
    return TurnPlan([Step(hidden_reasoning=True, text=_echo(ask))])


def _compaction(ask: Ask) -> TurnPlan:
    return TurnPlan(_reasoning(ask).steps, compaction=True)


def _long(ask: Ask) -> TurnPlan:
    count = 300 if ask.tokens is None else ask.tokens
    text = ask.reply or " ".join(_LOREM[i % len(_LOREM)] for i in range(count))
    return TurnPlan([Step(reasoning="This needs a long answer.", text=text)])


def _multi_step(ask: Ask) -> TurnPlan:
    count = 2 if ask.steps is None else ask.steps
    calls = [PlannedCall("web_search", json.dumps({"query": f"step {i + 1}"})) for i in range(count)]
    steps = [Step(reasoning=f"Step {i + 1}: I need more information.", calls=[call]) for i, call in enumerate(calls)]
    reply = Step(reasoning="I have what I need.", text=ask.reply or f"Done after {count} tool calls.")
    return TurnPlan([*steps, reply])


def _arguments(ask: Ask, tool: ToolSpec | None) -> str:
    """The JSON arguments typed after the tool name (``/tool weather {"city": "Paris"}``; other text becomes
    ``input``); with none typed, arguments valid against the tool's schema when the agent has it."""
    raw = ask.words[1].strip() if len(ask.words) > 1 else ""
    if not raw and tool is not None and tool.parameters:
        return json.dumps(value_for(tool.parameters, text=ask.text, seed=ask.seed))
    value: object = {}
    if raw:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = {"input": raw}
        if not isinstance(value, dict):
            value = {"input": value}
    return json.dumps(value)


def _tool_call(default_kind: CallKind, default_name: str | None = None) -> Planner:
    """A planner calling one tool: the named tool (control or trigger word), else the scenario's default.

    A name the request offers as a client tool is always a client call, whatever the scenario.
    """

    def plan(ask: Ask) -> TurnPlan:
        name = ask.tool or (ask.words[0] if ask.words else "") or (default_name or "")
        tool = next((t for t in ask.tools if t.name == name), None)
        kind: CallKind = "client" if name in ask.offered else default_kind
        if kind == "server" and tool is not None and tool.needs_approval:
            kind = "approval"
        name = name or {"server": "web_search", "approval": "delete_file", "client": "get_location"}[kind]
        call = PlannedCall(name, _arguments(ask, tool), kind)
        first = Step(reasoning=f"I should call {name}.", calls=[call])
        if kind != "server":
            return TurnPlan([first])  # the turn stops for approval; the reply comes with the continuation
        reply = ask.reply or f"{name} returned: {tool_result(call)}"
        return TurnPlan([first, Step(reasoning="I have the result.", text=reply)])

    return plan


def _client_tool(ask: Ask) -> TurnPlan:
    # Without a name, the first tool the request offers.
    return _tool_call("client", ask.offered[0] if ask.offered else "get_location")(ask)


def _arbitrary(ask: Ask) -> TurnPlan:
    # The default stop reasons of a drawn turn are those of a turn that ends normally; errors come from `error=`.
    reasons = (ask.stop_reason,) if ask.stop_reason else COMPLETED_STOP_REASONS
    return TurnPlan([], arbitrary=_turn_source("arbitrary")(ask.seed or 0, reasons))


_TURN_SOURCES = "letta_mock.turn_sources"


@cache
def _turn_source(name: str) -> Callable[[int, tuple[str, ...]], LettaResponse]:
    """A turn source another package registers under the ``letta_mock.turn_sources`` entry point.

    The server does not import the strategies: ``strategies`` (with Hypothesis) registers ``arbitrary`` there,
    so the mock runs without Hypothesis installed and the scenario works wherever it is.
    """
    from importlib.metadata import entry_points

    hint = (f"scenario={name} draws turns from letta-mock's strategies, which register themselves when letta-mock is "
            "installed (pip install . in its source); none is registered in this environment")  # fmt: skip
    found = entry_points(group=_TURN_SOURCES, name=name)
    try:
        source: Callable[[int, tuple[str, ...]], LettaResponse] = next(iter(found)).load()
    except (StopIteration, ImportError):
        raise ControlError(hint) from None
    return source


# -- the table ----------------------------------------------------------------------------------------------------

DEFAULT_SCENARIO = "reasoning"

SCENARIOS: Mapping[str, Scenario] = {
    row.name: row
    for row in (
        Scenario("reply", _reply, "the assistant's text only"),
        Scenario("reasoning", _reasoning, "reasoning, then the text (the default)", "/reasoning", "/reasoning"),
        Scenario(
            "tool_call",
            _tool_call("server"),
            "a server tool call, its return, then the text",
            "/tool",
            "/tool NAME [JSON]",
        ),
        Scenario("multi_step", _multi_step, "`steps` tool-calling steps, then the text", "/steps", "/steps N", "steps"),
        Scenario(
            "approval", _tool_call("approval"), "a tool call that waits for approval", "/approve", "/approve [NAME]"
        ),
        Scenario(
            "client_tool", _client_tool, "a client-side tool call that waits for its result", "/client", "/client NAME"
        ),
        Scenario("long", _long, "a reply of `tokens` words", "/long", "/long [WORDS]", "tokens"),
        Scenario("compaction", _compaction, "a context compaction, then the reply", "/compact", "/compact"),
        Scenario("hidden_reasoning", _hidden_reasoning, "omitted reasoning, then the text", "/hidden", "/hidden"),
        Scenario(
            "arbitrary",
            _arbitrary,
            "any valid turn the strategies draw for `seed`",
            "/arbitrary",
            "/arbitrary [SEED]",
            "seed",
            whole_turn=True,
        ),
    )
}
