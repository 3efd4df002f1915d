"""The availability worker's costs per batch, on the real PostgreSQL and Redis (its Kafka
producer replaced by a recorder): it skips a batch whose view it has already published
newer, reads PostgreSQL without a transaction (no BEGIN/ROLLBACK round trips), and
connects to PostgreSQL and Kafka at start-up, not in its first batch."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import orjson
import pytest
from overlap_availability import app
from overlap_availability.app import REFRESHES, ViewWorker
from overlap_availability.batch import EventChanges
from overlap_availability.settings import Settings
from overlap_shared.held import build
from overlap_shared.producer import ReplaceableProducer
from overlap_shared.queries import load_snapshot_by_token
from overlap_shared.view import EventSnapshot
from overlap_shared.viewcache import ViewCache, version_of
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from tests.conftest import Services
from tests.integration.conftest import Api


class Published:
    """Stands in for the producer: records the ``ViewRefreshed`` versions published."""

    def __init__(self) -> None:
        self.versions: list[int] = []
        self.batches: list[int] = []  # publish_all's record counts (0: connect only)

    async def publish(self, body: bytes, topic: str, **_: Any) -> None:
        self.versions.append(orjson.loads(body)["version"])

    async def publish_all(self, records: Sequence[object]) -> None:
        self.batches.append(len(records))


@pytest.fixture
async def worker(services: Services, migrated: str) -> AsyncIterator[tuple[ViewWorker, Published]]:
    settings = Settings(
        database_url=services.database_url,
        redis_url=services.redis_url,
        kafka_bootstrap_servers=services.kafka_bootstrap_servers,
        consistency_sample=0,
    )
    broker = Published()
    worker = ViewWorker(settings, cast(ReplaceableProducer, broker))
    await worker.open()
    try:
        yield worker, broker
    finally:
        await worker.close()


async def snapshot(worker: ViewWorker, token: str) -> EventSnapshot:
    async with worker.engine.connect() as conn:
        snap = await load_snapshot_by_token(conn, token)
    assert snap is not None
    return snap[0]


def changes(event: EventSnapshot, version: int) -> dict[Any, EventChanges]:
    """A batch of one grid edit at ``version`` (a full rebuild, unless skipped)."""
    edit = EventChanges(event.id, event.token, version, ["EventUpdated"], {version}, full=True)
    return {event.id: edit}


async def test_a_batch_older_than_the_published_view_is_skipped(
    api: Api, worker: tuple[ViewWorker, Published]
) -> None:
    views, broker = worker
    token = (await api.create_event())["token"]
    await api.join(token, "Ada")
    event = await snapshot(views, token)  # two versions on: created, joined
    skipped = REFRESHES.labels("published")
    before = skipped._value.get()

    await views.apply(changes(event, event.version - 1))  # cold: a rebuild reads the newest
    assert broker.versions == [event.version]
    await views.apply(changes(event, event.version))  # its message comes after: nothing new
    assert broker.versions == [event.version]
    assert skipped._value.get() == before + 1
    cached = await ViewCache(views.redis, 1_000).get(token)
    assert cached is not None and version_of(cached) == event.version

    await api.join(token, "Grace")
    newer = await snapshot(views, token)
    await views.apply(changes(newer, newer.version))  # a newer version is refreshed again
    assert broker.versions == [event.version, newer.version]


async def test_reads_run_outside_a_transaction(worker: tuple[ViewWorker, Published]) -> None:
    views, _ = worker
    async with views.engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        raw = await conn.get_raw_connection()
        assert not raw.driver_connection.is_in_transaction()  # type: ignore[union-attr]


async def test_a_database_ahead_of_the_batch_is_applied_as_the_rows_that_changed(
    api: Api, worker: tuple[ViewWorker, Published]
) -> None:
    views, broker = worker
    token = (await api.create_event())["token"]
    await api.join(token, "Ada")
    event = await snapshot(views, token)
    await views.apply(changes(event, event.version))  # a full rebuild, held
    await api.join(token, "Grace")
    await api.join(token, "Linus")  # the database is now a write past the next batch
    diffs = REFRESHES.labels("diff")
    before = diffs._value.get()
    first = event.version + 1
    batch = EventChanges(event.id, event.token, first, ["ParticipantJoined"], {first})
    await views.apply({event.id: batch})

    assert diffs._value.get() == before + 1
    newest = await snapshot(views, token)
    assert broker.versions[-1] == newest.version == first + 1
    async with views.engine.connect() as conn:
        snap = await load_snapshot_by_token(conn, token)
    assert snap is not None
    rebuilt = build(*snap, views.settings.retention_days).aggregate.render()
    assert await ViewCache(views.redis, 1_000).get(token) == rebuilt


async def test_the_start_connects_ahead_of_the_first_batch(
    api: Api, worker: tuple[ViewWorker, Published]
) -> None:
    views, broker = worker
    assert broker.batches == [0]  # the producer connected, nothing sent
    pool = cast(QueuePool, views.pool.pool)
    assert pool.checkedin() == views.settings.recompute_concurrency  # opened, and given back
    token = (await api.create_event())["token"]
    event = await snapshot(views, token)
    opened = pool.checkedin() + pool.checkedout()

    await views.apply(changes(event, event.version))
    assert broker.versions == [event.version]
    assert pool.checkedin() + pool.checkedout() == opened  # the batch opened none


class Hanging(Published):
    """A producer whose broker never answers."""

    async def publish_all(self, records: Sequence[object]) -> None:
        await asyncio.Event().wait()


async def test_a_dependency_that_does_not_answer_does_not_hold_the_start(
    services: Services, migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "_WARM_UP_S", 0.5)
    settings = Settings(
        database_url=services.database_url,
        redis_url=services.redis_url,
        kafka_bootstrap_servers=services.kafka_bootstrap_servers,
    )
    views = ViewWorker(settings, cast(ReplaceableProducer, Hanging()))
    try:
        async with asyncio.timeout(10):  # without the bound, open() never returns
            await views.open()
    finally:
        await views.close()
