"""The fixture format: recorded exchanges as versioned, diff-friendly JSON, streams kept as the bytes that arrived.

One file holds one exchange or a sequence of them (``exchanges``, in recorded order). Rules:

* a request is its method, path, query (pairs, in order), the headers that matter, and its body: ``json`` when it
  was JSON, else ``text`` (UTF-8) or ``base64``;
* a JSON response keeps ``json``; ``text`` is added only when re-serialising that JSON compactly would not give
  the exact bytes back (then ``text`` is what replay sends);
* an SSE response keeps ``stream.chunks``: each read exactly as it arrived, with its millisecond offset from the
  request's start (``at_ms``), as ``text`` or, when a read split a UTF-8 character, ``base64``. Framing, chunk
  boundaries, comments, pings, ``event: error`` and ``data: [DONE]`` survive. ``stream.events`` are the parsed
  events (``wire.sse.decode``) for reading; a hand-written stream may give ``events`` alone, and is then framed
  as Letta frames them. ``stream.end`` is ``dropped`` when the connection broke before the body's end;
* ``letta_mock_fixture`` is the format's version; a file of another version is refused at load, naming it.

On disk every chunk and event sits on a line of its own (``dumps``), so a diff of two recordings reads event by
event.
"""

from __future__ import annotations

import base64
import codecs
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mockserver.wire.sse import decode

__all__ = [
    "FORMAT_VERSION",
    "Chunk",
    "Event",
    "Exchange",
    "Fixture",
    "FixtureError",
    "MatchRules",
    "RecordedRequest",
    "RecordedResponse",
    "Stream",
    "body_fields",
    "compact",
    "dumps",
    "events_of",
    "load_fixture",
    "parse_fixture",
    "parse_json",
]

FORMAT_VERSION = 1
_VERSION_KEY = "letta_mock_fixture"
DEFAULT_IGNORED = ("otid",)  # client-made ids of input messages: random per send (wire doc §1.4)


