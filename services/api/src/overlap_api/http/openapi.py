"""The OpenAPI document, with every error answer documented as RFC 9457 problem+json and
OpenAPI links saying which answer's fields (token, keys, ids, version) feed which request."""

from typing import Any, NamedTuple

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
GUARDS = ("X-Admin-Key", "X-Participant-Key")
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

EVENT = "/api/events/{token}"
ME = f"{EVENT}/participants/me"
TOKEN = "$response.body#/token"  # from POST /api/events
SAME_TOKEN = "$request.path.token"
SAME_ADMIN = "$request.header.X-Admin-Key"
SAME_PARTICIPANT = "$request.header.X-Participant-Key"
NEW_VERSION = "$response.body#/version"
CREATED = {"path.token": TOKEN, "header.X-Admin-Key": "$response.body#/admin_key"}
JOINED = {"path.token": SAME_TOKEN, "header.X-Participant-Key": "$response.body#/participant_key"}
ME_AGAIN = {"path.token": SAME_TOKEN, "header.X-Participant-Key": SAME_PARTICIPANT}
READ_OWN_WRITE = {"path.token": SAME_TOKEN, "query.min_version": NEW_VERSION}


class Link(NamedTuple):
    """``source`` answering ``status`` feeds ``target`` (operations as ``(method, path)``)."""

    source: tuple[str, str]
    status: str
    name: str
    target: tuple[str, str]
    parameters: dict[str, str]
    body: dict[str, str] | None = None


