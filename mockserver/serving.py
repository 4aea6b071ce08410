"""Running the mock on a socket: uvicorn's configuration, shared by ``letta-mock serve``, ``letta-mock record`` and
``LiveServer``; the socket bound before anything is announced, and a port in use told in one line."""

from __future__ import annotations

import copy
import errno
import logging
import socket
from collections.abc import Sequence
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from mockserver.allowlists import HostCheck, host_allowlist
from mockserver.faults import ConnectionDropped

__all__ = ["QuietDrops", "bind", "bind_failure", "open_files_limit", "uvicorn_config", "who_answers"]


class QuietDrops(logging.Filter):
    """uvicorn logs every exception that ends a response; a ``drop_after`` fault is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def _log_config(*, access: bool) -> dict[str, Any]:
    # uvicorn's own logging configuration (which it installs anyway), with the filter on its error logger.
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["letta_mock_quiet_drops"] = {"()": QuietDrops}
    config["loggers"]["uvicorn.error"]["filters"] = ["letta_mock_quiet_drops"]
    if not access:
        # No access handler made at all: uvicorn, told there is no access log, would drop the one made here, and a
        # handler dropped runs a weakref callback in which a Ctrl-C is swallowed (``letta-mock record`` then ran on).
        del config["handlers"]["access"]
        config["loggers"]["uvicorn.access"]["handlers"] = []
    return config


def uvicorn_config(
    app: Any,
    *,
    host: str,
    port: int,
    log_level: str,
    allowed_hosts: Sequence[str] | None = None,
    option: str = "--allowed-host {}",
) -> uvicorn.Config:
    """uvicorn serving ``app`` behind the Host allowlist of a server bound to ``host`` (``mockserver.allowlists``;
    ``allowed_hosts`` widen it, ``option`` is the setting a refusal names, ``{}`` the name). ``ConfigurationError``
    for a bad name."""
    checked = HostCheck(app, host_allowlist(host, allowed_hosts), option=option)
    # Access lines are logged at "info": below it uvicorn would still format each request's client and path for a
    # logger that drops them (a few per cent of a small answer's CPU), so it is told there is no access log.
    access_log = logging.getLevelName(log_level.upper()) <= logging.INFO
    return uvicorn.Config(
        checked, host=host, port=port, log_level=log_level, lifespan="off", log_config=_log_config(access=access_log),
        access_log=access_log,
    )  # fmt: skip


def open_files_limit() -> int:
    """Let this process open as many files as the system allows it: every open stream is a socket, and a shell's
    default soft limit (often 1024) would cap a server at about a thousand of them while the hard limit allows far
    more. The soft limit is raised to the hard one (no privilege needed); the number now allowed."""
    try:
        import resource
    except ImportError:  # not a Unix: nothing to raise
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # refused (a sandbox): the limit stays as it was
            return soft
        return hard
    return hard if soft == resource.RLIM_INFINITY else soft


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` now (uvicorn listens on it), so a port in use is known before anything
    is announced. ``OSError`` as ``socket.bind`` raises it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart does not wait out TIME_WAIT
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    return sock


def bind_failure(error: OSError, host: str, port: int) -> str:
    """One line saying why letta-mock cannot listen on ``host:port`` and what to do instead."""
    if error.errno == errno.EADDRINUSE:
        who = who_answers(host, port)
        there = f"{who} answers there" if who else "another program holds it"
        free = _free_near(host, port)
        return (f"letta-mock: error: port {port} on {host} is in use ({there}); choose another with --port"
                f"{f' ({free} is free)' if free else ''}")  # fmt: skip
    if error.errno == errno.EACCES:
        return f"letta-mock: error: not allowed to listen on port {port} (ports below 1024 need privileges); use --port"
    if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
        return f"letta-mock: error: cannot listen on {host}: not an address of this machine; use --host"
    return f"letta-mock: error: cannot listen on {host}:{port}: {error.strerror or error}"


def who_answers(host: str, port: int, timeout: float = 1.0) -> str | None:
    """Who serves HTTP on ``host:port``, when it says: letta-mock (its OpenAPI document's title), a Letta server
    (Letta's title, or its health answer), or None."""
    import httpx

    probe = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host in ("::", "[::]") else host.strip("[]")
    base = f"http://[{probe}]:{port}" if ":" in probe else f"http://{probe}:{port}"
    try:
        with httpx.Client(base_url=base, timeout=timeout) as client:
            document = client.get("/openapi.json")
            title = document.json().get("info", {}).get("title") if document.status_code == 200 else None
            if title == "letta-mock":
                return "letta-mock"
            health = client.get("/v1/health/")
            version = health.json().get("version") if health.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if version or (isinstance(title, str) and title.startswith("Letta")):
        return f"a Letta server{f' ({version})' if version else ''}"
    return None


def _free_near(host: str, port: int) -> int:
    """The first port after ``port`` free on ``host`` (to suggest; nothing is kept bound)."""
    for candidate in range(port + 1, min(port + 50, 65535)):
        try:
            bind(host, candidate).close()
        except OSError:
            continue
        return candidate
    return 0
