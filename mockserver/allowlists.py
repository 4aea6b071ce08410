"""Who may reach a server letta-mock runs: the ``Host`` names it answers and the web pages it answers.

localhost is not a trust boundary. Any page a developer's browser opens can send requests to 127.0.0.1, and through
DNS rebinding a page of ``attacker.example`` can even become same-origin with it. So:

* **Hosts.** Every server letta-mock runs on a socket (``serve``, ``record``, the pytest plugin's ``LiveServer``)
  answers only requests whose ``Host`` is a loopback name (``localhost``, ``127.0.0.1``, ``[::1]``, any port), the
  address it is bound to, or a name it was given (``--allowed-host``; ``*`` turns the check off). Starlette's
  ``TrustedHostMiddleware`` decides (``HostCheck``); a refusal is a 403 naming the host and the option. A rebinding
  page's requests carry its own name, so they never get through. In-process apps (httpx's ``ASGITransport``, a
  ``TestClient``) have no socket a browser could reach: they are not checked.
* **Origins.** A browser request from a page on a loopback origin (http or https, any port), from the server's own
  origin, or from an origin given (``--cors-origin``; ``*`` any) is answered with Starlette's ``CORSMiddleware``
  (Private Network Access preflights included). A request from any other origin — ``Origin: null`` included, which a
  file opened from disk and sandboxed frames of any site send — is refused with a 403 before it reaches anything
  (``OriginCheck``): no page elsewhere can read or change the mock, its admin API and dashboard, or what a recorder
  forwards.

Refusals reach neither the journal nor the upstream; each refused name is logged once (a warning on the
``letta_mock`` logger), so the developer whose own page it was learns which option to use.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.config import host_name

__all__ = [
    "ANY",
    "LOOPBACK_NAMES",
    "LOOPBACK_ORIGIN",
    "HostCheck",
    "OriginCheck",
    "describe",
    "host_allowlist",
    "is_loopback",
]

ANY = "*"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
# A page served from a loopback name, http or https, on any port.
LOOPBACK_ORIGIN = r"https?://(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?"
_LOGGED_AT_MOST = 64  # refused names logged per server: a flood of them is not a flood of warnings
_ADMITTED_KEPT = 256  # distinct Host headers a HostCheck remembers it admitted (clients use one or two)
log = logging.getLogger("letta_mock")


def is_loopback(host: str) -> bool:
    """``host`` (a bind address or name) is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return host == ""


def host_allowlist(bind: str, names: Iterable[str] | None = None) -> tuple[str, ...]:
    """The ``Host`` names a server bound to ``bind`` answers: the loopback names, the bound address unless it is
    loopback or every interface (``0.0.0.0``: name them), and ``names``; ``("*",)`` when ``names`` hold ``*``."""
    given = [host_name(name) for name in names or ()]
    if ANY in given:
        return (ANY,)
    bound = [] if is_loopback(bind) or _wildcard(bind) else [host_name(bind)]
    return tuple(dict.fromkeys([*LOOPBACK_NAMES, *bound, *given]))


def describe(bind: str, hosts: Sequence[str], origins: Sequence[str] | None, upstream: str | None = None) -> list[str]:
    """What a server bound to ``bind`` answers (``hosts``: its ``host_allowlist``) when that is more than the
    defaults, and a warning for what is open to every host or page; ``upstream``: what a recorder exposes."""
    lines = []
    if ANY in hosts:
        lines.append("letta-mock: warning: --allowed-host '*': any Host name is answered, so a web page can reach "
                     "this server through DNS rebinding")  # fmt: skip
    elif tuple(hosts) != LOOPBACK_NAMES or _wildcard(bind):
        more = "; name the others clients use with --allowed-host" if _wildcard(bind) else ""
        lines.append(f"answering Host names {', '.join(hosts)} (any port){more}")
    if origins and ANY in origins:
        # A mock on loopback holds only mock data; a recorder exposes a real server, even a local one.
        if not is_loopback(bind) or upstream is not None:
            what = f"{upstream} through this proxy" if upstream else "this server"
            lines.append(f"letta-mock: warning: --cors-origin '*': any web page you open can read and change {what}")
    elif origins:
        lines.append(f"answering web pages on loopback origins and {', '.join(origins)}")
    return lines


def _refusal(status: int, detail: str) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return ({"type": "http.response.start", "status": status, "headers": head},
            {"type": "http.response.body", "body": body, "more_body": False})  # fmt: skip


