"""The workers' producers after Kafka is killed under load and restarted (issue #22).

A broker killed with SIGKILL can lose the state of the idempotent producers writing to it;
such a producer then fails every later record (``OutOfOrderSequenceNumber``) until it is
replaced (``overlap_shared.producer``). Whether a given kill loses that state depends on
timing, so the test asserts the recovery, not the error: after the kill the real
availability worker, never restarted, still brings a write through the API to the view in
Redis and publishes its ``ViewRefreshed``. The exact error is the unit tests' (test_producer).
"""

import asyncio
import contextlib
import itertools
from collections.abc import Callable

import httpx
import pytest
from overlap_shared import events

from tests.conftest import Services
from tests.integration.conftest import Api
from tests.integration.test_view_cache import eventually_cached, worker
from tests.kafka_tail import Tail

__all__ = ["worker"]  # the availability worker process of test_view_cache, used here too


async def write(api: Api, token: str, key: dict[str, str], slot: int) -> httpx.Response:
    return await api.client.patch(
        f"/api/events/{token}/participants/me/availability",
        json={"set_available": [[slot, slot + 1]]},
        headers=key,
    )


async def keep_writing(api: Api, token: str, key: dict[str, str]) -> None:
    """Writes one after another (the load the broker dies under) until cancelled; their
    answers are not this test's (a slow machine may answer one 503 while Kafka restarts)."""
    for slot in itertools.cycle(range(30)):
        with contextlib.suppress(httpx.HTTPError):
            await write(api, token, key, slot)
        await asyncio.sleep(0.02)


def refreshed(token: str, version: int) -> Callable[[list[bytes]], bool]:
    def done(values: list[bytes]) -> bool:
        for value in values:
            with contextlib.suppress(events.MessageError):
                msg = events.decode_view(value)
                if msg.token == token and msg.version >= version:
                    return True
        return False

    return done


@pytest.mark.stops_shared_services
@pytest.mark.timeout(600)  # Kafka restarting on a shared, slow machine
async def test_views_flow_again_after_kafka_is_killed_under_load(
    api: Api, services: Services, worker: None, relay: None
) -> None:
    token = (await api.create_event())["token"]
    key = {"X-Participant-Key": (await api.join(token, "Survivor"))["participant_key"]}
    first = (await write(api, token, key, 0)).json()["version"]
    await eventually_cached(api, token, first, timeout_s=60)  # the worker has published
    load = asyncio.create_task(keep_writing(api, token, key))
    try:
        await asyncio.sleep(2)  # records in flight from the relay and the worker
        await asyncio.to_thread(services.infra.kill, "kafka")
        await asyncio.sleep(1)
    finally:
        try:
            await asyncio.to_thread(services.infra.start_all)
        finally:
            load.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await load
    views = Tail(services.kafka_bootstrap_servers, api.resources.settings.views_topic)
    await views.mark()
    last = await write(api, token, key, 31)
    assert last.status_code == 200, last.text
    version = last.json()["version"]
    await eventually_cached(api, token, version, timeout_s=180)
    await views.raw(refreshed(token, version), timeout_s=120)  # raises when it never comes
    assert version > first
