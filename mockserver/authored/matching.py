"""Whether a rule's ``match`` fits a send, and if not, why (the near miss names the first reason).

Matchers are combined with AND; a matcher left out matches anything:

    input            a case-insensitive substring of the user's text (the last user message)
    input_regex      a regular expression found in that text (``regex`` syntax, case-sensitive unless (?i))
    agent_id         the agent's id, exactly or as a glob (``agent-*``)
    conversation_id  the conversation's id, exactly or as a glob (sends to an agent have none)
    kind             user | approval | tool_return: a message, a decision on pending calls, or a client tool's result
    tool             the name of the tool whose call the send answers (approves, denies or returns for)
    approve          true or false: the send's (first) decision
    body             top-level request fields, each equal to the value given (as the client sent them)
    nth              only the rule's Nth match (counted by ``ruleset``)

Regular expressions cannot stall the server. Python's ``re`` has no time limit and holds the interpreter while it
backtracks, so no watchdog thread can stop it; a static check for nested quantifiers misses ``(a|aa)+$`` and refuses
harmless patterns; RE2's linear time would refuse look-arounds and back-references. So a pattern is compiled once
with the ``regex`` module (``re``'s syntax and more), bounded to ``format.MAX_PATTERN`` characters, and every search
is time-boxed (``REGEX_TIMEOUT_S``): a search that runs out counts as no match, and says so in the log and in the
near miss.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any

from mockserver.authored.format import MatchSpec

__all__ = ["REGEX_TIMEOUT_S", "Check", "SendView", "checks_for", "fits", "reasons"]

REGEX_TIMEOUT_S = 0.05
log = logging.getLogger("letta_mock")


@dataclass
class SendView:
    """What the matchers see of a send."""

    agent_id: str
    conversation_id: str | None
    text: str  # the user's text ("" for an answer without one)
    kind: str  # user | approval | tool_return
    tool: str | None  # the tool whose (first) call the send answers
    approve: bool | None  # its (first) decision
    fields: Callable[[], Mapping[str, Any]]  # top-level request fields as sent, read only when a rule asks

    @cached_property
    def lowered(self) -> str:
        return self.text.lower()

    @cached_property
    def body(self) -> Mapping[str, Any]:
        return self.fields()


def reasons(
    spec: MatchSpec, send: SendView, *, every: bool = False, checks: tuple[Check, ...] | None = None
) -> list[str]:
    """Why ``send`` does not fit ``spec`` (``nth`` aside): empty when it fits; the first reason only, unless
    ``every``. ``checks``: the spec's own (``checks_for``), when known."""
    found: list[str] = []
    for check in _CHECKS if checks is None else checks:
        reason = check(spec, send, True)
        if reason is not None:
            found.append(reason)
            if not every:
                break
    return found


def fits(spec: MatchSpec, send: SendView, checks: tuple[Check, ...]) -> bool:
    """Whether ``send`` fits ``spec`` (``nth`` aside), by its ``checks``: the fast path, explaining nothing."""
    for check in checks:
        if check(spec, send, False) is not None:
            return False
    return True


_MISS = "no match"


def _input(spec: MatchSpec, send: SendView, explain: bool) -> str | None:
    if spec.input is None or spec.input in send.lowered:
        return None
    return f"input: {_short(send.text)} does not contain {spec.input!r}" if explain else _MISS


def _input_regex(spec: MatchSpec, send: SendView, explain: bool) -> str | None:
    if spec.input_regex is None:
        return None
    try:
        found = spec.input_regex.search(send.text, timeout=REGEX_TIMEOUT_S)
    except TimeoutError:
        log.warning("letta-mock rules: input_regex %r timed out after %d ms on a text of %d characters; no match",
                    spec.input_regex.pattern, REGEX_TIMEOUT_S * 1000, len(send.text))  # fmt: skip
        return f"input_regex: {spec.input_regex.pattern!r} timed out after {REGEX_TIMEOUT_S * 1000:.0f} ms"
    if found:
        return None
    return f"input_regex: {spec.input_regex.pattern!r} finds nothing in {_short(send.text)}" if explain else _MISS


def _agent(spec: MatchSpec, send: SendView, explain: bool) -> str | None:
    if spec.agent_id is None or fnmatchcase(send.agent_id, spec.agent_id):
        return None
    return f"agent_id: {send.agent_id} is not {spec.agent_id}" if explain else _MISS


def _conversation(spec: MatchSpec, send: SendView, explain: bool) -> str | None:
    wanted = spec.conversation_id
    if wanted is None or (send.conversation_id is not None and fnmatchcase(send.conversation_id, wanted)):
        return None
    if not explain:
        return _MISS
    return f"conversation_id: {send.conversation_id or 'none (a send to the agent)'} is not {wanted}"


def _kind(spec: MatchSpec, send: SendView, explain: bool) -> str | None:
    if spec.kind in (None, send.kind):
        return None
    return f"kind: the send is {send.kind}, not {spec.kind}" if explain else _MISS


def _tool(spec: MatchSpec, send: SendView, explain: bool) -> str | None:
    if spec.tool is None or spec.tool == send.tool:
        return None
    return f"tool: the send answers {send.tool or 'no tool call'}, not {spec.tool}" if explain else _MISS


def _approve(spec: MatchSpec, send: SendView, explain: bool) -> str | None:
    if spec.approve is None or spec.approve == send.approve:
        return None
    if not explain:
        return _MISS
    did = {True: "approves", False: "denies", None: "decides nothing"}[send.approve]
    return f"approve: the send {did}, the rule wants approve: {str(spec.approve).lower()}"


def _body(spec: MatchSpec, send: SendView, explain: bool) -> str | None:
    for key, wanted in (spec.body or {}).items():
        if key not in send.body:
            return f"body.{key}: not sent (the rule wants {wanted!r})" if explain else _MISS
        if send.body[key] != wanted:
            return f"body.{key}: {send.body[key]!r} is not {wanted!r}" if explain else _MISS
    return None


Check = Callable[[MatchSpec, SendView, bool], str | None]  # None: it fits; else why not (only when explaining)
_CHECKS: tuple[Check, ...] = (_kind, _agent, _conversation, _tool, _approve, _input, _body, _input_regex)  # cheap first
_FIELDS = ("kind", "agent_id", "conversation_id", "tool", "approve", "input", "body", "input_regex")


def checks_for(spec: MatchSpec) -> tuple[Check, ...]:
    """The checks of the matchers ``spec`` sets: a rule evaluates only those (a rule of one matcher, one check)."""
    return tuple(check for check, name in zip(_CHECKS, _FIELDS, strict=True) if getattr(spec, name) is not None)


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
