"""``letta-mock fixtures author``: a recorded session as editable authored turns that replay the same messages.

Each send the recording answered (``POST …/messages`` of an agent or a conversation, streamed or not) becomes one
turn, in the order recorded; the sends to one agent (or conversation) make one rule whose ``turns`` answer them in
order. A turn's steps are the recorded items grouped by step: reasoning, text, and the tool calls with the arguments,
ids and returns recorded (an approved call's return comes from the next send's answer). Token chunks are joined
first. Sends that failed over HTTP and async sends are left out (and named in ``skipped``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from mockserver.authored.format import FORMAT_VERSION, USAGE_KEYS, VERSION_KEY
from mockserver.catalogue import ERRORS, IN_BAND_ERRORS
from mockserver.models import (
    ApprovalRequestMessage,
    AssistantMessage,
    HiddenReasoningMessage,
    LettaStopReason,
    LettaUsageStatistics,
    ReasoningMessage,
    TextContent,
    ToolCallMessage,
    ToolReturnMessage,
)
from mockserver.models.messages import message_adapter, stream_event_adapter
from mockserver.recording.format import Exchange, events_of
from mockserver.recording.library import Library
from mockserver.wire.tokens import reassemble

__all__ = ["RecordingRules", "as_yaml", "author_document", "author_turns"]

_SEND = re.compile(r"^/v1/(agents|conversations)/([^/]+)/messages(?:/stream)?/?$")


@dataclass
class RecordingRules:
    """A recording as rules: one per agent (or conversation) it sent to, and what could not become a turn."""

    document: dict[str, Any]
    skipped: list[str] = field(default_factory=list)


def author_turns(library: Library) -> list[dict[str, Any]]:
    """Every send's turn, in recorded order (a ``fixture:`` rule's turns)."""
    return [turn for turns in _targets(library, []).values() for turn in turns]


def author_document(library: Library, name: str) -> RecordingRules:
    skipped: list[str] = []
    targets = _targets(library, skipped)
    rules = []
    for (collection, target), turns in targets.items():
        rule: dict[str, Any] = {"name": name if len(targets) == 1 else f"{name} ({target})"}
        if len(targets) > 1:
            rule["match"] = {"agent_id" if collection == "agents" else "conversation_id": target}
        rule.update({"turn": turns[0]} if len(turns) == 1 else {"turns": turns})
        rules.append(rule)
    return RecordingRules({VERSION_KEY: FORMAT_VERSION, "rules": rules}, skipped)


def _targets(library: Library, skipped: list[str]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    calls: dict[str, dict[str, Any]] = {}  # every authored call by its id: a later answer fills in its return
    targets: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in library.entries:
        request = entry.exchange.request
        found = _SEND.match(request.path)
        if request.method != "POST" or found is None:
            continue
        if entry.exchange.response.status != 200:
            skipped.append(f"{entry.label}: answered {entry.exchange.response.status}, not a turn")
            continue
        turn = _turn(entry.exchange, calls)
        targets.setdefault((found.group(1), found.group(2)), []).append(turn)
    return targets


def _events(exchange: Exchange) -> list[Any]:
    """The response's events, typed; an in-band error as ``("error", data)``."""
    response = exchange.response
    if response.stream is None:
        body = response.json_body if isinstance(response.json_body, dict) else {}
        raw = [*(body.get("messages") or []), body.get("stop_reason"), body.get("usage")]
        return [event for event in (_typed(item) for item in raw) if event is not None]
    events = response.stream.events or events_of(response.stream.timed())
    out: list[Any] = []
    for event in events:
        if event.event == "error":
            out.append(("error", event.data))
        elif event.data is not None:
            typed = _typed(event.data)
            if typed is not None:
                out.append(typed)
    return out


def _typed(data: Any) -> Any:
    for adapter in (stream_event_adapter, message_adapter):
        try:
            return adapter.validate_python(data)
        except ValidationError:
            continue
    return None


