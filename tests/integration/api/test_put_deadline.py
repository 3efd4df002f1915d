"""A PUT's one statement carries the request's deadline: PostgreSQL applies it only before.

A PUT answered 503 at its deadline must not be applied after a later write of the same
person that was acknowledged (``make chaos``, "pause postgres": both statements waited in a
paused server, and the acknowledged one took the row lock first). Here the later write is a
transaction holding the event's row lock past the earlier PUT's deadline.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from overlap_api.http.errors import Unavailable
from overlap_api.writes.availability import put_availability
from overlap_api.writes.own_writes import OwnWrite
from sqlalchemy import text

from tests.integration.conftest import Api

PUT = "/api/events/{token}/participants/me/availability"
RANGES = ([[0, 3]], [[4, 6]])


async def _person(api: Api) -> tuple[str, str, str]:
    """(token, key, participant id) of a participant whose event's grid the API knows."""
    token = (await api.create_event())["token"]
    me = await api.join(token, "Ada")
    key = me["participant_key"]
    r = await api.client.put(PUT.format(token=token), json={}, headers={"X-Participant-Key": key})
    assert r.status_code == 200, r.text
    return token, key, me["participant"]["id"]


async def _stored(api: Api, token: str, pid: str) -> tuple[int, bytes, int]:
    """(event version, the participant's available bits, its outbox rows)."""
    async with api.resources.reading() as conn:
        row = (
            await conn.execute(
                text(
                    "select e.version, p.available, (select count(*) from outbox "
                    "where convert_from(payload, 'UTF8') like :like) "
                    "from events e join participants p on p.event_id = e.id "
                    "where e.token = :t and p.id = :p"
                ),
                {"t": token, "p": uuid.UUID(pid), "like": f"%{pid}%"},
            )
        ).one()
    return int(row[0]), bytes(row[1] or b""), int(row[2])


async def _put(api: Api, token: str, key: str, not_after: datetime) -> OwnWrite | None:
    topic = api.resources.settings.domain_topic
    async with api.resources.driver() as conn:
        return await put_availability(
            conn, api.resources.grids, token, key, RANGES, topic, not_after
        )


async def test_a_put_past_its_deadline_writes_nothing(api: Api) -> None:
    token, key, pid = await _person(api)
    before = await _stored(api, token, pid)
    with pytest.raises(Unavailable):
        await _put(api, token, key, datetime.now(UTC) - timedelta(milliseconds=1))
    assert await _stored(api, token, pid) == before


@pytest.mark.parametrize("deadline_s, applied", [(0.3, False), (30.0, True)])
async def test_a_put_waiting_on_a_later_write_rechecks_its_deadline(
    api: Api, deadline_s: float, applied: bool
) -> None:
    """The PUT waits on the row lock of a later write that commits after the PUT's deadline:
    then it writes nothing. The control (a deadline not reached) shows that it did wait and
    would have written."""
    token, key, pid = await _person(api)
    async with api.resources.transaction() as later:
        await later.execute(
            text("update events set version = version + 1 where token = :t"), {"t": token}
        )
        waiting = asyncio.create_task(
            _put(api, token, key, datetime.now(UTC) + timedelta(seconds=deadline_s))
        )
        await asyncio.sleep(0.6)
        assert not waiting.done()  # it waits on the later write's row lock
        version, bits, queued = await _stored(api, token, pid)  # another connection: before
    if applied:
        done = await asyncio.wait_for(waiting, 10)
        assert done is not None and done.version == version + 2
        assert await _stored(api, token, pid) != (version + 1, bits, queued)
    else:
        with pytest.raises(Unavailable):
            await asyncio.wait_for(waiting, 10)
        assert await _stored(api, token, pid) == (version + 1, bits, queued)
