"""The app's route table (``app._Table``) takes the route Starlette's router would take, and answers the same bytes.

Starlette's router tries every route's pattern in order: the first that matches path and method wins, else the first
that matches the path (our 405), else a redirect or a 404. The table names the few routes a path can match and lets
their own ``matches`` decide; a path it has none for goes the general way. Proved two ways: the decision, against
Starlette's loop over every route, for paths made from every route's (each parameter a well-formed id, a literal
word of a sibling, an empty or odd segment; a slash more or less; under every prefix; other segments swapped in) and
every method; and the answers, byte for byte, of an app with the table against the same app on Starlette's router.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Router
from starlette.types import Scope

from mockserver import create_app
from mockserver.app import _Route, _Router, _Table

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS")
IDS = {
    "agent_id": "agent-123e4567-e89b-42d3-8456-426614174000",
    "conversation_id": "conv-123e4567-e89b-42d3-8456-426614174000",
    "message_id": "message-123e4567-e89b-42d3-8456-426614174000",
    "run_id": "run-123e4567-e89b-42d3-8456-426614174000",
    "tool_id": "tool-123e4567-e89b-42d3-8456-426614174000",
    "block_label": "human",
}
APP = create_app()
ROUTES: list[BaseRoute] = list(APP.routes)
TEMPLATES = [str(getattr(route, "path", "")) for route in ROUTES]
WORDS = sorted({s for path in TEMPLATES for s in path.split("/") if s and not s.startswith("{")})
ODD = ["", "x", "async", "search", "a\n", "%2F", "-", "v1", "agent-1", "..", "messages\n"]


def starlette_decision(routes: list[BaseRoute], scope: Scope) -> tuple[BaseRoute, Scope] | None:
    """Starlette's ``Router.app`` loop, as it chooses a route."""
    partial = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.FULL:
            return route, child_scope
        if match is Match.PARTIAL and partial is None:
            partial = route, child_scope
    return partial


def scope_of(method: str, path: str, root_path: str = "") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": root_path + path, "root_path": root_path, "headers": []}


def concrete(template: str, fill: dict[str, str]) -> str:
    out = template
    for name, value in fill.items():
        out = out.replace("{" + name + "}", value)
    return out


def paths() -> list[str]:
    """Every route's path with well-formed ids, each parameter in turn replaced by odd segments and literal words,
    with a slash added or removed, and the prefix swapped; plus unknown paths."""
    out: set[str] = set()
    for template in TEMPLATES:
        names = [s.strip("{}") for s in template.split("/") if s.startswith("{")]
        base = concrete(template, IDS)
        out |= {base, base + "/", base.rstrip("/"), base.replace("/v1/", "/latest/", 1),
                base.replace("/latest/", "/v1/", 1), "/" + base, base + "/x"}  # fmt: skip
        for name in names:
            for value in [*ODD, *WORDS, *(word + "\n" for word in WORDS)]:
                out.add(concrete(template, {**IDS, name: value}))
    out |= {"/", "", "/v1", "/v1/", "/latest", "/v2/health/", "/_mock", "/_mock/", "/_mock/journal", "/openapi.json/"}
    return sorted(out)


@pytest.mark.parametrize("fidelity", ["contract", "server"])  # server: templates take their literal siblings' words
def test_the_table_takes_the_route_starlettes_router_takes(fidelity: str) -> None:
    routes = list(create_app(fidelity=fidelity).routes)
    table = _Table(routes)
    checked = 0
    for path, method in itertools.product(paths(), METHODS):
        scope = scope_of(method, path)
        expected = starlette_decision(routes, scope)
        found = table.find(scope)
        if found is None:
            # Not in the table: the router goes the general way, which finds no route of the table's either.
            assert expected is None or not isinstance(expected[0], _Route), (method, path)
        else:
            assert expected is not None, (method, path)
            assert found[0] is expected[0], (method, path)
            assert found[1] == expected[1], (method, path)
        checked += 1
    assert checked > 10_000


