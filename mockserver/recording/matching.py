"""Which recorded exchange answers a request, and, when none does, the nearest one and how it differs.

The rules (docs/fixtures.md, "Matching"):

* method, path and query must be equal; query parameters are compared by name (any order of names), the values
  of a repeated parameter in order;
* a JSON body is compared semantically: objects by keys (any order), arrays in order, numbers by value, but
  ``true`` is not ``1``; a body that is not JSON is compared byte for byte;
* host, port and headers are ignored, except the headers a fixture lists in ``match.headers``;
* fields named in ``match.ignore`` are left out: a bare name (``otid``) anywhere in the body or the query, a dotted
  path (``messages.*.content``, ``*`` for any key or index) from the body's root, ``query.NAME`` for one parameter.

``first_difference`` is the WireMock-style near-miss: the first field, in that order, where a request departs
from a recorded one, with both values. Pure: no I/O, no Starlette.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from mockserver.recording.format import MatchRules, RecordedRequest
from mockserver.recording.redact import REDACTED

__all__ = ["ABSENT", "Difference", "Ignore", "Incoming", "differences", "first_difference", "is_date"]


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()  # a value one side has and the other does not
_NOT_JSON: Any = object()
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def is_date(value: Any) -> bool:
    return isinstance(value, str) and _DATE.match(value) is not None


@dataclass(frozen=True)
class Incoming:
    """A request as the matcher sees it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # names in lower case
    body: bytes
    parsed: Any = field(default=_NOT_JSON, compare=False)

    @classmethod
    def of(cls, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes) -> Incoming:
        parsed: Any = _NOT_JSON
        if body:
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                parsed = _NOT_JSON
        query = parse_qsl(query_string, keep_blank_values=True)
        return cls(method.upper(), path, query, {k.lower(): v for k, v in headers.items()}, body, parsed)

    @property
    def is_json(self) -> bool:
        return self.parsed is not _NOT_JSON

    def with_json(self, value: Any, path: str, query: list[tuple[str, str]]) -> Incoming:
        """The same request with a rewritten path, query and JSON body (normalised for matching)."""
        body = json.dumps(value).encode() if self.is_json else self.body
        return Incoming(self.method, path, query, self.headers, body, value if self.is_json else _NOT_JSON)


@dataclass(frozen=True)
class Difference:
    """Where a request departs from a recorded one: a field path (``body.messages[0].content``), both values."""

    field: str
    recorded: Any
    received: Any
    at: tuple[str | int, ...] = ()  # the field as a path: ("body", "messages", 0, "content"), ("query", "limit")

    def received_in(self, incoming: Incoming) -> Any:
        """The received value as the client sent it (a normalised request differs from it)."""
        if self.at[:1] == ("path",):
            return incoming.path
        if self.at[:1] == ("query",):
            values = [v for k, v in incoming.query if k == self.at[1]]
            return ABSENT if not values else values[0] if len(values) == 1 else values
        if self.at[:1] == ("body",) and incoming.is_json:
            node = incoming.parsed
            for part in self.at[1:]:
                try:
                    node = node[part]
                except (KeyError, IndexError, TypeError):
                    return ABSENT
            return node
        return self.received

    def describe(self) -> str:
        return f"{self.field}: recorded {_show(self.recorded)}, received {_show(self.received)}"

    def as_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return None if value is ABSENT else value

        present = {"recorded_present": self.recorded is not ABSENT, "received_present": self.received is not ABSENT}
        return {"field": self.field, "recorded": plain(self.recorded), "received": plain(self.received), **present}


def _show(value: Any) -> str:
    if value is ABSENT:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def first_difference(
    recorded: RecordedRequest, incoming: Incoming, rules: MatchRules, *, any_date: bool = False
) -> Difference | None:
    found = differences(recorded, incoming, rules, any_date=any_date, limit=1)
    return found[0] if found else None


