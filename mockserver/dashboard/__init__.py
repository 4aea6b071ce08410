"""The dashboard at ``/_mock/``: plain HTML, JavaScript and CSS shipped in the package (no build step), served by
the admin API, which it reads and drives (``admin``). It exists only where the admin API does.

Rule: the page is static; everything it shows comes from the admin API's JSON, and it renders that JSON as text
(never as HTML), since the journal holds whatever clients sent. A strict Content-Security-Policy backs that up:
the page loads only its own files and talks only to its own origin. The page is served with the admin API's JSON
of the moment inlined as data (a ``<script type="application/json">`` block, which nothing executes; every ``<``,
``>`` and ``&`` escaped), so its first paint shows the journal as it is, before its first poll returns.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.errors import NotFound

__all__ = ["ASSETS", "DASHBOARD_ROUTES", "dashboard_page", "wants_page"]

# The files a page may load (GET /_mock/assets/NAME), and their types.
ASSETS = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "rules.js": "text/javascript; charset=utf-8",  # the rules panel (mockserver.authored)
    "dashboard.css": "text/css; charset=utf-8",
}
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def _read(name: str) -> bytes:
    return files("mockserver.dashboard").joinpath("static", name).read_bytes()


def wants_page(request: Request) -> bool:
    """A browser navigating to ``/_mock/`` asks for HTML; tools (curl, httpx, the SDKs) get the JSON index."""
    return "text/html" in request.headers.get("accept", "")


_FIRST = b'<script id="first" type="application/json">null</script>'


def dashboard_page(first: Any = None) -> Response:
    """The page, with ``first`` (what it shows before its first poll: the index, the journal, the agents) inlined."""
    page = _read("index.html")
    if first is not None:
        data = to_json(first).replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
        page = page.replace(_FIRST, _FIRST.replace(b">null<", b">" + data + b"<"), 1)
    return Response(page, media_type="text/html; charset=utf-8", headers=_HEADERS)


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        raise NotFound("Not Found")
    return Response(_read(name), media_type=ASSETS[name], headers=_HEADERS)


DASHBOARD_ROUTES: list[BaseRoute] = [Route("/assets/{name}", asset, methods=["GET"])]
