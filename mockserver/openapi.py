"""Our OpenAPI document (placeholder until generated from the models)."""

from typing import Any


def openapi_document() -> dict[str, Any]:
    return {"openapi": "3.1.0"}
