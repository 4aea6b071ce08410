"""Errors, each knowing the HTTP status and body Letta answers with (wire doc §15).

    LettaMockError                     base of everything letta-mock raises
    ├── HTTPError                      an HTTP error answer: status + Letta-shaped body
    │   ├── NotFound                   404 {"detail": "<text>"}
    │   ├── MethodNotAllowed           405 {"detail": "<text>"}
    │   ├── Conflict                   409 {"detail": <text or object>}
    │   ├── BadRequest                 400 {"detail": "<text>"}
    │   │   └── ControlError           400: a control (header, trigger, script, default) names something unknown
    │   ├── PayloadTooLarge            413 {"detail": "<text>"}
    │   ├── RequestInvalid             422 {"detail": [{"loc", "msg", "type"}, ...]}
    │   ├── RouteInvalid               422 {"detail": "<text>"} (a route's own check)
    │   ├── ServerError                500 {"detail": "An unknown error occurred"}
    │   └── ProviderError              4xx/5xx {"error": {"type", "message", "detail"}} (LLM-provider errors)
    └── ConfigurationError             a test author's mistake in configuring the mock (raised at set-up)

Handlers raise these; the app turns them into responses, so a handler never half-answers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not imported at run time: ``import mockserver`` (and ``letta-mock --help``) loads no pydantic
    from pydantic import ValidationError

__all__ = [
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "ControlError",
    "Gone",
    "HTTPError",
    "LettaMockError",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "ProviderError",
    "RequestInvalid",
    "RouteInvalid",
    "ServerError",
    "validation_detail",
]


class LettaMockError(Exception):
    """Base class for every error letta-mock raises."""


class ConfigurationError(ValueError, LettaMockError):
    """The mock was configured with something it cannot do; the message says what to change."""


class HTTPError(LettaMockError):
    status_code = 500

    def __init__(self, detail: Any, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail if isinstance(detail, str) else json.dumps(detail))
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra  # extra top-level keys, e.g. the conversation-busy 409's "run_id"

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, **self.extra}

    @property
    def message(self) -> str:
        """The detail as text (a structured detail's ``message``): what an in-band error or a failed run says."""
        detail = self.detail
        return str(detail.get("message", detail)) if isinstance(detail, dict) else str(detail)


class BadRequest(HTTPError):
    status_code = 400


class ControlError(BadRequest):
    """400: the control text names something unknown or a bad value."""


class PayloadTooLarge(HTTPError):
    status_code = 413


class NotFound(HTTPError):
    status_code = 404


class Gone(HTTPError):
    status_code = 410


class MethodNotAllowed(HTTPError):
    status_code = 405


class Conflict(HTTPError):
    status_code = 409


class ServerError(HTTPError):
    status_code = 500


class ProviderError(HTTPError):
    """An LLM-provider failure, which Letta answers with an ``error`` object instead of ``detail``."""

    def __init__(self, status: int, error_type: str, message: str, detail: str | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status_code = status
        self.error = {"type": error_type, "message": message, "detail": detail}

    def body(self) -> dict[str, Any]:
        return {"error": self.error}


class RequestInvalid(HTTPError):
    """422 in the spec's ``HTTPValidationError`` shape: a list naming each offending field."""

    status_code = 422

    def __init__(self, detail: list[dict[str, Any]], **extra: Any) -> None:
        super().__init__(detail, **extra)

    @classmethod
    def single(cls, loc: Sequence[str | int], msg: str, type_: str) -> RequestInvalid:
        return cls([{"loc": list(loc), "msg": msg, "type": type_}])


class RouteInvalid(HTTPError):
    """422 raised by a route's own check after validation: a plain-string ``detail`` (wire doc §4)."""

    status_code = 422


def validation_detail(exc: ValidationError, prefix: str, body: bytes | None = None) -> list[dict[str, Any]]:
    """pydantic errors as FastAPI's ``detail`` list, ``loc`` prefixed with where the value came from.

    Only loc/msg/type are kept: ``ctx`` may hold exception objects that are not JSON, and ``input`` may echo
    a large body back.
    """
    detail: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False):
        if error["type"] == "json_invalid":
            # FastAPI's shape for a body that is not JSON: loc ("body", <offset>), msg "JSON decode error".
            detail.append(
                {"loc": [prefix, _json_error_offset(body or b"")], "msg": "JSON decode error", "type": "json_invalid"}
            )
            continue
        loc = [prefix, *(part for part in error["loc"] if not _is_union_tag(part))]
        detail.append({"loc": loc, "msg": error["msg"], "type": error["type"]})
    return detail


def _is_union_tag(part: str | int) -> bool:
    # pydantic adds the name of the union member it tried ("function-after[...]", "str", "list[...]") to loc;
    # clients want the field path only.
    return isinstance(part, str) and (
        part in {"str", "int", "bool", "float"} or "[" in part or part[:1].isupper() or part in _TAGS
    )


_TAGS = frozenset({"message", "approval", "tool_return"})


def _json_error_offset(body: bytes) -> int:
    try:
        json.loads(body)
    except json.JSONDecodeError as error:
        return error.pos
    except UnicodeDecodeError as error:
        return error.start
    except RecursionError:  # nested past Python's limit: pydantic refused it too, there is no offset to give
        return 0
    return 0
