"""The request journal: every exchange the mock answered (bar the admin API's own), as the dashboard shows it.

    entry       one exchange (``Entry``): the request as the scope gave it, read when asked; the response; events
    ring        the last exchanges (``Journal``), their versions and the calls counted
    middleware  ``JournalMiddleware``: the exchanges written as their bytes go by

Rule: the journal keeps what a person debugging a client needs to see — per exchange the request (method, path,
query, headers, JSON body), the status and content type, the response body, and for a stream every event with its
offset in ms from the request's arrival — and never more than it is sized for. It is a ring buffer of
``DEFAULT_SIZE`` exchanges (``create_app(journal_size=...)``, ``letta-mock serve --journal-size``): the oldest
exchange goes when a new one comes, so a server that runs for days stays small. ``counts`` (``GET
/_mock/calls``) count every call since the last clear, not only those still kept.

Bodies are kept up to ``BODY_LIMIT`` bytes each, a stream's event data up to ``STREAM_DATA_LIMIT`` bytes (later
events keep their offset and type, not their data) and ``STREAM_EVENT_LIMIT`` events (later ones are counted).

``JournalMiddleware`` writes it as bytes go by: an exchange is in the journal from its first byte, so the dashboard
shows a stream while it streams. It writes facts (the scope's header list, query and body bytes) and readers
interpret them (decoded, masked, parsed): most exchanges leave the ring unread. The server's thread writes it; the
pytest plugin reads it from the test's thread, so the ring is guarded by a lock and readers take snapshots. Entries
name their operation as the app's route does (its ``operationId``, put in the scope under ``OPERATION``); the
journal knows no table of them.
"""

from mockserver.journal.entry import BODY_LIMIT, STREAM_DATA_LIMIT, STREAM_EVENT_LIMIT, Entry, Sent
from mockserver.journal.middleware import ADMIN_PREFIX, OPERATION, JournalMiddleware, admin_path, answered_by
from mockserver.journal.ring import DEFAULT_SIZE, Journal

__all__ = [
    "ADMIN_PREFIX",
    "BODY_LIMIT",
    "DEFAULT_SIZE",
    "OPERATION",
    "STREAM_DATA_LIMIT",
    "STREAM_EVENT_LIMIT",
    "Entry",
    "Journal",
    "JournalMiddleware",
    "Sent",
    "admin_path",
    "answered_by",
]
