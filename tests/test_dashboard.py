"""The dashboard's server side: the page and its files, the admin API it reads (the journal as a bounded ring with
each exchange in full, the agents and their histories, the tables of controls), and its absence without admin."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _local import ROOT
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.admin import admin_mount
from mockserver.dashboard import ASSETS
from mockserver.journal import BODY_LIMIT, DEFAULT_SIZE, STREAM_DATA_LIMIT, Journal

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
SEND = f"/v1/agents/{AGENT}/messages"


@pytest.fixture
async def mock() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(seed=3)), base_url="http://t") as c:
        yield c


async def stream(client: httpx.AsyncClient, text: str, controls: str = "") -> None:
    headers = {"X-Letta-Mock": controls} if controls else {}
    response = await client.post(SEND, json={"input": text, "streaming": True}, headers=headers)
    assert response.status_code == 200


# -- the page -----------------------------------------------------------------------------------------------------


async def test_a_browser_gets_the_page_and_tools_get_the_json_index(mock: httpx.AsyncClient) -> None:
    page = await mock.get("/_mock/", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>letta-mock dashboard</title>" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    index = (await mock.get("/_mock/")).json()
    assert index["config"] == {"seed": 3, "fidelity": "contract", "agents": None, "journal_size": DEFAULT_SIZE}
    assert "GET, HEAD /_mock/journal/{exchange_id:int}" in index["routes"]
    assert (await mock.get("/_mock")).headers["location"].endswith("/_mock/")


async def test_the_page_loads_only_its_own_files_and_they_are_served(mock: httpx.AsyncClient) -> None:
    page = (await mock.get("/_mock/", headers={"accept": "text/html"})).text
    loaded = [url for url in re.findall(r'(?:src|href)="([^"#]+)"', page) if url != "data:,"]  # no favicon fetch
    assert sorted(loaded) == sorted(f"assets/{name}" for name in ASSETS)
    for name, content_type in ASSETS.items():
        response = await mock.get(f"/_mock/assets/{name}")
        assert (response.status_code, response.headers["content-type"]) == (200, content_type)
        assert response.headers["x-content-type-options"] == "nosniff"
    assert (await mock.get("/_mock/assets/../admin.py")).status_code == 404
    assert (await mock.get("/_mock/assets/index.html")).json() == {"detail": "Not Found"}


async def test_the_page_comes_with_the_journal_and_agents_as_they_are_and_client_text_stays_data(
    mock: httpx.AsyncClient,
) -> None:
    hostile = "</script><script>alert(1)</script><!-- & -->"
    await mock.post(SEND, json={"input": hostile})
    await mock.get("/v1/health/")
    page = (await mock.get("/_mock/", headers={"accept": "text/html"})).text
    blocks = re.findall(r'<script id="first" type="application/json">(.*?)</script>', page, re.DOTALL)
    assert len(blocks) == 1
    assert not {"<", ">", "&"} & set(blocks[0])  # nothing in it can end the block or open a comment
    first = json.loads(blocks[0])
    assert first["index"] == (await mock.get("/_mock/")).json()
    assert first["changes"] == (await mock.get("/_mock/journal/changes?since=0")).json()
    assert [s["operation"] for s in first["changes"]["changed"]] == ["send_message", "check_health"]
    assert first["changes"]["changed"][0]["body"] == {"input": hostile}
    assert first["agents"] == (await mock.get("/_mock/agents")).json()
    assert [a["id"] for a in first["agents"]] == [AGENT]


def test_the_script_writes_what_it_shows_as_text_never_as_html() -> None:
    script = (ROOT / "mockserver/dashboard/static/dashboard.js").read_text()
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert "eval(" not in script


async def test_the_control_tables_say_how_the_page_offers_each_key(mock: httpx.AsyncClient) -> None:
    controls = {row["key"]: row for row in (await mock.get("/_mock/")).json()["controls"]}
    assert controls["scenario"]["kind"] == "choice"
    assert "tool_call" in controls["scenario"]["choices"]
    assert controls["error"]["choices"][0] == "llm_error"
    assert (controls["token_delay_ms"]["kind"], controls["token_delay_ms"]["group"]) == ("number", "pacing")
    assert (controls["fault"]["kind"], controls["fault"]["group"]) == ("text", "faults")
    assert (controls["reply"]["kind"], controls["reply"]["group"]) == ("text", "turn")
    # Every key that paces the stream is filed under pacing (a tool's run time too), as the control table says.
    assert {key for key, row in controls.items() if row["group"] == "pacing"} == {
        "first_event_delay_ms", "token_delay_ms", "jitter_ms", "think_ms", "tool_ms", "ping_interval_ms"
    }  # fmt: skip


@pytest.mark.parametrize("path", ["/_mock/", "/_mock/assets/dashboard.js", "/_mock/journal/changes", "/_mock/agents"])
async def test_without_the_admin_api_there_is_no_dashboard(path: str) -> None:
    app = create_app(admin=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(path, headers={"accept": "text/html"})
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


async def test_one_wrapper_guards_every_admin_and_dashboard_route() -> None:
    # The shape a token check (--auth-token) takes: it wraps the mounted app, so nothing under /_mock/ escapes it.
    def guard(inner: Any) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            if dict(scope["headers"]).get(b"authorization") != b"Bearer ok":
                await httpx_free_response(send, 401)
                return
            await inner(scope, receive, send)

        return app

    app = create_app()
    app.router.routes[-1] = admin_mount(guard)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for path in ("/_mock/", "/_mock/assets/dashboard.js", "/_mock/journal", "/_mock/calls", "/_mock/agents"):
            assert (await client.get(path)).status_code == 401
            assert (await client.get(path, headers={"authorization": "Bearer ok"})).status_code == 200
        assert (await client.get("/v1/health/")).status_code == 200  # Letta's routes are not the guard's


async def httpx_free_response(send: Any, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"no"})


# -- the journal as the page reads it -----------------------------------------------------------------------------


async def test_an_exchange_in_full_has_its_headers_body_and_each_event_with_its_offset(mock: httpx.AsyncClient) -> None:
    await stream(mock, "/tool web_search", "token_delay_ms=15")
    (summary,) = (await mock.get("/_mock/journal")).json()
    detail = (await mock.get(f"/_mock/journal/{summary['id']}")).json()
    assert detail["headers"]["x-letta-mock"] == "token_delay_ms=15"
    assert detail["body"] == {"input": "/tool web_search", "streaming": True}
    assert detail["params"] == {"agent_id": AGENT}
    assert detail["state"] == "done"
    events = detail["response"]["stream"]
    assert [e["message_type"] for e in events][:3] == ["ping", "reasoning_message", "tool_call_message"]
    assert events[-1] == {"at_ms": events[-1]["at_ms"], "event": None, "message_type": "[DONE]", "data": "[DONE]"}
    offsets = [e["at_ms"] for e in events]
    assert offsets == sorted(offsets)
    assert offsets[-1] - offsets[1] >= 15 * 4
    assert events[2]["data"]["tool_calls"][0]["name"] == "web_search"
    assert summary["response"]["types"]["reasoning_message"] == 2
    assert summary["response"]["stop_reason"] == "end_turn"
    assert detail["duration_ms"] >= offsets[-1]


async def test_error_events_are_named_and_json_bodies_are_kept(mock: httpx.AsyncClient) -> None:
    await stream(mock, "hi", "error=llm_error")
    await mock.get(SEND)
    first, second = (await mock.get("/_mock/journal")).json()
    events = (await mock.get(f"/_mock/journal/{first['id']}")).json()["response"]["stream"]
    errors = [e for e in events if e["event"] == "error"]
    assert [e["message_type"] for e in errors] == ["error_message"]
    listed = (await mock.get(f"/_mock/journal/{second['id']}")).json()["response"]
    assert listed["content_type"] == "application/json"
    assert listed["body"][0]["message_type"] == "system_message"


async def test_a_listing_is_journaled_as_the_store_s_item_json_byte_for_byte(mock: httpx.AsyncClient) -> None:
    """A listing's journal entry holds the store's cached item JSON (no copy of the body): reading it back gives the
    very bytes the client got."""
    await mock.post(SEND, json={"input": "hello"})
    listed = await mock.get(SEND, params={"limit": 5})
    entry = (await mock.get("/_mock/journal")).json()[-1]
    assert (await mock.get(f"/_mock/journal/{entry['id']}")).json()["response"]["body"] == listed.json()
    app = mock._transport.app  # type: ignore[attr-defined]
    kept = next(e for e in app.state.journal if e.id == entry["id"]).response_raw
    assert kept.read() == listed.content
    stored = {m.id: m for m in app.state.store.messages.values()}
    first = listed.json()[0]["id"]
    assert kept._state[1].items[0] is stored[first].json[0]  # the store's bytes object itself


async def test_the_journal_is_a_ring_of_the_configured_size_and_counts_every_call() -> None:
    app = create_app(journal_size=3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for _ in range(5):
            await client.get("/v1/health/")
        changes = (await client.get("/_mock/journal/changes")).json()
        assert changes["ids"] == [3, 4, 5]
        assert changes["size"] == 3
        assert [e["id"] for e in (await client.get("/_mock/journal")).json()] == [3, 4, 5]
        assert (await client.get("/_mock/journal/1")).status_code == 404
        assert (await client.get("/_mock/calls")).json() == {"check_health": 5}


async def test_the_page_polls_only_what_changed_and_sees_a_clear(mock: httpx.AsyncClient) -> None:
    await mock.get("/v1/health/")
    first = (await mock.get("/_mock/journal/changes?since=0")).json()
    assert [e["id"] for e in first["changed"]] == [1]
    assert (await mock.get(f"/_mock/journal/changes?since={first['version']}")).json()["changed"] == []
    await mock.get(SEND)
    later = (await mock.get(f"/_mock/journal/changes?since={first['version']}")).json()
    assert [e["id"] for e in later["changed"]] == [2]
    assert later["epoch"] == first["epoch"]
    await mock.delete("/_mock/journal")
    cleared = (await mock.get(f"/_mock/journal/changes?since={later['version']}")).json()
    assert cleared["epoch"] == first["epoch"] + 1
    assert cleared["ids"] == []


def test_bodies_and_streams_past_their_limits_are_summarised_not_kept() -> None:
    journal = Journal(size=2)
    entry = journal.open("POST", "/v1/x", "", {})
    entry.content_type = "text/event-stream; charset=utf-8"
    chunk = b'data: {"message_type":"assistant_message","content":"' + b"x" * 60_000 + b'"}\n\n'
    for _ in range(6):
        entry.feed_stream(chunk)
    texts = entry.event_texts()
    assert entry.event_count == len(entry.events) == 6
    assert sum(len(text or "") for text in texts) <= STREAM_DATA_LIMIT < sum(len(chunk) for _ in range(6))
    assert texts[0] is not None
    assert texts[0].startswith('{"message_type":"assistant_message"')
    assert texts[-1] is None  # past the limit
    assert {sent.type for sent in entry.events} == {"assistant_message"}  # types kept past the data limit
    big = journal.open("GET", "/v1/y", "", {})
    big.response_raw.append(b"[]")
    big.response_bytes = BODY_LIMIT + 1
    assert big.response_body() == {"_letta_mock": f"body of {BODY_LIMIT + 1} bytes not kept"}
    journal.open("GET", "/v1/z", "", {})
    assert [e.id for e in journal] == [2, 3]


async def test_a_split_event_is_recorded_once_whole(mock: httpx.AsyncClient) -> None:
    await stream(mock, "hi", "fault=split:2; scenario=reply")
    (entry,) = (await mock.get("/_mock/journal")).json()
    events = (await mock.get(f"/_mock/journal/{entry['id']}")).json()["response"]["stream"]
    assert [e["message_type"] for e in events] == ["ping", "assistant_message", "stop_reason", "usage_statistics",
                                                   "[DONE]"]  # fmt: skip


# -- agents -------------------------------------------------------------------------------------------------------


async def test_agents_and_their_histories_without_creating_any(mock: httpx.AsyncClient) -> None:
    assert (await mock.get("/_mock/agents")).json() == []
    await stream(mock, "/approve delete_file")
    (agent,) = (await mock.get("/_mock/agents")).json()
    assert agent["id"] == AGENT
    assert agent["pending_approval"]["tools"] == ["delete_file"]
    assert agent["last_stop_reason"] == "requires_approval"
    assert agent["items"] >= 3
    history = (await mock.get(f"/_mock/agents/{AGENT}/messages")).json()
    assert [m["message_type"] for m in history][:2] == ["system_message", "user_message"]
    assert len((await mock.get(f"/_mock/agents/{AGENT}/messages?limit=1")).json()) == 1
    other = "agent-00000000-0000-4000-8000-000000000007"
    assert (await mock.get(f"/_mock/agents/{other}/messages")).status_code == 404
    assert len((await mock.get("/_mock/agents")).json()) == 1  # looking created nothing
    bad = await mock.get("/_mock/agents/not-an-agent/messages")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["path", "agent_id"]


# -- configuration and packaging ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, -1, True, 2.5, "10"])
def test_a_bad_journal_size_is_a_configuration_error(size: Any) -> None:
    from mockserver.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="journal_size must be a whole number >= 1"):
        create_app(journal_size=size)


def test_serve_takes_a_journal_size() -> None:
    from mockserver.cli import build_parser

    args = build_parser().parse_args(["serve", "--journal-size", "25"])
    assert args.journal_size == 25
    assert build_parser().parse_args(["serve"]).journal_size == DEFAULT_SIZE
    app: Starlette = create_app(journal_size=args.journal_size)
    assert app.state.journal.size == 25


def test_the_wheel_ships_the_dashboard_files(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("letta_mock-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("index.html", *ASSETS):
        assert f"mockserver/dashboard/static/{name}" in names
