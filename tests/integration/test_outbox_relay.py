"""The outbox relay on the real broker: every committed change reaches Kafka, in order per
event, through Kafka outages, relay crashes and competing relays."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from overlap_api.writes.store import enqueue
from overlap_shared import events

from launcher.process import Process
from launcher.services import RELAY
from launcher.services import process as service_process
from tests.conftest import Services
from tests.integration.conftest import Api
from tests.kafka_tail import Tail


@pytest.fixture
async def tail(services: Services, api: Api) -> Tail:
    t = Tail(services.kafka_bootstrap_servers, api.resources.settings.domain_topic)
    await t.mark()
    return t


def of_event(event_id: str, n: int) -> Callable[[list[events.DomainEvent]], bool]:
    """Done once ``n`` messages of this event arrived."""
    return lambda got: len([m for m in got if str(m.event_id) == event_id]) >= n


async def test_each_write_route_produces_its_events_in_order(
    api: Api, tail: Tail, relay: None
) -> None:
    c = api.client
    created = await api.create_event()
    token, admin = created["token"], {"X-Admin-Key": created["admin_key"]}
    a, b = await api.join(token, "A"), await api.join(token, "B")
    ka, kb = (
        {"X-Participant-Key": a["participant_key"]},
        {"X-Participant-Key": b["participant_key"]},
    )
    me = f"/api/events/{token}/participants/me"
    steps = [
        c.put(f"{me}/availability", json={"available": [[0, 2]]}, headers=ka),
        c.patch(f"{me}/availability", json={"set_if_needed": [[3, 4]]}, headers=kb),
        c.patch(me, json={"name": "A2"}, headers=ka),
        c.patch(f"/api/events/{token}", json={"title": "New"}, headers=admin),
        c.post(f"/api/events/{token}/finalize", json={"start": 0, "end": 2}, headers=admin),
        c.delete(f"/api/events/{token}/participants/{b['participant']['id']}", headers=admin),
        c.delete(me, headers=ka),
        c.delete(f"/api/events/{token}", headers=admin),
    ]
    for step in steps:
        r = await step
        assert r.status_code < 300, r.text
    expected = [
        "EventCreated",
        "ParticipantJoined",
        "ParticipantJoined",
        "AvailabilityChanged",
        "AvailabilityChanged",
        "ParticipantRenamed",
        "EventUpdated",
        "EventFinalized",
        "ParticipantLeft",
        "ParticipantLeft",
        "EventDeleted",
    ]
    event_id = created["event"]["id"]
    got = [
        m
        for m in await tail.collect(of_event(event_id, len(expected)))
        if str(m.event_id) == event_id
    ]
    assert [m.type for m in got] == expected
    assert [m.version for m in got] == list(range(1, len(expected) + 1))
    left = [m for m in got if isinstance(m, events.ParticipantLeft)]
    assert [m.data.removed_by_admin for m in left] == [True, False]


async def test_writes_succeed_while_kafka_is_down_and_arrive_after(
    api: Api, services: Services, tail: Tail, relay: None
) -> None:
    created = await api.create_event()
    token = created["token"]
    key = {"X-Participant-Key": (await api.join(token, "Kafkaless"))["participant_key"]}
    await asyncio.to_thread(services.infra.stop, "kafka")
    try:
        for i in range(20):
            r = await api.client.patch(
                f"/api/events/{token}/participants/me/availability",
                json={"set_available": [[i, i + 1]]},
                headers=key,
            )
            assert r.status_code == 200, r.text
    finally:
        await asyncio.to_thread(services.infra.start_all)
    event_id = created["event"]["id"]
    got = await tail.collect(of_event(event_id, 22), timeout_s=90)
    mine = [m for m in got if str(m.event_id) == event_id]
    versions = [m.version for m in mine]
    assert sorted(set(versions)) == list(range(1, 23))  # none lost
    first_seen = list(dict.fromkeys(versions))
    assert first_seen == sorted(first_seen)  # order kept (duplicates may repeat a version)


def _relay_process(name: str, services: Services, batch: int = 50) -> tuple[Process, Path]:
    env = {**services.env(), "RELAY_BATCH_SIZE": str(batch)}
    relay = service_process(RELAY, f"test-relay-{name}-{uuid.uuid4().hex[:6]}", env)
    relay.start()
    return relay, relay.log


async def _backlog(api: Api, n: int) -> set[uuid.UUID]:
    event_id, ids = uuid.uuid4(), set()
    msgs = []
    for v in range(1, n + 1):
        data = events.AvailabilityChangedData(
            participant_id=event_id, available_slots=v, if_needed_slots=0
        )
        m = events.AvailabilityChanged(event_id=event_id, token="t" * 24, version=v, data=data)
        msgs.append(m)
        ids.add(m.id)
    async with api.resources.transaction() as conn:
        await enqueue(conn, api.resources.settings.domain_topic, *msgs)
    return ids


async def _outbox_count(api: Api) -> int:
    from sqlalchemy import text

    async with api.resources.reading() as conn:
        return int((await conn.execute(text("select count(*) from outbox"))).scalar_one())


async def test_relay_killed_mid_batch_loses_nothing(
    api: Api, tail: Tail, services: Services
) -> None:
    await _outbox_count(api)
    ids = await _backlog(api, 3000)
    first, _ = _relay_process("first", services, batch=50)
    second = None
    try:
        total = await _outbox_count(api)
        async with asyncio.timeout(150):  # the relay process starting on a loaded machine
            while await _outbox_count(api) > total - 600:  # well into the backlog
                await asyncio.sleep(0.02)
        first.kill()
        assert await _outbox_count(api) > 0, "the first relay finished before it was killed"
        second, _ = _relay_process("second", services, batch=500)
        got = await tail.collect(lambda g: ids <= {m.id for m in g}, timeout_s=90)
    finally:
        first.stop()
        if second:
            second.stop()
    received = Counter(m.id for m in got if m.id in ids)
    assert set(received) == ids
    duplicates = sum(c - 1 for c in received.values())
    print(f"relay SIGKILL: {len(ids)} messages, {duplicates} duplicates")
    versions = [m.version for m in got if m.id in ids]
    first_seen = list(dict.fromkeys(versions))
    assert first_seen == sorted(first_seen)


async def test_two_relays_one_publishes_and_the_other_takes_over(
    api: Api, tail: Tail, services: Services
) -> None:
    (a, log_a), (b, log_b) = _relay_process("a", services), _relay_process("b", services)
    try:
        async with asyncio.timeout(90):  # two processes starting on a loaded machine
            while not any("relay is active" in p.read_text() for p in (log_a, log_b)):
                await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # give the other one every chance to (wrongly) become active
        active = [p for p, log in ((a, log_a), (b, log_b)) if "relay is active" in log.read_text()]
        assert len(active) == 1
        ids = await _backlog(api, 100)
        await tail.collect(lambda g: ids <= {m.id for m in g}, timeout_s=30)
        leader = active[0]
        leader.kill()
        other_log = log_b if leader is a else log_a
        more = await _backlog(api, 100)
        got = await tail.collect(lambda g: more <= {m.id for m in g}, timeout_s=60)
        assert more <= {m.id for m in got}
        assert "relay is active" in other_log.read_text()
    finally:
        a.stop()
        b.stop()


async def test_a_broken_producer_is_replaced(api: Api, tail: Tail, services: Services) -> None:
    """An idempotent producer that keeps failing (OutOfOrderSequenceNumber after a broker
    lost its state, say) is dropped and a new one publishes the rows."""
    from overlap_api.writes.relay import KafkaPublisher, OutboxRelay, Publisher, RelayConfig

    class Broken:
        async def connect(self) -> None: ...

        async def stop(self) -> None: ...

        async def publish(self, *_: object, **__: object) -> None:
            raise RuntimeError("OutOfOrderSequenceNumber (simulated)")

    made: list[object] = []

    def new_publisher() -> Publisher:
        publisher = Broken() if not made else KafkaPublisher(api.resources.settings, "relay-test")
        made.append(publisher)
        return cast(Publisher, publisher)

    config = RelayConfig(retry_backoff_s=0.01, max_backoff_s=0.05, reconnect_after_failures=3)
    relay = OutboxRelay(new_publisher, api.resources.settings.database_url, config)
    ids = await _backlog(api, 5)
    task = asyncio.create_task(relay.run())
    try:
        got = await tail.collect(lambda g: ids <= {m.id for m in g}, timeout_s=30)
    finally:
        relay.stop()
        await asyncio.wait_for(task, 15)
    assert ids <= {m.id for m in got}
    assert len(made) >= 2 and isinstance(made[0], Broken)


async def test_acknowledged_rows_go_with_the_next_statement_or_on_stopping(
    api: Api, tail: Tail
) -> None:
    """A batch's rows are deleted, once Kafka acknowledged them, by the relay's next
    statement (the next batch or the poll), and by a relay that stops."""
    from overlap_api.writes.relay import KafkaPublisher, OutboxRelay, RelayConfig
    from prometheus_client import REGISTRY

    settings = api.resources.settings
    relay = OutboxRelay(
        lambda: KafkaPublisher(settings, "relay-test"),
        settings.database_url,
        RelayConfig(poll_interval_s=0.2),
    )
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(60):
            while REGISTRY.get_sample_value("outbox_relay_leader") != 1:
                await asyncio.sleep(0.05)
        ids = await _backlog(api, 5)
        await tail.collect(lambda g: ids <= {m.id for m in g}, timeout_s=30)
        async with asyncio.timeout(30):  # the poll's statement deletes them
            while await _outbox_count(api):
                await asyncio.sleep(0.05)
        relay.config.poll_interval_s = 60  # no poll now: only the stop deletes the next batch
        ids = await _backlog(api, 3)
        await tail.collect(lambda g: ids <= {m.id for m in g}, timeout_s=30)
        assert await _outbox_count(api) == 3  # acknowledged, waiting for the next statement
    finally:
        relay.stop()
        await asyncio.wait_for(task, 15)
    assert await _outbox_count(api) == 0


async def test_only_the_relays_session_commits_without_the_flush(api: Api) -> None:
    """The relay's deletions of acknowledged rows commit asynchronously; the API's writes
    (each with its outbox row) keep the server's synchronous commit."""
    from overlap_api.writes.relay import KafkaPublisher, OutboxRelay, RelayConfig
    from sqlalchemy import text

    settings = api.resources.settings
    relay = OutboxRelay(
        lambda: KafkaPublisher(settings, "relay-test"), settings.database_url, RelayConfig()
    )
    seen: list[str] = []
    claim = relay.relay_once

    async def noted(conn: Any) -> int:
        seen.append(await conn.fetchval("select current_setting('synchronous_commit')"))
        return await claim(conn)

    relay.relay_once = noted  # type: ignore[method-assign]
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(60):
            while not seen:
                await asyncio.sleep(0.05)
    finally:
        relay.stop()
        await asyncio.wait_for(task, 15)
    async with api.resources.transaction() as conn:
        api_setting = (await conn.execute(text("show synchronous_commit"))).scalar_one()
    assert seen[0] == "off" and api_setting == "on"
