"""letta-mock: a contract-testing mock server for the Letta agent messages API.

The public API is the names in ``__all__``, imported from here (``from mockserver import create_app, LiveServer``);
beside them ``mockserver.models`` (Letta's shapes as pydantic models, what the strategies draw) and the pytest plugin
(``mockserver.pytest_plugin``, loaded by its entry point) are public. Every other module is the implementation:
its names may change in any release. ``tests/test_public_api.py`` holds these names.

Heavy names load when first used (the app pulls in Starlette; ``letta_schema`` loads schemathesis), so
importing ``mockserver.models`` — as the strategies do, through Hypothesis's entry point — pays for none of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mockserver.errors import ConfigurationError, LettaMockError
from mockserver.version import __version__

__all__ = [
    # the server
    "create_app",
    "openapi_document",
    # in tests: a live server, what it was called with, in-process clients (async, sync, the official SDK on one)
    "Call",
    "Calls",
    "LettaMockClient",
    "LettaMockSyncClient",
    "in_process_sdk_client",
    "LiveServer",
    "MockServerError",
    # fuzzing a Letta server (schemathesis, loaded on first use)
    "MESSAGES_OPERATIONS",
    "letta_schema",
    # errors
    "ConfigurationError",
    "LettaMockError",
    "__version__",
]

if TYPE_CHECKING:
    from mockserver.app import create_app
    from mockserver.calls import Call, Calls
    from mockserver.fuzz import MESSAGES_OPERATIONS
    from mockserver.fuzz.schema import letta_schema
    from mockserver.live import LiveServer, MockServerError
    from mockserver.openapi import openapi_document
    from mockserver.testing import LettaMockClient, LettaMockSyncClient, in_process_sdk_client

# Where each name loaded on first use lives.
_LAZY = {
    "create_app": "mockserver.app",
    "openapi_document": "mockserver.openapi",
    "Call": "mockserver.calls",
    "Calls": "mockserver.calls",
    "LettaMockClient": "mockserver.testing",
    "LettaMockSyncClient": "mockserver.testing",
    "in_process_sdk_client": "mockserver.testing",
    "LiveServer": "mockserver.live",
    "MockServerError": "mockserver.live",
    "MESSAGES_OPERATIONS": "mockserver.fuzz",
    "letta_schema": "mockserver.fuzz.schema",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