def differences(
    recorded: RecordedRequest, incoming: Incoming, rules: MatchRules, *, any_date: bool = False, limit: int = 50
) -> list[Difference]:
    """Up to ``limit`` differences, in the order the rules check them (``any_date``: every date equals every
    date, for normalised fixtures whose dates were shifted)."""
    out: list[Difference] = []
    ignore = Ignore(rules.ignore)
    if recorded.method != incoming.method:
        out.append(Difference("method", recorded.method, incoming.method, ("method",)))
    if recorded.path != incoming.path:
        out.append(Difference("path", recorded.path, incoming.path, ("path",)))
    out += _query_differences(recorded.query, incoming.query, ignore)
    for name in rules.headers:
        key = name.lower()
        want = {k.lower(): v for k, v in recorded.headers.items()}.get(key, ABSENT)
        got = incoming.headers.get(key, ABSENT)
        if want != got:
            out.append(Difference(f"headers.{key}", want, got, ("headers", key)))
    if len(out) < limit:
        out += _body_differences(recorded, incoming, ignore, any_date, limit - len(out))
    return out[:limit]


class Ignore:
    """``match.ignore`` patterns, asked about body paths and query names."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.names = {p for p in patterns if "." not in p and p != "*"}
        self.paths = [p.split(".") for p in patterns if "." in p and not p.startswith("query.")]
        self.query = {p.removeprefix("query.") for p in patterns if p.startswith("query.")} | self.names

    def body(self, path: Sequence[str | int]) -> bool:
        if path and isinstance(path[-1], str) and path[-1] in self.names:
            return True
        return any(
            len(pattern) == len(path) and all(p in ("*", str(q)) for p, q in zip(pattern, path, strict=True))
            for pattern in self.paths
        )


def _query_differences(recorded: list[tuple[str, str]], received: list[tuple[str, str]], ignore: Ignore) -> list[Any]:
    def grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, value in pairs:
            if name not in ignore.query:
                out.setdefault(name, []).append(value)
        return out

    want, got = grouped(list(recorded)), grouped(received)
    found = []
    for name in sorted(want.keys() | got.keys()):
        a, b = want.get(name, ABSENT), got.get(name, ABSENT)
        if a is not ABSENT and b is not ABSENT and len(a) == len(b):
            # A credential was redacted when recorded: any value matches it.
            b = [REDACTED if x == REDACTED else y for x, y in zip(a, b, strict=True)]
        if a != b:

            def one(values: Any) -> Any:
                return values[0] if values is not ABSENT and len(values) == 1 else values

            found.append(Difference(f"query.{name}", one(a), one(b), ("query", name)))
    return found


def _body_differences(
    recorded: RecordedRequest, incoming: Incoming, ignore: Ignore, any_date: bool, limit: int
) -> list[Difference]:
    if recorded.has_json:
        if not incoming.is_json:
            shown = incoming.body.decode("utf-8", "replace") if incoming.body else ABSENT
            return [Difference("body", recorded.json_body, shown, ("body",))]
        out: list[Difference] = []
        _json_differences(recorded.json_body, incoming.parsed, [], ignore, any_date, out, limit)
        return out
    want = recorded.body_bytes()
    if want != incoming.body:

        def shown(raw: bytes) -> Any:
            return raw.decode("utf-8", "replace") if raw else ABSENT

        return [Difference("body", shown(want), shown(incoming.body), ("body",))]
    return []


def _json_differences(
    a: Any, b: Any, path: list[str | int], ignore: Ignore, any_date: bool, out: list[Difference], limit: int
) -> None:
    if len(out) >= limit or (path and ignore.body(path)):
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            _json_differences(a.get(key, ABSENT), b.get(key, ABSENT), [*path, key], ignore, any_date, out, limit)
        return
    if isinstance(a, list) and isinstance(b, list):
        for index in range(max(len(a), len(b))):
            left = a[index] if index < len(a) else ABSENT
            right = b[index] if index < len(b) else ABSENT
            _json_differences(left, right, [*path, index], ignore, any_date, out, limit)
        return
    if not _same(a, b, any_date):
        out.append(Difference(_field(path), a, b, ("body", *path)))


def _same(a: Any, b: Any, any_date: bool) -> bool:
    if a is ABSENT or b is ABSENT:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b  # JSON true is not 1
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if any_date and is_date(a) and is_date(b):
        return True
    return type(a) is type(b) and bool(a == b)


def _field(path: Sequence[str | int]) -> str:
    text = "body"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
