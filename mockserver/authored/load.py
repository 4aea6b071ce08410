"""Rules from text and files: YAML (read safely: plain data only) or JSON, in the one format of ``format``.

YAML goes through PyYAML's safe loader, which builds no object of any class, and further refuses aliases (``*name``):
a rule file never needs them, and a few nested aliases would make the document exponentially large to walk.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from mockserver.authored.format import Document, RulesInvalid, read_rules
from mockserver.config import MockConfig

__all__ = ["MAX_DOCUMENT_BYTES", "fixture_turns", "parse_document", "read_file"]

MAX_DOCUMENT_BYTES: int = MockConfig.max_body_bytes  # as a request body is, by default (8 MiB)


@cache
def _safe_loader() -> Any:
    """PyYAML's safe loader without aliases (a class built on first use)."""
    import yaml

    class SafeLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not read in rule files", mark)
            return super().compose_node(parent, index)

    return SafeLoader


def parse_document(text: str | bytes, *, where: str, json_only: bool = False) -> Any:
    """The data of a rules document (JSON, or YAML unless ``json_only``); ``RulesInvalid`` when it does not parse."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise RulesInvalid([f"{len(text)} bytes: at most {MAX_DOCUMENT_BYTES}"], where)
    import yaml  # here, not at the top: a server without rule files never loads PyYAML

    try:
        if json_only:
            return json.loads(text)
        return yaml.load(text, Loader=_safe_loader())
    except yaml.YAMLError as error:
        raise RulesInvalid([f"not YAML: {' '.join(str(error).split())}"], where) from None
    except (ValueError, RecursionError) as error:
        raise RulesInvalid([f"not JSON: {error}"], where) from None


def read_file(path: Path) -> Document:
    """A rule file (``.json`` read as JSON, anything else as YAML, JSON included)."""
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RulesInvalid([f"cannot be read: {error.strerror or error}"], where) from None
    parsed = parse_document(data, where=where, json_only=path.suffix.lower() == ".json")
    return read_rules(parsed, source=where, fixture_turns=fixture_turns)


def fixture_turns(name: str) -> list[Any]:
    """The turns a recording's sends make (``fixture:`` rules): a fixture or HAR file, a directory, a curated name."""
    from mockserver.authored.author import author_turns
    from mockserver.recording.format import FixtureError
    from mockserver.recording.library import load_library

    try:
        library = load_library([name])
    except FixtureError as error:
        raise ValueError(str(error)) from None
    return author_turns(library)


def as_sources(given: Sequence[Any]) -> list[tuple[Path | None, list[Any]]]:
    """``create_app(rules=...)``'s items in order: a path (a file to read and watch) or rules (dicts or builders),
    consecutive rules kept together."""
    out: list[tuple[Path | None, list[Any]]] = []
    for item in given:
        if isinstance(item, str | Path):
            out.append((Path(item), []))
        elif out and out[-1][0] is None:
            out[-1][1].append(item)
        else:
            out.append((None, [item]))
    return out
