"""``auth_token`` / ``--auth-token`` (Letta's password mode, wire doc §1.2), ``cors_origins`` / ``--cors-origin``,
``admin=False`` / ``--no-admin``, and the warning for a server other machines can reach without a token."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx
import letta_client
import pytest
from _local import LETTA_MOCK, PortTaken, listening, port_taken
from _sdk import AGENT
from starlette.applications import Starlette

from mockserver import create_app
from mockserver.errors import ConfigurationError
from mockserver.operations import OPERATIONS

TOKEN = "s3cret-token"
UNAUTHORIZED = {"detail": "Unauthorized"}
UUID = "123e4567-e89b-42d3-8456-426614174000"
IDS = {"agent_id": AGENT, "conversation_id": "default", "run_id": f"run-{UUID}", "message_id": f"message-{UUID}",
       "tool_id": f"tool-{UUID}", "block_label": "human", "tool_name": "web_search"}  # fmt: skip
ROUTES = [(op.method, re.sub(r"\{(\w+)\}", lambda m: IDS.get(m.group(1), "x"), op.path)) for op in OPERATIONS]


def client(app: Starlette, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m", headers=headers)


@pytest.fixture
def guarded() -> Starlette:
    return create_app(seed=1, auth_token=TOKEN)


OURS = [("GET", "/openapi.json"), ("GET", "/_mock/"), ("GET", "/_mock/journal"), ("POST", "/_mock/reset"),
        ("GET", "/_mock/static/dashboard.js"), ("GET", "/latest/health/")]  # fmt: skip
WRONG = [{"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN}"}, {"authorization": TOKEN},
         {"x-bare-password": TOKEN}, {"cookie": "letta_mock_token=wrong"}, {"cookie": "\x7f;;=="}]  # fmt: skip
RIGHT = [{"authorization": f"Bearer {TOKEN}"}, {"authorization": f"bearer {TOKEN}"},
         {"x-bare-password": f"password {TOKEN}"}, {"cookie": f"theme=dark; letta_mock_token={TOKEN}"}]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), [*ROUTES, *OURS])
async def test_without_the_token_every_route_is_401_in_letta_s_shape(
    guarded: Starlette, method: str, path: str
) -> None:
    async with client(guarded) as anonymous:
        response = await anonymous.request(method, path, json={"input": "hi"} if method != "GET" else None)
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("credentials", WRONG)
async def test_a_wrong_or_misplaced_token_is_401_and_nothing_is_stored(
    guarded: Starlette, credentials: dict[str, str]
) -> None:
    async with client(guarded, **credentials) as caller:
        response = await caller.post(f"/v1/agents/{AGENT}/messages", json={"input": "hi"})
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)
    async with client(guarded, authorization=f"Bearer {TOKEN}") as owner:
        listed = await owner.get(f"/v1/agents/{AGENT}/messages")
    assert [m["message_type"] for m in listed.json()] == ["system_message"]  # the refused send left nothing


@pytest.mark.parametrize("credentials", RIGHT)
async def test_the_token_in_any_of_letta_s_places_is_answered(guarded: Starlette, credentials: dict[str, str]) -> None:
    async with client(guarded, **credentials) as caller:
        sent = await caller.post(f"/v1/agents/{AGENT}/messages", json={"input": "hi"})
        admin = await caller.get("/_mock/journal")
    assert (sent.status_code, admin.status_code) == (200, 200)


async def test_the_dashboard_opened_with_the_token_sets_a_cookie_its_own_requests_carry(guarded: Starlette) -> None:
    async with client(guarded, accept="text/html") as browser:
        page = await browser.get("/_mock/", params={"token": TOKEN})
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        cookie = page.headers["set-cookie"]
        assert cookie.startswith(f"letta_mock_token={TOKEN};")
        assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(cookie.replace(";", " ").split())
        assert (await browser.get("/_mock/journal")).status_code == 200  # httpx keeps the cookie, as a browser does
        assert (await browser.get(f"/v1/agents/{AGENT}/messages")).status_code == 200
    async with client(guarded) as stranger:
        assert (await stranger.get("/_mock/", params={"token": "guess"})).status_code == 401
        # A token in the query opens the dashboard only: an API call shows it in a header.
        assert (await stranger.get(f"/v1/agents/{AGENT}/messages", params={"token": TOKEN})).status_code == 401


def test_the_sdk_with_the_token_as_its_api_key_works_strictly_and_without_it_raises(
    serve: Callable[[Starlette], str], guarded: Starlette
) -> None:
    url = serve(guarded)
    owner = letta_client.Letta(base_url=url, api_key=TOKEN, _strict_response_validation=True)
    assert owner.agents.messages.create(AGENT, input="hi").stop_reason.stop_reason == "end_turn"
    stranger = letta_client.Letta(base_url=url, api_key="not-it", max_retries=0)
    with pytest.raises(letta_client.AuthenticationError):
        stranger.agents.messages.list(AGENT)


async def test_a_cors_preflight_is_answered_without_the_token(guarded: Starlette) -> None:
    async with client(guarded) as browser:
        response = await browser.options(f"/v1/agents/{AGENT}/messages", headers={
            "origin": "http://localhost:5173", "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type"})  # fmt: skip
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"  # a loopback origin


async def test_an_origin_allow_list_answers_its_origins_only() -> None:
    app = create_app(cors_origins=["http://localhost:5173"])
    async with client(app, origin="http://localhost:5173") as allowed, client(app, origin="http://evil.test") as other:
        mine = await allowed.get(f"/v1/agents/{AGENT}/messages")
        theirs = await other.get(f"/v1/agents/{AGENT}/messages")
        preflight = await other.options(f"/v1/agents/{AGENT}/messages", headers={
            "access-control-request-method": "POST"})  # fmt: skip
    assert mine.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "access-control-allow-origin" not in theirs.headers  # the browser keeps the answer from the page
    assert theirs.status_code == 403  # and the request is refused: a page elsewhere changes nothing
    assert preflight.status_code == 403


async def test_loopback_origins_by_default_and_any_origin_only_when_asked() -> None:
    async with client(create_app(), origin="http://anywhere.test") as browser:
        response = await browser.get(f"/v1/agents/{AGENT}/messages")
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    async with client(create_app(), origin="http://127.0.0.1:3000") as browser:
        response = await browser.get(f"/v1/agents/{AGENT}/messages")
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
    async with client(create_app(cors_origins=["*"]), origin="http://anywhere.test") as browser:
        response = await browser.get(f"/v1/agents/{AGENT}/messages")
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(("admin", "status"), [(True, 200), (False, 404)])
async def test_the_admin_api_and_dashboard_are_left_out_with_no_admin(admin: bool, status: int) -> None:
    async with client(create_app(admin=admin)) as caller:
        statuses = {(await caller.get(path)).status_code for path in ("/_mock/", "/_mock/journal", "/_mock/agents")}
    assert statuses == {status}


@pytest.mark.parametrize(("options", "message"), [
    ({"auth_token": ""}, "auth_token"), ({"auth_token": "two words"}, "auth_token"),
    ({"auth_token": "caf\u00e9"}, "auth_token"), ({"cors_origins": ["localhost:5173"]}, "cors origin"),
    ({"cors_origins": ["http://x.test/path"]}, "cors origin")])  # fmt: skip
def test_a_token_or_origin_a_header_cannot_carry_is_refused_at_start(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app(**options)


def _serve_stderr(*args: str) -> tuple[int | None, str]:
    """Start ``letta-mock serve ARGS`` on a free port; its exit status (None: it was serving) and its stderr."""

    def start(port: int) -> subprocess.Popen[str]:
        return subprocess.Popen([LETTA_MOCK, "serve", "--port", str(port), "--log-level", "warning", *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip

    def ready(process: subprocess.Popen[str], port: int) -> None:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:  # any answer (a 401 included) means it is serving: what it had to say at start is said
                httpx.get(f"http://127.0.0.1:{port}/v1/health/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        if process.poll() is not None:  # refused at start (it exited), unless its port was taken
            exited.append((process.returncode, process.communicate()[1]))
            if port_taken(exited[-1][1]):
                raise PortTaken(exited.pop()[1])

    exited: list[tuple[int, str]] = []
    process, _ = listening(start, ready)
    with process:
        if exited:
            return exited[0]
        process.terminate()
        _, stderr = process.communicate(timeout=10)
        return None, stderr


def test_serving_beyond_loopback_without_a_token_warns_and_with_one_does_not() -> None:
    status, stderr = _serve_stderr("--host", "0.0.0.0")
    assert status is None
    assert "warning: 0.0.0.0 is reachable from other machines and no --auth-token is set" in stderr
    status, stderr = _serve_stderr("--host", "0.0.0.0", "--auth-token", TOKEN)
    assert (status, "warning" in stderr) == (None, False)
    status, stderr = _serve_stderr("--host", "127.0.0.1")
    assert (status, "warning" in stderr) == (None, False)


def test_serve_refuses_a_token_a_header_cannot_carry() -> None:
    status, stderr = _serve_stderr("--auth-token", "two words")
    assert status == 2
    assert "auth_token must be visible ASCII" in stderr
