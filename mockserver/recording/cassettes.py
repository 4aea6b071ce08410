"""Per-test cassettes for the pytest plugin, as pytest-recording has them for VCR.py: a test marked
``@pytest.mark.letta_mock(record="once", upstream=URL)`` records its exchanges with a real server the first time
and replays them from then on.

* The cassette is a directory beside the test module, ``cassettes/<module>/<test name>/`` (the marker's
  ``cassette=`` names another, relative to the module), holding one fixture file per exchange.
* The mode: ``--letta-mock-record-mode`` on the command line wins (so CI can say ``none``, or a developer ``all`` to
  record afresh), then the marker's ``record=``, else ``none``: nothing reaches a server unless asked.
* ``upstream=`` (else ``$LETTA_MOCK_UPSTREAM``) is needed only when something is to be recorded;
  ``normalise=True`` records placeholders; ``replay_speed`` (default 0: at once) paces the replay.
* A test that should replay but has no cassette fails at set-up, saying how to record one.

Loaded by the plugin at start-up: imports nothing heavy until a cassette is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from mockserver.recording.proxy import Recorder

__all__ = ["CASSETTE_KEYS", "OPTION", "add_option", "cassette_app", "serve_cassette", "wants_cassette"]

OPTION = "--letta-mock-record-mode"
CASSETTE_KEYS = frozenset({"record", "upstream", "cassette", "normalise"})
_MODES = ("once", "new_episodes", "all", "none")


def add_option(parser: pytest.Parser) -> None:
    parser.getgroup("letta-mock").addoption(
        OPTION,
        choices=_MODES,
        default=None,
        help="record mode of every letta_mock cassette (overrides the markers' record=): once, new_episodes, all, none",
    )


def wants_cassette(options: dict[str, Any]) -> bool:
    return bool(CASSETTE_KEYS & options.keys())


def _directory(request: pytest.FixtureRequest, options: dict[str, Any]) -> Path:
    module = Path(str(request.node.path))
    if options.get("cassette"):
        return module.parent / str(options["cassette"])
    test = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    return module.parent / "cassettes" / module.stem / test


def cassette_app(request: pytest.FixtureRequest, options: dict[str, Any]) -> Recorder:
    """The test's cassette as an ASGI app: a recorder in the chosen mode."""
    from mockserver.errors import ConfigurationError
    from mockserver.recording.proxy import Recorder

    mode = request.config.getoption(OPTION) or options.get("record") or "none"
    directory = _directory(request, options)
    upstream = options.get("upstream") or os.environ.get("LETTA_MOCK_UPSTREAM")
    holds = directory.is_dir() and any(directory.glob("*.json"))
    if mode == "none" and not holds:
        pytest.fail(f"no letta-mock cassette at {directory}: record it with {OPTION}=once (and upstream=...)",
                    pytrace=False)  # fmt: skip
    records = mode in ("all", "new_episodes") or (mode == "once" and not holds)
    if records and not upstream:
        pytest.fail(f"letta-mock cassette {directory} in mode {mode} records: give upstream= or $LETTA_MOCK_UPSTREAM",
                    pytrace=False)  # fmt: skip
    unknown = set(options) - CASSETTE_KEYS - {"replay_speed"}
    if unknown:
        pytest.fail(f"letta_mock marker: {sorted(unknown)} do not apply to a cassette (record=, upstream=, ...)",
                    pytrace=False)  # fmt: skip
    try:
        return Recorder(
            upstream or "http://127.0.0.1:9",  # never contacted: nothing is recorded in this mode
            directory,
            mode=mode,
            normalise=bool(options.get("normalise", False)),
            replay_speed=float(options.get("replay_speed", 0.0)),
        )
    except ConfigurationError as error:
        raise pytest.fail.Exception(f"letta-mock cassette: {error}", pytrace=False) from None


class _Server(Protocol):
    """The plugin's live server (``mockserver.live.LiveServer``, a layer above this package)."""

    def serve(self, app: Any) -> str: ...


@contextmanager
def serve_cassette(
    server: _Server, request: pytest.FixtureRequest, options: dict[str, Any], *, afterwards: Any
) -> Iterator[str]:
    """Serve the test's cassette on the session's live server, then ``afterwards`` (the app it served before, or
    one built as its options say), so the next test finds a mock behind the socket."""
    url = server.serve(cassette_app(request, options))
    try:
        yield url
    finally:
        server.serve(afterwards)
