"""What every handler needs: the app's store, run-id checks, list answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from mockserver.bodies import share_items
from mockserver.catalogue import Texts
from mockserver.errors import BadRequest
from mockserver.http import JsonBody, rules
from mockserver.models import RUN_ID_PATTERN
from mockserver.paging import Page, Row, resource_page
from mockserver.parameters import RUN_ID, Integer, Text
from mockserver.store import Store

__all__ = ["id_page", "items_response", "looks_like_sdk", "run_id", "store"]

Resource = TypeVar("Resource")


def store(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


def looks_like_sdk(request: Request) -> bool:
    """Letta's "is this a 1.x SDK" test (wire doc §4): the Stainless version header, no user agent at all, or the
    SDK's own user agent. A 1.x SDK's reads of agents come without relationships unless ``include`` names them;
    under ``rules.sdk_only_streaming`` only such a client may stream."""
    if "x-stainless-package-version" in request.headers:
        return True
    agent = request.headers.get("user-agent")
    if agent is None:
        return True
    return re.match(r"^(@letta-ai/)?letta-client/1\.", agent) is not None


def items_response(request: Request, listed: Page | list[Row]) -> Response:
    """A JSON array of stored items: a page's or the rows' (``Store.listed_json``)."""
    body = share_items(request.scope, store(request).listed_json(listed))  # the journal keeps the parts, no copy
    return JsonBody(body)


def run_id(request: Request) -> str:
    value = RUN_ID.read(request)
    # The spec puts no pattern on run ids; the real server checks the strict form (wire doc §13.1).
    if rules(request).strict_run_ids and not re.match(RUN_ID_PATTERN, value):
        raise BadRequest(Texts.bad_run_id(value))
    return value


def id_page(request: Request, items: Iterable[Resource], key: Callable[[Resource], str], *, limit: Integer,
            before: Text, after: Text) -> list[Resource]:  # fmt: skip
    """The page of a resource listing (agents, tools, runs, steps) its cursors and ``limit`` ask for."""
    count = limit.read(request)
    return resource_page(items, key, after=after.read(request), before=before.read(request), limit=count)