LINKS = (
    # creating an event: its token opens the link-holder routes, its admin key the admin ones
    Link(("post", "/api/events"), "201", "GetView", ("get", EVENT), {"path.token": TOKEN}),
    Link(
        ("post", "/api/events"),
        "201",
        "BestTimes",
        ("get", f"{EVENT}/best-times"),
        {"path.token": TOKEN},
    ),
    Link(
        ("post", "/api/events"),
        "201",
        "Calendar",
        ("get", f"{EVENT}/calendar.ics"),
        {"path.token": TOKEN},
    ),
    Link(
        ("post", "/api/events"),
        "201",
        "EditEvent",
        ("patch", EVENT),
        {**CREATED, "header.if-match": '"v{$response.body#/version}"'},
    ),
    Link(("post", "/api/events"), "201", "Finalize", ("post", f"{EVENT}/finalize"), CREATED),
    Link(("post", "/api/events"), "201", "DeleteEvent", ("delete", EVENT), CREATED),
    Link(("post", "/api/events"), "201", "Export", ("get", f"{EVENT}/export.csv"), CREATED),
    Link(
        ("post", "/api/events"),
        "201",
        "Join",
        ("post", f"{EVENT}/participants"),
        {"path.token": TOKEN},
    ),
    Link(
        ("post", "/api/events"),
        "201",
        "SubscribePrivate",
        ("post", "/api/realtime/auth"),
        {"header.X-Event-Token": TOKEN},
        {"channel_name": "private-event-{$response.body#/event/id}"},
    ),
    # admin writes: read them back, go on to finalize, the calendar, a reopen, or a 404 after
    # delete
    Link(("patch", EVENT), "200", "GetView", ("get", EVENT), READ_OWN_WRITE),
    Link(
        ("patch", EVENT),
        "200",
        "Finalize",
        ("post", f"{EVENT}/finalize"),
        {"path.token": SAME_TOKEN, "header.X-Admin-Key": SAME_ADMIN},
    ),
    Link(("post", f"{EVENT}/finalize"), "200", "GetView", ("get", EVENT), READ_OWN_WRITE),
    Link(
        ("post", f"{EVENT}/finalize"),
        "200",
        "Calendar",
        ("get", f"{EVENT}/calendar.ics"),
        {"path.token": SAME_TOKEN},
    ),
    Link(
        ("post", f"{EVENT}/finalize"),
        "200",
        "Reopen",
        ("post", f"{EVENT}/reopen"),
        {"path.token": SAME_TOKEN, "header.X-Admin-Key": SAME_ADMIN},
    ),
    Link(("post", f"{EVENT}/reopen"), "200", "GetView", ("get", EVENT), READ_OWN_WRITE),
    Link(("delete", EVENT), "204", "GetView", ("get", EVENT), {"path.token": SAME_TOKEN}),
    # joining: the participant key opens the "me" routes
    Link(("post", f"{EVENT}/participants"), "201", "GetMe", ("get", ME), JOINED),
    Link(("post", f"{EVENT}/participants"), "201", "RenameMe", ("patch", ME), JOINED),
    Link(("post", f"{EVENT}/participants"), "201", "Leave", ("delete", ME), JOINED),
    Link(
        ("post", f"{EVENT}/participants"),
        "201",
        "PutAvailability",
        ("put", f"{ME}/availability"),
        JOINED,
    ),
    Link(
        ("post", f"{EVENT}/participants"),
        "201",
        "PatchAvailability",
        ("patch", f"{ME}/availability"),
        JOINED,
    ),
    Link(("post", f"{EVENT}/participants"), "201", "GetView", ("get", EVENT), READ_OWN_WRITE),
    Link(
        ("post", f"{EVENT}/participants"),
        "201",
        "BestTimesRequired",
        ("get", f"{EVENT}/best-times"),
        {"path.token": SAME_TOKEN, "query.required": "$response.body#/participant/id"},
    ),
    Link(
        ("post", f"{EVENT}/participants"),
        "201",
        "RemoveParticipant",
        ("delete", f"{EVENT}/participants/{{participant_id}}"),
        {"path.token": SAME_TOKEN, "path.participant_id": "$response.body#/participant/id"},
    ),
    # a participant's writes: read them back (own record and the view), or go on editing
    Link(("patch", ME), "200", "GetMe", ("get", ME), ME_AGAIN),
    Link(("delete", ME), "204", "GetMe", ("get", ME), ME_AGAIN),
    Link(("put", f"{ME}/availability"), "200", "GetMe", ("get", ME), ME_AGAIN),
    Link(("put", f"{ME}/availability"), "200", "GetView", ("get", EVENT), READ_OWN_WRITE),
    Link(
        ("put", f"{ME}/availability"),
        "200",
        "PatchAvailability",
        ("patch", f"{ME}/availability"),
        ME_AGAIN,
    ),
    Link(("patch", f"{ME}/availability"), "200", "GetView", ("get", EVENT), READ_OWN_WRITE),
    Link(("patch", f"{ME}/availability"), "200", "GetMe", ("get", ME), ME_AGAIN),
    # the view names the event's token: anyone holding it may join
    Link(
        ("get", EVENT),
        "200",
        "Join",
        ("post", f"{EVENT}/participants"),
        {"path.token": "$response.body#/event/token"},
    ),
)


def require_key(route: str, operation: dict[str, Any]) -> None:
    """An admin or participant key header is required where the route cannot do without it
    (a missing key is a 401); only the realtime auth takes one of several."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"] in GUARDS:
            parameter["required"] = route != "/api/realtime/auth"


def add_links(doc: dict[str, Any]) -> None:
    """Put every link of ``LINKS`` on its source answer; a missing operation is a bug here."""
    paths = doc["paths"]
    for link in LINKS:
        source = paths[link.source[1]][link.source[0]]
        target = paths[link.target[1]][link.target[0]]
        definition: dict[str, Any] = {
            "operationId": target["operationId"],
            "parameters": link.parameters,
        }
        if link.body is not None:
            definition["requestBody"] = link.body
        links = source["responses"][link.status].setdefault("links", {})
        links[link.name] = definition


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
        for route, path in doc.get("paths", {}).items():
            for operation in path.values():
                require_key(route, operation)
                responses = operation.setdefault("responses", {})
                has_input = operation.get("parameters") or operation.get("requestBody")
                if has_input:
                    responses.setdefault("422", {"description": "invalid input"})
                if operation.get("requestBody"):
                    responses.setdefault("413", {"description": "body over 256 KB"})
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
        add_links(doc)
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]
