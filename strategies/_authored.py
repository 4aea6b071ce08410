"""Authored turns (the rules format of ``mockserver.authored``, docs/authored.md) as plain data, every one valid: steps
with reasoning or hidden reasoning, text and tool calls of every kind, then an ending (a stop reason, or an in-band
error at the start or after the steps) and usage figures. Install one as a rule and a live mock plays it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from mockserver.catalogue import IN_BAND_ERRORS
from mockserver.models import STOP_REASONS
from strategies._values import json_objects, maybe, short_texts, texts, tool_names

_SAID = texts().filter(bool)  # a step's reasoning or text says something (empty is left out)

__all__ = ["authored_turns"]

_USAGE_KEYS = ("completion_tokens", "prompt_tokens", "total_tokens", "step_count", "context_tokens")
_ENDINGS = tuple(reason for reason in STOP_REASONS if reason != "requires_approval")


@st.composite
def _calls(draw: st.DrawFn, waits: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(("approval", "client"))) if waits else "server"
    call: dict[str, Any] = {"name": draw(tool_names()), "arguments": draw(json_objects())}
    if kind != "server":
        call["kind"] = kind
    if kind != "client":
        returns = draw(maybe(texts()))
        if returns is not None:
            call["returns"] = returns
        if draw(st.booleans()):
            call["status"] = draw(st.sampled_from(("success", "error")))
        for key in ("stdout", "stderr"):
            lines = draw(maybe(st.lists(short_texts(), max_size=2)))
            if lines is not None:
                call[key] = lines
    return call


@st.composite
def _steps(draw: st.DrawFn, waits: bool, last: bool) -> dict[str, Any]:
    """One step; ``waits``: its calls wait on the client (at least one approval or client call); a step before the
    ``last`` calls a tool (one that calls none ends the turn)."""
    step: dict[str, Any] = {}
    if draw(st.booleans()):
        step["hidden_reasoning"] = True
    reasoning, text = draw(maybe(_SAID)), draw(maybe(_SAID))
    if reasoning is not None:
        step["reasoning"] = reasoning
    if text is not None:
        step["text"] = text
    calls = draw(st.lists(_calls(False), min_size=0 if last or waits else 1, max_size=2))
    if waits:
        calls.append(draw(_calls(True)))
    if calls:
        step["tool_calls"] = calls
    if not step:
        step["text"] = draw(_SAID)
    return step


@st.composite
def authored_turns(draw: st.DrawFn, *, max_steps: int = 3, waits: bool = True, errors: bool = True) -> dict[str, Any]:
    """An authored turn (``{"steps": [...], ...}``): up to ``max_steps`` steps, any of which may wait on the client
    when ``waits`` (a turn then pauses there and goes on once answered); an in-band error when ``errors``."""
    error = draw(st.sampled_from(IN_BAND_ERRORS)) if errors and draw(st.integers(0, 5)) == 0 else None
    at = draw(st.sampled_from(("start", "mid"))) if error is not None else None
    count = 0 if at == "start" else draw(st.integers(1, max_steps))
    pauses = [waits and draw(st.integers(0, 3)) == 0 for _ in range(count)]
    if pauses and error is not None:
        pauses[-1] = False  # an error ends the turn after its last step, which then waits on nothing
    turn: dict[str, Any] = {"steps": [draw(_steps(pause, i == count - 1)) for i, pause in enumerate(pauses)]}
    if error is not None:
        turn["error"] = {"type": error, "at": at}
    elif pauses and pauses[-1]:
        if draw(st.booleans()):
            turn["stop_reason"] = "requires_approval"
    elif draw(st.integers(0, 2)) == 0:
        turn["stop_reason"] = draw(st.sampled_from(_ENDINGS))
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(_USAGE_KEYS), unique=True, max_size=len(_USAGE_KEYS)))
        turn["usage"] = {key: draw(st.integers(0, 100_000)) for key in keys}
    return turn
