"""``--auth-token``: a mock that answers only callers that know its token, as Letta's server in password mode.

Without the token every route — Letta's, ``/openapi.json``, the admin API and the dashboard — answers
``401 {"detail": "Unauthorized"}`` (wire doc §1.2, §15). A caller shows the token the ways Letta takes it:

* ``Authorization: Bearer <token>`` (the SDKs' ``api_key``), or ``X-BARE-PASSWORD: password <token>``;
* for a browser on the dashboard, which cannot add a header to a page it navigates to: open
  ``/_mock/?token=<token>`` once; the answer sets a same-site, HTTP-only cookie that the page's own requests carry.

CORS preflights are answered before this check (the CORS middleware sits outside it): a browser sends no
credentials on a preflight. The comparison takes the same time whatever the guess.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

from pydantic_core import to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.catalogue import Texts
from mockserver.journal import admin_path

__all__ = ["COOKIE", "TokenCheck"]

COOKIE = "letta_mock_token"


class TokenCheck:
    """ASGI middleware: the wrapped app sees only requests that carry ``token``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()  # checked by MockConfig: visible ASCII

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        shown = [
            _after(headers.get(b"authorization"), b"bearer "),
            _after(headers.get(b"x-bare-password"), b"password "),
            _cookie(headers.get(b"cookie")),
        ]
        if any(value is not None and hmac.compare_digest(value, self.token) for value in shown):
            await self.app(scope, receive, send)
            return
        offered = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get("token")
        if admin_path(scope["path"]) and offered and hmac.compare_digest(offered.encode(), self.token):
            await self.app(scope, receive, _setting_cookie(send, offered))
            return
        body = to_json({"detail": Texts.UNAUTHORIZED})
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def _after(value: bytes | None, scheme: bytes) -> bytes | None:
    """The credentials after ``scheme`` (case-insensitive, as HTTP schemes are), or None."""
    if value is None or not value[: len(scheme)].lower() == scheme:
        return None
    return value[len(scheme) :].strip()


def _cookie(value: bytes | None) -> bytes | None:
    if value is None:
        return None
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(value.decode("latin-1"))
    except Exception:  # a malformed Cookie header shows no token
        return None
    morsel = cookie.get(COOKIE)
    return morsel.value.encode() if morsel is not None else None


def _setting_cookie(send: Send, token: str) -> Send:
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict".encode()

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
        await send(message)

    return sending
