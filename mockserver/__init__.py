"""letta-mock: a contract-testing mock server for the Letta agent messages API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.errors import ConfigurationError, LettaMockError
from mockserver.version import __version__

__all__ = ["ConfigurationError", "LettaMockError", "__version__", "create_app"]

if TYPE_CHECKING:
    from mockserver.app import create_app


def __getattr__(name: str) -> Any:
    # The app pulls in Starlette; importing mockserver.models (strategies do, via Hypothesis's entry point)
    # should not pay for it.
    if name == "create_app":
        from mockserver.app import create_app

        return create_app
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
