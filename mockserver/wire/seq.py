"""``seq_id`` numbering of background and resumed streams (wire doc §6.4, §6.8).

Every chunk of a run takes the next number from 1: the first ping, messages, stop reason, usage and ``[DONE]``
alike. Events without a ``seq_id`` field (stop reason, usage, ``[DONE]``) use their number without showing it;
a ``run_id`` left null is filled in. Keep-alive pings take no number of their own: they carry the last one.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["Numbering", "with_seq"]

Event = TypeVar("Event")


def with_seq(event: Event, seq: int | None, run_id: str | None) -> Event:
    """``event`` as a numbered stream carries it: ``seq_id`` set and a null ``run_id`` filled (a copy)."""
    if isinstance(event, BaseModel) and "seq_id" in type(event).model_fields:
        update: dict[str, Any] = {"seq_id": seq}
        if run_id is not None and getattr(event, "run_id", None) is None:
            update["run_id"] = run_id
        return event.model_copy(update=update)
    return event


class Numbering:
    """The numbering of one run's chunks, in the order they were written."""

    def __init__(self, run_id: str | None = None) -> None:
        self.run_id = run_id
        self.last = 0  # the number of the last chunk so far (0: none yet)

    def advance(self) -> int:
        """Count one more chunk; its number."""
        self.last += 1
        return self.last

    def stamp(self, event: Event) -> Event:
        """``event`` carrying the number of the last chunk counted."""
        return with_seq(event, self.last, self.run_id)

    def chunk(self, event: Event) -> Event:
        """The next chunk, numbered."""
        self.advance()
        return self.stamp(event)

    def keepalive(self, ping: Event) -> Event:
        """A keep-alive ping, carrying the last number (null before the first chunk)."""
        return with_seq(ping, self.last or None, self.run_id)
