"""PostgreSQL stopped: requests that need it get a fast 503 with Retry-After, cached reads
still answer, and everything recovers once it is back. It stops the shared database for a
few seconds, so it is marked to run after every other test (tests/conftest.py)."""

import asyncio
import time

import pytest

from tests.conftest import Services
from tests.integration.conftest import Api


@pytest.mark.stops_shared_services
async def test_database_down_gives_fast_503s_and_recovers(api: Api, services: Services) -> None:
    cached = (await api.create_event())["token"]
    assert (await api.client.get(f"/api/events/{cached}")).status_code == 200  # now cached
    await asyncio.to_thread(services.infra.stop, "postgres")
    try:
        started = time.monotonic()
        r = await api.client.post(f"/api/events/{cached}/participants", json={"name": "x"})
        elapsed = time.monotonic() - started
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "2"
        assert r.headers["content-type"] == "application/problem+json"
        assert elapsed < 5, elapsed  # fast, not a hang
        assert (await api.client.get(f"/api/events/{cached}")).status_code == 200  # from cache
    finally:
        await asyncio.to_thread(services.infra.start_all)
    async with asyncio.timeout(30):
        while True:
            r = await api.client.post(f"/api/events/{cached}/participants", json={"name": "y"})
            if r.status_code == 201:
                break
            assert r.status_code == 503, r.text
            await asyncio.sleep(0.2)
