"""``letta-mock record``: a recording proxy. Clients talk to it; it forwards to the upstream Letta server and
writes each exchange as a fixture file.

Rules (docs/fixtures.md, "Recording"):

* a stream is handed to the client read by read as it arrives, never buffered to its end; each read is recorded
  with its offset from the request's arrival (``format``). A stream the upstream breaks off is recorded as
  ``dropped`` and the client's connection is dropped the same way;
* bodies are asked for uncompressed (``accept-encoding: identity``), so what is recorded is what was sent;
* secrets never reach disk (``redact``): credential headers and query values are redacted, and a file that would
  still hold a credential the client sent, in any encoding, is not written (logged, and listed in ``refused``);
* with ``normalise`` ids and dates become placeholders (``normalise``);
* modes, as VCR.py and pytest-recording name them: ``new_episodes`` (default) answers what the directory already
  holds and records the rest (a recorded sequence that is used up counts as not recorded); ``once`` records into an
  empty directory and only replays a directory that holds a recording; ``all`` forwards and records everything,
  replacing an earlier recording in the directory once it writes its first exchange; ``none`` only replays;
* an answer is handed on chunked, and its end only once its file is written: a client that has its answer finds
  the exchange on disk;
* files are ``NNNN-<method>-<path words>.json``, numbered on from the directory's highest number (``all``: from
  1), written whole (a temporary file renamed into place);
* it forwards only what a client on the allowlists sent (``mockserver.allowlists``): a web page not on a loopback
  origin or ``cors_origins`` is refused before anything reaches the upstream, and the CORS headers the client gets
  are the recorder's own for those origins, never the upstream's (a Letta server answers ``*``). The ``Host``
  check is the socket's, as for every server letta-mock runs (``mockserver.serving``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import ssl
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Literal

import httpx
from starlette.types import Receive, Scope, Send

from mockserver.allowlists import OriginCheck
from mockserver.config import web_origins
from mockserver.errors import ConfigurationError
from mockserver.faults import ConnectionDropped
from mockserver.recording import redact
from mockserver.recording.format import (
    DEFAULT_IGNORED,
    Chunk,
    Exchange,
    Fixture,
    FixtureError,
    MatchRules,
    RecordedRequest,
    RecordedResponse,
    Stream,
    body_fields,
    dumps,
    events_of,
    load_fixture,
)
from mockserver.recording.library import from_fixtures
from mockserver.recording.matching import Ignore, Incoming
from mockserver.recording.middleware import FIXTURE_HEADER, incoming_of, send_json
from mockserver.recording.normalise import CLIENT, SERVER, Normaliser, placeholder_numbers, resplit
from mockserver.recording.playback import Clock, answer_bytes, play, read_body
from mockserver.recording.replay import MISS_STATUS, LocalSession, Replayer, miss_body
from mockserver.version import __version__

__all__ = ["MODES", "Recorder", "upstream_facts"]

Mode = Literal["once", "new_episodes", "all", "none"]
MODES: tuple[Mode, ...] = ("once", "new_episodes", "all", "none")
log = logging.getLogger("letta_mock")

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding",
     "upgrade", "host", "content-length", "accept-encoding"}
)  # fmt: skip
# Not handed back: hop-by-hop headers, uvicorn's own, and the length (the body goes on chunked, so the client has
# its whole answer only once the exchange is written). CORS headers are the recorder's own (``_CORS``).
_NOT_BACK = frozenset({"connection", "keep-alive", "transfer-encoding", "server", "date", "content-length"})
_CORS = "access-control-"
_ORIGIN_OPTION = "--cors-origin {0} (in Python: Recorder(cors_origins=['{0}']))"
_FILE = re.compile(r"^(\d{4,})-.*\.json$")
_MAX_BODY = 64 * 1024 * 1024


@cache
def _tls() -> ssl.SSLContext:
    # Building a TLS context costs ~50 ms; every recorder of a process shares one.
    return ssl.create_default_context()


def upstream_facts(url: str, *, spec: bool = True, timeout: float = 10.0) -> tuple[str | None, str | None]:
    """The upstream's version (``/v1/health/``) and the SHA-256 of the OpenAPI document it serves, when known."""
    version = digest = None
    base = url.rstrip("/")
    try:
        health = httpx.get(base + "/v1/health/", timeout=timeout)
        if health.status_code == 200:
            version = str(health.json().get("version")) or None
        if spec:
            document = httpx.get(base + "/openapi.json", timeout=timeout)
            if document.status_code == 200:
                digest = hashlib.sha256(document.content).hexdigest()
    except (httpx.HTTPError, ValueError, AttributeError):
        pass
    return version, digest


