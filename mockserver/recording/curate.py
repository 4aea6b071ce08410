"""The curated library in ``fixtures/``: one fixture per scenario, recorded from the mock itself through the
recording proxy, normalised, checked, and written for review.

    letta-mock fixtures curate                  # every row of CURATED into fixtures/ of the source tree
    letta-mock fixtures curate --only reply     # some of them

Each row is a short session a client would have: its requests (with the ``X-Letta-Mock`` controls that make the
mock play the scenario; replay ignores headers, so a test sends only the bodies), notes for the reader, and what
later requests take from earlier answers (a tool call id, a run id, a cursor). The mock runs seeded, the proxy
normalises, so a fixture's client ids are placeholders: a test may use any agent id. Every fixture is checked
against our models and Letta's OpenAPI document before it is written; one that fails is not written.
Inputs differ from fixture to fixture, so any set of them can be loaded together.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mockserver.catalogue import IN_BAND_ERRORS
from mockserver.contract import Contract
from mockserver.models import STOP_REASONS, StopReasonType
from mockserver.recording.check import fixture_problems
from mockserver.recording.format import Fixture, dumps, load_fixture
from mockserver.recording.proxy import Recorder
from mockserver.version import __version__

__all__ = ["CURATED", "Curated", "Request", "curate"]

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"  # becomes the client placeholder: any agent id replays
SDK_HEADERS = {  # what the official Python SDK sends (wire doc §1.2)
    "accept": "application/json",
    "content-type": "application/json",
    "user-agent": "Letta/Python 1.12.1",
    "x-stainless-lang": "python",
    "x-stainless-package-version": "1.12.1",
    "authorization": "Bearer curated-fixtures-key",
}
Context = dict[str, Any]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # {agent} and names from the context ({run_id}) are filled in
    body: dict[str, Any] | Callable[[Context], dict[str, Any]] | None = None
    controls: str | None = None
    query: dict[str, Any] | Callable[[Context], dict[str, Any]] = field(default_factory=dict)
    until: Callable[[httpx.Response], bool] | None = None  # repeat until true (a poll, a pagination)
    note: str = ""


@dataclass(frozen=True)
class Curated:
    name: str
    description: str
    requests: tuple[Request, ...]


def _send(text: str, controls: str | None = None, note: str = "", **extra: Any) -> Request:
    return Request("POST", "/v1/agents/{agent}/messages", {"input": text, "streaming": True, **extra}, controls,
                   note=note or "a streamed send")  # fmt: skip


def _list(
    note: str = "the agent's history, as the SDKs auto-paginate it (after the last id, to an empty page)",
) -> Request:
    return Request("GET", "/v1/agents/{agent}/messages", query=lambda c: c.get("page", {}),
                   until=lambda r: r.json() == [], note=note)  # fmt: skip


# Stop reasons a turn reaches by itself; the others are forced after a reply (the ``stop_reason`` control).
_NATURAL: dict[str, tuple[str, dict[str, Any]]] = {
    "requires_approval": ("scenario=approval; tool=send_email", {}),  # with its approval request
    "max_steps": ("scenario=multi_step; steps=3", {"max_steps": 1}),  # one tool step of three
}


def _stop_reason(reason: StopReasonType) -> Curated:
    controls, extra = _NATURAL.get(reason, (f"scenario=reply; stop_reason={reason}", {}))
    return Curated(
        f"stop_reason_{reason}",
        f"a streamed turn that ends with stop_reason {reason}",
        (_send(f"Please end this turn with {reason.replace('_', ' ')}.", controls, **extra),),
    )


def _error(error_type: str) -> Curated:
    return Curated(
        f"error_{error_type}",
        f"a stream that fails in-band with {error_type} before the agent's first chunk (wire doc §6.5a)",
        (_send(f"Fail with {error_type.replace('_', ' ')}, please.", f"error={error_type}"),),
    )


CURATED: tuple[Curated, ...] = (
    Curated("reply", "a plain reply: the assistant's text, as JSON and as a stream", (
        Request("POST", "/v1/agents/{agent}/messages", {"input": "Hello!"}, "scenario=reply", note="a JSON send"),
        _send("Hello again!", "scenario=reply"),
    )),
    Curated("reasoning", "reasoning, then the reply (the default agent), streamed", (
        _send("What is two plus two?", "scenario=reasoning"),
    )),
    Curated("tool_call", "a server tool call, its return, then the reply, streamed", (
        _send("What is the weather in Paris?", "scenario=tool_call; tool=get_weather"),
    )),
    Curated("approval_round_trip", "a tool call that waits for approval, the approval, then the tool's return", (
        _send("Delete the temporary files.", "scenario=approval; tool=delete_files",
              note="stops with requires_approval"),
        Request("POST", "/v1/agents/{agent}/messages", lambda c: {
            "messages": [{"type": "approval", "approvals": [
                {"type": "approval", "tool_call_id": c["tool_call_id"], "approve": True}]}],
            "streaming": True}, "scenario=reply", note="the approval: the tool returns, the agent replies"),
        _list(),
    )),
    Curated("client_tool", "a client-side tool call, the client's result, then the reply", (
        _send("Open the settings page.", "scenario=client_tool; tool=open_page",
              client_tools=[{"name": "open_page", "description": "Open a page of the app",
                             "parameters": {"type": "object", "properties": {"page": {"type": "string"}}}}],
              note="the agent calls the client's tool and waits"),
        Request("POST", "/v1/agents/{agent}/messages", lambda c: {
            "messages": [{"type": "tool_return", "tool_returns": [
                {"type": "tool", "tool_call_id": c["tool_call_id"], "tool_return": "The settings page is open.",
                 "status": "success"}]}],
            "streaming": True}, "scenario=reply", note="the client's result; the agent replies"),
    )),
    *(_stop_reason(reason) for reason in STOP_REASONS),
    *(_error(error_type) for error_type in IN_BAND_ERRORS),
    Curated("error_mid_stream", "a stream that fails in-band after the agent's first chunk: no [DONE] (§6.5b)", (
        _send("Start answering, then fail.", "error=llm_error; error_at=mid"),
    )),
    Curated("long_stream_pings", "a long think filled with keep-alive pings, then a long token-streamed reply", (
        _send("Think hard, then write at length.", "scenario=long; tokens=60; think_ms=1200; ping_interval_ms=250",
              stream_tokens=True),
    )),
    Curated("token_streaming", "a token-streamed reply: reasoning and text in chunks sharing ids, paced", (
        _send("Tell me a short story.", "scenario=reasoning; token_delay_ms=15", stream_tokens=True),
    )),
    Curated("compaction", "a turn that compacts the context first (event and summary messages), then history", (
        Request("POST", "/v1/agents/{agent}/messages", {"input": "Remember that my cat is called Tom."},
                "scenario=reply", note="history to compact"),
        _send("Summarise what you know.", "scenario=compaction", include_compaction_messages=True),
        _list(),
    )),
    Curated("paginated_history", "three turns, then the history page by page as the SDKs auto-paginate", (
        Request("POST", "/v1/agents/{agent}/messages", {"input": "First question."}, "scenario=reply"),
        Request("POST", "/v1/agents/{agent}/messages", {"input": "Second question."}, "scenario=reply"),
        Request("POST", "/v1/agents/{agent}/messages", {"input": "Third question."}, "scenario=reply"),
        Request("GET", "/v1/agents/{agent}/messages", query=lambda c: {"limit": 3, **c.get("page", {})},
                until=lambda r: r.json() == [], note="pages of 3, after the last id, until an empty page"),
    )),
    Curated("async_run", "an async send, its run polled to the end, its messages, its stream and a resume", (
        Request("POST", "/v1/agents/{agent}/messages/async", {"input": "Work on this in the background."},
                "scenario=tool_call; tool=search; think_ms=300", note="the run, status created"),
        Request("GET", "/v1/runs/{run_id}", until=lambda r: r.json()["status"] not in ("created", "running"),
                note="polled until it ends (the last answer repeats)"),
        Request("GET", "/v1/runs/{run_id}/messages", note="what the run produced"),
        Request("POST", "/v1/runs/{run_id}/stream", {}, note="the run's stream, numbered"),
        Request("POST", "/v1/runs/{run_id}/stream", {"starting_after": 3}, note="resumed after seq_id 3"),
    )),
    Curated("background_stream_resume", "a background stream, then its resume after a seq_id", (
        _send("Answer in the background.", "scenario=tool_call; tool=search", background=True,
              note="numbered events (seq_id)"),
        Request("POST", "/v1/runs/{run_id}/stream", {"starting_after": 2}, note="resumed after seq_id 2"),
    )),
)  # fmt: skip


def _learn(context: Context, response: httpx.Response) -> None:
    """What later requests of a session take from an answer."""
    text = response.text
    if (found := re.search(r'"tool_call_id":"([^"]+)"', text)) is not None:
        context["tool_call_id"] = found.group(1)
    if (found := re.search(r'"(?:run_id|id)":"(run-[0-9a-f-]{36})"', text)) is not None:
        context.setdefault("run_id", found.group(1))
    if response.request.method == "GET" and text.startswith("["):
        page = response.json()
        context["page"] = {**context.get("page", {}), "after": page[-1]["id"]} if page else {}


async def _session(recorder: Recorder, curated: Curated) -> list[str]:
    """Run the row's requests through the recorder; the note of each call made, in order."""
    notes: list[str] = []
    context: Context = {"agent": AGENT}
    transport = httpx.ASGITransport(app=recorder)
    async with httpx.AsyncClient(transport=transport, base_url="http://letta-mock", timeout=30) as client:
        for request in curated.requests:
            for _ in range(50):  # bounds a poll or a pagination
                body = request.body(context) if callable(request.body) else request.body
                query = request.query(context) if callable(request.query) else request.query
                headers = {**SDK_HEADERS, **({"x-letta-mock": request.controls} if request.controls else {})}
                response = await client.request(request.method, request.path.format(**context), json=body,
                                                params=query, headers=headers)  # fmt: skip
                if response.status_code >= 400:
                    raise RuntimeError(f"{curated.name}: {request.method} {request.path}: {response.text[:300]}")
                notes.append(request.note)
                _learn(context, response)
                if request.until is None or request.until(response):
                    break
                await asyncio.sleep(0.05)
    return notes


