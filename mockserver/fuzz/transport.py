"""schemathesis' HTTP transport with event streams read our way: incrementally, checked as they arrive, bounded.

schemathesis 4.32 reads a ``text/event-stream`` body to its end, to ``max-stream-events`` events or to the request
timeout, then validates it; a stream it cuts short it accepts without checking (its issue #3633). The fuzzer needs
more: each event checked as it arrives, the time it arrived, and a stream that does not finish within its bounds
reported as a failure. So the requests session schemathesis sends with gets our adapter (``BoundedStreamAdapter``):
for an event stream it reads the body with ``streams.read_stream`` as soon as the headers are in, keeps the
``StreamReading`` on the request (``reading_of``), and hands schemathesis the complete events it read — which
schemathesis then checks with its own checks, unaware that the stream was cut.

``bind(schema, bounds)`` makes a loaded schema send through ``StreamingTransport``; nothing else of schemathesis
changes (generation, the engine, its checks, its reports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from schemathesis.core.transport import Response, is_event_stream
from schemathesis.transport.requests import RequestsTransport, SameHostRedirectsSession

from mockserver.contract import Contract
from mockserver.fuzz.bounds import CaseBudget, bounded_coverage
from mockserver.fuzz.streams import StreamBounds, StreamReading, read_stream

if TYPE_CHECKING:
    from schemathesis import BaseSchema, Case

__all__ = ["BoundedStreamAdapter", "StreamingTransport", "bind", "contract_of", "keep_reading", "reading_of"]

_READING = "letta_mock_stream_reading"  # the attribute of the PreparedRequest that carries its StreamReading
Schema = TypeVar("Schema", bound="BaseSchema")


def keep_reading(request: Any, reading: StreamReading) -> None:
    """Keep ``reading`` with the request it answers, for the checks (``reading_of``)."""
    setattr(request, _READING, reading)


def reading_of(request: Any) -> StreamReading | None:
    """The ``StreamReading`` of the event stream answering ``request`` (a requests ``PreparedRequest``), if any."""
    reading = getattr(request, _READING, None)
    return reading if isinstance(reading, StreamReading) else None


def contract_of(schema: Any) -> Contract | None:
    """The contract a bound schema checks streams against (None for a schema ``bind`` did not bind)."""
    contract = getattr(getattr(type(schema), "transport", None), "contract", None)
    return contract if isinstance(contract, Contract) else None


class _Read:
    """The body schemathesis reads after us: the bytes we kept, then the end; the rest is the real response's."""

    def __init__(self, raw: Any, content: bytes, finished: bool) -> None:
        self._raw = raw
        self._content = content
        self._finished = finished

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        size = len(self._content) if amt is None or amt < 0 else amt
        chunk, self._content = self._content[:size], self._content[size:]
        return chunk

    def read(self, amt: int | None = None, decode_content: bool | None = None, **_: Any) -> bytes:
        return self.read1(amt)

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Any:
        while chunk := self.read1(amt):
            yield chunk

    def close(self) -> None:
        self._raw.close()

    def release_conn(self) -> None:
        # A stream cut short is still being written: its connection cannot serve another request.
        if not self._finished:
            self._raw.close()
        self._raw.release_conn()

    def __getattr__(self, name: str) -> Any:  # headers, version, _original_response (cookies) ...
        return getattr(self._raw, name)


def _socket_timeout(raw: Any) -> Any:
    """A function setting the read timeout of the socket under ``raw``, or None when it cannot be reached."""
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        return None

    def set_timeout(seconds: float) -> None:
        sock.settimeout(max(seconds, 0.001))

    return set_timeout


class BoundedStreamAdapter(HTTPAdapter):
    """requests' adapter, except that an event stream is read by ``read_stream`` before the response is returned."""

    def __init__(self, bounds: StreamBounds, contract: Contract) -> None:
        super().__init__()
        self.bounds = bounds
        self.contract = contract

    def send(self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = super().send(request, stream=True, **kwargs)
        if not is_event_stream(response.headers.get("Content-Type")):
            if not stream:
                response.content  # noqa: B018 - what a non-streaming send does
            return response
        raw = response.raw
        reading = read_stream(raw, self.contract, self.bounds, set_timeout=_socket_timeout(raw))
        keep_reading(request, reading)
        response.raw = _Read(raw, reading.complete, reading.finished)
        return response


class StreamingTransport(RequestsTransport):
    """schemathesis' requests transport, sending through a session that carries ``BoundedStreamAdapter``; each
    request spends one of ``budget`` (``--max-cases``), when there is one."""

    def __init__(self, bounds: StreamBounds, contract: Contract, budget: CaseBudget | None = None) -> None:
        super().__init__()
        from schemathesis.transport.requests import REQUESTS_TRANSPORT

        self._copy_serializers_from(REQUESTS_TRANSPORT)
        self.bounds = bounds
        self.contract = contract
        self.budget = budget

    def _mount(self, session: requests.Session) -> None:
        adapter = session.get_adapter("http://")
        if isinstance(adapter, BoundedStreamAdapter) and adapter.contract is self.contract:
            return
        adapter = BoundedStreamAdapter(self.bounds, self.contract)
        session.mount("http://", adapter)
        session.mount("https://", adapter)

    def send(self, case: Case[Any], *, session: requests.Session | None = None, **kwargs: Any) -> Response:
        if self.budget is not None:
            self.budget.spend()
        if session is not None:
            self._mount(session)
            return super().send(case, session=session, **kwargs)
        with SameHostRedirectsSession() as own:
            self._mount(own)
            return super().send(case, session=own, **kwargs)


_BOUND: dict[type, type] = {}


def bind(schema: Schema, bounds: StreamBounds, *, source: str | None = None, coverage_limit: int | None = None,
         budget: CaseBudget | None = None) -> Schema:  # fmt: skip
    """``schema``, sending through ``StreamingTransport`` from now on (its clones too), its document the contract
    (``source``: where the document came from, for messages); ``coverage_limit`` bounds the coverage phase's cases
    per operation, ``budget`` the requests of the whole run (``mockserver.fuzz.bounds``).

    schemathesis picks a schema's transport by the schema's class; the schema's class becomes a subclass that names
    ours. schemathesis' own stream limit is lifted above ours so that it never cuts what we hand it.
    """
    contract = Contract(schema.raw_schema, source=source or schema.location or "<document>")
    transport = StreamingTransport(bounds, contract, budget)
    base = _BOUND.get(type(schema), type(schema))
    attributes: dict[str, Any] = {"transport": transport, "__module__": __name__}
    if coverage_limit is not None:
        attributes["iter_coverage_cases"] = bounded_coverage(base.iter_coverage_cases, coverage_limit)  # type: ignore[attr-defined]
    bound = type(f"LettaFuzz{base.__name__}", (base,), attributes)
    _BOUND[bound] = base
    schema.__class__ = bound
    schema.config.max_stream_events = bounds.max_events + 1
    return schema
