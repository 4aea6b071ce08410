"""How one mock server behaves: its profile, seed and limits. Immutable once the app is built."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mockserver.errors import ConfigurationError
from mockserver.models import AGENT_ID_PATTERN

__all__ = ["CREATED_TOOL_MS", "Fidelity", "MockConfig"]

Fidelity = Literal["contract", "server"]
# A server tool of an agent a client created runs this long (ms) unless the turn's tool_ms control says otherwise.
# Letta runs a tool's code in a sandbox (a fresh process): against its stub LLM a turn calling one took 3.3-4.5 s on
# a 2-core machine where a plain turn took 0.2-0.3 s. Two seconds keeps that order, so a client can cancel such a
# run in flight (Letta's own tests cancel 0.5 s and 1.5 s after starting one), while turns without a server tool,
# and every turn of the open world's agents, stay instant.
CREATED_TOOL_MS = 2000


@dataclass(frozen=True)
class MockConfig:
    """Settings of a mock server.

    ``agents`` None is the open world (any well-formed id names a resource); a tuple closes the world to those
    agents, as a real server with those agents would. ``fidelity="server"`` adds the real server's quirks
    (its 422 repr body, the refusal of ``streaming: true`` from non-SDK clients, the route-level checks).
    """

    seed: int | None = None
    agents: tuple[str, ...] | None = None
    fidelity: Fidelity = "contract"
    max_body_bytes: int = 8 * 1024 * 1024
    auth_token: str | None = None  # None: any caller (``mockserver.auth``)
    cors_origins: tuple[str, ...] = ("*",)  # origins a browser may call from
    created_tool_ms: int = CREATED_TOOL_MS  # how long a server tool of an agent a client created runs

    @classmethod
    def build(
        cls,
        *,
        seed: int | None = None,
        agents: Iterable[str] | None = None,
        fidelity: str = "contract",
        max_body_bytes: int = 8 * 1024 * 1024,
        auth_token: str | None = None,
        cors_origins: Iterable[str] | None = None,
        created_tool_ms: int = CREATED_TOOL_MS,
    ) -> MockConfig:
        if fidelity not in ("contract", "server"):
            raise ConfigurationError(f"fidelity must be 'contract' or 'server', not {fidelity!r}")
        chosen = tuple(agents) if agents is not None else None
        for agent_id in chosen or ():
            if not re.match(AGENT_ID_PATTERN, agent_id):
                raise ConfigurationError(f"{agent_id!r} is not an agent id: expected 'agent-<uuid4>' in lower case")
        if max_body_bytes <= 0:
            raise ConfigurationError(f"max_body_bytes must be positive, not {max_body_bytes}")
        if auth_token is not None and (not auth_token or not all("!" <= c <= "~" for c in auth_token)):
            raise ConfigurationError("auth_token must be visible ASCII characters without spaces (a header carries it)")
        if isinstance(created_tool_ms, bool) or not isinstance(created_tool_ms, int) or created_tool_ms < 0:
            raise ConfigurationError(f"created_tool_ms must be whole milliseconds >= 0, not {created_tool_ms!r}")
        origins = ("*",) if cors_origins is None else tuple(cors_origins)
        for origin in origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ConfigurationError(f"cors origin {origin!r}: expected '*' or scheme://host[:port], no path")
        return cls(seed=seed, agents=chosen, fidelity=fidelity, max_body_bytes=max_body_bytes,  # type: ignore[arg-type]
                   auth_token=auth_token, cors_origins=origins, created_tool_ms=created_tool_ms)  # fmt: skip