class FixtureError(ValueError):
    """A fixture that cannot be used: the file (or name) and why. ``problems`` are every (location, message) found,
    the location a JSON pointer into the file (or ``line L column C`` when it is not JSON); ``reason`` sums them up."""

    def __init__(self, where: str, reason: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason
        self.problems = tuple(problems) or (("", reason),)


class _Model(BaseModel):
    # Hand-edited files: a misspelt key is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _check_base64(value: str | None) -> None:
    if value is not None:
        try:
            base64.b64decode(value, validate=True)
        except ValueError as error:
            raise ValueError(f"base64 does not decode: {error}") from None


class _Body:
    """A body as ``json`` (any JSON value, ``null`` included), ``text`` or ``base64``; none of them: no body.
    (The fields come last in each model, so a file reads method, path, … before the body.)"""

    if TYPE_CHECKING:  # fields of the models that use it (declared there, so they come last)
        json_body: Any
        text: str | None
        base64: str | None

        @property
        def model_fields_set(self) -> set[str]: ...

    @property
    def has_json(self) -> bool:
        return "json_body" in self.model_fields_set

    def body_bytes(self) -> bytes:
        """The bytes to send: ``text`` or ``base64`` verbatim, else the JSON written compactly."""
        if self.text is not None:
            return self.text.encode()
        if self.base64 is not None:
            return base64.b64decode(self.base64)
        if self.has_json:
            return compact(self.json_body).encode()
        return b""


class RecordedRequest(_Model, _Body):
    method: str = Field(pattern=r"^[A-Z]+$")
    path: str = Field(pattern=r"^/")
    query: list[tuple[str, str]] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    text: str | None = None
    base64: str | None = None

    @model_validator(mode="after")
    def _base64_decodes(self) -> RecordedRequest:
        _check_base64(self.base64)
        return self


class Chunk(_Model):
    """One read of a streamed body, ``at_ms`` after the request started."""

    at_ms: float = Field(ge=0)
    text: str | None = None
    base64: str | None = None

    @model_validator(mode="after")
    def _one_payload(self) -> Chunk:
        if (self.text is None) == (self.base64 is None):
            raise ValueError("a chunk has exactly one of text and base64")
        _check_base64(self.base64)
        return self

    @property
    def data(self) -> bytes:
        return self.text.encode() if self.text is not None else base64.b64decode(self.base64 or "")

    @classmethod
    def of(cls, at_ms: float, data: bytes) -> Chunk:
        try:
            return cls(at_ms=round(at_ms, 1), text=data.decode("utf-8"))
        except UnicodeDecodeError:  # a read that split a character: keep its bytes exactly
            return cls(at_ms=round(at_ms, 1), base64=base64.b64encode(data).decode())


class Event(_Model):
    """One parsed SSE event: its name (``error``, or none), its data as JSON or, when not JSON, as ``text``."""

    at_ms: float | None = None
    event: str | None = None
    data: Any = None
    text: str | None = None

    @property
    def data_text(self) -> str:
        return self.text if self.text is not None else compact(self.data)

    def frame(self) -> bytes:
        head = f"event: {self.event}\n" if self.event is not None else ""
        return f"{head}data: {self.data_text}\n\n".encode()


class Stream(_Model):
    chunks: list[Chunk] | None = None
    events: list[Event] = Field(default_factory=list)
    end: Literal["complete", "dropped"] = "complete"

    def timed(self) -> list[tuple[float, bytes]]:
        """(at_ms, bytes) of each write: the recorded chunks, or each event framed as Letta frames it."""
        if self.chunks is not None:
            return [(chunk.at_ms, chunk.data) for chunk in self.chunks]
        return [(event.at_ms or 0.0, event.frame()) for event in self.events]

    def body(self) -> bytes:
        return b"".join(data for _, data in self.timed())


class RecordedResponse(_Model, _Body):
    status: int = Field(ge=100, le=599)
    headers: dict[str, str] = Field(default_factory=dict)
    at_ms: float = Field(default=0.0, ge=0)  # when the status and headers arrived
    done_at_ms: float | None = Field(default=None, ge=0)  # when the body was complete
    json_body: Any = Field(default=None, alias="json")
    text: str | None = None
    base64: str | None = None
    stream: Stream | None = None

    @model_validator(mode="after")
    def _one_body(self) -> RecordedResponse:
        _check_base64(self.base64)
        if self.stream is not None and (self.has_json or self.text is not None or self.base64 is not None):
            raise ValueError("a streamed response keeps its body in stream, not in json, text or base64")
        return self

    @property
    def is_stream(self) -> bool:
        return self.stream is not None

    def body_bytes(self) -> bytes:
        return self.stream.body() if self.stream is not None else _Body.body_bytes(self)


class Exchange(_Model):
    note: str | None = None  # a reviewer's remark: what this exchange is in its session
    request: RecordedRequest
    response: RecordedResponse


class MatchRules(_Model):
    """How requests are matched against this file's exchanges (see ``matching``)."""

    ignore: list[str] = Field(default_factory=lambda: list(DEFAULT_IGNORED))
    headers: list[str] = Field(default_factory=list)


class Fixture(_Model):
    letta_mock_fixture: Literal[1] = 1
    letta_mock_version: str
    server_version: str | None = None
    spec_sha256: str | None = None
    recorded_at: str | None = None
    normalised: bool = False
    description: str | None = None
    match: MatchRules = Field(default_factory=MatchRules)
    exchanges: list[Exchange] = Field(min_length=1)


# -- bodies and events ------------------------------------------------------------------------------------------


def compact(value: Any) -> str:
    """JSON as Letta writes it: no spaces, non-ASCII kept (Starlette's JSONResponse, pydantic's dump)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def body_fields(raw: bytes, content_type: str | None, *, exact: bool = True) -> dict[str, Any]:
    """The body fields for recorded bytes: ``json`` (plus, if ``exact``, ``text`` when the compact form is not
    the exact bytes: an answer is replayed byte for byte, a request only matched by meaning), else ``text``,
    else ``base64``; empty: none."""
    if not raw:
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode()}
    if content_type is None or "json" in content_type.lower():
        try:
            value = json.loads(text)
        except ValueError:
            return {"text": text}
        try:
            compact(value)
        except ValueError:  # NaN or Infinity: not JSON a client could rely on
            return {"text": text}
        return {"json": value} if compact(value) == text or not exact else {"json": value, "text": text}
    return {"text": text}


def events_of(chunks: Sequence[tuple[float, bytes]]) -> list[Event]:
    """The events of a streamed body, each stamped with the offset of the chunk that completed it.

    Incremental over the chunks (a stream of thousands of token chunks stays linear): bytes are decoded as
    UTF-8 across chunk boundaries, and an event is complete at its blank line, as the SDKs read it (§7).
    """
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    events: list[Event] = []
    for at_ms, data in chunks:
        pending += decoder.decode(data)
        text = pending.replace("\r\n", "\n").replace("\r", "\n") if not pending.endswith("\r") else None
        if text is None:
            continue  # a lone "\r" may be the first half of "\r\n"
        cut = text.rfind("\n\n")
        if cut < 0:
            continue
        complete, rest = text[: cut + 2], text[cut + 2 :]
        events += [_event(frame.event, frame.data, round(at_ms, 1)) for frame in decode(complete)]
        pending = rest
    return events


def _event(name: str | None, data: str, at_ms: float | None) -> Event:
    try:
        value = json.loads(data)
    except ValueError:
        return Event(at_ms=at_ms, event=name, text=data)
    if compact(value) != data:  # keep the exact text when it is not compact JSON (so framing can be read back)
        return Event(at_ms=at_ms, event=name, data=value, text=data)
    return Event(at_ms=at_ms, event=name, data=value)


# -- files ------------------------------------------------------------------------------------------------------


def parse_fixture(text: str, where: str) -> Fixture:
    """A fixture from its JSON text; ``FixtureError`` naming ``where`` and the reason otherwise."""
    raw = parse_json(text, where)
    if not isinstance(raw, dict) or _VERSION_KEY not in raw:
        raise FixtureError(where, f"not a letta-mock fixture (no {_VERSION_KEY!r} key)")
    version = raw[_VERSION_KEY]
    if version != FORMAT_VERSION:
        from mockserver.version import __version__

        raise FixtureError(
            where, f"fixture format version {version!r}; letta-mock {__version__} reads version {FORMAT_VERSION}"
        )
    try:
        return Fixture.model_validate(raw)
    except ValidationError as error:
        problems = [("".join(f"/{part}" for part in e["loc"]), e["msg"]) for e in error.errors(include_url=False)]
        location, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise FixtureError(where, f"at {location.lstrip('/') or '/'}: {message}{more}", problems) from None


def parse_json(text: str, where: str) -> Any:
    """The file's JSON; ``FixtureError`` naming the line and column where it stops being JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        problem = (f"line {error.lineno} column {error.colno}", f"not JSON ({error.msg})")
        raise FixtureError(where, f"not JSON ({error})", [problem]) from None


def load_fixture(path: Path) -> Fixture:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FixtureError(str(path), f"cannot be read ({error})") from None
    return parse_fixture(text, str(path))


_LINE = "\u0000line:{}\u0000"


def dumps(fixture: Fixture) -> str:
    """The fixture as its file's text: indented JSON, with each chunk and each event on one line."""
    raw = fixture.model_dump(mode="json", by_alias=True, exclude_none=True)
    lines: list[str] = []

    def one_line(items: Iterable[dict[str, Any]]) -> list[str]:
        marks = []
        for item in items:
            lines.append(json.dumps(item, ensure_ascii=False))
            marks.append(_LINE.format(len(lines) - 1))
        return marks

    for exchange, model in zip(raw["exchanges"], fixture.exchanges, strict=True):
        for part, part_model in (("request", model.request), ("response", model.response)):
            if part_model.has_json and part_model.json_body is None:
                exchange[part]["json"] = None  # a JSON null body is a body (exclude_none dropped it)
        stream = exchange["response"].get("stream")
        if stream is not None:
            if "chunks" in stream:
                stream["chunks"] = one_line(stream["chunks"])
            stream["events"] = one_line(stream["events"])
    text = json.dumps(raw, indent=2, ensure_ascii=False)
    return re.sub(r'"\\u0000line:(\d+)\\u0000"', lambda m: lines[int(m.group(1))], text) + "\n"
