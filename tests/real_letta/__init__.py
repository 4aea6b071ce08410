"""A real Letta 0.16.8 server for the ``real_letta`` test tier, installed from package registries and started by
us: ``install`` (the sdist, the venvs, Postgres' binaries, Redis), ``server`` (the processes), ``llm_stub`` (the
deterministic LLM it talks to). The tier's fixture (tests/_real_letta.py) uses it; by hand:

    python -m tests.real_letta up        # prints REAL_LETTA_URL=...; idempotent
    python -m tests.real_letta down      # stops exactly what `up` started from the same cache
    python -m tests.real_letta install   # only installs (Letta's own tests, tests/letta_itests, need no server)

State lives in ``$REAL_LETTA_CACHE`` (default /var/tmp/letta-mock-real-letta): venvs, the database, logs
(``logs/letta.log``; ``logs/stub-requests.jsonl`` is every request Letta made to the LLM).
"""

from .install import CLIENT_VERSION, LETTA_VERSION, Install, RealLettaError, cache_dir, install
from .server import Server, down, healthy, up

__all__ = [
    "CLIENT_VERSION",
    "LETTA_VERSION",
    "Install",
    "RealLettaError",
    "Server",
    "cache_dir",
    "down",
    "healthy",
    "install",
    "up",
]