def _server_start(name: str) -> int:
    # Server placeholders of different fixtures never meet: each fixture numbers from its own thousand.
    return (zlib.crc32(name.encode()) % 100_000) * 1000


def record(curated: Curated, upstream: str, workdir: Path, *, spec_sha256: str | None = None) -> Fixture:
    """Record one curated session from the mock at ``upstream``: its exchanges as one normalised fixture."""
    out = workdir / curated.name
    # The seeded mock's dates are reproducible already: only ids become placeholders.
    recorder = Recorder(upstream, out, mode="all", normalise=True, normalise_dates=False, spec_sha256=spec_sha256,
                        placeholders_from=_server_start(curated.name))  # fmt: skip
    notes = asyncio.run(_session(recorder, curated))
    if recorder.refused:
        raise RuntimeError(f"{curated.name}: {recorder.refused}")
    fixtures = [load_fixture(path) for path in recorder.written]
    exchanges = [exchange for fixture in fixtures for exchange in fixture.exchanges]
    assert len(exchanges) == len(notes), f"{curated.name}: {len(notes)} calls, {len(exchanges)} recorded"
    exchanges = [e.model_copy(update={"note": note or None}) for e, note in zip(exchanges, notes, strict=True)]
    first = fixtures[0]
    return first.model_copy(update={
        "description": f"{curated.description} (recorded from letta-mock {__version__}, normalised)",
        "exchanges": exchanges, "server_version": None,
    })  # fmt: skip


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}|[a-z]+-[0-9a-f-]{36}", "*", path)


