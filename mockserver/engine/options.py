"""How one turn runs: what it streams and how fast (from the request body and the controls, see ``sending``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mockserver.catalogue import KEEPALIVE_INTERVAL_MS
from mockserver.rules import CONTRACT, Rules

__all__ = ["Pace", "TurnOptions"]


@dataclass(frozen=True)
class Pace:
    """Timing of a stream. All zero by default, so test suites stay fast (``letta-mock serve --pace realistic``
    sets front-end timings through the controls)."""

    first_event_s: float = 0.0
    token_s: float = 0.0
    tool_s: float = 0.0  # each server tool's run time
    jitter_s: float = 0.0
    ping_interval_s: float = KEEPALIVE_INTERVAL_MS / 1000
    seed: int | None = None


@dataclass
class TurnOptions:
    stream_tokens: bool = False
    include_pings: bool = False
    include_types: Sequence[str] | None = None
    include_compaction_messages: bool = False
    max_steps: int = 50
    async_run: bool = False  # an async run completes whatever its stop reason (wire doc §2.4)
    rules: Rules = CONTRACT  # which of Letta's rules the turn follows (its error events, approval answers)
    pace: Pace = field(default_factory=Pace)
