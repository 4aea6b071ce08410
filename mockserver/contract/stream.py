"""Letta's stream contract: its exact framing and the grammar of a whole stream (wire doc §0, §6).

* ``framing_problems``: every event is ``data: <compact JSON>`` or ``event: error`` + ``data: <compact JSON>``, then
  a blank line; no ``id:``, ``retry:`` or comments; ``[DONE]`` only unnamed and only last. Checked by decoding
  the body as the SDKs do (``wire.sse.decode``) and writing it back: Letta's framing is the one that round-trips.
* ``ending``: the order of a whole stream: agent chunks and pings, then exactly one of ``stop_reason,
  usage_statistics, [DONE]`` (normal end), ``stop_reason, event: error, [DONE]`` (an error before the first agent
  chunk) or ``stop_reason, event: error`` and the end of the body (an error after one); every event naming a run
  names the same one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from mockserver.contract.document import Problem
from mockserver.models import MESSAGE_TYPES
from mockserver.wire.sse import DONE, Frame, decode

__all__ = ["AGENT_TYPES", "Ending", "ending", "framing_problems"]

Ending = Literal["done", "error_before_first_chunk", "error_mid_stream"]
# What a turn streams before its stop reason, besides pings (the streaming union's message types).
AGENT_TYPES = frozenset(MESSAGE_TYPES)


def framing_problems(body: bytes, *, compact: bool = True) -> tuple[list[Frame], list[Problem]]:
    """The frames of ``body`` and how its framing departs from Letta's (``compact``: JSON without spaces)."""
    problems: list[Problem] = []
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return [], [Problem("", f"the body is not UTF-8: {error}")]
    frames = decode(text)
    if text and not text.endswith("\n\n"):
        problems.append(Problem("", f"the body does not end with a blank line: {text[-80:]!r}"))
    # Letta's framing is the one that round-trips: each block is exactly what its decoded frame encodes to.
    blocks = text.split("\n\n")[:-1]
    written = [frame.encode().decode()[:-2] for frame in frames]
    bad = next((block for block, frame in zip(blocks, [*written, None], strict=False) if block != frame), None)
    if bad is not None:
        problems.append(Problem("", f"not Letta's framing (one data line, optionally after `event: error`): {bad!r}"))
    for index, frame in enumerate(frames):
        where = f"/events/{index}"
        if index and frames[index - 1].done:
            problems.append(Problem(where, "an event after [DONE]"))
        if frame.done:
            if frame.event is not None:
                problems.append(Problem(where, "[DONE] in a named event"))
            continue
        if frame.event not in (None, "error"):
            problems.append(Problem(where, f"unexpected event name {frame.event!r} (Letta names only error events)"))
        try:
            payload = json.loads(frame.data)
        except json.JSONDecodeError as error:
            problems.append(Problem(where, f"event data is not JSON ({error}): {frame.data[:120]!r}"))
            continue
        if compact and json.dumps(payload, separators=(",", ":"), ensure_ascii=False) != frame.data:
            problems.append(Problem(where, f"event JSON is not compact (wire doc §1.6): {frame.data[:120]!r}"))
    return frames, problems


def ending(types: Sequence[str], run_ids: Sequence[str | None] = ()) -> tuple[Ending | None, str | None]:
    """How a stream of these event types ends, or None and why it is not one of Letta's endings."""
    types = list(types)
    named = {run_id for run_id in run_ids if run_id is not None}
    if len(named) > 1:
        return None, f"events of one stream name several runs: {sorted(named)}"
    if "stop_reason" not in types:
        return None, f"no stop_reason: {types}"
    stop = types.index("stop_reason")
    body, tail = types[:stop], types[stop:]
    unexpected = [t for t in body if t not in AGENT_TYPES and t != "ping"]
    if unexpected:
        return None, f"{unexpected} before the stop_reason: {types}"
    agent_chunks = [t for t in body if t != "ping"]
    if tail == ["stop_reason", "usage_statistics", DONE]:
        return "done", None
    if tail == ["stop_reason", "error_message", DONE] and not agent_chunks:
        return "error_before_first_chunk", None
    if tail == ["stop_reason", "error_message"] and agent_chunks:
        return "error_mid_stream", None
    return None, f"not one of Letta's stream endings (wire doc §6.6): {types}"