class _Refusals:
    """Logs a refused name the first times it is seen."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def note(self, name: str, text: str) -> None:
        if name not in self.seen and len(self.seen) < _LOGGED_AT_MOST:
            self.seen.add(name)
            log.warning("letta-mock: %s", text)


class _Gate:
    """The ``send`` handed to TrustedHostMiddleware: a request it admits goes on with the real ``send``; its own
    refusal ("Invalid host header") is noted here and replaced by ours, which names the host and the option."""

    __slots__ = ("refused", "send")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.refused = False

    async def __call__(self, message: Message) -> None:
        self.refused = True


class HostCheck:
    """ASGI middleware: only requests whose ``Host`` header names an ``allowed`` host (``host_allowlist``) reach
    ``app``; others get a 403 naming the host and ``option``, the setting that would allow it (``{}``: the name)."""

    def __init__(self, app: ASGIApp, allowed: Sequence[str], option: str = "--allowed-host {}") -> None:
        self.app = app
        self.allowed = tuple(allowed)
        self.option = option
        self._open = ANY in self.allowed
        self._trusted = TrustedHostMiddleware(self._admitted, allowed_hosts=list(self.allowed), www_redirect=False)
        self._admitted_hosts: set[bytes | None] = set()  # Host headers it admitted (the first few hundred)
        self._refusals = _Refusals()

    async def _admitted(self, scope: Scope, receive: Receive, gate: Send) -> None:
        assert isinstance(gate, _Gate)
        await self.app(scope, receive, gate.send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._open or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _first_header(scope["headers"], b"host")
        if raw in self._admitted_hosts:  # TrustedHostMiddleware's decision is the Host header's alone
            await self.app(scope, receive, send)
            return
        gate = _Gate(send)
        await self._trusted(scope, receive, gate)
        if not gate.refused and len(self._admitted_hosts) < _ADMITTED_KEPT:
            self._admitted_hosts.add(raw)
        if gate.refused:
            host = Headers(scope=scope).get("host")
            name = _hostname(host)
            detail = (
                f"letta-mock answers only the Host names {', '.join(self.allowed)} (any port), not {host!r}: a web "
                f"page may be trying to reach it through DNS rebinding. If this request is yours, allow the name "
                f"with {self.option.format(name or 'NAME')}"
            )
            self._refusals.note(host or "", f"refused a request for Host {host!r}; to allow it: "
                                            f"{self.option.format(name or 'NAME')}")  # fmt: skip
            for message in _refusal(403, detail):
                await send(message)


class OriginCheck(CORSMiddleware):
    """Starlette's CORS for pages on loopback origins, the server's own origin and ``origins`` (``*``: any), with
    Private Network Access preflights; a request from any other page is refused with a 403 naming its origin and
    ``option`` (``{}``: the origin), before it reaches ``app``."""

    def __init__(self, app: ASGIApp, origins: Sequence[str] = (), option: str = "--cors-origin {}") -> None:
        super().__init__(
            app, allow_origins=list(origins), allow_origin_regex=LOOPBACK_ORIGIN, allow_methods=["*"],
            allow_headers=["*"], allow_private_network=True, max_age=600,
        )  # fmt: skip
        self.option = option
        self._refusals = _Refusals()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _first_header(scope["headers"], b"origin") is None:
            # No page is asking (most requests): all Starlette's CORS would do is "Vary: Origin" on the answer,
            # after parsing the request's headers; the same bytes without that.
            await self.app(scope, receive, _Varied(send))
            return
        if scope["type"] == "http" and not self.allow_all_origins:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not self.is_allowed_origin(origin) and not _same_origin(scope, headers, origin):
                detail = (
                    f"letta-mock answers web pages on loopback origins (http or https on localhost, 127.0.0.1, "
                    f"[::1]) and its own, not the page at {origin!r}. If that page is yours, allow it with "
                    f"{self.option.format(origin)}"
                )
                self._refusals.note(origin, f"refused a request from the page at {origin!r}; to allow it: "
                                            f"{self.option.format(origin)}")  # fmt: skip
                for message in _refusal(403, detail):
                    await send(message)
                return
        await super().__call__(scope, receive, send)


class _Varied:
    """The ``send`` of a request no page made: ``Vary: Origin`` on the response's head (``_vary_origin``)."""

    __slots__ = ("send",)

    def __init__(self, send: Send) -> None:
        self.send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            _vary_origin(message)
        await self.send(message)


_VARY_ORIGIN = (b"vary", b"Origin")


def _vary_origin(message: Message) -> None:
    """``Vary: Origin`` on a response's head, as Starlette's CORS puts it there (``MutableHeaders``: the values of
    any ``vary`` headers joined with it into the first one, the others removed)."""
    given = message.get("headers", ())
    for key, _ in given:
        if key == b"vary":
            break
    else:  # the usual head: no Vary of its own
        message["headers"] = [*given, _VARY_ORIGIN]
        return
    headers = message["headers"] = list(given)
    found = [index for index, (key, _) in enumerate(headers) if key == b"vary"]
    value = b", ".join([*(headers[index][1] for index in found), b"Origin"])
    for index in reversed(found[1:]):
        del headers[index]
    if found:
        headers[found[0]] = (b"vary", value)
    else:
        headers.append((b"vary", value))


def _first_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The header ``name`` (lower case) as Starlette's ``Headers(scope=scope).get`` reads it: the first one, without
    parsing the others."""
    for key, value in headers:
        if key == name:
            return value
    return None


def _hostname(host: str | None) -> str:
    """The name in a ``Host`` header, for the hint only (TrustedHostMiddleware has decided)."""
    try:
        return urlsplit(f"//{host}").hostname or "" if host else ""
    except ValueError:
        return ""


def _same_origin(scope: Scope, headers: Headers, origin: str) -> bool:
    """The page is the server's own (its dashboard, opened by the address it answers on)."""
    host = headers.get("host")
    return host is not None and origin.lower() == f"{scope.get('scheme', 'http')}://{host}".lower()
