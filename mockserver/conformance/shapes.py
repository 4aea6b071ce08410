"""The shape of an answer: its key paths, the JSON type at each, null or not, with the values themselves left out
(ids, dates, texts and token counts differ from server to server and run to run).

A path names keys from the root (``$.llm_config.max_tokens``); an array's items share one path (``[]``), and an
item with a ``message_type`` is told apart by it (``[reasoning_message]``), so a listing that lacks a kind of
message differs from one that has it. A key that is itself an id (``{"run-…": "cancelled"}``) is named by its kind
(``<run-id>``). A few keys are enumerations whose value is part of the shape (a run's ``status``, a stop reason):
their value is kept (``string=completed``).

A stream's shape is the shape of its events, path by path under their ``message_type``, plus its *skeleton*: the
event kinds in order, a run of one kind (token chunks) as one, keep-alive pings after the first left out. A
listing's (or a turn's ``messages``) skeleton is its message types in order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mockserver.wire.sse import decode

__all__ = ["Shape", "differences", "json_shape", "shape_of", "stream_shape"]

_ID_KEY = re.compile(r"^([a-z_]+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Enumerations whose value is part of the shape (what a client branches on), not a value that varies.
VALUED_KEYS = frozenset(
    {"message_type", "status", "stop_reason", "tool_type", "agent_type", "source_type", "run_type", "event_type"}
)


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _key(key: str) -> str:
    match = _ID_KEY.match(key)
    return f"<{match.group(1)}-id>" if match else key


def _walk(value: Any, path: str, out: dict[str, set[str]], key: str = "") -> None:
    kind = _type(value)
    if key in VALUED_KEYS and isinstance(value, str):
        kind = f"string={value}"
    out.setdefault(path, set()).add(kind)
    if isinstance(value, dict):
        for name, item in value.items():
            _walk(item, f"{path}.{_key(str(name))}", out, str(name))
    elif isinstance(value, list):
        for item in value:
            tag = item.get("message_type") if isinstance(item, dict) else None
            _walk(item, f"{path}[{tag}]" if isinstance(tag, str) else f"{path}[]", out)


def json_shape(value: Any) -> dict[str, set[str]]:
    """Every key path of a JSON value with the types found there."""
    out: dict[str, set[str]] = {}
    _walk(value, "$", out)
    return out


@dataclass
class Shape:
    """What an answer looks like: ``kind`` (``json``, ``stream`` or ``text``), its paths and, for a stream, its
    skeleton."""

    kind: str
    paths: dict[str, set[str]] = field(default_factory=dict)
    skeleton: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "paths": {p: sorted(t) for p, t in sorted(self.paths.items())},
                "skeleton": self.skeleton}  # fmt: skip


def stream_shape(text: str) -> Shape:
    paths: dict[str, set[str]] = {}
    kinds: list[str] = []
    for frame in decode(text):
        if frame.data == "[DONE]":
            kinds.append("[DONE]")
            continue
        try:
            event = json.loads(frame.data)
        except ValueError:
            kinds.append("<not JSON>")
            continue
        kind = str(event.get("message_type", "?")) if isinstance(event, dict) else _type(event)
        if frame.event:
            kind = f"event:{frame.event} {kind}"
        kinds.append(kind)
        for path, types in json_shape(event).items():
            paths.setdefault(f"{kind}{path[1:]}" if path != "$" else kind, set()).update(types)
    return Shape("stream", paths, _skeleton(kinds))


def _skeleton(kinds: Iterable[str]) -> list[str]:
    out: list[str] = []
    for index, kind in enumerate(kinds):
        if kind == "ping" and index > 0:
            continue
        if not out or out[-1] != kind:
            out.append(kind)
    return out


def shape_of(content_type: str, body: bytes) -> Shape:
    """The shape of an answer with ``content_type`` and ``body``."""
    text = body.decode("utf-8", "replace")
    if "text/event-stream" in content_type:
        return stream_shape(text)
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return Shape("text")
    return Shape("json", json_shape(value), _listed(value))


def _listed(value: Any) -> list[str]:
    """The message types of a listing (or a turn's ``messages``) in order: a history's order is its shape too."""
    items = value.get("messages") if isinstance(value, dict) else value
    if not isinstance(items, list):
        return []
    return [str(i["message_type"]) for i in items if isinstance(i, dict) and isinstance(i.get("message_type"), str)]


def differences(real: Shape, mock: Shape) -> list[str]:
    """What differs between two shapes, one line each (``real`` is the server's, ``mock`` ours); a subtree that only
    one side has, or under a key whose type differs, is one line, its root's."""
    if real.kind != mock.kind:
        return [f"the server answered {real.kind}, the mock {mock.kind}"]
    out = []
    if real.skeleton != mock.skeleton:
        what = "stream" if real.kind == "stream" else "messages in order"
        out.append(f"{what}: the server sent {real.skeleton}, the mock {mock.skeleton}")
    differing: list[str] = []
    for path in sorted(real.paths.keys() | mock.paths.keys(), key=_order):
        theirs, ours = real.paths.get(path), mock.paths.get(path)
        if theirs == ours or any(_under(path, root) for root in differing):
            continue
        differing.append(path)
        if ours is None:
            out.append(f"{path}: only the server sends it ({_types(theirs)})")
        elif theirs is None:
            out.append(f"{path}: only the mock sends it ({_types(ours)})")
        else:
            out.append(f"{path}: the server sends {_types(theirs)}, the mock {_types(ours)}")
    return out


def _under(path: str, root: str) -> bool:
    return path.startswith((root + ".", root + "["))


def _order(path: str) -> tuple[int, str]:
    return (path.count(".") + path.count("["), path)


def _types(types: set[str] | None) -> str:
    return " | ".join(sorted(types or ()))
