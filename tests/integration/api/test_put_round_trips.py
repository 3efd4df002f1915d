"""PUT availability is one SQL statement (two on a cold grid cache), and that statement
writes the bitmaps, the version and the outbox row together, or nothing."""

import uuid

from overlap_shared import events
from overlap_shared.bitmaps import from_bytes, ranges_to_bits
from sqlalchemy import text

from tests.integration.conftest import Api

PUT = "/api/events/{token}/participants/me/availability"


async def _state(api: Api, token: str, pid: str) -> tuple[int, bytes, int]:
    async with api.resources.reading() as conn:
        version = await conn.scalar(
            text("select version from events where token = :t"), {"t": token}
        )
        bits = await conn.scalar(
            text("select available from participants where id = :p"), {"p": uuid.UUID(pid)}
        )
        queued = await conn.scalar(
            text("select count(*) from outbox where convert_from(payload, 'UTF8') like :p"),
            {"p": f"%{pid}%"},
        )
    return int(version or 0), bytes(bits or b""), int(queued or 0)


async def test_a_put_is_one_statement_once_the_grid_is_known(api: Api) -> None:
    created = await api.create_event()
    token = created["token"]
    me = await api.join(token, "Ada")
    headers = {"X-Participant-Key": me["participant_key"]}
    pid = me["participant"]["id"]

    api.sql.reset()
    first = await api.client.put(
        PUT.format(token=token), json={"available": [[0, 2]]}, headers=headers
    )
    assert first.status_code == 200, first.text
    assert len(api.sql.statements) <= 2, api.sql.statements  # cold cache: read grid, write

    api.sql.reset()
    r = await api.client.put(
        PUT.format(token=token),
        json={"available": [[2, 5], [8, 9]], "if_needed": [[5, 6]]},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert len(api.sql.statements) == 1, api.sql.statements
    body = r.json()
    assert body == {"version": first.json()["version"] + 1, "available": [[2, 5], [8, 9]],
                    "if_needed": [[5, 6]]}  # fmt: skip

    version, bits, queued = await _state(api, token, pid)
    assert version == body["version"]
    assert from_bytes(bits) == ranges_to_bits([[2, 5], [8, 9]], created["event"]["slot_count"])
    assert queued >= 2
    async with api.resources.reading() as conn:
        payload = await conn.scalar(
            text("select payload from outbox where convert_from(payload, 'UTF8') like :p "
                 "order by seq desc limit 1"),
            {"p": f"%{pid}%"},
        )  # fmt: skip
    msg = events.decode(bytes(payload))
    assert isinstance(msg, events.AvailabilityChanged)
    assert msg.version == body["version"] and str(msg.data.participant_id) == pid
    assert (msg.data.available_slots, msg.data.if_needed_slots) == (4, 1)
    assert str(msg.event_id) == created["event"]["id"] and msg.token == token


async def test_a_wrong_key_writes_nothing(api: Api) -> None:
    created = await api.create_event()
    token = created["token"]
    me = await api.join(token, "Bo")
    ok = {"X-Participant-Key": me["participant_key"]}
    await api.client.put(PUT.format(token=token), json={"available": [[0, 1]]}, headers=ok)
    before = await _state(api, token, me["participant"]["id"])

    r = await api.client.put(
        PUT.format(token=token),
        json={"available": [[3, 4]]},
        headers={"X-Participant-Key": "not-a-key-of-this-event"},
    )
    assert r.status_code == 403, r.text
    assert await _state(api, token, me["participant"]["id"]) == before
    missing = await api.client.put(
        PUT.format(token="NoSuchEventToken0000"), json={"available": [[0, 1]]}, headers=ok
    )
    assert missing.status_code == 404, missing.text


async def test_a_changed_grid_is_read_again(api: Api) -> None:
    created = await api.create_event(day_start="09:00", day_end="10:00")  # 2 slots a day
    token, admin = created["token"], created["admin_key"]
    me = await api.join(token, "Cy")
    headers = {"X-Participant-Key": me["participant_key"]}
    r = await api.client.put(PUT.format(token=token), json={"available": [[0, 2]]}, headers=headers)
    assert r.status_code == 200, r.text
    off_grid = await api.client.put(
        PUT.format(token=token), json={"available": [[0, 6]]}, headers=headers
    )
    assert off_grid.status_code == 422, off_grid.text

    grown = await api.client.patch(
        f"/api/events/{token}", json={"day_end": "12:00"}, headers={"X-Admin-Key": admin}
    )
    assert grown.status_code == 200, grown.text
    api.sql.reset()
    r = await api.client.put(PUT.format(token=token), json={"available": [[0, 6]]}, headers=headers)
    assert r.status_code == 200, r.text  # checked against the new grid (4 slots a day)
    assert len(api.sql.statements) == 2, api.sql.statements
    assert r.json()["available"] == [[0, 6]]
