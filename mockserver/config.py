"""How one mock server behaves: its profile, seed and limits. Immutable once the app is built."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mockserver.errors import ConfigurationError
from mockserver.models import AGENT_ID_PATTERN

__all__ = ["Fidelity", "MockConfig", "web_origins"]

Fidelity = Literal["contract", "server"]


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
    cors_origins: tuple[str, ...] = ()  # origins browsers may call from besides loopback ones ("*": any)

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
        origins = web_origins(cors_origins)
        return cls(seed=seed, agents=chosen, fidelity=fidelity, max_body_bytes=max_body_bytes,  # type: ignore[arg-type]
                   auth_token=auth_token, cors_origins=origins)  # fmt: skip


def web_origins(origins: Iterable[str] | None) -> tuple[str, ...]:
    """Origins browsers may call from besides loopback ones, checked (``ConfigurationError``)."""
    chosen = () if origins is None else tuple(origins)
    for origin in chosen:
        # "null": what a page opened from disk sends, and sandboxed frames of any site; allowed only when named.
        if origin not in ("*", "null") and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise ConfigurationError(f"cors origin {origin!r}: expected scheme://host[:port] (no path), 'null' or '*'")
    return chosen
