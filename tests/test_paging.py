"""Paging by bisection (``paging.View``) answers exactly what the linear filter it replaced answered: the same rows
for every view (one part, or a fork's system message + shared + own), cursor, limit, order and item filter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.models import AssistantMessage, Message, UserMessage
from mockserver.paging import UNKNOWN, Row, View, page, resource_page
from mockserver.records import StoredMessage

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


def stored(seq: int, kinds: Sequence[str]) -> StoredMessage:
    items: list[Message] = [
        (UserMessage if kind == "user" else AssistantMessage)(id=f"message-{seq}", date=WHEN, content=kind)
        for kind in kinds
    ]
    return StoredMessage(f"message-{seq}", seq, "agent-1", None, None, WHEN, items)


def linear(rows: Sequence[StoredMessage], *, after: int | None, before: int | None, limit: int | None,
           order: str, chronological: bool, reverse_items: bool, types: Sequence[str] | None) -> list[Row]:  # fmt: skip
    """The page as it was computed before bisection: a filter over every stored message of the listing."""
    if UNKNOWN in (after, before):
        return []
    kept = [m for m in rows if (after is None or m.seq > after) and (before is None or m.seq < before)]
    count = max(limit if limit is not None else 100, 0)
    kept = (kept[-count:] if count else []) if order == "desc" else kept[:count]
    if order == "desc" and not chronological:
        out = [(m, i) for m in reversed(kept)
               for i in (reversed(range(len(m.items))) if reverse_items else range(len(m.items)))]  # fmt: skip
    else:
        out = [(m, i) for m in kept for i in range(len(m.items))]
    if types is not None:
        out = [(m, i) for m, i in out if m.items[i].message_type in types]
    return out


@st.composite
def views(draw: st.DrawFn) -> tuple[View, list[StoredMessage], list[StoredMessage]]:
    """A view, the messages it lists in its order, and some it does not list (from the same store)."""
    kinds = st.lists(st.sampled_from(["user", "assistant"]), min_size=1, max_size=3)
    every = [stored(seq, draw(kinds)) for seq in sorted(draw(st.sets(st.integers(1, 60), max_size=30)))]
    listed = [m for m in every if draw(st.booleans())]
    others = [m for m in every if m not in listed]
    if draw(st.booleans()) and len(listed) >= 2:  # a fork: its own (system first), then what it shares
        split = draw(st.integers(1, len(listed) - 1))
        shared, own = listed[:split], listed[split:]
        return View(((own[:1], 0), (shared, 0), (own, 1))), [*own[:1], *shared, *own[1:]], others
    if draw(st.booleans()) and listed:  # one part listed from a later index (a fork's own messages after its first)
        start = draw(st.integers(0, len(listed)))
        return View(((listed, start),)), listed[start:], [*others, *listed[:start]]
    return View.of(listed), listed, others


cursors = st.one_of(st.none(), st.just(UNKNOWN), st.integers(0, 61))


@given(views(), cursors, cursors, st.one_of(st.none(), st.integers(0, 12)), st.sampled_from(["asc", "desc"]),
       st.booleans(), st.booleans(), st.one_of(st.none(), st.just(["user_message"])))  # fmt: skip
def test_a_page_is_what_the_linear_filter_gave(view: Any, after: int | None, before: int | None, limit: int | None,
                                                 order: Any, chronological: bool, reverse_items: bool,
                                                 types: list[str] | None) -> None:  # fmt: skip
    found, rows, _ = view
    arguments: dict[str, Any] = dict(after=after, before=before, limit=limit, order=order,
                                     chronological=chronological, reverse_items=reverse_items, types=types)  # fmt: skip
    assert page(found, **arguments) == linear(rows, **arguments)


@given(views())
def test_a_view_holds_exactly_what_it_lists(view: Any) -> None:
    found, rows, others = view
    assert all(m in found for m in rows)
    assert not any(m in found for m in others)
    assert "message-1" not in found  # only stored messages are in a view


def test_a_page_of_a_long_history_reads_only_its_own_rows() -> None:
    """Bisection: a page's cost does not depend on the history's length. A history whose ``seq`` lookups are
    counted shows it: a page of 10 from 100,000 messages reads a few dozen keys, not 100,000."""
    history = [stored(seq, ["user"]) for seq in range(1, 100_001)]
    reads = 0

    class Counting(list[StoredMessage]):
        def __getitem__(self, index: Any) -> Any:
            nonlocal reads
            reads += 1
            return super().__getitem__(index)

        def __iter__(self) -> Any:  # a scan reads every message
            nonlocal reads
            for stored in super().__iter__():
                reads += 1
                yield stored

    counted = Counting(history)
    rows = page(View.of(counted), after=50_000, before=None, limit=10, order="asc", chronological=True)
    assert [m.seq for m, _ in rows] == list(range(50_001, 50_011))
    assert reads < 100
    reads = 0
    assert history[70_000] in View.of(counted)
    assert reads < 100


def sliced(items: list[str], *, after: str | None, before: str | None, limit: int) -> list[str]:
    """Resource pages as they were computed before the lazy reading: index the cursors, slice."""
    start = items.index(after) + 1 if after in items else (len(items) if after else 0)
    end = items.index(before) if before in items else (0 if before else len(items))
    return items[start:end][: max(limit, 0)]


names = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])


@given(st.lists(names, unique=True), st.one_of(st.none(), st.just(""), names), st.one_of(st.none(), st.just(""), names),
       st.integers(-1, 8))  # fmt: skip
def test_a_resource_page_read_lazily_is_the_slice_it_replaced(items: list[str], after: str | None,
                                                             before: str | None, limit: int) -> None:  # fmt: skip
    read: list[str] = []

    def reading() -> Any:
        for item in items:
            read.append(item)
            yield item

    arguments: dict[str, Any] = {"after": after, "before": before, "limit": limit}
    assert resource_page(reading(), lambda item: item, **arguments) == sliced(items, **arguments)
    if before is None and after is None and limit >= 0:
        assert len(read) <= limit + 1  # only as far as the page


def test_a_page_of_one_part_listed_from_a_later_index_starts_there() -> None:
    # Every query without cursors over one part listed from index ``start`` (the usual page's own path).
    listed = [stored(seq, ["user", "assistant"]) for seq in range(1, 8)]
    for start in range(len(listed) + 1):
        for limit in (None, 0, 1, 3, 7, 9):
            for order in ("asc", "desc"):
                for chronological in (False, True):
                    arguments: dict[str, Any] = dict(
                        after=None, before=None, limit=limit, order=order, chronological=chronological,
                        reverse_items=True, types=None,
                    )  # fmt: skip
                    assert page(View(((listed, start),)), **arguments) == linear(listed[start:], **arguments)
