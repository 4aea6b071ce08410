"""Letta's cursor pagination over stored messages (wire doc §8, §13.2, §14). Pure: no state, no I/O.

``limit`` and the cursors count *stored* messages, not the items they expand into; a page (``Page``) is the stored
messages it lists and which of their items: usually all of them, so the store answers it by joining each message's
items as it keeps them (``Store.page_json``), without a step per item.

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
from itertools import chain
from typing import Any, Literal, TypeVar

from mockserver.records import StoredMessage

__all__ = ["UNKNOWN", "Order", "Page", "Row", "View", "page", "page_of", "resource_page"]

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


class Page:
    """One page: its stored messages in the order listed, and which of their items it lists: all of each one's, in
    order (``whole``: the usual page, which ``Store.page_json`` answers by joining the messages' chunks as they are
    kept), or those ``backwards`` and ``types`` pick (``selected``). Made for every listing: a plain class (a frozen
    dataclass cost ~0.4 us more to make)."""

    __slots__ = ("backwards", "messages", "types", "whole")

    def __init__(self, messages: Sequence[StoredMessage], *, backwards: bool = False,
                 types: frozenset[str] | None = None) -> None:  # fmt: skip
        self.messages = messages
        self.backwards = backwards  # each stored message's items listed last first (a run's, descending, §13.2)
        self.types = types  # only items of these types
        self.whole = not backwards and types is None

    def selected(self, kinds: tuple[str, ...]) -> tuple[int, ...] | None:
        """The indexes of the items listed of a stored message whose items are of ``kinds``; None: all, in order."""
        indexes = range(len(kinds))
        chosen = tuple(i for i in (reversed(indexes) if self.backwards else indexes)
                       if self.types is None or kinds[i] in self.types)  # fmt: skip
        return None if chosen == tuple(indexes) else chosen

    def rows(self) -> list[Row]:
        """Each item listed, as (stored message, item index)."""
        known: dict[tuple[str, ...], tuple[int, ...] | None] = {}
        out: list[Row] = []
        for stored in self.messages:
            kinds = stored.types
            if kinds not in known:
                known[kinds] = self.selected(kinds)
            chosen = known[kinds]
            out.extend((stored, i) for i in (range(len(kinds)) if chosen is None else chosen))
        return out


def page(view: View, **query: Any) -> list[Row]:
    """One page of ``view`` as rows (``page_of``'s arguments): one (stored message, item index) per item listed."""
    return page_of(view, **query).rows()


def page_of(
    view: View,
    *,
    after: int | None,
    before: int | None,
    limit: int | None,
    order: Order,
    chronological: bool,
    reverse_items: bool = False,
    types: Iterable[str] | None = None,
) -> Page:
    """One page of ``view``.

    ``after``/``before`` are sequence numbers (``Store.cursor``); ``order`` picks whether the newest or the
    oldest ``limit`` stored messages are taken. ``chronological`` returns them oldest first whatever ``order``
    says (agent history, §8); otherwise they come in ``order``, and ``reverse_items`` also reverses the items of
    each stored message when descending (runs do, §13.2; conversations do not, §14). ``types``: only items of these.
    """
    wanted = None if types is None else frozenset(types)
    if UNKNOWN in (after, before):
        return Page((), types=wanted)
    count = max(limit if limit is not None else 100, 0)
    window = _window(view, after, before, count, newest=order == "desc") if count else []
    if order == "desc" and not chronological:
        window.reverse()
        return Page(window, backwards=reverse_items, types=wanted)
    return Page(window, types=wanted)


def _window(view: View, after: int | None, before: int | None, count: int, *, newest: bool) -> list[StoredMessage]:
    """The first (or, ``newest``, the last) ``count`` stored messages of the view with ``after < seq < before``,
    in the view's order."""
    if after is None and before is None and len(view.parts) == 1:  # most pages: one history, no cursor
        messages, start = view.parts[0]
        return list(messages[max(start, len(messages) - count) :] if newest else messages[start : start + count])
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
    return list(chain.from_iterable(taken))


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
