"""Realtime: what a Pusher client needs to connect, and who may subscribe to what.

Channels (DESIGN §3 "Realtime"): ``private-event-<event id>`` for holders of the event's
link (header ``X-Event-Token``) and ``presence-event-<event id>`` for its participants
(header ``X-Participant-Key``; presence member = participant id, info = name).
"""

import re
import uuid
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import parse_qs

import pusher
from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from overlap_shared.models import Event, Participant
from overlap_shared.queries import SNAPSHOT_COLUMNS, event_snapshot
from overlap_shared.settings import PusherSettings
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from overlap_api.http.deps import TOKEN_PATTERN, ParticipantKey, ResourcesDep
from overlap_api.http.errors import (
    KEYED_PROBLEMS,
    EventNotFound,
    Forbidden,
    KeyRequired,
    OverlapError,
)
from overlap_api.reads.caches import Caches
from overlap_api.writes.store import participant_key_hash

router = APIRouter(prefix="/api/realtime", tags=["realtime"])

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 1024
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_CHANNEL = re.compile(rf"^(private|presence)-event-({_UUID})$")
_TOKEN = re.compile(TOKEN_PATTERN)


class UnsupportedMediaType(OverlapError):
    status, title = 415, "Unsupported media type"


class PayloadTooLarge(OverlapError):
    status, title = 413, "Payload too large"


@lru_cache(maxsize=1)
def pusher_settings() -> PusherSettings:
    """Read once per process (PUSHER_* environment variables)."""
    return PusherSettings()


@lru_cache(maxsize=4)
def _signer(cfg: PusherSettings) -> pusher.Pusher:
    return pusher.Pusher(**cfg.client_options())


PusherDep = Annotated[PusherSettings, Depends(pusher_settings)]
EventToken = Annotated[str | None, Header(alias="X-Event-Token", max_length=128)]


class RealtimeConfig(BaseModel):
    key: str
    host: str | None = Field(description="Pusher-protocol server host; null means Pusher")
    port: int | None
    tls: bool
    cluster: str


class AuthForm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    socket_id: str = Field(max_length=41, pattern=r"^\d{1,20}\.\d{1,20}$")
    channel_name: str = Field(max_length=164, pattern=r"^[-a-zA-Z0-9_=@,.;]+$")


class AuthAnswer(BaseModel):
    auth: str = Field(description="`<key>:<signature>`")
    channel_data: str | None = Field(
        default=None, description="presence only: JSON `{user_id, user_info: {name}}`"
    )


@router.get("/config", response_model=RealtimeConfig, summary="How to connect a Pusher client")
async def realtime_config(cfg: PusherDep) -> dict[str, Any]:
    return {
        "key": cfg.key,
        "host": cfg.host,
        "port": cfg.port,
        "tls": cfg.ssl,
        "cluster": cfg.cluster,
    }


async def _form(request: Request) -> AuthForm:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != FORM:
        raise UnsupportedMediaType(f"send the form as {FORM}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PayloadTooLarge(f"the form is limited to {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        fields = {"": ["unparsable"]}
    values: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in fields.items()}
    try:
        return AuthForm.model_validate(values)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


_FORM_SCHEMA = {
    "type": "object",
    "required": ["socket_id", "channel_name"],
    "additionalProperties": False,
    "properties": {
        "socket_id": {"type": "string", "maxLength": 41, "pattern": r"^\d{1,20}\.\d{1,20}$"},
        "channel_name": {
            "type": "string",
            "maxLength": 164,
            "pattern": rf"^(private|presence)-event-{_UUID}$",
        },
    },
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
    openapi_extra={"requestBody": {"required": True, "content": {FORM: {"schema": _FORM_SCHEMA}}}},
    responses={
        **KEYED_PROBLEMS,
        413: {"description": "form too large"},
        415: {"description": "not a form"},
    },
)
async def realtime_auth(
    request: Request,
    resources: ResourcesDep,
    cfg: PusherDep,
    x_event_token: EventToken = None,
    participant_key: ParticipantKey = None,
) -> JSONResponse:
    form = await _form(request)
    match = _CHANNEL.match(form.channel_name)
    if match is None:
        raise Forbidden("only private-event-<id> and presence-event-<id> channels exist here")
    kind, event_id = match.group(1), uuid.UUID(match.group(2))
    custom_data = None
    if kind == "private":
        await _check_token(resources, request.app.state.caches, event_id, x_event_token)
    else:
        custom_data = await _presence_member(resources, event_id, participant_key)
    answer = _signer(cfg).authenticate(form.channel_name, form.socket_id, custom_data)
    return JSONResponse(answer)


async def _check_token(
    resources: ResourcesDep, caches: Caches, event_id: uuid.UUID, token: str | None
) -> None:
    if not token:
        raise KeyRequired("a private channel needs the event's token in X-Event-Token")
    if not _TOKEN.match(token):
        raise EventNotFound("no event has this link (it may have been deleted)")
    budget = caches.gate.budget()  # one Redis deadline for this lookup and its write-back
    event = await caches.get_meta(token, budget)  # the metadata cache (CACHE_TTL_EVENTS)
    if event is None:
        async with resources.reading() as conn:
            row = (
                await conn.execute(select(*SNAPSHOT_COLUMNS).where(Event.token == token))
            ).first()
        if row is None:
            raise EventNotFound("no event has this link (it may have been deleted)")
        event = event_snapshot(row)
        await caches.put_meta(event, budget)
    if event.id != event_id:
        raise Forbidden("X-Event-Token is not the token of this channel's event")


async def _presence_member(
    resources: ResourcesDep, event_id: uuid.UUID, participant_key: str | None
) -> dict[str, Any]:
    digest = participant_key_hash(participant_key)
    stmt = select(Participant.id, Participant.name).where(
        Participant.key_hash == digest, Participant.event_id == event_id
    )
    async with resources.reading() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise Forbidden("X-Participant-Key is not a key of a participant of this event")
    return {"user_id": str(row.id), "user_info": {"name": row.name}}
