"""Realtime: what a Pusher client needs to connect, and the authorization of its channel
subscriptions (the rules are in ``realtime.service``)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from overlap_api.http.deps import CachesDep, ParticipantKey, PusherDep, ResourcesDep, WiringDep
from overlap_api.http.errors import KEYED_PROBLEMS, Forbidden
from overlap_api.realtime.schemas import CHANNEL, FORM, AuthAnswer, RealtimeConfig, form_schema
from overlap_api.realtime.service import check_event_token, presence_member, read_form

router = APIRouter(prefix="/api/realtime", tags=["realtime"])
EventToken = Annotated[str | None, Header(alias="X-Event-Token", max_length=128)]


@router.get("/config", response_model=RealtimeConfig, summary="How to connect a Pusher client")
async def realtime_config(cfg: PusherDep) -> dict[str, Any]:
    return {
        "key": cfg.key,
        "host": cfg.host,
        "port": cfg.port,
        "tls": cfg.ssl,
        "cluster": cfg.cluster,
    }


@router.post(
    "/auth",
    response_model=AuthAnswer,
    response_model_exclude_none=True,
    summary="Authorize a Pusher channel subscription",
    description=(
        "Pusher's channel authorization endpoint. `private-event-<id>` needs `X-Event-Token` "
        "(the event's link token); `presence-event-<id>` needs `X-Participant-Key` of one of "
        "its participants."
    ),
    openapi_extra={"requestBody": {"required": True, "content": {FORM: {"schema": form_schema()}}}},
    responses={
        **KEYED_PROBLEMS,
        413: {"description": "form too large"},
        415: {"description": "not a form"},
    },
)
async def realtime_auth(
    request: Request,
    wiring: WiringDep,
    resources: ResourcesDep,
    caches: CachesDep,
    x_event_token: EventToken = None,
    participant_key: ParticipantKey = None,
) -> JSONResponse:
    form = await read_form(request)
    match = CHANNEL.match(form.channel_name)
    if match is None:
        raise Forbidden("only private-event-<id> and presence-event-<id> channels exist here")
    kind, event_id = match.group(1), uuid.UUID(match.group(2))
    custom_data = None
    if kind == "private":
        await check_event_token(caches, event_id, x_event_token)
    else:
        custom_data = await presence_member(resources, event_id, participant_key)
    answer = wiring.signer.authenticate(form.channel_name, form.socket_id, custom_data)
    return JSONResponse(answer)
