"""A participant's own record and ranges (``GET .../participants/me``): from the session
cache and the cached view, else one SQL statement. The Redis calls of one read share one
deadline."""

from typing import Any

import orjson
from overlap_shared.bitmaps import bits_to_ranges, from_bytes
from overlap_shared.models import Event
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.keys import participant_key_hash
from overlap_api.participants.lookup import find_participant
from overlap_api.reads.caches import Caches
from overlap_api.reads.views import ViewReader


async def read_me(conn: AsyncConnection, token: str, participant_key: str | None) -> dict:
    """The caller's own participant record and ranges, in one statement."""
    me = await find_participant(conn, participant_key, Event.token == token)
    return {
        "participant": {"id": me.id, "name": me.name},
        "available": bits_to_ranges(from_bytes(me.available)),
        "if_needed": bits_to_ranges(from_bytes(me.if_needed)),
        "version": me.version,
    }


async def read_me_cached(
    caches: Caches, views: ViewReader, token: str, participant_key: str | None
) -> dict[str, Any]:
    """The caller's own record: session cache + cached view, else one SQL statement."""
    digest = participant_key_hash(participant_key).hex()
    budget = caches.gate.budget()
    session = await caches.get_session(token, digest, budget)
    if session:
        view = orjson.loads(await views.read(token, session["version"], budget))
        for p in view["participants"]:
            if p["id"] == session["participant_id"]:
                return {
                    "participant": {"id": p["id"], "name": p["name"]},
                    "available": p["available"],
                    "if_needed": p["if_needed"],
                    "version": view["version"],
                }
    async with caches.resources.reading() as conn:
        me = await read_me(conn, token, participant_key)
    await caches.put_session(token, digest, me["version"], str(me["participant"]["id"]), budget)
    return me
