"""Past its bound of writes in flight the API refuses at once (503 + Retry-After), and
every write it acknowledged is in PostgreSQL with its outbox row."""

import asyncio

import httpx
from overlap_api.app import create_app
from sqlalchemy import text

from tests.integration.conftest import Api

PUT = "/api/events/{token}/participants/me/availability"


async def test_a_burst_over_the_bound_is_refused_and_nothing_acknowledged_is_lost(
    api: Api,
) -> None:
    settings = api.resources.settings.model_copy(update={"max_writes_in_flight": 2})
    app = create_app(settings)
    api.share_with(app, settings)  # the fixture's opened resources
    created = await api.create_event()
    token = created["token"]
    keys = [(await api.join(token, f"p{i}"))["participant_key"] for i in range(5)]
    async with api.resources.reading() as conn:
        query = text("select version from events where token = :t")
        before = int(await conn.scalar(query, {"t": token}) or 0)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://overlap.test") as client:
        answers = await asyncio.gather(
            *(
                client.put(
                    PUT.format(token=token),
                    json={"available": [[i % 8, i % 8 + 1]]},
                    headers={"X-Participant-Key": keys[i % len(keys)]},
                )
                for i in range(60)
            )
        )
        health = await client.get("/api/healthz")

    codes = [r.status_code for r in answers]
    assert set(codes) <= {200, 503}, codes
    assert codes.count(503) > 0 and codes.count(200) >= 2, codes
    refused = [r for r in answers if r.status_code == 503]
    assert all(r.headers.get("retry-after") for r in refused)
    assert "limit of 2 writes in flight" in refused[0].json()["detail"]
    assert health.status_code == 200  # probes are never refused

    versions = sorted(r.json()["version"] for r in answers if r.status_code == 200)
    async with api.resources.reading() as conn:
        after = int(await conn.scalar(query, {"t": token}) or 0)
        queued = await conn.scalar(
            text(
                "select count(*) from outbox where headers->>'type' = 'AvailabilityChanged' "
                "and convert_from(payload, 'UTF8') like :t"
            ),
            {"t": f'%"token":"{token}"%'},
        )
    assert after - before == len(versions) == codes.count(200)  # each 200 committed once
    assert versions == list(range(before + 1, after + 1))
    assert int(queued or 0) == len(versions)  # no relay runs here: every row still queued


async def test_writes_that_cannot_start_in_time_are_refused_without_waiting_for_the_database(
    api: Api,
) -> None:
    """One write slot, held by a PUT that waits on the event's row lock: the writes queued
    behind it are refused (503, Retry-After) while the lock is still held, so a refusal
    never waits for PostgreSQL; once the lock goes, the held write is acknowledged and it
    alone is committed."""
    settings = api.resources.settings.model_copy(
        update={"write_concurrency": 1, "write_queue_ms": 200, "request_timeout_s": 60.0}
    )
    app = create_app(settings)
    api.share_with(app, settings)
    token = (await api.create_event())["token"]
    keys = [(await api.join(token, f"q{i}"))["participant_key"] for i in range(6)]
    version = text("select version from events where token = :t")
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://overlap.test") as client,
        api.resources.engine.connect() as blocker,
    ):

        def put(i: int) -> asyncio.Task[httpx.Response]:
            body = {"available": [[i, i + 1]]}
            key = {"X-Participant-Key": keys[i]}
            return asyncio.create_task(client.put(PUT.format(token=token), json=body, headers=key))

        async with blocker.begin():
            before = int(await blocker.scalar(version, {"t": token}) or 0)
            lock = text("select 1 from events where token = :t for update")
            await blocker.execute(lock, {"t": token})
            held = put(0)
            while not await _waits_on_a_lock(api):
                await asyncio.sleep(0.02)
            queued = [put(i) for i in range(1, 6)]
            refused = await asyncio.gather(*queued)
            assert not held.done()  # still waiting on the lock the blocker holds
        acknowledged = await held

    assert [r.status_code for r in refused] == [503] * 5
    assert all(r.headers.get("retry-after") for r in refused)
    assert all("writes are queueing" in r.json()["detail"] for r in refused)
    assert acknowledged.status_code == 200, acknowledged.text
    async with api.resources.reading() as conn:
        after = int(await conn.scalar(version, {"t": token}) or 0)
    assert acknowledged.json()["version"] == after == before + 1  # the refused did nothing


async def _waits_on_a_lock(api: Api) -> bool:
    """True once some backend of this database waits on a row lock."""
    async with api.resources.reading() as conn:
        waiting = await conn.scalar(
            text(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)
