"""Replay's decisions: which recorded exchange answers a request, what it answers with, and the near miss.

* Requests are matched as ``matching`` says; against a normalised fixture the request is first normalised
  (``normalise``) with this session's aliases, so the client's own ids stand for the fixture's placeholders.
* *Sequences*: every recorded exchange a request matches forms its group, in load order (files in path order,
  exchanges in file order). The n-th matching request gets the group's n-th answer; once they are used up the last
  one repeats (a poll that keeps seeing the finished run). ``fresh_only`` (a recorder in ``new_episodes`` mode)
  treats a used-up group as not recorded.
* A miss names the nearest recorded exchange (fewest differences, a different method or path counting most) and
  the first difference, in Letta's error shape: ``404 {"detail": "<sentence>", "near_miss": {...}}``.

The session (answers given, aliases) lives in the store for a server (``POST /_mock/reset`` starts it over) or in a
recorder. No Starlette here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mockserver.recording.format import MatchRules
from mockserver.recording.library import Entry, Library
from mockserver.recording.matching import Difference, Ignore, Incoming, differences
from mockserver.recording.normalise import CLIENT, Normaliser
from mockserver.recording.redact import is_credential_param

__all__ = ["Hit", "LocalSession", "NearMiss", "Replayer", "Session", "miss_body"]

MISS_STATUS = 404  # WireMock's answer to an unmatched request; not retried by the SDKs (wire doc §0 rule 10)


class Session(Protocol):
    """What replay remembers between requests."""

    @property
    def aliases(self) -> dict[str, str]: ...

    def count(self, group: str) -> int: ...

    def used(self, group: str) -> None: ...

    def alias(self, real: str, placeholder: str) -> None: ...


@dataclass
class LocalSession:
    """A session of its own (a recorder's)."""

    aliases: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, group: str) -> int:
        return self.counts.get(group, 0)

    def used(self, group: str) -> None:
        self.counts[group] = self.counts.get(group, 0) + 1

    def alias(self, real: str, placeholder: str) -> None:
        self.aliases[real] = placeholder


@dataclass(frozen=True)
class Hit:
    entry: Entry
    group: str
    aliases: dict[str, str]  # aliases this request adds (normalised fixtures)

    def rewrite(self, session: Session) -> Callable[[str], str] | None:
        """How the answer's text is written back for this client (its placeholders by its own ids)."""
        if not self.entry.fixture.normalised:
            return None
        return Normaliser({**session.aliases, **self.aliases}, dates=False).denormalise


@dataclass(frozen=True)
class NearMiss:
    entry: Entry
    difference: Difference


class Replayer:
    def __init__(self, library: Library) -> None:
        self.library = library

    def find(self, incoming: Incoming, session: Session, *, fresh_only: bool = False) -> Hit | None:
        views = _Views(incoming, session)
        matched: list[tuple[Entry, dict[str, str]]] = []
        for entry in self.library.entries:
            view, aliases = views.of(entry)
            if not differences(entry.exchange.request, view, entry.fixture.match, any_date=entry.fixture.normalised,
                               limit=1):  # fmt: skip
                matched.append((entry, aliases))
        if not matched:
            return None
        group = f"{matched[0][0].where}#{matched[0][0].index}"
        position = session.count(group)
        if fresh_only and position >= len(matched):
            return None
        entry, aliases = matched[min(position, len(matched) - 1)]
        return Hit(entry, group, aliases)

    def use(self, hit: Hit, session: Session) -> None:
        """The hit answers: count it and keep the aliases its request made."""
        session.used(hit.group)
        for real, placeholder in hit.aliases.items():
            session.alias(real, placeholder)

    def near_miss(self, incoming: Incoming, session: Session) -> NearMiss | None:
        views = _Views(incoming, session)
        best: tuple[int, Entry, Difference] | None = None
        for entry in self.library.entries:
            view, _ = views.of(entry)
            found = differences(entry.exchange.request, view, entry.fixture.match, any_date=entry.fixture.normalised)
            if not found:
                continue
            score = sum(1000 if d.field == "method" else 100 if d.field == "path" else 1 for d in found)
            if best is None or score < best[0]:
                best = (score, entry, found[0])
        return NearMiss(best[1], best[2]) if best is not None else None


class _Views:
    """The request as each fixture sees it: as sent, or normalised under a fixture's ignore rules."""

    def __init__(self, incoming: Incoming, session: Session) -> None:
        self.incoming = incoming
        self.session = session
        self._cache: dict[tuple[str, ...], tuple[Incoming, dict[str, str]]] = {}

    def of(self, entry: Entry) -> tuple[Incoming, dict[str, str]]:
        if not entry.fixture.normalised:
            return self.incoming, {}
        key = tuple(entry.fixture.match.ignore)
        if key not in self._cache:
            base = Normaliser(dict(self.session.aliases), dates=False)
            trial = base.fork()
            view = normalised_request(trial, self.incoming, entry.fixture.match)
            self._cache[key] = (view, trial.new_aliases(base))
        return self._cache[key]


def normalised_request(normaliser: Normaliser, incoming: Incoming, rules: MatchRules) -> Incoming:
    """The request with the client's ids as placeholders: path, then query, then body (the order they were
    first seen in when recorded). Ignored fields make no new placeholders."""
    ignore = Ignore(rules.ignore)
    path = normaliser.text(incoming.path, CLIENT)
    query = [(name, normaliser.text(value, CLIENT, allocate=name not in ignore.query and not is_credential_param(name)))
             for name, value in incoming.query]  # fmt: skip
    if incoming.is_json:
        body = normaliser.json(incoming.parsed, CLIENT, ignored=ignore.body)
        return incoming.with_json(body, path, query)
    return Incoming(incoming.method, path, query, incoming.headers, incoming.body)


def miss_body(incoming: Incoming, near: NearMiss | None, sources: Sequence[str]) -> dict[str, Any]:
    """Letta's error shape for a request no recording answers: a sentence, and the near miss as data."""
    asked = f"{incoming.method} {incoming.path}"
    if near is None:
        loaded = ", ".join(sources) or "no fixtures"
        return {"detail": f"letta-mock replay: no recorded exchange matches {asked} (loaded: {loaded})"}
    recorded = near.entry.exchange.request
    difference = near.difference
    if near.entry.fixture.normalised:  # say what the client sent, not its normalised form
        difference = Difference(difference.field, difference.recorded, difference.received_in(incoming), difference.at)
    detail = (
        f"letta-mock replay: no recorded exchange matches {asked}; nearest is exchange {near.entry.index} of "
        f"{near.entry.where} ({recorded.method} {recorded.path}), which differs at {difference.describe()}"
    )
    return {
        "detail": detail,
        "near_miss": {
            "fixture": near.entry.where,
            "exchange": near.entry.index,
            "request": f"{recorded.method} {recorded.path}",
            **difference.as_json(),
        },
    }
