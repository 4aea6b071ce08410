"""Localhost is not a trust boundary (issue 20): every server letta-mock runs — ``serve``, ``record``, the plugin's
``LiveServer`` — answers only the Host names it knows and the web pages it was told of (``mockserver.allowlists``).

Each server is asked as a DNS-rebinding page and as a page of another site would ask it; what they send is
refused, reaches nothing (no journal entry, no stored message, nothing forwarded to a recorder's upstream) and
gets no ``Access-Control-Allow-Origin``. Pages on loopback origins keep working with no flag.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import letta_client
import pytest
from _local import LETTA_MOCK
from _sdk import AGENT
from starlette.middleware.cors import CORSMiddleware

from mockserver import create_app
from mockserver.allowlists import LOOPBACK_ORIGIN, OriginCheck, host_allowlist
from mockserver.errors import ConfigurationError
from mockserver.live import LiveServer

ATTACKER = "https://attacker.example"
LOCAL_PAGE = "http://localhost:5173"
SEND = f"/v1/agents/{AGENT}/messages"
PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}


# -- the allowlists ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("bind", "names", "allowed"), [
    ("127.0.0.1", None, ("localhost", "127.0.0.1", "[::1]")),
    ("::1", ["mock.test"], ("localhost", "127.0.0.1", "[::1]", "mock.test")),
    ("0.0.0.0", None, ("localhost", "127.0.0.1", "[::1]")),  # every interface: the names clients use are given
    ("192.0.2.7", ["*.dev.test", "::2"], ("localhost", "127.0.0.1", "[::1]", "192.0.2.7", "*.dev.test", "[::2]")),
    ("fd00::7", ["Mock.Test"], ("localhost", "127.0.0.1", "[::1]", "[fd00::7]", "mock.test")),
    ("127.0.0.1", ["mock.test", "*"], ("*",)),
])  # fmt: skip
def test_the_host_allowlist_is_loopback_the_bound_address_and_the_names_given(
    bind: str, names: list[str] | None, allowed: tuple[str, ...]
) -> None:
    assert host_allowlist(bind, names) == allowed


@pytest.mark.parametrize("name", ["localhost:5173", "http://mock.test", "mock.test/path", "a b", "*mock.test", ""])
def test_an_allowed_host_that_is_not_a_bare_name_is_refused_at_start(name: str) -> None:
    with pytest.raises(ConfigurationError, match="allowed host"):
        host_allowlist("127.0.0.1", [name])


# -- in-process: the origins ---------------------------------------------------------------------------------------


def client(app: Any, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8", headers=headers)


@pytest.mark.parametrize("origin", [ATTACKER, "null", "http://localhost.attacker.example", "http://127.0.0.1.nip.io",
                                    "file://", "http://[::2]:5173"])  # fmt: skip
async def test_a_page_of_another_origin_is_refused_everywhere_and_changes_nothing(origin: str) -> None:
    app = create_app(seed=1)
    async with client(app, origin=origin) as page, client(app) as owner:
        answers = [
            await page.post(SEND, json={"input": "from a page elsewhere"}),
            await page.get("/_mock/journal"),
            await page.post("/_mock/reset"),
            await page.get("/_mock/"),
            await page.options(SEND, headers=PREFLIGHT),
            await page.options(SEND, headers={**PREFLIGHT, "access-control-request-private-network": "true"}),
        ]
        assert [a.status_code for a in answers] == [403] * len(answers)
        for answer in answers:
            assert not [h for h in answer.headers if h.startswith("access-control-")]
        assert origin in answers[0].json()["detail"]
        assert f"--cors-origin {origin}" in answers[0].json()["detail"]
        assert (await owner.get("/_mock/journal")).json() == []  # the refusals are not journaled
        history = (await owner.get(SEND)).json()
    assert [m["message_type"] for m in history] == ["system_message"]  # nothing was stored


@pytest.mark.parametrize("origin", [LOCAL_PAGE, "https://localhost", "http://127.0.0.1:3000", "http://[::1]:8080"])
async def test_a_page_on_a_loopback_origin_is_answered_with_no_flag(origin: str) -> None:
    async with client(create_app(seed=1), origin=origin) as page:
        sent = await page.post(SEND, json={"input": "hi"})
        journal = await page.get("/_mock/journal")
        preflight = await page.options(SEND, headers={**PREFLIGHT, "access-control-request-private-network": "true"})
    assert (sent.status_code, journal.status_code, preflight.status_code) == (200, 200, 200)
    for answer in (sent, journal, preflight):
        assert answer.headers["access-control-allow-origin"] == origin
    # Private Network Access (a public page calling a local server): answered for an allowed origin.
    assert preflight.headers["access-control-allow-private-network"] == "true"


async def test_cors_origins_widen_exactly_what_they_name() -> None:
    app = create_app(cors_origins=["https://app.example.test", "null"])
    for origin, allowed in [("https://app.example.test", True), ("null", True), ("http://app.example.test", False),
                            ("https://app.example.test:8443", False), ("https://other.example.test", False),
                            (LOCAL_PAGE, True)]:  # fmt: skip
        async with client(app, origin=origin) as page:
            answer = await page.get("/_mock/journal")
        assert (answer.status_code, answer.headers.get("access-control-allow-origin")) == (
            (200, origin) if allowed else (403, None)
        ), origin


async def test_the_dashboard_opened_by_the_address_it_answers_on_is_its_own_origin() -> None:
    # Bound beyond loopback, the dashboard's own requests carry its origin: they are same-origin, not refused.
    async with client(create_app(), origin="http://192.0.2.7:8283", host="192.0.2.7:8283") as dashboard:
        assert (await dashboard.post("/_mock/reset")).status_code == 200


# -- the servers ---------------------------------------------------------------------------------------------------


def raw(url: str, method: str, path: str, **headers: str) -> httpx.Response:
    """One request with exactly these headers (``Host`` included), as a browser or a rebinding page sends it."""
    with httpx.Client(base_url=url, timeout=10) as http:
        return http.request(method, path, headers=headers, json={"input": "hi"} if method == "POST" else None)


def assert_refused_host(url: str, option: str) -> None:
    """A rebinding page's requests are refused with a 403 naming the host and ``option`` (``{}``: the name)."""
    port = url.rsplit(":", 1)[1]
    for name in ("attacker.example", "127.0.0.1.attacker.example"):
        for host in (f"{name}:{port}", name):
            answer = raw(url, "POST", SEND, host=host)
            assert answer.status_code == 403, host
            detail = answer.json()["detail"]
            assert repr(host) in detail
            assert option.format(name) in detail
        assert "access-control-allow-origin" not in answer.headers