def _turn(exchange: Exchange, calls: dict[str, dict[str, Any]]) -> dict[str, Any]:
    body = exchange.request.json_body if isinstance(exchange.request.json_body, dict) else {}
    offered = {tool.get("name") for tool in body.get("client_tools") or () if isinstance(tool, dict)}
    events = _events(exchange)
    steps: list[dict[str, Any]] = []
    step_of: dict[str, dict[str, Any]] = {}  # by step id (or the stored message's id)
    own: dict[str, dict[str, Any]] = {}  # this turn's calls by id

    def step_for(item: Any, field_name: str) -> dict[str, Any]:
        key = item.step_id or item.id
        step = step_of.get(key)
        if step is None or field_name in step:  # a new step, or a second item of a kind a step holds once
            step = {}
            steps.append(step)
            step_of[key] = step
        return step

    for item in reassemble(events):
        if isinstance(item, ReasoningMessage):
            step_for(item, "reasoning")["reasoning"] = item.reasoning
        elif isinstance(item, HiddenReasoningMessage):
            step_for(item, "hidden_reasoning")["hidden_reasoning"] = True
        elif isinstance(item, AssistantMessage):
            text = item.content if isinstance(item.content, str) else "".join(
                part.text for part in item.content if isinstance(part, TextContent))  # fmt: skip
            step_for(item, "text")["text"] = text
        elif isinstance(item, ToolCallMessage | ApprovalRequestMessage) and isinstance(item.tool_calls, list):
            step = step_for(item, "tool_calls")
            step["tool_calls"] = []
            for call in item.tool_calls:
                waits = "client" if call.name in offered else "approval"
                kind = "server" if isinstance(item, ToolCallMessage) else waits
                authored = _call(call.name, call.arguments, call.tool_call_id, kind)
                step["tool_calls"].append(authored)
                own[call.tool_call_id] = calls[call.tool_call_id] = authored
        elif isinstance(item, ToolReturnMessage):
            _returned(item, own, calls)
    turn: dict[str, Any] = {"steps": steps}
    _ending(turn, events, steps)
    return turn


def _call(name: str, arguments: str, call_id: str, kind: str) -> dict[str, Any]:
    """An authored call; its arguments an object when writing it back gives the recorded text, else that text."""
    try:
        value = json.loads(arguments)
    except ValueError:
        value = None
    if isinstance(value, dict):
        compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        written = json.dumps(value) if kind == "server" else compact
        shown: Any = value if written == arguments else arguments
    else:
        shown = arguments
    call: dict[str, Any] = {"name": name, "arguments": shown}
    if kind != "server":
        call["kind"] = kind
    call["id"] = call_id
    return call


def _returned(item: ToolReturnMessage, own: dict[str, dict[str, Any]], calls: dict[str, dict[str, Any]]) -> None:
    """A tool's return: the call's ``returns`` (a server call of this turn, or an approved one of an earlier turn;
    a denial and a client's result come from the client's answer, not from the rule)."""
    for result in item.tool_returns or ():
        call = own.get(result.tool_call_id) or calls.get(result.tool_call_id)
        if call is None or call.get("kind") == "client":
            continue
        if result.tool_call_id not in own and result.status == "error" and str(result.tool_return).startswith(
                "Error: request to call tool denied"):  # fmt: skip
            continue
        call["returns"] = result.tool_return if isinstance(result.tool_return, str) else json.dumps(result.tool_return)
        if result.status != "success":
            call["status"] = result.status
        for key in ("stdout", "stderr"):
            if getattr(result, key) is not None:
                call[key] = list(getattr(result, key))


def _ending(turn: dict[str, Any], events: Iterable[Any], steps: list[dict[str, Any]]) -> None:
    """The turn's stop reason (when not the one it would have anyway), error and usage figures."""
    events = list(events)
    error = next((data for kind, data in (e for e in events if isinstance(e, tuple))), None)
    stop = next((e.stop_reason for e in events if isinstance(e, LettaStopReason)), None)
    usage = next((e for e in events if isinstance(e, LettaUsageStatistics)), None)
    if isinstance(error, dict):
        kind = error.get("error_type")
        if kind not in IN_BAND_ERRORS or steps:  # after a chunk Letta names any error internal_error (§6.5b)
            kind = next((name for name in IN_BAND_ERRORS if ERRORS[name].stop_reason == stop), "internal_error")
        turn["error"] = {"type": kind, "at": "mid" if steps else "start"}
    else:
        waits = bool(steps) and any(c.get("kind") in ("approval", "client") for c in steps[-1].get("tool_calls", ()))
        if stop is not None and stop != ("requires_approval" if waits else "end_turn"):
            turn["stop_reason"] = stop
    if usage is not None:
        figures = {key: getattr(usage, key) for key in USAGE_KEYS if isinstance(getattr(usage, key), int)}
        turn["usage"] = figures


class _Dumper(yaml.SafeDumper):
    """Plain YAML a person edits: keys in the order written, text of several lines as a block."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def as_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
