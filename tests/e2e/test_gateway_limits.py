"""The gateway's limits, through deploy/local/apps.sh's nginx with a low GATEWAY_RATE: a
burst above the per-client rate gets 429 problems (never 503) and the API stays healthy;
a body over client_max_body_size gets 413."""

import asyncio
import collections
import time
from collections.abc import Iterator

import httpx
import pytest

from launcher.local import app_stack
from tests.conftest import Services

RATE = 5  # requests per second per client (GATEWAY_RATE)
BURST = 200  # the template's `burst=` on /api/
REQUESTS = BURST + 200


@pytest.fixture(scope="module")
def gateway(
    services: Services, migrated: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("limits-stack")
    with app_stack(home, services.database_url, GATEWAY_RATE=str(RATE)) as url:
        yield url


async def burst(url: str) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        return list(await asyncio.gather(*(client.get(url) for _ in range(REQUESTS))))


def test_burst_above_the_rate_gets_429_and_the_api_stays_healthy(gateway: str) -> None:
    answers = asyncio.run(burst(f"{gateway}/api/healthz"))
    counts = collections.Counter(a.status_code for a in answers)
    assert set(counts) <= {200, 429}, counts  # no 503 (nginx's default) and no errors
    assert counts[429] >= REQUESTS - BURST - 60, counts  # refill is RATE/s during the burst
    assert counts[200] >= BURST, counts
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["x-request-id"]
    # The gateway's own refusal repeats the security headers (its location has add_header
    # lines of its own, which would otherwise drop the server block's).
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert refused.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]
    assert "camera=()" in refused.headers["permissions-policy"]

    # The API itself stayed healthy, and the gateway lets the client in again.
    time.sleep(1.5)
    health = httpx.get(f"{gateway}/api/healthz", timeout=5)
    assert health.status_code == 200 and health.json() == {"status": "ok"}, health.text
    ready = httpx.get(f"{gateway}/api/readyz", timeout=5)
    assert ready.status_code == 200, ready.text


def test_body_over_the_limit_gets_413(gateway: str) -> None:
    body = b'{"title": "' + b"x" * (300 * 1024) + b'"}'
    answer = httpx.post(
        f"{gateway}/api/events",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 413
    # A small body still reaches the API (its own validation answers).
    small = httpx.post(f"{gateway}/api/events", json={"title": "x"}, timeout=10)
    assert small.status_code == 422, small.text