def assert_pages_answered_as_allowed(url: str, path: str) -> None:
    refused = [raw(url, "GET", path, origin=ATTACKER), raw(url, "OPTIONS", path, origin=ATTACKER, **PREFLIGHT)]
    assert [a.status_code for a in refused] == [403, 403]
    assert all("access-control-allow-origin" not in a.headers for a in refused)
    allowed = [raw(url, "GET", path, origin=LOCAL_PAGE), raw(url, "OPTIONS", path, origin=LOCAL_PAGE, **PREFLIGHT)]
    assert [a.headers.get("access-control-allow-origin") for a in allowed] == [LOCAL_PAGE, LOCAL_PAGE]


def journal(url: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(f"{url}/_mock/journal").json()
    return entries


def test_the_live_server_refuses_other_hosts_and_pages_and_nothing_changes() -> None:
    with LiveServer(seed=1) as server:
        assert_refused_host(server.url, "allowed_hosts=['{}']")
        assert_pages_answered_as_allowed(server.url, SEND)
        assert_pages_answered_as_allowed(server.url, "/_mock/journal")
        # Only the local page's GET is in the journal: the refused sends are not, and stored nothing.
        assert [(e["method"], e["path"]) for e in journal(server.url)] == [("GET", SEND)]
        history = httpx.get(f"{server.url}{SEND}").json()
        assert [m["message_type"] for m in history] == ["system_message"]
        assert raw(server.url, "GET", "/v1/health/", host=f"[::1]:{server.port}").status_code == 200
        assert raw(server.url, "GET", "/v1/health/", host="localhost").status_code == 200


def test_the_live_server_answers_the_hosts_it_is_given_and_no_other() -> None:
    with LiveServer(allowed_hosts=["mock.test", "*.dev.test"]) as server:
        for host, status in [("mock.test", 200), (f"mock.test:{server.port}", 200), ("a.dev.test", 200),
                             ("dev.test.attacker.example", 403), ("mock.test.attacker.example", 403)]:  # fmt: skip
            assert raw(server.url, "GET", "/v1/health/", host=host).status_code == status, host
    with LiveServer(allowed_hosts=["*"]) as server:
        assert raw(server.url, "GET", "/v1/health/", host="anything.test").status_code == 200


def test_the_official_sdk_works_with_no_flag(letta_mock_client: letta_client.Letta, letta_mock_agent_id: str) -> None:
    # The plugin's live server, as every test of the suite meets it: the SDK sends Host 127.0.0.1:PORT.
    reply = letta_mock_client.agents.messages.create(letta_mock_agent_id, input="hi")
    assert reply.stop_reason.stop_reason == "end_turn"
    events = list(letta_mock_client.agents.messages.create(letta_mock_agent_id, input="hi", streaming=True))
    assert events[-1].message_type == "usage_statistics"


@contextmanager
def command(*args: str, lines: int = 1) -> Iterator[tuple[str, list[str]]]:
    """``letta-mock ARGS --port 0``: the URL its banner announces and the first ``lines`` it printed."""
    process = subprocess.Popen([LETTA_MOCK, *args, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    assert process.stdout is not None
    try:
        printed = [process.stdout.readline() for _ in range(lines)]
        found = re.search(r"on (http://\S+:\d+)", printed[0])
        assert found, printed[0] + (process.stderr.read() if process.stderr else "")
        yield found.group(1), printed
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def wait(url: str) -> None:
    for _ in range(1000):
        try:
            httpx.get(f"{url}/v1/health/", timeout=1)
            return
        except httpx.TransportError:
            pass
    raise AssertionError(f"{url} never answered")


def test_serve_refuses_other_hosts_and_pages_and_nothing_changes() -> None:
    with command("serve", "--seed", "1", "--log-level", "warning") as (url, _):
        wait(url)
        assert_refused_host(url, "--allowed-host {}")
        assert_pages_answered_as_allowed(url, SEND)
        assert_pages_answered_as_allowed(url, "/_mock/journal")
        assert [e["method"] for e in journal(url) if e["path"] == SEND] == ["GET"]  # the local page's GET only
        history = httpx.get(f"{url}{SEND}").json()
        assert [m["message_type"] for m in history] == ["system_message"]


def assert_widened_by_exactly(url: str, path: str) -> None:
    """``--allowed-host mock.test --cors-origin https://app.example.test``: those, the defaults, and no other."""
    assert raw(url, "GET", path, host="mock.test").status_code == 200
    assert raw(url, "GET", path, host="other.test").status_code == 403
    mine = raw(url, "GET", path, origin="https://app.example.test")
    assert mine.headers["access-control-allow-origin"] == "https://app.example.test"
    assert raw(url, "GET", path, origin="https://other.example.test").status_code == 403
    assert raw(url, "GET", path, origin=LOCAL_PAGE).status_code == 200


def test_serve_widens_exactly_what_its_options_name() -> None:
    with command("serve", "--allowed-host", "mock.test", "--cors-origin", "https://app.example.test",
                 "--log-level", "warning", lines=4) as (url, printed):  # fmt: skip
        assert printed[2:] == [
            "answering Host names localhost, 127.0.0.1, [::1], mock.test (any port)\n",
            "answering web pages on loopback origins and https://app.example.test\n",
        ]
        wait(url)
        assert_widened_by_exactly(url, "/_mock/journal")


def test_serve_warns_when_any_host_or_any_page_is_answered_beyond_loopback() -> None:
    process = subprocess.Popen([LETTA_MOCK, "serve", "--port", "0", "--allowed-host", "*", "--cors-origin", "*",
                                "--host", "0.0.0.0", "--auth-token", "s3cret-token", "--log-level", "warning"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stderr is not None
    warnings = [process.stderr.readline(), process.stderr.readline()]
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert "--allowed-host '*': any Host name is answered" in warnings[0]
    assert "--cors-origin '*': any web page you open can read and change this server" in warnings[1]


def test_record_forwards_only_what_allowed_clients_send(serve: Callable[[Any], str], tmp_path: Path) -> None:
    upstream_app = create_app(seed=1, cors_origins=["*"])  # it answers any page with "*", as a Letta server does
    upstream = serve(upstream_app)
    out = tmp_path / "recorded"
    with command("record", "--upstream", upstream, "--out", str(out), "--log-level", "warning", lines=2) as (
        url,
        lines,
    ):
        assert f"it forwards to {upstream} what clients send with Host localhost, 127.0.0.1, [::1]" in lines[1]
        assert "web pages on loopback origins send" in lines[1]
        wait(url)
        assert_refused_host(url, "--allowed-host {}")
        for answer in (raw(url, "POST", SEND, origin=ATTACKER), raw(url, "OPTIONS", SEND, origin=ATTACKER, **PREFLIGHT),
                       raw(url, "GET", "/_mock/journal", origin=ATTACKER)):  # fmt: skip
            assert answer.status_code == 403
            assert "access-control-allow-origin" not in answer.headers
        forwarded = [e for e in upstream_app.state.journal.entries if e.path == SEND]
        assert forwarded == []  # nothing a refused client sent reached the upstream
        mine = raw(url, "POST", SEND, origin=LOCAL_PAGE)
        assert mine.status_code == 200
        # The recorder's own CORS header for the allowed page, not the upstream's "*".
        assert mine.headers.get_list("access-control-allow-origin") == [LOCAL_PAGE]
        preflight = raw(url, "OPTIONS", SEND, origin=LOCAL_PAGE, **PREFLIGHT)
        assert preflight.headers["access-control-allow-origin"] == LOCAL_PAGE
    assert [e.method for e in upstream_app.state.journal.entries if e.path == SEND] == ["POST"]
    # The health check that waited for it to listen, and the allowed page's send: nothing else was recorded.
    assert sorted(f.name for f in out.glob("*.json")) == ["0001-get-health.json", "0002-post-agents-messages.json"]


def test_record_warns_that_any_page_reaches_its_upstream_with_cors_origin_star(
    serve: Callable[[Any], str], tmp_path: Path
) -> None:
    upstream = serve(create_app())
    process = subprocess.Popen([LETTA_MOCK, "record", "--upstream", upstream, "--out", str(tmp_path), "--port", "0",
                                "--cors-origin", "*"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    assert process.stderr is not None
    warning = process.stderr.readline()
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert f"--cors-origin '*': any web page you open can read and change {upstream} through this proxy" in warning


def test_record_widens_exactly_what_its_options_name(serve: Callable[[Any], str], tmp_path: Path) -> None:
    upstream = serve(create_app())
    with command("record", "--upstream", upstream, "--out", str(tmp_path), "--allowed-host", "mock.test",
                 "--cors-origin", "https://app.example.test", lines=2) as (url, lines):  # fmt: skip
        said = "Host localhost, 127.0.0.1, [::1], mock.test and what web pages on loopback origins, "
        assert said + "https://app.example.test send" in lines[1]
        wait(url)
        assert_widened_by_exactly(url, "/v1/health/")


@pytest.mark.parametrize(
    "answered",
    [[], [(b"content-type", b"application/json")], [(b"vary", b"Accept")],
     [(b"vary", b"Accept"), (b"x-a", b"1"), (b"vary", b"Cookie")]],
)  # fmt: skip
@pytest.mark.parametrize("origins", [(), ("*",), ("https://example.com",)])
async def test_a_request_from_no_page_gets_the_bytes_starlettes_cors_gives_it(
    answered: list[tuple[bytes, bytes]], origins: tuple[str, ...]
) -> None:
    # OriginCheck answers a request without an Origin header itself (it only adds "Vary: Origin"): the same head,
    # byte for byte, as Starlette's CORSMiddleware configured alike.
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(answered)})
        await send({"type": "http.response.body", "body": b"{}"})

    async def heads(middleware: Any) -> list[Any]:
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", b"127.0.0.1")]}
        await middleware(scope, None, send)
        return sent

    ours = OriginCheck(app, origins)
    starlettes = CORSMiddleware(
        app, allow_origins=list(origins), allow_origin_regex=LOOPBACK_ORIGIN, allow_methods=["*"],
        allow_headers=["*"], allow_private_network=True, max_age=600,
    )  # fmt: skip
    head = await heads(ours)
    assert head == await heads(starlettes)
    assert next(value for key, value in head[0]["headers"] if key == b"vary").endswith(b"Origin")
