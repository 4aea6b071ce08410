"""The ring of the last exchanges (``Journal``): written by the server's thread, read from any (the pytest plugin
reads it from the test's), so it is guarded by a lock and readers take snapshots."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from mockserver.config import MockConfig
from mockserver.errors import ConfigurationError
from mockserver.journal.entry import Entry

__all__ = ["DEFAULT_SIZE", "Journal"]

DEFAULT_SIZE: int = MockConfig.journal_size  # exchanges kept (the setting's default)


class Journal:
    """The last ``size`` exchanges, newest last; ``version`` grows with every change (the dashboard polls it)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ConfigurationError(f"journal size must be at least 1, not {size}")
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=size)
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._next_id = 1
        self.version = 0
        self.epoch = 0  # grows with every clear: a reader that saw another epoch starts over

    # -- writing (the middleware) ---------------------------------------------------------------------------

    def open(self, method: str, path: str, query: str = "", headers: Mapping[str, str] | None = None) -> Entry:
        """A new exchange, its request given as text (the middleware gives the scope's bytes: ``admit``)."""
        raw = [(key.encode("latin-1"), value.encode("latin-1")) for key, value in (headers or {}).items()]
        return self.admit(method, path, query.encode("latin-1"), raw)

    def admit(self, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> Entry:
        """A new exchange, its request as the ASGI scope gives it; the oldest leaves a full ring."""
        with self._lock:
            self.version += 1
            entry = Entry(self._next_id, time.time(), method, path, query, headers)
            entry.version = self.version
            self._next_id += 1
            self._entries.append(entry)
        return entry

    def touch(self, entry: Entry, operation: str | None = None) -> None:
        """The entry changed (readers polling ``since`` see it); ``operation``: it is now known, counted once."""
        with self._lock:
            self.version += 1
            entry.version = self.version
            if operation is not None and entry.operation is None:
                entry.operation = operation
                self._counts[operation] = self._counts.get(operation, 0) + 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
            self._next_id = 1  # numbered from 1 again: a test's (or a session's) first exchange is #1
            self.version += 1
            self.epoch += 1

    # -- reading --------------------------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """A snapshot of the exchanges kept, oldest first."""
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, entry_id: int) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def since(self, version: int) -> list[Entry]:
        """The exchanges that changed after ``version``, oldest first."""
        return [e for e in self.entries if e.version > version]

    def as_json(self, operation: str | None = None) -> list[dict[str, Any]]:
        return [e.summary() for e in self.entries if operation is None or e.operation == operation]
