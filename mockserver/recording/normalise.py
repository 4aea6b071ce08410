"""``--normalise``: ids and dates replaced by consistent placeholders, so a recording is stable and still chains.

Rules (docs/fixtures.md, "Normalised fixtures"):

* every UUID (``agent-…``, ``message-…``, ``run-…``, ``step-…``, ``conv-…``, ``ping-…``, bare otids) keeps its
  prefix and gets a placeholder UUID, the same one wherever the value appears, requests and responses alike. A
  value first seen in a *request* came from the client (its agent id, its otids) and gets a client placeholder
  ``cccccccc-0000-4000-8000-<n>``; one first seen in a *response* the server made up and gets a server placeholder
  ``00000000-0000-4000-8000-<n>``. Tool call ids (the values of ``tool_call_id``) get ``<prefix>_<n>`` the same way;
* dates are shifted by one constant, so the first date seen becomes 2025-01-01T00:00:00 (order, spacing,
  precision and suffix kept);
* placeholders are the same length as what they replace, so a stream's chunk boundaries stay where they were.

Replay runs the same rules over each request to a normalised fixture: the client's n-th new id becomes client
placeholder n (so a test may use any agent id), server placeholders it got from a replayed answer stay as they are,
and dates match any date. Answers are written back with the client's own ids in place of its placeholders
(``denormalise``). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

__all__ = ["CLIENT", "SERVER", "Normaliser", "placeholder_numbers", "resplit"]

Side = Literal["client", "server"]
CLIENT: Side = "client"
SERVER: Side = "server"

_HEX = "[0-9a-fA-F]"
_UUID = re.compile(rf"(?<![0-9A-Za-z]){_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![0-9A-Za-z])")
_PLACEHOLDER = re.compile(r"^(cccccccc|00000000)-0000-4000-8000-(\d{12})$")
_TOOL_ID_IN_JSON = re.compile(r'"tool_call_id"\s*:\s*"([^"\\]{1,200})"')
_TOOL_PLACEHOLDER = re.compile(r"^(?:.*_)?(c?)(\d+)$")
_DATE = re.compile(
    r"(?<![0-9])(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?(?![0-9])"
)
BASE_DATE = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _uuid_placeholder(side: Side, number: int) -> str:
    head = "cccccccc" if side == CLIENT else "00000000"
    return f"{head}-0000-4000-8000-{number:012d}"


def _tool_placeholder(real: str, side: Side, number: int) -> str:
    prefix, _, tail = real.rpartition("_")
    prefix = prefix + "_" if prefix else ""
    digits = str(number)
    width = max(len(tail) - (1 if side == CLIENT else 0), len(digits))
    return prefix + ("c" if side == CLIENT else "") + digits.zfill(width)


def placeholder_numbers(text: str) -> int:
    """The highest server placeholder number in ``text`` (a fixture file): where a new recording continues."""
    highest = 0
    for match in re.finditer(r"00000000-0000-4000-8000-(\d{12})", text):
        highest = max(highest, int(match.group(1)))
    for match in _TOOL_ID_IN_JSON.finditer(text):
        found = _TOOL_PLACEHOLDER.match(match.group(1))
        if found and not found.group(1):
            highest = max(highest, int(found.group(2)))
    return highest


class Normaliser:
    """One session's placeholders. ``aliases`` maps real values (UUIDs in lower case, tool call ids) to their
    placeholders; pass a dict to share it, ``bind`` to be told of each new alias instead of it being stored."""

    def __init__(
        self,
        aliases: dict[str, str] | None = None,
        *,
        dates: bool = True,
        server_start: int = 0,
        bind: Callable[[str, str], None] | None = None,
    ) -> None:
        self.aliases: dict[str, str] = aliases if aliases is not None else {}
        self.dates = dates
        self._bind = bind
        self._date_offset: timedelta | None = None
        self._server = server_start
        self._client = 0
        self._counted = 0
        self._recount()

    def _recount(self) -> None:
        # Aliases may also arrive from outside (a recorder's replayed answers add the client's): numbers go on
        # from the highest in use, whoever made it.
        if self._counted != len(self.aliases):
            for value in self.aliases.values():
                self._count(value)
            self._counted = len(self.aliases)

    def _count(self, placeholder: str) -> None:
        match = _PLACEHOLDER.match(placeholder) or _TOOL_PLACEHOLDER.match(placeholder)
        if match is None:
            return
        client = match.group(1) in ("cccccccc", "c")
        number = int(match.group(2))
        if client:
            self._client = max(self._client, number)
        else:
            self._server = max(self._server, number)

    def fork(self) -> Normaliser:
        """A copy to try a request on; ``new_aliases`` then says what it would add."""
        other = Normaliser(dict(self.aliases), dates=self.dates)
        other._server = max(other._server, self._server)
        other._client = max(other._client, self._client)
        other._date_offset = self._date_offset
        return other

    def new_aliases(self, base: Normaliser) -> dict[str, str]:
        return {real: alias for real, alias in self.aliases.items() if real not in base.aliases}

    def _add(self, real: str, placeholder: str) -> None:
        self.aliases[real] = placeholder
        self._counted += 1
        if self._bind is not None:
            self._bind(real, placeholder)

    # -- values -------------------------------------------------------------------------------------------------

    def _uuid(self, value: str, side: Side, allocate: bool) -> str:
        key = value.lower()
        if _PLACEHOLDER.match(key):
            return value  # a placeholder handed back by the client
        known = self.aliases.get(key)
        if known is not None:
            return known
        if not allocate:
            return value
        self._recount()
        if side == CLIENT:
            self._client += 1
            placeholder = _uuid_placeholder(CLIENT, self._client)
        else:
            self._server += 1
            placeholder = _uuid_placeholder(SERVER, self._server)
        self._add(key, placeholder)
        return placeholder

    def _tool_id(self, value: str, side: Side, allocate: bool) -> str:
        if _TOOL_PLACEHOLDER.match(value) or value in self.aliases.values() or _UUID.search(value):
            return value  # already a placeholder (one the client hands back), or a UUID (the UUID rule places it)
        known = self.aliases.get(value)
        if known is not None or not allocate:
            return known or value
        self._recount()
        if side == CLIENT:
            self._client += 1
            placeholder = _tool_placeholder(value, CLIENT, self._client)
        else:
            self._server += 1
            placeholder = _tool_placeholder(value, SERVER, self._server)
        self._add(value, placeholder)
        return placeholder

    def _date(self, match: re.Match[str]) -> str:
        if not self.dates:
            return match.group(0)
        year, month, day, hour, minute, second, fraction, suffix = match.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
        except ValueError:
            return match.group(0)  # not a real date
        if self._date_offset is None:
            # Whole seconds, so a date's fraction digits stay as they were.
            self._date_offset = moment.replace(tzinfo=timezone.utc) - BASE_DATE
        shifted = moment - self._date_offset
        if not 1000 <= shifted.year <= 9999:
            return match.group(0)  # the same length or nothing
        return shifted.strftime("%Y-%m-%dT%H:%M:%S") + (fraction or "") + (suffix or "")

    # -- texts and JSON -----------------------------------------------------------------------------------------

    def text(self, text: str, side: Side, *, allocate: bool = True) -> str:
        """``text`` (a JSON body, an SSE body, a path) with its ids and dates replaced."""
        tools = [m.group(1) for m in _TOOL_ID_IN_JSON.finditer(text)]
        for value in tools:
            self._tool_id(value, side, allocate)
        known_tools = [v for v in dict.fromkeys(tools) if v in self.aliases]
        text = _UUID.sub(lambda m: self._uuid(m.group(0), side, allocate), text)
        for value in sorted(known_tools, key=len, reverse=True):
            text = re.sub(rf"(?<![0-9A-Za-z_]){re.escape(value)}(?![0-9A-Za-z_])", self.aliases[value], text)
        return _DATE.sub(self._date, text)

    def json(self, value: Any, side: Side, *, ignored: Callable[[Sequence[str | int]], bool] | None = None) -> Any:
        """A JSON value with its ids and dates replaced; values at ``ignored`` paths only by known aliases."""

        def walk(node: Any, path: list[str | int]) -> Any:
            allocate = not (ignored is not None and path and ignored(path))
            if isinstance(node, dict):
                return {key: walk(item, [*path, key]) for key, item in node.items()}
            if isinstance(node, list):
                return [walk(item, [*path, index]) for index, item in enumerate(node)]
            if isinstance(node, str):
                if path and path[-1] == "tool_call_id":
                    return self._tool_id(node, side, allocate)
                return self.text(node, side, allocate=allocate)
            return node

        return walk(value, [])

    def denormalise(self, text: str) -> str:
        """``text`` with each client placeholder replaced by the client's own value (same length for UUIDs)."""
        back = {alias: real for real, alias in self.aliases.items() if _is_client(alias)}
        if not back:
            return text
        text = _UUID.sub(lambda m: back.get(m.group(0), m.group(0)), text)
        tools = [alias for alias in back if not _PLACEHOLDER.match(alias)]
        for alias in sorted(tools, key=len, reverse=True):
            text = re.sub(rf"(?<![0-9A-Za-z_]){re.escape(alias)}(?![0-9A-Za-z_])", back[alias], text)
        return text


def _is_client(alias: str) -> bool:
    match = _PLACEHOLDER.match(alias)
    if match is not None:
        return match.group(1) == "cccccccc"
    tool = _TOOL_PLACEHOLDER.match(alias)
    return tool is not None and tool.group(1) == "c"


def resplit(original: Sequence[bytes], text: str) -> list[bytes]:
    """``text`` (the normalised join of ``original``) cut again at the original boundaries: placeholders keep
    lengths, so only a replacement of another length moves a boundary (to the end of that replacement)."""
    data = text.encode("utf-8", "surrogateescape")
    total = sum(len(chunk) for chunk in original)
    if len(data) == total:
        out, at = [], 0
        for chunk in original:
            out.append(data[at : at + len(chunk)])
            at += len(chunk)
        return out
    # Lengths changed (a date that could not keep its length): keep each event's boundary instead.
    parts = re.split(rb"(?<=\n\n)", data)
    return [part for part in parts if part]
