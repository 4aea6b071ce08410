"""``letta-mock fixtures check``: does a recording still fit the contract? One line per problem, naming the file
and the JSON path into it — every problem of every file: a file that cannot be loaded gives every reason, and the
other files are checked all the same.

Every exchange is checked against our models (the mock's own OpenAPI document, for the operations it serves) and,
when given, any OpenAPI document (``--spec``), with ``mockserver.contract`` (discriminator-aware, ``message_type``
required):

* the request's JSON body against the operation's request body; an operation the document lacks is a problem;
* a JSON answer against the response the document lists for its status; a status it does not list must carry
  Letta's error shape (``{"detail": …}``, or ``{"error": {…}}`` from an LLM provider);
* a stream: Letta's framing (``framing_problems``), every event (``Contract.validate_event``; compaction events
  admitted, wire doc §17.4) and the stream grammar (``ending``: stop_reason, then usage, then ``[DONE]``, or one
  of the error endings); a stream recorded as ``dropped`` is a problem; ``stream.events`` must be what
  ``stream.chunks`` decode to.

``fidelity="server"`` admits the real server's documented quirks: its 422 body (``{"trace_id", "detail": "<repr>"}``,
§15.2), run dates without a timezone (§1.5), null ``detail``/``seq_id`` in error events (§2.2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.contract import Contract, as_documented, ending, framing_problems
from mockserver.recording.format import Exchange, Fixture, FixtureError, events_of
from mockserver.recording.library import load_each
from mockserver.rules import Rules

__all__ = ["Finding", "Report", "check_exchange", "check_files", "check_paths", "ours"]


@dataclass(frozen=True)
class Finding:
    where: str
    path: str  # a JSON pointer into the fixture file
    message: str
    document: str = ""

    def __str__(self) -> str:
        against = f" [{self.document}]" if self.document else ""
        return f"{self.where}: {self.path or '/'}: {self.message}{against}"


def ours() -> Contract:
    from mockserver.openapi import openapi_document

    return Contract(openapi_document(), source="letta-mock")


@dataclass(frozen=True)
class Report:
    """What ``check_files`` looked at: every file (or spec naming none), those that loaded, and the problems."""

    files: tuple[str, ...]
    loaded: tuple[str, ...]
    findings: list[Finding]

    def summary(self) -> str:
        """One line: how many problems in how many of the files."""
        bad = len({finding.where for finding in self.findings})
        if not self.findings:
            return f"no problems in {_count(len(self.files), 'file')}"
        return f"{_count(len(self.findings), 'problem')} in {bad} of {_count(len(self.files), 'file')}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def check_paths(specs: Sequence[str], documents: Sequence[Contract], *, fidelity: str = "contract") -> list[Finding]:
    """Problems of every fixture ``specs`` name (``check_files``' findings)."""
    return check_files(specs, documents, fidelity=fidelity).findings


def check_files(specs: Sequence[str], documents: Sequence[Contract], *, fidelity: str = "contract") -> Report:
    """Every problem of every file ``specs`` name: a file that cannot be loaded gives each reason it cannot (every
    misspelt key, every bad value), and the other files are checked all the same."""
    findings: list[Finding] = []
    files: list[str] = []
    loaded: list[str] = []
    for where, fixture in load_each(specs):
        files.append(where)
        if isinstance(fixture, FixtureError):
            findings += [Finding(where, path, message) for path, message in fixture.problems]
            continue
        loaded.append(where)
        for index, exchange in enumerate(fixture.exchanges):
            base = f"/exchanges/{index}"
            for document in documents:
                # Our document covers the messages API only; another operation is not ours to judge.
                required = document.source != "letta-mock"
                for path, message in check_exchange(exchange, document, fidelity=fidelity, required=required):
                    findings.append(Finding(where, base + path, message, document.source))
            for path, message in _stream_bookkeeping(exchange):
                findings.append(Finding(where, base + path, message))
    return Report(tuple(files), tuple(loaded), _unique(findings))


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    # The same problem against two documents is reported once, naming both.
    merged: dict[tuple[str, str, str], list[str]] = {}
    for finding in findings:
        merged.setdefault((finding.where, finding.path, finding.message), []).append(finding.document)
    return [Finding(w, p, m, ", ".join(d for d in docs if d)) for (w, p, m), docs in merged.items()]


def check_exchange(
    exchange: Exchange, document: Contract, *, fidelity: str = "contract", required: bool = True
) -> list[tuple[str, str]]:
    """(JSON pointer, message) of every way ``exchange`` breaks ``document``."""
    request, response = exchange.request, exchange.response
    path = request.path
    if path.startswith("/latest/"):  # Letta mounts the same routers under /latest (wire doc §1.1)
        path = "/v1/" + path.removeprefix("/latest/")
    template = document.operation(request.method, path)
    if template is None:
        return [("/request/path", f"{request.method} {path} is not an operation of the document")] if required else []
    out: list[tuple[str, str]] = []
    operation = document.document["paths"][template][request.method.lower()]
    schema = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is not None and request.has_json and request.json_body is not None:
        out += [("/request/json" + p.path, p.message) for p in document.validate(schema, request.json_body)]
    if response.stream is not None:
        out += _stream_problems(exchange, document, _rules(fidelity))
    elif response.has_json:
        out += _json_problems(request.method, template, response.status, response.json_body, document, _rules(fidelity))
    return out


def _json_problems(
    method: str, template: str, status: int, body: Any, document: Contract, rules: Rules
) -> list[tuple[str, str]]:
    if rules.repr_422 and status == 422 and isinstance(body, dict) and isinstance(body.get("detail"), str):
        return []  # the real server's 422: {"trace_id": "", "detail": "<repr of the errors>"} (§15.2)
    if rules.naive_run_dates or rules.steps_name_organization:  # the real server's JSON quirks, undone
        body = as_documented(template, body)
    if document.response(method, template, status) is None:
        if status >= 400 and isinstance(body, dict) and ("detail" in body or isinstance(body.get("error"), dict)):
            return []
        return [("/response/json", f"status {status} is not in the document and the body is not Letta's error shape")]
    schema = document.json_schema(method, template, status)
    if schema is None:
        return [("/response", f"the document declares no JSON body for {method} {template} -> {status}")]
    return [("/response/json" + p.path, p.message) for p in document.validate(schema, body)]


def _rules(fidelity: str) -> Rules:
    """The quirks a recording under ``fidelity`` may show (the world is not recorded: the open one's rules)."""
    return Rules.of(fidelity, closed_world=False)


def _stream_problems(exchange: Exchange, document: Contract, rules: Rules) -> list[tuple[str, str]]:
    stream = exchange.response.stream
    assert stream is not None
    frames, framing = framing_problems(stream.body())
    out = [("/response/stream/chunks" + p.path.removeprefix("/events"), p.message) for p in framing]
    types: list[str] = []
    run_ids: list[str | None] = []
    for index, frame in enumerate(frames):
        where = f"/response/stream/events/{index}"
        if frame.done:
            types.append("[DONE]")
            continue
        try:
            payload = json.loads(frame.data)
        except ValueError:
            continue  # framing_problems said so
        problems = document.validate_event(payload, error_event=frame.event == "error", compaction_events=True,
                                           null_error_fields=rules.null_error_fields)  # fmt: skip
        out += [(where + p.path, p.message) for p in problems]
        if isinstance(payload, dict):
            types.append(str(payload.get("message_type")))
            run_ids.append(payload.get("run_id") if isinstance(payload.get("run_id"), str) else None)
    if stream.end == "dropped":
        out.append(("/response/stream/end", "the recorded stream was cut off (the connection dropped)"))
    elif frames:
        found, why = ending([t for t in types if t not in ("summary_message", "event_message")], run_ids)
        if found is None:
            out.append(("/response/stream", f"not one of Letta's stream grammars: {why}"))
    return out


def _stream_bookkeeping(exchange: Exchange) -> list[tuple[str, str]]:
    """``stream.events`` (what a reader reads) must be what ``stream.chunks`` (what replay writes) decode to."""
    stream = exchange.response.stream
    if stream is None or stream.chunks is None:
        return []
    decoded = events_of([(chunk.at_ms, chunk.data) for chunk in stream.chunks])
    for index, (kept, found) in enumerate(zip(stream.events, decoded, strict=False)):
        if (kept.event, kept.data, kept.text) != (found.event, found.data, found.text):
            return [(f"/response/stream/events/{index}", "stream.events does not match what stream.chunks decode to")]
    if len(stream.events) != len(decoded):
        return [("/response/stream/events", f"{len(stream.events)} events kept, the chunks decode to {len(decoded)}")]
    return []


def fixture_problems(fixture: Fixture, where: str, documents: Sequence[Contract]) -> list[Finding]:
    """Problems of one fixture in memory (the curator checks what it is about to write)."""
    findings = []
    for index, exchange in enumerate(fixture.exchanges):
        for document in documents:
            required = document.source != "letta-mock"
            for path, message in check_exchange(exchange, document, required=required):
                findings.append(Finding(where, f"/exchanges/{index}{path}", message, document.source))
    return _unique(findings)
