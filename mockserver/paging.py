"""Letta's cursor pagination over stored messages (wire doc §8, §13.2, §14). Pure: no state, no I/O.

``limit`` and the cursors count *stored* messages, not the items they expand into; a page is a list of
``(stored message, item index)`` rows, so callers serialise each item once (``Store.items_json``).

A listing pages over a ``View``: one or more parts, each a sequence of stored messages in ``seq`` order (the
store's sequence numbers only grow, so every history it keeps is sorted), listed one part after the other (a
fork lists its system message, then what it shares with the conversation it was forked from, then its own). A
cursor's membership and a page's bounds are found by bisection in each part: a page costs O(log n + its size),
whatever the length of the history (``tests/test_paging.py`` proves it equal to the linear filter it replaced).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from mockserver.records import StoredMessage

__all__ = ["UNKNOWN", "Order", "Row", "View", "page", "resource_page"]

Order = Literal["asc", "desc"]
Row = tuple[StoredMessage, int]
UNKNOWN = -1  # a cursor naming no message: the page is empty (open world)


def _seq(stored: StoredMessage) -> int:
    return stored.seq


@dataclass(frozen=True, slots=True)
class View:
    """What one listing pages over: ``parts`` as ``(messages in seq order, index of the first one listed)``."""

    parts: tuple[tuple[Sequence[StoredMessage], int], ...]

    @classmethod
    def of(cls, *messages: Sequence[StoredMessage]) -> View:
        return cls(tuple((part, 0) for part in messages))

    def __contains__(self, stored: object) -> bool:
        if not isinstance(stored, StoredMessage):
            return False
        for messages, start in self.parts:
            index = bisect_left(messages, stored.seq, lo=start, key=_seq)
            if index < len(messages) and messages[index] is stored:
                return True
        return False


class _Indexes(dict[int, tuple[int, ...]]):
    """A stored message's item indexes by its item count, one shared tuple each, made as needed (a range made per
    message cost a page's rows a third of their time)."""

    def __init__(self, backwards: bool) -> None:
        super().__init__()
        self.backwards = backwards

    def __missing__(self, count: int) -> tuple[int, ...]:
        indexes = self[count] = tuple(reversed(range(count)) if self.backwards else range(count))
        return indexes


_FORWARDS, _BACKWARDS = _Indexes(backwards=False), _Indexes(backwards=True)


def page(
    view: View,
    *,
    after: int | None,
    before: int | None,
    limit: int | None,
    order: Order,
    chronological: bool,
    reverse_items: bool = False,
    types: Sequence[str] | None = None,
) -> list[Row]:
    """One page of ``view``.

    ``after``/``before`` are sequence numbers (``Store.cursor``); ``order`` picks whether the newest or the
    oldest ``limit`` stored messages are taken. ``chronological`` returns them oldest first whatever ``order``
    says (agent history, §8); otherwise they come in ``order``, and ``reverse_items`` also reverses the items of
    each stored message when descending (runs do, §13.2; conversations do not, §14).
    """
    if UNKNOWN in (after, before):
        return []
    count = max(limit if limit is not None else 100, 0)
    rows = _window(view, after, before, count, newest=order == "desc") if count else []
    out: list[Row]
    if order == "desc" and not chronological:
        indexes = _BACKWARDS if reverse_items else _FORWARDS
        out = [(m, i) for m in reversed(rows) for i in indexes[len(m.types)]]
    else:
        out = [(m, i) for m in rows for i in _FORWARDS[len(m.types)]]
    if types is not None:
        wanted = set(types)
        out = [(m, i) for m, i in out if m.types[i] in wanted]
    return out


def _window(view: View, after: int | None, before: int | None, count: int, *, newest: bool) -> list[StoredMessage]:
    """The first (or, ``newest``, the last) ``count`` stored messages of the view with ``after < seq < before``,
    in the view's order."""
    ranges: list[tuple[Sequence[StoredMessage], int, int]] = []
    for messages, start in view.parts:
        low = start if after is None else bisect_right(messages, after, lo=start, key=_seq)
        high = len(messages) if before is None else bisect_left(messages, before, lo=start, key=_seq)
        if high > low:
            ranges.append((messages, low, high))
    taken: list[Sequence[StoredMessage]] = []
    for messages, low, high in reversed(ranges) if newest else ranges:
        size = min(count, high - low)
        taken.append(messages[high - size : high] if newest else messages[low : low + size])
        count -= size
        if not count:
            break
    if newest:
        taken.reverse()
    return [stored for part in taken for stored in part]


Resource = TypeVar("Resource")


def resource_page(
    items: Iterable[Resource], key: Callable[[Resource], str], *, after: str | None, before: str | None, limit: int
) -> list[Resource]:
    """A page of resources listed by id cursors (agents, tools, runs, steps): those after the one named ``after``
    and before the one named ``before``, at most ``limit``. A cursor naming nothing here gives an empty page.

    ``items`` is read only as far as the page needs (a lazy filter over the newest runs stops at the page), except
    that a ``before`` cursor must be found to be anywhere at all."""
    after, before = after or None, before or None
    remaining = iter(items)
    if after is not None:
        for item in remaining:
            name = key(item)
            if name == before:
                return []  # it comes first: nothing is both after one and before the other
            if name == after:
                break
        else:
            return []  # names nothing
    page: list[Resource] = []
    for item in remaining:
        if before is not None and key(item) == before:
            return page
        if len(page) < limit:
            page.append(item)
        elif before is None:
            return page
    return page if before is None else []  # a ``before`` naming nothing