class Recorder:
    """The recording proxy as an ASGI app (serve it with uvicorn, or behind ``LiveServer``)."""

    def __init__(
        self,
        upstream: str,
        out: str | Path,
        *,
        mode: str = "new_episodes",
        normalise: bool = False,
        ignore: Sequence[str] = DEFAULT_IGNORED,
        match_headers: Sequence[str] = (),
        server_version: str | None = None,
        spec_sha256: str | None = None,
        replay_speed: float = 0.0,
        description: str | None = None,
        normalise_dates: bool = True,
        placeholders_from: int = 0,
        cors_origins: Sequence[str] = (),
    ) -> None:
        if mode not in MODES:
            raise ConfigurationError(f"record mode must be one of {', '.join(MODES)}, not {mode!r}")
        origins = web_origins(cors_origins)
        target = httpx.URL(upstream)
        if target.scheme not in ("http", "https") or not target.host:
            raise ConfigurationError(f"upstream must be an http(s) URL, not {upstream!r}")
        self.upstream = target
        self.out = Path(out)
        self.mode: Mode = mode
        self.rules = MatchRules(ignore=list(ignore), headers=[h.lower() for h in match_headers])
        self.meta = {"server_version": server_version, "spec_sha256": spec_sha256, "description": description}
        self.replay_speed = replay_speed
        self.session = LocalSession()
        existing = self._existing()
        self._old = [path for path, _ in existing] if mode == "all" else []
        self.replayer = Replayer(from_fixtures([(str(p), f) for p, f in existing]))
        self.replaying = mode in ("new_episodes", "none") or (mode == "once" and bool(existing))
        self.recording = mode in ("new_episodes", "all") or (mode == "once" and not existing)
        numbers = [int(m.group(1)) for p, _ in existing if (m := _FILE.match(p.name))]
        self._next = 1 if mode == "all" else max(numbers, default=0) + 1
        # Server placeholders go on past those of the files already here (and ``placeholders_from``).
        highest = max((placeholder_numbers(p.read_text(encoding="utf-8")) for p, _ in existing), default=0)
        highest = max(highest, placeholders_from)
        self.normaliser = (
            Normaliser(self.session.aliases, server_start=highest, dates=normalise_dates) if normalise else None
        )
        self.written: list[Path] = []
        self.refused: list[str] = []
        # Made now, not on the first request, so its set-up is not in the first exchange's timing. No read
        # timeout: Letta streams stay silent up to 20 s between keep-alive pings, and runs go on for minutes.
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None), verify=_tls(), follow_redirects=False)
        self._checked = OriginCheck(self._answer, origins=origins, option=_ORIGIN_OPTION)

    def _existing(self) -> list[tuple[Path, Fixture]]:
        if not self.out.exists():
            return []
        if not self.out.is_dir():
            raise ConfigurationError(f"{self.out} is not a directory")
        try:
            # Its own files only: a recorder writes (and in mode all removes) files directly in DIR.
            return [(path, load_fixture(path)) for path in sorted(self.out.glob("*.json"))]
        except FixtureError as error:
            raise ConfigurationError(f"cannot record into {self.out}: {error}") from None

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- ASGI ---------------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "http":
            await self._checked(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request from an allowed client: replayed, recorded or refused as the mode says."""
        clock = Clock(self.replay_speed)
        started = time.perf_counter()
        body, _ = await read_body(receive, _MAX_BODY)
        if body is None:
            await send_json(send, 413, {"detail": f"Request body exceeds the limit of {_MAX_BODY} bytes"})
            return
        incoming = incoming_of(scope, body)
        if self.replaying:
            hit = self.replayer.find(incoming, self.session, fresh_only=self.mode == "new_episodes")
            if hit is not None:
                self.replayer.use(hit, self.session)
                response = hit.entry.exchange.response
                label = hit.entry.label.encode("latin-1", "replace")
                writes = answer_bytes(response, hit.rewrite(self.session))
                await play(send, response, writes, clock, headers=[(FIXTURE_HEADER, label)])
                return
        if not self.recording:
            answer = miss_body(incoming, self.replayer.near_miss(incoming, self.session), self.replayer.library.sources)
            answer["detail"] += f" (record mode {self.mode}: nothing new is recorded into {self.out})"
            await send_json(send, MISS_STATUS, answer, [(FIXTURE_HEADER, b"miss")])
            return
        await self._forward(scope, send, incoming, started)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(self, scope: Scope, send: Send, incoming: Incoming, started: float) -> None:
        def now_ms() -> float:
            return (time.perf_counter() - started) * 1000

        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        target = self.upstream.copy_with(raw_path=self.upstream.raw_path.rstrip(b"/") + raw_path +
                                         (b"?" + query if query else b""))  # fmt: skip
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        forwarded = [(k, v) for k, v in pairs if k.lower() not in _HOP_BY_HOP] + [("accept-encoding", "identity")]
        request = self._client.build_request(incoming.method, target, headers=forwarded, content=incoming.body)
        try:
            upstream = await self._client.send(request, stream=True)
        except httpx.HTTPError as error:
            detail = f"letta-mock record: the upstream {self.upstream} did not answer ({type(error).__name__}: {error})"
            await send_json(send, 502, {"detail": detail})
            return
        headers_at = now_ms()
        encoded = upstream.headers.get("content-encoding", "identity").lower() != "identity"
        # A body the upstream compressed anyway is handed on decoded, without its encoding.
        dropped = _NOT_BACK | ({"content-encoding"} if encoded else set())
        back = [(k, v) for k, v in upstream.headers.multi_items()
                if k.lower() not in dropped and not k.lower().startswith(_CORS)]  # fmt: skip
        await send({"type": "http.response.start", "status": upstream.status_code,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in back]})  # fmt: skip
        chunks: list[tuple[float, bytes]] = []
        end: Literal["complete", "dropped"] = "complete"
        client_here = True
        try:
            async for data in upstream.aiter_bytes():
                chunks.append((now_ms(), data))
                if client_here:
                    try:
                        await send({"type": "http.response.body", "body": data, "more_body": True})
                    except OSError:  # the client went away; the recording goes on to the upstream's end
                        client_here = False
        except httpx.TransportError:
            end = "dropped"
        finally:
            await upstream.aclose()
        self._save(scope, incoming, upstream, headers_at, now_ms(), chunks, end, pairs)
        if end == "dropped":
            raise ConnectionDropped("the upstream dropped the connection mid-body")
        if client_here:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    # -- writing ------------------------------------------------------------------------------------------------

    def _save(
        self,
        scope: Scope,
        incoming: Incoming,
        upstream: httpx.Response,
        headers_at: float,
        done_at: float,
        chunks: list[tuple[float, bytes]],
        end: Literal["complete", "dropped"],
        headers: list[tuple[str, str]],
    ) -> None:
        secrets = redact.credentials(headers, incoming.query)
        try:
            fixture = self._fixture(incoming, upstream, headers_at, done_at, chunks, end, headers)
            text = dumps(fixture)
        except (ValueError, UnicodeError) as error:  # a body the format cannot hold: say so, keep proxying
            log.warning("letta-mock record: %s %s not recorded: %s", incoming.method, incoming.path, error)
            self.refused.append(f"{incoming.method} {incoming.path}: {error}")
            return
        found = redact.leaks(text, secrets)
        if found:
            what = "; ".join(found)
            reason = f"{incoming.method} {incoming.path} not recorded: the file would hold a credential: {what}"
            log.warning("letta-mock record: %s", reason)
            self.refused.append(reason)
            return
        self._write(text, incoming)

    def _fixture(
        self,
        incoming: Incoming,
        upstream: httpx.Response,
        headers_at: float,
        done_at: float,
        chunks: list[tuple[float, bytes]],
        end: Literal["complete", "dropped"],
        headers: list[tuple[str, str]],
    ) -> Fixture:
        norm = self.normaliser
        ignore = Ignore(self.rules.ignore)
        request_type = dict((k.lower(), v) for k, v in headers).get("content-type")
        request_body = body_fields(incoming.body, request_type, exact=False)
        path, query = incoming.path, redact.redact_query(incoming.query)
        if norm is not None:
            path = norm.text(path, CLIENT)
            query = [(k, norm.text(v, CLIENT, allocate=k not in ignore.query)) for k, v in query]
            if "json" in request_body:
                request_body["json"] = norm.json(request_body["json"], CLIENT, ignored=ignore.body)
            elif "text" in request_body:
                request_body["text"] = norm.text(request_body["text"], CLIENT)
        request = RecordedRequest(method=incoming.method, path=path, query=query,
                                  headers=redact.request_headers(headers), **request_body)  # fmt: skip
        content_type = upstream.headers.get("content-type", "")
        response_headers = redact.response_headers(upstream.headers.multi_items())
        timing = {"at_ms": round(headers_at, 1), "done_at_ms": round(done_at, 1)}
        if "text/event-stream" in content_type:
            data = [chunk for _, chunk in chunks]
            if norm is not None and data:
                data = resplit(data, norm.text(b"".join(data).decode("utf-8", "surrogateescape"), SERVER))
            timed = [(at, piece) for (at, _), piece in zip(chunks, data, strict=False)]
            stream = Stream(chunks=[Chunk.of(at, piece) for at, piece in timed], events=events_of(timed), end=end)
            response = RecordedResponse(status=upstream.status_code, headers=response_headers, stream=stream, **timing)
        else:
            raw = b"".join(chunk for _, chunk in chunks)
            if norm is not None and raw:
                raw = norm.text(raw.decode("utf-8", "surrogateescape"), SERVER).encode("utf-8", "surrogateescape")
            fields = body_fields(raw, content_type)
            response = RecordedResponse(status=upstream.status_code, headers=response_headers, **timing, **fields)
        recorded_at = None if norm is not None else datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return Fixture(
            letta_mock_version=__version__, recorded_at=recorded_at, normalised=norm is not None, match=self.rules,
            exchanges=[Exchange(request=request, response=response)], **self.meta,
        )  # fmt: skip

    def _write(self, text: str, incoming: Incoming) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        for old in self._old:  # mode "all": the earlier recording goes once the new one has its first exchange
            old.unlink(missing_ok=True)
        self._old = []
        # Path words without the ids: 0003-post-agents-messages.json
        segments = [s for s in incoming.path.lower().split("/") if s and s != "v1" and not re.search(r"\d", s)]
        words = re.sub(r"[^a-z0-9]+", "-", "-".join(segments)).strip("-")[:60] or "root"
        name = f"{self._next:04d}-{incoming.method.lower()}-{words}.json"
        self._next += 1
        target = self.out / name
        handle, temporary = tempfile.mkstemp(dir=self.out, prefix=".recording-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.written.append(target)
