"""Who may subscribe to what (DESIGN §3 "Realtime"): ``private-event-<event id>`` for
holders of the event's link, ``presence-event-<event id>`` for its participants (presence
member = participant id, info = name). Also reads Pusher's form body, which FastAPI does
not parse without python-multipart."""

import re
import uuid
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from overlap_shared.models import Event
from pydantic import ValidationError

from overlap_api.http.errors import (
    EventNotFound,
    Forbidden,
    KeyRequired,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from overlap_api.keys import TOKEN_PATTERN
from overlap_api.participants.lookup import NOT_A_PARTICIPANT, find_participant
from overlap_api.reads.caches import Caches
from overlap_api.reads.queries import event_meta
from overlap_api.realtime.schemas import FORM, MAX_FORM_BYTES, AuthForm
from overlap_api.resources import Resources

_TOKEN = re.compile(TOKEN_PATTERN)


async def read_form(request: Request) -> AuthForm:
    """The form body, bounded and validated (415, 413, 422)."""
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


async def check_event_token(caches: Caches, event_id: uuid.UUID, token: str | None) -> None:
    """The link token is the token of the channel's event (401, 404, 403)."""
    if not token:
        raise KeyRequired("a private channel needs the event's token in X-Event-Token")
    if not _TOKEN.match(token):
        raise EventNotFound()
    budget = caches.gate.budget()  # one Redis deadline for this lookup and its write-back
    event = await caches.get_meta(token, budget)  # the metadata cache (CACHE_TTL_EVENTS)
    if event is None:
        async with caches.resources.reading() as conn:
            event = await event_meta(conn, token)
        await caches.put_meta(event, budget)
    if event.id != event_id:
        raise Forbidden("X-Event-Token is not the token of this channel's event")


async def presence_member(
    resources: Resources, event_id: uuid.UUID, participant_key: str | None
) -> dict[str, Any]:
    """The presence member the key holder is in this event (403 for anyone else)."""
    async with resources.reading() as conn:
        try:
            me = await find_participant(conn, participant_key, Event.id == event_id)
        except EventNotFound:  # a channel of no event: nobody is its member
            raise Forbidden(NOT_A_PARTICIPANT) from None
    return {"user_id": str(me.id), "user_info": {"name": me.name}}
