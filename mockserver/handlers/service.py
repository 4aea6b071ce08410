"""``/v1/health/``: liveness."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mockserver.catalogue import LETTA_VERSION
from mockserver.http import json_response
from mockserver.models import Health

__all__ = ["check_health"]


async def check_health(request: Request) -> Response:
    return json_response(Health(version=LETTA_VERSION, status="ok"))
