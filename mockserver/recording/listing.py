"""``letta-mock fixtures list``: each fixture and the requests it answers, as aligned plain text.

A fixture is a line of its own (its name or file, then what it holds); its requests follow, indented, one line each:
method, path, then the query's parameters and what the body says (the input text, the flags set, the approvals) —
the columns aligned over the whole listing, whatever the lengths of names and paths. Ids are shortened to their
prefix, first eight and last four hex digits (``agent-cccccccc…0001``), so a path stays readable; the same request
repeated (a run polled) is one line with its count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.recording.format import Fixture, FixtureError, RecordedRequest

__all__ = ["Listed", "RequestLine", "body_summary", "listing", "render", "request_lines", "short_ids"]

_ID = re.compile(r"\b([a-z]+-)?([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{8}([0-9a-f]{4})\b")
_TEXT = 48  # characters of a text shown before it is cut


@dataclass(frozen=True)
class RequestLine:
    method: str
    target: str  # the path, ids shortened
    body: str  # the query's parameters and what the body says, in a few words
    times: int = 1


@dataclass(frozen=True)
class Listed:
    name: str  # the curated name or the file
    about: str  # what it holds, or why it cannot be loaded
    requests: tuple[RequestLine, ...]


def short_ids(text: str) -> str:
    """``agent-123e4567-e89b-42d3-8456-426614174000`` -> ``agent-123e4567…4000``."""
    return _ID.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}…{m.group(3)}", text)


def _cut(text: str) -> str:
    return json.dumps(text if len(text) <= _TEXT else text[: _TEXT - 1] + "…", ensure_ascii=False)


def _text_of(content: Any) -> str:
    """A message's text: a string, or its content parts' texts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", f"[{part.get('type')}]")) for part in content if isinstance(part, dict))
    return ""


def _message(message: Any) -> str:
    if not isinstance(message, dict):
        return _cut(json.dumps(message))
    kind = message.get("type")
    if kind == "approval":
        answers = [a for a in message.get("approvals") or [] if isinstance(a, dict)]
        return ", ".join(
            ("approve" if a.get("approve") else "deny") + f" {a.get('tool_call_id')}"
            if a.get("type") == "approval" else f"tool return for {a.get('tool_call_id')}"
            for a in answers
        ) or "approval"  # fmt: skip
    if kind == "tool_return":
        return ", ".join(f"tool return for {r.get('tool_call_id')}" for r in message.get("tool_returns") or []
                         if isinstance(r, dict)) or "tool return"  # fmt: skip
    role = message.get("role", "user")
    return (f"{role} " if role != "user" else "") + _cut(_text_of(message.get("content")))


def _value(key: str, value: Any) -> str:
    if value is True:
        return key
    if isinstance(value, list):
        names = [item["name"] for item in value if isinstance(item, dict) and isinstance(item.get("name"), str)]
        if value and len(names) == len(value):  # tools, client tools: by name
            return f"{key}=[{', '.join(names)}]"
        return f"{key}=[{len(value)}]"
    if isinstance(value, dict):
        return f"{key}={{…}}"
    return f"{key}={_cut(value) if isinstance(value, str) else json.dumps(value)}"


def body_summary(request: RecordedRequest) -> str:
    """What a request's body says: ``"Hello!" · streaming``, ``approve call_… · streaming``, ``text (12 bytes)``."""
    if not request.has_json:
        if request.text is not None:
            return f"text ({len(request.body_bytes())} bytes)"
        return f"binary ({len(request.body_bytes())} bytes)" if request.base64 is not None else ""
    body = request.json_body
    if not isinstance(body, dict):
        return _cut(json.dumps(body, ensure_ascii=False))
    parts: list[str] = []
    for key, value in body.items():
        if key == "input":
            parts.append(_cut(_text_of(value)))
        elif key == "messages" and isinstance(value, list):
            parts += [_message(message) for message in value]
        else:
            parts.append(_value(key, value))
    return " · ".join(parts) if parts else "{}"


def request_lines(fixture: Fixture) -> tuple[RequestLine, ...]:
    """The fixture's requests in order, the same request repeated back to back counted on one line."""
    lines: list[RequestLine] = []
    for exchange in fixture.exchanges:
        request = exchange.request
        asked = [f"{name}={value}" for name, value in request.query] + [body_summary(request)]
        line = RequestLine(request.method, short_ids(request.path), short_ids(" · ".join(a for a in asked if a)))
        if lines and (lines[-1].method, lines[-1].target, lines[-1].body) == (line.method, line.target, line.body):
            lines[-1] = RequestLine(line.method, line.target, line.body, lines[-1].times + 1)
        else:
            lines.append(line)
    return tuple(lines)


def listing(loaded: Iterable[tuple[str, Fixture | FixtureError]]) -> list[Listed]:
    out = []
    for name, fixture in loaded:
        if isinstance(fixture, FixtureError):
            out.append(Listed(name, f"(cannot be loaded: {fixture.reason})", ()))
        else:
            out.append(Listed(name, fixture.description or "", request_lines(fixture)))
    return out


def render(listed: Sequence[Listed]) -> str:
    """Aligned text: the names' column as wide as the longest name, the requests' columns as their longest cell."""
    requests = [line for item in listed for line in item.requests]
    name_width = max((len(item.name) for item in listed), default=0)
    method_width = max((len(line.method) for line in requests), default=0)
    target_width = max((len(line.target) for line in requests), default=0)
    out: list[str] = []
    for item in listed:
        out.append(f"{item.name:<{name_width}}  {item.about}".rstrip())
        for line in item.requests:
            body = " · ".join(part for part in (line.body, f"{line.times} times" if line.times > 1 else "") if part)
            out.append(f"  {line.method:<{method_width}}  {line.target:<{target_width}}  {body}".rstrip())
    return "\n".join(out)
