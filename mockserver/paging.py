"""Letta's cursor pagination over stored messages (wire doc §8, §13.2, §14). Pure: no state, no I/O.

``limit`` and the cursors count *stored* messages, not the items they expand into; a page is a list of
``(stored message, item index)`` rows, so callers serialise each item once (``Store.items_json``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

from mockserver.records import StoredMessage

__all__ = ["UNKNOWN", "Order", "Row", "page", "resource_page"]

Order = Literal["asc", "desc"]
Row = tuple[StoredMessage, int]
UNKNOWN = -1  # a cursor naming no message: the page is empty (open world)


def page(
    stored: Sequence[StoredMessage],
    *,
    after: int | None,
    before: int | None,
    limit: int | None,
    order: Order,
    chronological: bool,
    reverse_items: bool = False,
    types: Sequence[str] | None = None,
) -> list[Row]:
    """One page of ``stored`` (already in sequence order).

    ``after``/``before`` are sequence numbers (``Store.cursor``); ``order`` picks whether the newest or the
    oldest ``limit`` stored messages are taken. ``chronological`` returns them oldest first whatever ``order``
    says (agent history, §8); otherwise they come in ``order``, and ``reverse_items`` also reverses the items of
    each stored message when descending (runs do, §13.2; conversations do not, §14).
    """
    if UNKNOWN in (after, before):
        return []
    rows = [m for m in stored if (after is None or m.seq > after) and (before is None or m.seq < before)]
    count = max(limit if limit is not None else 100, 0)
    rows = (rows[-count:] if count else []) if order == "desc" else rows[:count]
    out: list[Row]
    if order == "desc" and not chronological:
        out = [
            (m, i)
            for m in reversed(rows)
            for i in (reversed(range(len(m.items))) if reverse_items else range(len(m.items)))
        ]
    else:
        out = [(m, i) for m in rows for i in range(len(m.items))]
    if types is not None:
        wanted = set(types)
        out = [(m, i) for m, i in out if m.items[i].message_type in wanted]
    return out


Resource = TypeVar("Resource")


def resource_page(
    items: Sequence[Resource], key: Callable[[Resource], str], *, after: str | None, before: str | None, limit: int
) -> list[Resource]:
    """A page of resources listed by id cursors (agents, tools, runs, steps): those after the one named ``after``
    and before the one named ``before``, at most ``limit``. A cursor naming nothing here gives an empty page."""
    ids = [key(item) for item in items]
    start = ids.index(after) + 1 if after in ids else (len(ids) if after else 0)
    end = ids.index(before) if before in ids else (0 if before else len(ids))
    return list(items[start:end][: max(limit, 0)])
