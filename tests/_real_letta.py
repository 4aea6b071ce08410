"""The ``real_letta`` tier: tests that compare the mock with a real Letta 0.16.8 server. Mark them
``@pytest.mark.real_letta`` and take ``real_letta_url`` (a server) or ``real_letta_install`` (only its install:
Letta's venv and sdist). ``python -m pytest`` leaves the tier out; ``python -m pytest -m real_letta`` runs it.

``real_letta_url`` uses ``$REAL_LETTA_URL`` when it answers; otherwise it starts a server with tests/real_letta
(installed from package registries into ``$REAL_LETTA_CACHE`` the first time: ~4 min; later starts ~30 s) and
stops what it started when the session ends (``REAL_LETTA_KEEP=1`` keeps it running for the next session). A server
that cannot be installed or started fails the tests that need it, with the reason: the tier was asked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from real_letta import Install, RealLettaError, down, healthy, install, up

__all__ = ["real_letta_install", "real_letta_url"]


@pytest.fixture(scope="session")
def real_letta_install() -> Install:
    try:
        return install()
    except RealLettaError as error:
        pytest.fail(f"the real Letta server cannot be installed: {error}", pytrace=False)


@pytest.fixture(scope="session")
def real_letta_url() -> Iterator[str]:
    given = os.environ.get("REAL_LETTA_URL")
    if given and healthy(given):
        yield given.rstrip("/")
        return
    try:
        server = up()
    except RealLettaError as error:
        pytest.fail(f"the real Letta server did not start: {error}", pytrace=False)
    os.environ["REAL_LETTA_URL"] = server.url  # for subprocesses of the tests
    try:
        yield server.url
    finally:
        del os.environ["REAL_LETTA_URL"]
        if server.started and os.environ.get("REAL_LETTA_KEEP") != "1":
            down()
