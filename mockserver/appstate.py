"""What an app keeps on ``app.state`` — its frozen config, default controls, store and journal — and the one way
to start it over."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import State

from mockserver.authored.ruleset import RuleSet
from mockserver.config import MockConfig
from mockserver.control import NO_CONTROLS
from mockserver.journal import Journal
from mockserver.store import Store

__all__ = ["AppState", "install", "reset"]


class AppState(State):
    """Starlette's ``State`` keeping its values in the instance's own attribute dict, so that reading one
    (``app.state.store``: every handler, every request) is a plain attribute lookup. Starlette's reaches its value
    through ``__getattr__``, which Python calls only after the ordinary lookup has failed and raised."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        super().__init__(self.__dict__)
        self.__dict__.update(state or {})


def install(app: Starlette, config: MockConfig, store: Store, journal: Journal, ruleset: RuleSet) -> None:
    app.state = AppState(app.state._state)
    app.state.config = config
    app.state.ruleset = ruleset  # the authored rules (not Letta's profile rules, ``rules.Rules``)
    app.state.configured_defaults = config.controls or NO_CONTROLS
    app.state.defaults = app.state.configured_defaults
    app.state.store = store
    app.state.journal = journal


def reset(app: Starlette) -> None:
    """The mock as it started: every agent, message, run and script forgotten, the journal emptied, the default
    controls back to the configured ones, the rules as configured with no hits. ``POST /_mock/reset`` and the pytest
    plugin's per-test reset are this."""
    app.state.store.clear()
    app.state.ruleset.reset()
    app.state.journal.clear()
    app.state.defaults = app.state.configured_defaults
