"""Where the ids and dates a server hands out come from: random by default, reproducible with a seed.

(How Letta derives one id from another, otids and approval-request ids, is a wire rule: ``wire.ids``.)
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from mockserver.wire.ids import as_uuid4

__all__ = ["SEEDED_EPOCH", "Clock", "Ids"]

# Seeded clocks start here, so recorded bodies do not change from one day to the next.
SEEDED_EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)
_TICK = timedelta(seconds=1)


class Ids:
    """Makes ``<prefix>-<uuid4>`` ids; deterministic when seeded."""

    def __init__(self, seed: int | None = None) -> None:
        # Unseeded, the generator starts from the OS's entropy: ids unique as uuid.uuid4()'s in practice, at a fifth
        # of its cost (it reads os.urandom for every id, a tenth of a send's time); a mock's ids guard no secret.
        self._random = random.Random(seed)
        self._bits = self._random.getrandbits

    def uuid4(self) -> str:
        return as_uuid4(self._bits(128))

    def new(self, prefix: str) -> str:
        return f"{prefix}-{as_uuid4(self._bits(128))}"


class Clock:
    """Wall-clock time, or with a seed a clock that starts at a fixed date and ticks one second per reading."""

    def __init__(self, seed: int | None = None) -> None:
        self._seeded = seed is not None
        self._next = SEEDED_EPOCH

    def now(self) -> datetime:
        if not self._seeded:
            return datetime.now(timezone.utc)
        now, self._next = self._next, self._next + _TICK
        return now
