"""The documents ``--spec`` names (``letta-mock fuzz``, ``letta-mock fixtures check``): a file, a URL, or a name.

* ``letta``: the server's own document, ``SERVER/openapi.json`` (a Letta server serves its own there; so does
  letta-mock, with its event-stream schemas);
* ``mock``: letta-mock's own document, built from its models (no server needed).

A name wins over a file of the same name in the working directory; write ``./letta`` for such a file.
"""

from __future__ import annotations

__all__ = ["LETTA", "MOCK", "SPEC_HELP", "spec_location"]

LETTA = "letta"
MOCK = "mock"
SPEC_HELP = "a file, a URL, 'letta' (the server's own URL/openapi.json) or 'mock' (letta-mock's own document)"


def spec_location(spec: str, server: str | None) -> str | None:
    """Where ``spec`` points: a URL or a path; None for letta-mock's own document. ``server``: the server the
    command talks to, whose document ``letta`` names (``ValueError`` when there is none)."""
    if spec == MOCK:
        return None
    if spec == LETTA:
        if server is None:
            raise ValueError(f"'{LETTA}' names a server's own document (SERVER/openapi.json): give the server (--live)")
        return server.rstrip("/") + "/openapi.json"
    return spec
