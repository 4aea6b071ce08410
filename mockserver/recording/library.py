"""Finding fixtures: ``--fixtures PATH`` as a directory, a file (a fixture or a HAR) or a curated fixture's name.

* a path that exists is used as given: a directory means every ``*.json`` and ``*.har`` below it, in the order of
  their relative paths (a recording's files are numbered, so that is recorded order);
* anything else must be the name of a curated fixture (``fixtures/`` of the source tree, ``mockserver/fixtures``
  in the wheel, read with importlib.resources): lower-case letters, digits and ``_`` only, so a name cannot
  reach outside that folder;
* every file is loaded at once, and the first one that cannot be used is refused, naming it and why
  (``load_each`` goes on past it, for the tools that report on every file).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from mockserver.recording.format import Exchange, Fixture, FixtureError, parse_fixture, parse_json
from mockserver.recording.har import is_har, parse_har

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = [
    "Entry",
    "Library",
    "curated_names",
    "curated_root",
    "from_fixtures",
    "load_each",
    "load_library",
    "parse_any",
    "resolve",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_SUFFIXES = (".json", ".har")


@dataclass(frozen=True)
class Entry:
    """One recorded exchange, where it came from, and the rules of its file."""

    where: str  # the file (or curated name) it was loaded from
    index: int  # its place in that file's exchanges, from 0
    exchange: Exchange
    fixture: Fixture

    @property
    def label(self) -> str:
        return self.where if len(self.fixture.exchanges) == 1 else f"{self.where}#{self.index}"


@dataclass(frozen=True)
class Library:
    entries: tuple[Entry, ...]
    sources: tuple[str, ...]


def curated_root() -> Traversable:
    """The curated fixtures: inside the installed package, or ``fixtures/`` beside it in a source checkout."""
    packaged = resources.files("mockserver").joinpath("fixtures")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "fixtures"


@cache
def curated_names() -> tuple[str, ...]:
    root = curated_root()
    if not root.is_dir():
        return ()
    return tuple(sorted(item.name[:-5] for item in root.iterdir() if item.name.endswith(".json")))


def resolve(spec: str) -> list[tuple[str, str]]:
    """(where, text) of every file ``spec`` names."""
    return [(where, read()) for where, read in _files(spec)]


def _files(spec: str) -> list[tuple[str, Callable[[], str]]]:
    """(where, how to read it) of every file ``spec`` names; ``FixtureError`` when it names none."""
    path = Path(spec)
    if path.is_dir():
        files = sorted((p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file()),
                       key=lambda p: p.relative_to(path).as_posix())  # fmt: skip
        if not files:
            raise FixtureError(spec, "a directory without fixture files (*.json, *.har)")
        return [(str(file), partial(_read, file, str(file))) for file in files]
    if path.is_file():
        return [(spec, partial(_read, path, spec))]
    if not _NAME.match(spec):
        raise FixtureError(spec, "no such file or directory (and not a curated fixture's name)")
    names = curated_names()
    if spec not in names:
        close = difflib.get_close_matches(spec, names, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"curated fixtures: {', '.join(names) or 'none'}"
        raise FixtureError(spec, f"no file, directory or curated fixture of that name; {hint}")
    item = curated_root().joinpath(f"{spec}.json")
    return [(spec, partial(item.read_text, encoding="utf-8"))]


def _read(path: Path, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FixtureError(where, f"cannot be read ({error})") from None


def parse_any(text: str, where: str) -> Fixture:
    """A fixture file or a HAR file (recognised by its content, whatever its name)."""
    raw = parse_json(text, where)
    if is_har(raw):
        return parse_har(raw, where)
    return parse_fixture(text, where)


def load_library(specs: Iterable[str] | str | None) -> Library:
    """Every exchange of every fixture ``specs`` name, in order; ``FixtureError`` at the first unusable file."""
    if specs is None:
        specs = ()
    elif isinstance(specs, str | Path):
        specs = (str(specs),)
    entries: list[Entry] = []
    sources: list[str] = []
    for spec in specs:
        for where, text in resolve(str(spec)):
            fixture = parse_any(text, where)
            sources.append(where)
            entries += [Entry(where, i, exchange, fixture) for i, exchange in enumerate(fixture.exchanges)]
    return Library(tuple(entries), tuple(sources))


def load_each(specs: Iterable[str]) -> Iterator[tuple[str, Fixture | FixtureError]]:
    """Every file ``specs`` name, in order, as (where, its fixture or why it cannot be used): one unusable file
    (or a spec naming none) does not hide the others, as ``load_library`` does (``fixtures check``, ``list``)."""
    for spec in specs:
        try:
            files = _files(str(spec))
        except FixtureError as error:
            yield spec, error
            continue
        for where, read in files:
            try:
                yield where, parse_any(read(), where)
            except FixtureError as error:
                yield where, error


def from_fixtures(fixtures: Sequence[tuple[str, Fixture]]) -> Library:
    """A library of fixtures already in memory (a recorder's own)."""
    entries = [Entry(where, i, exchange, fixture) for where, fixture in fixtures
               for i, exchange in enumerate(fixture.exchanges)]  # fmt: skip
    return Library(tuple(entries), tuple(where for where, _ in fixtures))
