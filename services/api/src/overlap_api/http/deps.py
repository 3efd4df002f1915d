"""FastAPI dependency aliases: resources, keys from headers, the optional user."""

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from overlap_api.http.auth import user_id_from
from overlap_api.resources import Resources

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]
Token = Annotated[str, Path(pattern=TOKEN_PATTERN, description="The event's link token")]
AdminKey = Annotated[str | None, Header(alias="X-Admin-Key", max_length=128)]
ParticipantKey = Annotated[str | None, Header(alias="X-Participant-Key", max_length=128)]
Authorization = Annotated[str | None, Header(max_length=4096)]


def optional_user(resources: ResourcesDep, authorization: Authorization = None) -> str | None:
    return user_id_from(authorization, resources.settings.jwt_secret, required=False)


def required_user(resources: ResourcesDep, authorization: Authorization = None) -> str:
    user = user_id_from(authorization, resources.settings.jwt_secret, required=True)
    assert user is not None
    return user


OptionalUser = Annotated[str | None, Depends(optional_user)]
RequiredUser = Annotated[str, Depends(required_user)]
