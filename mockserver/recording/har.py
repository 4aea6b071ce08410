"""HAR 1.2 files (browser devtools, mitmproxy, Charles) as fixtures, so a session saved from a front end replays.

Rules (docs/fixtures.md, "HAR files"):

* an entry is used when its URL path has a ``/v1/`` or ``/latest/`` segment (anything before it, such as an app's
  ``/api/letta`` mount, is cut off), it got a response (status > 0) and the HAR holds its body when it had one;
* a ``text/event-stream`` response's ``content.text`` is the SSE body; a HAR keeps no chunk timing, so each event
  becomes one chunk, the first at the time to first byte (``blocked``+``dns``+``connect``+``send``+``wait``), the
  rest spread evenly over ``receive``;
* ``content.encoding: base64`` is honoured; request bodies come from ``postData.text``;
* headers go through the same redaction as a recording (``redact``), so credentials in the HAR stay in it;
* a HAR without usable entries is refused, saying what its entries were.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from mockserver.recording import redact
from mockserver.recording.format import (
    Chunk,
    Exchange,
    Fixture,
    FixtureError,
    RecordedRequest,
    RecordedResponse,
    Stream,
    body_fields,
    events_of,
)
from mockserver.version import __version__

__all__ = ["is_har", "parse_har"]

_API = re.compile(r"/(?:v1|latest)(?:/|$)")


def is_har(raw: Any) -> bool:
    return isinstance(raw, dict) and isinstance(raw.get("log"), dict) and "entries" in raw["log"]


def parse_har(raw: Any, where: str) -> Fixture:
    if not is_har(raw) or not isinstance(raw["log"]["entries"], list):
        raise FixtureError(where, "not a HAR file (no log.entries)")
    log = raw["log"]
    exchanges: list[Exchange] = []
    skipped: Counter[str] = Counter()
    for entry in log["entries"]:
        try:
            exchange, reason = _exchange(entry)
        except (KeyError, TypeError, ValueError) as error:
            exchange, reason = None, f"malformed ({type(error).__name__}: {error})"
        if exchange is None:
            skipped[reason or "unusable"] += 1
        else:
            exchanges.append(exchange)
    if not exchanges:
        count = len(log["entries"])
        why = "; ".join(f"{n} {reason}" for reason, n in skipped.most_common()) or "the HAR has no entries"
        raise FixtureError(where, f"a HAR without usable entries ({count} entries: {why})")
    creator = log.get("creator") or {}
    name = f"{creator.get('name', 'unknown')} {creator.get('version', '')}".strip()
    return Fixture(
        letta_mock_version=__version__,
        description=f"imported from a HAR file written by {name} ({len(exchanges)} of {len(log['entries'])} entries)",
        exchanges=exchanges,
    )


def _pairs(items: Any) -> list[tuple[str, str]]:
    return [(str(item["name"]), str(item.get("value", ""))) for item in items or ()]


def _exchange(entry: dict[str, Any]) -> tuple[Exchange | None, str | None]:
    request, response = entry["request"], entry["response"]
    url = urlsplit(request["url"])
    found = _API.search(url.path)
    if found is None:
        return None, "not under /v1/ or /latest/"
    status = int(response.get("status") or 0)
    if status <= 0:
        return None, "without a response (status 0)"
    content = response.get("content") or {}
    mime = str(content.get("mimeType") or _header(response, "content-type") or "")
    text = content.get("text")
    size = int(content.get("size") or 0)
    if text is None and size > 0:
        return None, "whose body the HAR does not hold (export with content)"
    raw = base64.b64decode(text) if text is not None and content.get("encoding") == "base64" else (text or "").encode()
    headers = _pairs(request.get("headers"))
    query = redact.redact_query(_pairs(request.get("queryString")) or _query_of(url.query))
    post = request.get("postData") or {}
    body = str(post.get("text") or "").encode()
    recorded_request = RecordedRequest(
        method=str(request["method"]).upper(),
        path=url.path[found.start() :],
        query=query,
        headers=redact.request_headers(headers),
        **body_fields(body, post.get("mimeType") or _header(request, "content-type")),
    )
    timings = entry.get("timings") or {}
    first = sum(max(float(timings.get(k) or 0), 0) for k in ("blocked", "dns", "connect", "send", "wait"))
    receive = max(float(timings.get("receive") or 0), 0)
    response_headers = redact.response_headers(_pairs(response.get("headers")))
    if mime and "content-type" not in response_headers:
        response_headers["content-type"] = mime
    if "text/event-stream" in mime:
        events = [part for part in re.split(rb"(?<=\n\n)", raw) if part]
        spread = receive / (len(events) - 1) if len(events) > 1 else 0.0
        chunks = [Chunk.of(first + spread * index, part) for index, part in enumerate(events)]
        timed = [(chunk.at_ms, chunk.data) for chunk in chunks]
        recorded_response = RecordedResponse(
            status=status, headers=response_headers, at_ms=round(first, 1), done_at_ms=round(first + receive, 1),
            stream=Stream(chunks=chunks, events=events_of(timed)),
        )  # fmt: skip
    else:
        recorded_response = RecordedResponse(
            status=status, headers=response_headers, at_ms=round(first, 1), done_at_ms=round(first + receive, 1),
            **body_fields(raw, mime),
        )  # fmt: skip
    return Exchange(request=recorded_request, response=recorded_response), None


def _header(message: dict[str, Any], name: str) -> str | None:
    for key, value in _pairs(message.get("headers")):
        if key.lower() == name:
            return value
    return None


def _query_of(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)
