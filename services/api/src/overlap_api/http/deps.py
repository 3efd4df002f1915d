"""FastAPI dependencies, typed: the wired parts of the app (``wiring``), who a request acts
as on an event (its token and the admin or participant key it gave), the optional user. The
only place that looks into ``app.state``. Every one is ``async``: FastAPI runs a plain
function dependency in its thread pool, a thread hand-off per dependency per request (a fifth
of the API's CPU on a PUT, by py-spy)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from overlap_shared.settings import PusherSettings

from overlap_api.http.auth import user_id_from
from overlap_api.http.errors import Unavailable
from overlap_api.http.monitoring import Monitor
from overlap_api.keys import TOKEN_PATTERN
from overlap_api.reads.caches import Caches
from overlap_api.reads.views import ViewReader
from overlap_api.resources import Resources
from overlap_api.wiring import Wiring, wiring_of


async def get_wiring(request: Request) -> Wiring:
    wiring = wiring_of(request.app)
    if wiring is None:
        raise Unavailable("the API is starting; retry soon")
    return wiring


WiringDep = Annotated[Wiring, Depends(get_wiring)]


async def get_resources(wiring: WiringDep) -> Resources:
    return wiring.resources


async def get_views(wiring: WiringDep) -> ViewReader:
    return wiring.views


async def get_caches(wiring: WiringDep) -> Caches:
    return wiring.caches


async def get_pusher(wiring: WiringDep) -> PusherSettings:
    return wiring.pusher


async def get_monitor(request: Request) -> Monitor:
    monitor: Monitor = request.app.state.monitor  # made with the app (the middleware's)
    return monitor


ResourcesDep = Annotated[Resources, Depends(get_resources)]
ViewsDep = Annotated[ViewReader, Depends(get_views)]
CachesDep = Annotated[Caches, Depends(get_caches)]
PusherDep = Annotated[PusherSettings, Depends(get_pusher)]
MonitorDep = Annotated[Monitor, Depends(get_monitor)]
Token = Annotated[str, Path(pattern=TOKEN_PATTERN, description="The event's link token")]
AdminKey = Annotated[str | None, Header(alias="X-Admin-Key", max_length=128)]
ParticipantKey = Annotated[str | None, Header(alias="X-Participant-Key", max_length=128)]
Authorization = Annotated[str | None, Header(max_length=4096)]
# If-Match or If-None-Match: the header is named after the parameter (if_match: If-Match).
EntityTags = Annotated[str | None, Header(max_length=200)]


async def optional_user(resources: ResourcesDep, authorization: Authorization = None) -> str | None:
    return user_id_from(authorization, resources.settings.jwt_secret, required=False)


async def required_user(resources: ResourcesDep, authorization: Authorization = None) -> str:
    user = user_id_from(authorization, resources.settings.jwt_secret, required=True)
    assert user is not None
    return user


OptionalUser = Annotated[str | None, Depends(optional_user)]
RequiredUser = Annotated[str, Depends(required_user)]


@dataclass(frozen=True)
class Caller:
    """Who a request acts as on one event: the event's link token and the key it gave (None
    when it gave none: the service answers 401 where the route needs one)."""

    token: str
    key: str | None


async def as_participant(token: Token, participant_key: ParticipantKey = None) -> Caller:
    return Caller(token, participant_key)


async def as_admin(token: Token, admin_key: AdminKey = None) -> Caller:
    return Caller(token, admin_key)


Me = Annotated[Caller, Depends(as_participant)]  # the participant's own routes
Admin = Annotated[Caller, Depends(as_admin)]  # the organiser's routes
