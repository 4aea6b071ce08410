"""Response bodies kept by reference: what the handlers answer and the journal keeps, below both.

A listing's body is a JSON array of items the store serialised once (``Store.page_json``: a fragment per stored
message, its items joined by commas); the handler answers with ``share_items``, which leaves the fragments in the
request's scope, and the journal keeps them, not a copy of the body.
Other bodies the journal keeps in a ``Blob``: appended while the exchange is open, compressed once it is over.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import Scope

__all__ = ["PACK_ABOVE", "SHARED", "Blob", "JsonItems", "joined", "share_items"]

PACK_ABOVE = 4096  # bytes: a kept body or stream larger than this is compressed once the exchange is over
SHARED = "letta_mock.journal_items"  # the scope's state key of a shared listing


class Blob:
    """Bytes appended while an exchange is open and compressed once it is over: a token stream repeats its ids and
    dates in every event, so a kept stream shrinks ~10x. One attribute holds the state, so a reader on another
    thread sees either the open bytes or the packed ones, never half of a change. Bytes of ``PACK_ABOVE`` or fewer
    read the same packed or not (packing them only marks them complete): the journal leaves them as they are."""

    __slots__ = ("_state", "size")

    def __init__(self) -> None:
        self._state: tuple[bool, bytes | bytearray | JsonItems] = (False, b"")
        self.size = 0

    def append(self, data: bytes) -> None:
        packed, buffer = self._state
        if packed:
            raise RuntimeError("a packed blob is complete")
        if isinstance(buffer, bytearray):
            buffer += data
        elif not self.size:  # the first write (most bodies' only one) is kept as it is, not copied
            self._state = (False, bytes(data))
        else:  # a second write: from now on a buffer to append to
            assert isinstance(buffer, bytes)
            self._state = (False, bytearray(buffer) + data)
        self.size += len(data)

    def pack(self) -> None:
        packed, buffer = self._state
        if packed or isinstance(buffer, JsonItems):
            return
        # A small body is kept as it is: compressing a turn's answer cost more time than its bytes are worth.
        self._state = (True, zlib.compress(bytes(buffer), 1) if len(buffer) > PACK_ABOVE else bytes(buffer))

    def share(self, items: JsonItems, size: int) -> None:
        """The bytes are a JSON array of items the store keeps anyway: held by reference, neither copied nor
        compressed (a listing is the biggest body there is, and compressing it was a third of its cost)."""
        self._state = (True, items)
        self.size = size

    def read(self) -> bytes:
        packed, buffer = self._state
        if isinstance(buffer, JsonItems):
            return bytes(buffer)
        return zlib.decompress(buffer) if packed and self.size > PACK_ABOVE else bytes(buffer)


@dataclass(frozen=True, slots=True)
class JsonItems:
    """A JSON array given as fragments a comma joins: the store's cached JSON of one item or of several, already
    joined by commas (``Store.page_json``)."""

    items: tuple[bytes, ...]

    def __bytes__(self) -> bytes:
        return joined(self.items)


def joined(items: Sequence[bytes]) -> bytes:
    """``[`` + the items joined by commas + ``]``, copying the (up to ~60 KB) body once, not three times."""
    if not items:
        return b"[]"
    if len(items) == 1:
        return b"[" + items[0] + b"]"
    return b",".join([b"[" + items[0], *items[1:-1], items[-1] + b"]"])


def share_items(scope: Scope, items: list[bytes]) -> bytes:
    """A response body that is a JSON array of ``items`` (fragments, ``JsonItems``); the journal keeps them, not a
    copy of the body."""
    shared = JsonItems(tuple(items))
    scope.setdefault("state", {})[SHARED] = shared
    return bytes(shared)
