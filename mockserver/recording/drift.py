"""``letta-mock fixtures check --live URL``: send the recorded requests again to a running server, in recorded
order, and report where its answers no longer have the recorded shape.

Shape, not values (ids, dates and texts differ from run to run):

* the status;
* JSON or stream, as recorded;
* the keys of each message type (every object with a ``message_type``, in a JSON body or a stream), both ways;
* the stream skeleton: its event types in order, pings left out and a run of one type (token chunks) as one.

Ids the server made up differ from the recorded ones, so later requests could not name them: the checker learns
them as it goes (the n-th new id of a kind in a recorded answer is the n-th in the live one) and writes the live
ones into the requests it sends. ``agent`` replaces every agent id the requests name (a recording made elsewhere).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import httpx

from mockserver.recording.check import Finding
from mockserver.recording.format import Exchange, FixtureError
from mockserver.recording.library import load_library
from mockserver.recording.redact import REDACTED
from mockserver.wire.sse import decode

__all__ = ["check_live", "skeleton"]

_ID = re.compile(r"\b([a-z]+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_TOOL_ID = re.compile(r'"tool_call_id"\s*:\s*"([^"\\]+)"')


def skeleton(types: Sequence[str]) -> list[str]:
    out: list[str] = []
    for kind in types:
        if kind != "ping" and (not out or out[-1] != kind):
            out.append(kind)
    return out


def _stream_events(body: bytes) -> list[Any]:
    events = []
    for frame in decode(body.decode("utf-8", "replace")):
        try:
            events.append(json.loads(frame.data))
        except ValueError:
            events.append(frame.data)
    return events


def _typed(value: Any) -> list[dict[str, Any]]:
    """Every object with a ``message_type`` in ``value``."""
    if isinstance(value, dict):
        own = [value] if isinstance(value.get("message_type"), str) else []
        return own + [found for item in value.values() for found in _typed(item)]
    if isinstance(value, list):
        return [found for item in value for found in _typed(item)]
    return []


def _keys(objects: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for item in objects:
        out.setdefault(item["message_type"], set()).update(item)
    return out


def _ids(text: str) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for match in _ID.finditer(text):
        seen.setdefault(match.group(0), match.group(1))
    for match in _TOOL_ID.finditer(text):
        seen.setdefault(match.group(1), "tool_call")
    return [(value, kind) for value, kind in seen.items()]


def _learn(mapping: dict[str, str], recorded: str, live: str) -> None:
    theirs: dict[str, list[str]] = {}
    for value, kind in _ids(live):
        theirs.setdefault(kind, []).append(value)
    taken: dict[str, int] = {}
    for value, kind in _ids(recorded):
        if value in mapping:
            continue
        index = taken.get(kind, 0)
        if index < len(theirs.get(kind, [])):
            mapping[value] = theirs[kind][index]
        taken[kind] = index + 1


def _substitute(text: str, mapping: dict[str, str], agent: str | None) -> str:
    for recorded in sorted(mapping, key=len, reverse=True):
        text = text.replace(recorded, mapping[recorded])
    if agent is not None:
        text = re.sub(r"\bagent-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", agent, text)
    return text


def check_live(
    specs: Sequence[str], url: str, *, api_key: str | None = None, agent: str | None = None, timeout: float = 120.0
) -> list[Finding]:
    findings: list[Finding] = []
    mapping: dict[str, str] = {}
    try:
        library = load_library(specs)
    except FixtureError as error:
        return [Finding(error.where, "", error.reason)]
    with httpx.Client(base_url=url.rstrip("/"), timeout=httpx.Timeout(30.0, read=timeout)) as client:
        for entry in library.entries:
            base = f"/exchanges/{entry.index}"
            try:
                problems, recorded_text, live_text = _one(client, entry.exchange, mapping, agent, api_key)
            except httpx.HTTPError as error:
                findings.append(Finding(entry.where, base, f"the live server did not answer: {error}", url))
                continue
            findings += [Finding(entry.where, base + path, message, url) for path, message in problems]
            _learn(mapping, recorded_text, live_text)
    return findings


def _one(
    client: httpx.Client, exchange: Exchange, mapping: dict[str, str], agent: str | None, api_key: str | None
) -> tuple[list[tuple[str, str]], str, str]:
    request, recorded = exchange.request, exchange.response
    headers = {k: v for k, v in request.headers.items() if v != REDACTED}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    body = request.body_bytes()
    if request.has_json:
        headers.setdefault("content-type", "application/json")
    content = _substitute(body.decode("utf-8", "surrogateescape"), mapping, agent).encode("utf-8", "surrogateescape")
    path = _substitute(request.path, mapping, agent)
    query: list[tuple[str, str | int | float | bool | None]] = [
        (k, _substitute(v, mapping, agent)) for k, v in request.query if v != REDACTED
    ]
    with client.stream(request.method, path, params=query, content=content or None, headers=headers) as live:
        live_body = live.read()
    problems: list[tuple[str, str]] = []
    if live.status_code != recorded.status:
        answered = f"recorded {recorded.status}, the live server answered {live.status_code}"
        problems.append(("/response/status", answered))
    live_stream = "text/event-stream" in live.headers.get("content-type", "")
    recorded_body = recorded.body_bytes()
    if recorded.is_stream != live_stream:
        kinds = {True: "a stream", False: "JSON"}
        problems.append(("/response", f"recorded {kinds[recorded.is_stream]}, the live server {kinds[live_stream]}"))
        return problems, recorded_body.decode("utf-8", "replace"), live_body.decode("utf-8", "replace")
    if live_stream:
        ours, theirs = _stream_events(recorded_body), _stream_events(live_body)
        was, now = (skeleton([_type(e) for e in side]) for side in (ours, theirs))
        if was != now:
            problems.append(("/response/stream", f"stream skeleton: recorded {was}, live {now}"))
    else:
        try:
            ours, theirs = json.loads(recorded_body or b"null"), json.loads(live_body or b"null")
        except ValueError:
            return problems, recorded_body.decode("utf-8", "replace"), live_body.decode("utf-8", "replace")
        if isinstance(ours, dict) and isinstance(theirs, dict) and set(ours) != set(theirs):
            problems.append(("/response/json", _keys_differ("the body", set(ours), set(theirs))))
    mine, live_keys = _keys(_typed(ours)), _keys(_typed(theirs))
    for kind in sorted(mine.keys() & live_keys.keys()):
        if mine[kind] != live_keys[kind]:
            problems.append(("/response", _keys_differ(kind, mine[kind], live_keys[kind])))
    return problems, recorded_body.decode("utf-8", "replace"), live_body.decode("utf-8", "replace")


def _type(event: Any) -> str:
    return str(event.get("message_type", "?")) if isinstance(event, dict) else str(event)


def _keys_differ(what: str, recorded: set[str], live: set[str]) -> str:
    parts = []
    if recorded - live:
        parts.append(f"missing live: {sorted(recorded - live)}")
    if live - recorded:
        parts.append(f"new live: {sorted(live - recorded)}")
    return f"keys of {what} differ ({'; '.join(parts)})"
