"""SDK clients whose every response is checked against the contract, driven alike whether sync or async."""

from __future__ import annotations

import inspect
import ssl
from typing import Any

from contract import ContractChecker
from letta_client import AsyncLetta, DefaultAsyncHttpxClient, DefaultHttpxClient, Letta

__all__ = ["AGENT", "call", "drain", "every_item", "make_async_letta", "make_letta", "parse_in_sdk"]

AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"  # the agent id of the SDK's generated tests

# The mock speaks plain HTTP, but every httpx client builds an SSL context (~50 ms); share one.
_SSL = ssl.create_default_context()


def make_letta(url: str, *, strict: bool, checker: ContractChecker) -> Letta:
    # max_retries=0: the SDK would resend a 409 twice with back-off (wire doc §16); tests want the first answer.
    return Letta(
        base_url=url,
        api_key="test",
        _strict_response_validation=strict,
        max_retries=0,
        http_client=DefaultHttpxClient(verify=_SSL, event_hooks={"response": [checker.sync_hook]}),
    )


def make_async_letta(url: str, *, strict: bool, checker: ContractChecker) -> AsyncLetta:
    return AsyncLetta(
        base_url=url,
        api_key="test",
        _strict_response_validation=strict,
        max_retries=0,
        http_client=DefaultAsyncHttpxClient(verify=_SSL, event_hooks={"response": [checker.async_hook]}),
    )


async def call(result: Any) -> Any:
    """The result of an SDK call, sync or async."""
    return await result if inspect.isawaitable(result) else result


async def drain(stream: Any) -> list[Any]:
    """Read an SDK stream (sync or async) to its end, the way user code does."""
    stream = await call(stream)
    if hasattr(stream, "__aiter__"):
        return [event async for event in stream]
    return list(stream)


async def every_item(pager: Any) -> list[Any]:
    """Auto-paginate an SDK list call (sync page or async paginator) to the end."""
    if hasattr(pager, "__aiter__"):
        return [item async for item in pager]
    return list(pager)


_SDK_TYPES = {
    "LettaMessageUnion": ("letta_client.types.agents", "Message"),
    "LettaStreamingResponse": ("letta_client.types.agents", "LettaStreamingResponse"),
    "LettaResponse": ("letta_client.types.agents", "LettaResponse"),
    "Run": ("letta_client.types.agents", "Run"),
}


def parse_in_sdk(kind: str, data: Any, *, expected_class: str | None = None) -> Any:
    """Parse ``data`` as the SDK's ``kind`` type with strict response validation
    (``letta_client._models.validate_type``, what ``_strict_response_validation=True`` does); check the class."""
    import importlib

    from letta_client._models import validate_type

    module, name = _SDK_TYPES[kind]
    parsed = validate_type(type_=getattr(importlib.import_module(module), name), value=data)
    if expected_class is not None and type(parsed).__name__ != expected_class:
        raise AssertionError(f"the SDK parsed {expected_class} data as {type(parsed).__name__}: {data}")
    return parsed
