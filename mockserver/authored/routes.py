"""``/_mock/rules`` in the admin API (so ``--auth-token`` and ``--no-admin`` cover it like every admin route):

    GET    /_mock/rules     the rules in the order consulted, with their hit counts, sources and rule files
    PUT    /_mock/rules     the run-time rules are these: {"rules": [...]} as JSON, or the same as YAML
                            (Content-Type: application/yaml)
    POST   /_mock/rules     more run-time rules, after those there are
    DELETE /_mock/rules     no run-time rules (the configured ones stay)

A body with any problem is refused whole (422 in Letta's shape, each problem's ``loc`` its path in the body) and the
rules stay as they were.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mockserver.authored.format import RulesInvalid
from mockserver.authored.load import parse_document
from mockserver.authored.ruleset import RuleSet
from mockserver.errors import RequestInvalid
from mockserver.http import json_response

__all__ = ["rules_route", "validation_error"]

_STEP = re.compile(r"([A-Za-z_][\w]*)|\[(\d+)\]")


async def rules_route(request: Request) -> Response:
    rules: RuleSet = request.app.state.ruleset
    if request.method == "DELETE":
        rules.replace([])
    elif request.method in ("PUT", "POST"):
        kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        try:
            data = parse_document(await request.body(), where="body", json_only="yaml" not in kind)
            (rules.replace if request.method == "PUT" else rules.extend)(data)
        except RulesInvalid as error:
            raise validation_error(error) from None
    return json_response(rules.as_json())


def validation_error(error: RulesInvalid) -> RequestInvalid:
    """Every problem as a 422 item: ``loc`` the path in the body, ``msg`` the problem with its path."""
    detail: list[dict[str, Any]] = []
    for problem in error.problems:
        path, sep, _ = problem.partition(": ")
        loc: list[str | int] = ["body"]
        if sep and " " not in path:  # a path such as rules[2].turn.steps[0]
            loc += [int(index) if index else name for name, index in _STEP.findall(path)]
        detail.append({"loc": loc, "msg": problem, "type": "value_error"})
    return RequestInvalid(detail)
