"""Ids and dates the server hands out: random by default, reproducible with a seed.

Letta's id rules (wire doc §1.4) live here too: an item's ``otid`` is its stored message's UUID with the last
7 bits replaced by the item's index, and an approval request's id is the assistant message id minus one.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

__all__ = ["Clock", "Ids", "approval_request_id", "derived_uuid4", "otid_for"]

# Seeded clocks start here, so recorded bodies do not change from one day to the next.
SEEDED_EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _as_uuid4(value: int) -> uuid.UUID:
    return uuid.UUID(int=value & ((1 << 128) - 1), version=4)


class Ids:
    """Makes ``<prefix>-<uuid4>`` ids; deterministic when seeded."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def uuid4(self) -> str:
        if self._random is None:
            return str(uuid.uuid4())
        return str(_as_uuid4(self._random.getrandbits(128)))

    def new(self, prefix: str) -> str:
        return f"{prefix}-{self.uuid4()}"


class Clock:
    """Wall-clock time, or with a seed a clock that starts at a fixed date and ticks one second per reading."""

    def __init__(self, seed: int | None = None) -> None:
        self._seeded = seed is not None
        self._next = SEEDED_EPOCH

    def now(self) -> datetime:
        if not self._seeded:
            return datetime.now(timezone.utc)
        now, self._next = self._next, self._next + timedelta(seconds=1)
        return now


def otid_for(message_id: str, index: int) -> str:
    """The otid of the ``index``-th item of a stored message: its UUID with the low 7 bits set to ``index``."""
    value = uuid.UUID(message_id.split("-", 1)[1]).int
    return str(uuid.UUID(int=(value & ~0x7F) | (index & 0x7F)))


def approval_request_id(message_id: str) -> str:
    """Letta gives an approval request the id of its assistant message minus one (as a UUID integer)."""
    prefix, raw = message_id.split("-", 1)
    return f"{prefix}-{uuid.UUID(int=uuid.UUID(raw).int - 1)}"


def derived_uuid4(name: str) -> str:
    """A stable uuid4-shaped id derived from any text (for resources synthesized from an id)."""
    return str(_as_uuid4(uuid.uuid5(uuid.NAMESPACE_URL, name).int))
