"""The retention job on real PostgreSQL: what it deletes, what it leaves, run twice at once."""

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

from overlap_api.ops.expiry import claim_expired, cutoff, expire, known_zones
from overlap_shared.retention import last_activity
from sqlalchemy import text

from tests.integration.conftest import Api

PAST = ["2025-06-02", "2025-06-03"]
DAYS = 90


async def backdate(api: Api, token: str, days_ago: float) -> None:
    """Pretend the event's last write was ``days_ago`` days ago."""
    async with api.resources.transaction() as conn:
        await conn.execute(
            text(
                "UPDATE events SET updated_at = now() - make_interval(secs => :s) WHERE token = :t"
            ),
            {"s": days_ago * 86400, "t": token},
        )


async def run_job(api: Api, days: int = DAYS, batch_size: int = 100) -> set[str]:
    removed = await expire(
        api.resources.engine,
        datetime.now(UTC),
        days,
        batch_size,
        1000,
        api.resources.settings.domain_topic,
    )
    return {e.event.token for e in removed}


async def deleted_messages(api: Api, event_id: str) -> int:
    """``EventDeleted`` rows for this event in the outbox (no relay runs in these tests)."""
    async with api.resources.reading() as conn:
        found = await conn.execute(
            text(
                "SELECT count(*) FROM outbox WHERE key = :k AND headers->>'type' = 'EventDeleted'"
            ),
            {"k": event_id.encode()},
        )
        return int(found.scalar_one())


async def exists(api: Api, token: str) -> bool:
    async with api.resources.reading() as conn:
        found = await conn.execute(text("SELECT 1 FROM events WHERE token = :t"), {"t": token})
        return found.first() is not None


async def test_an_expired_event_is_deleted_through_the_outbox(api: Api) -> None:
    created = await api.create_event(dates=PAST)
    token, event_id = created["token"], created["event"]["id"]
    joined = await api.join(token, "Old")
    await backdate(api, token, DAYS + 1)
    assert token in await run_job(api)
    assert not await exists(api, token)
    async with api.resources.reading() as conn:
        people = await conn.execute(
            text("SELECT count(*) FROM participants WHERE id = :p"),
            {"p": uuid.UUID(joined["participant"]["id"])},
        )
        assert people.scalar_one() == 0
    assert await deleted_messages(api, event_id) == 1
    assert (await api.client.get(f"/api/events/{token}?min_version=99")).status_code == 404


async def test_events_not_yet_expired_are_untouched(api: Api) -> None:
    recent_write = await api.create_event(dates=PAST)
    await backdate(api, recent_write["token"], DAYS - 1)
    future_date = await api.create_event(dates=["2026-12-01"])  # after the last date counts
    await backdate(api, future_date["token"], DAYS + 30)
    weekly = await api.create_event(dates=None, weekdays=["mon", "tue"])  # written just now
    old_weekly = await api.create_event(dates=None, weekdays=["fri"])
    await backdate(api, old_weekly["token"], DAYS + 1)
    removed = await run_job(api)
    assert old_weekly["token"] in removed  # weekday events: the last write only
    for kept in (recent_write, future_date, weekly):
        assert kept["token"] not in removed
        r = await api.client.get(f"/api/events/{kept['token']}")
        assert r.status_code == 200 and r.json()["version"] == kept["version"]
        assert await deleted_messages(api, kept["event"]["id"]) == 0


async def test_two_jobs_at_once_delete_each_event_once(api: Api) -> None:
    created = [await api.create_event(dates=PAST) for _ in range(9)]
    for event in created:
        await backdate(api, event["token"], DAYS + 2)
    first, second = await asyncio.gather(run_job(api, batch_size=2), run_job(api, batch_size=2))
    mine = {e["token"] for e in created}
    assert not (first & second & mine)
    assert (first | second) >= mine
    for event in created:
        assert await deleted_messages(api, event["event"]["id"]) == 1
    assert await run_job(api) & mine == set()  # and a third run finds nothing left


async def test_retention_days_zero_deletes_nothing(api: Api) -> None:
    created = await api.create_event(dates=PAST)
    await backdate(api, created["token"], 10_000)
    assert await run_job(api, days=0) == set()
    assert await exists(api, created["token"])
    await run_job(api)  # leave nothing expired behind for other tests


async def test_the_jobs_sql_agrees_with_the_policy_at_the_boundary(api: Api) -> None:
    """Just before and after ``last_activity + days``, in zones far east, far west and
    across a DST change, the SQL claims exactly what ``retention.last_activity`` says."""
    cases = [("Pacific/Kiritimati", "2025-03-08"), ("Pacific/Pago_Pago", "2025-03-08")]
    cases += [("America/New_York", "2025-03-08"), ("Europe/Berlin", "2025-10-25")]
    for zone, day in cases:
        created = await api.create_event(timezone=zone, dates=[day])
        await backdate(api, created["token"], 5 * 365)
        end = last_activity(datetime(2000, 1, 1, tzinfo=UTC), [date.fromisoformat(day)], zone)
        for shift, expired in ((-60, False), (60, True)):
            now = end + timedelta(days=DAYS, seconds=shift)
            async with api.resources.transaction() as conn:
                claimed = claim_expired(cutoff(now, DAYS), 10_000, await known_zones(conn))
                ids = {str(i) for i in (await conn.execute(claimed)).scalars()}
                await conn.rollback()
            assert (created["event"]["id"] in ids) is expired, (zone, day, shift)
    await run_job(api)