def curate(
    rows: Sequence[Curated],
    out: Path,
    documents: Sequence[Contract],
    fresh_mock: Callable[[], str],
    *,
    spec_sha256: str | None = None,
) -> list[str]:
    """Record (from the mock ``fresh_mock`` starts over and gives the URL of), check and write each row; the
    problems of those not written. ``spec_sha256``: of the Letta document the mock follows, noted in each file."""
    problems: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    starts = [_server_start(row.name) for row in CURATED]
    assert len(set(starts)) == len(starts), "two curated fixtures share their placeholder numbers"
    with tempfile.TemporaryDirectory() as scratch:
        for row in rows:
            fixture = record(row, fresh_mock(), Path(scratch), spec_sha256=spec_sha256)
            found = fixture_problems(fixture, f"{row.name}.json", documents)
            if found:
                problems += [str(f) for f in found]
                continue
            target = out / f"{row.name}.json"
            if target.exists() and _untimed(load_fixture(target)) == _untimed(fixture):
                # Only the timing differs (it always does a little): keep the reviewed file, so a diff shows
                # what changed.
                print(f"{row.name}: unchanged")
                continue
            target.write_text(dumps(fixture), encoding="utf-8")
            print(f"{row.name}: {len(fixture.exchanges)} exchange(s)")
    return problems


def _untimed(fixture: Fixture) -> Any:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("at_ms", "done_at_ms")}
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    return strip(fixture.model_dump(mode="json"))


def readme_table(rows: Sequence[Curated], folder: Path) -> str:
    """The fixtures/README.md table: each fixture and the requests a test sends to replay it."""
    lines = ["| name | what it holds | requests (bodies as recorded) |", "|---|---|---|"]
    for row in rows:
        path = folder / f"{row.name}.json"
        if not path.exists():
            continue
        fixture = load_fixture(path)
        seen: list[str] = []
        for exchange in fixture.exchanges:
            request = exchange.request
            shown = f"`{request.method} {_shape(request.path)}`"
            if request.has_json and request.json_body:
                shown += f" `{json.dumps(request.json_body, separators=(',', ':'))[:90]}`"
            if shown not in seen:
                seen.append(shown)
        lines.append(f"| `{row.name}` | {row.description} | {'<br>'.join(seen)} |")
    return "\n".join(lines)


BEGIN, END = (
    "<!-- curated fixtures: begin (letta-mock fixtures curate writes this table) -->",
    "<!-- curated fixtures: end -->",
)


def write_readme_table(readme: Path, table: str) -> None:
    """Put ``table`` between the markers of ``readme`` (added at its end when missing)."""
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + ("\n\n" if text else "") + block + "\n"
    readme.write_text(text, encoding="utf-8")