segment = st.sampled_from([*WORDS, *ODD, *IDS.values()])


@settings(max_examples=400, deadline=None)
@given(
    template=st.sampled_from(TEMPLATES),
    changes=st.lists(st.tuples(st.integers(0, 8), segment), max_size=3),
    method=st.sampled_from(METHODS),
    root_path=st.sampled_from(["", "/mock"]),
)
def test_any_path_near_a_route_is_decided_alike(
    template: str, changes: list[tuple[int, str]], method: str, root_path: str
) -> None:
    segments = concrete(template, IDS).split("/")
    for at, value in changes:
        if at < len(segments):
            segments[at] = value
        else:
            segments.append(value)
    scope = scope_of(method, "/".join(segments), root_path)
    expected = starlette_decision(ROUTES, scope)
    found = _Table(ROUTES).find(scope)
    if found is None:
        assert not isinstance(expected[0] if expected else None, _Route)
    else:
        assert expected is not None
        assert found[0] is expected[0]
        assert found[1] == expected[1]


def test_a_route_table_changed_after_the_app_was_built_is_followed() -> None:
    app = create_app()
    assert isinstance(app.router, _Router)
    table = _Table(app.routes)
    assert table.serves(app.routes)
    app.router.routes[-1] = app.router.routes[-1].__class__("/_mock", app=lambda *a: None)  # type: ignore[call-arg]
    assert not table.serves(app.routes)


def requests() -> list[tuple[str, str]]:
    chosen = [p for p in paths() if "\n" not in p and p.startswith("/") and not p.startswith("/_mock")]
    return [(method, path) for path in chosen[::7] for method in ("GET", "POST", "DELETE", "PATCH")]


def answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, response.headers.multi_items(), response.content


@pytest.mark.parametrize("fidelity", ["contract", "server"])
async def test_the_same_requests_get_the_same_bytes_as_on_starlettes_router(fidelity: str) -> None:
    tabled = create_app(seed=7, fidelity=fidelity)
    general = create_app(seed=7, fidelity=fidelity)
    general.router = Router(list(general.routes))  # Starlette's own: every pattern tried in order
    assert type(tabled.router) is _Router

    async def client(app: Starlette) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8283")

    async with await client(tabled) as one, await client(general) as other:
        sent = 0
        for method, path in requests():
            url = httpx.URL("http://127.0.0.1:8283").copy_with(raw_path=path.encode())
            mine = await one.request(method, url, content=b"")
            theirs = await other.request(method, url, content=b"")
            assert answer(mine) == answer(theirs), (method, path)
            sent += 1
    assert sent > 1000


HOSTS: list[list[bytes]] = [
    [b"127.0.0.1:8283"], [b"localhost"], [b"LOCALHOST:1"], [b"[::1]:80"], [b"evil.example"], [b"127.0.0.1.evil"],
    [b""], [b"127.0.0.1:x"], [], [b"127.0.0.1", b"evil.example"], [b"evil.example", b"127.0.0.1"], [b"mock.test"],
]  # fmt: skip


async def test_a_host_check_answers_a_host_it_admitted_before_as_it_did_the_first_time() -> None:
    # HostCheck remembers the Host headers it admitted; a remembered one must get what a fresh check gives it.
    from mockserver.allowlists import HostCheck, host_allowlist

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def answer_of(check: HostCheck, hosts: list[bytes]) -> list[Any]:
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        async def receive() -> Any:
            return {"type": "http.request", "body": b""}

        scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", h) for h in hosts]}
        await check(scope, receive, send)
        return sent

    allowed = host_allowlist("127.0.0.1", ["mock.test"])
    remembering = HostCheck(app, allowed)
    for hosts in HOSTS * 3:
        assert await answer_of(remembering, hosts) == await answer_of(HostCheck(app, allowed), hosts), hosts
    assert remembering._admitted_hosts == {b"127.0.0.1:8283", b"localhost", b"LOCALHOST:1", b"[::1]:80",
                                           b"127.0.0.1", b"mock.test"}  # fmt: skip
