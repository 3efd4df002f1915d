"""The OpenAPI document, with every error answer documented as RFC 9457 problem+json."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
KEY_HEADERS = {"authorization", "x-admin-key", "x-participant-key"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for path in doc.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                has_input = operation.get("parameters") or operation.get("requestBody")
                if has_input:
                    responses.setdefault("422", {"description": "invalid input"})
                headers = {
                    p["name"].lower()
                    for p in operation.get("parameters", [])
                    if p["in"] == "header"
                }
                if headers & KEY_HEADERS:
                    responses.setdefault("401", {"description": "key or token missing or invalid"})
                    responses.setdefault("403", {"description": "key of another event"})
                for status, response in responses.items():
                    if status[0] in "45":
                        response["content"] = PROBLEM_CONTENT
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]
