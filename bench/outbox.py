"""Outbox commit → Kafka latency under a steady write load: for each PATCH, the moment the
API answered (committed) and the moment a Kafka consumer received the matching domain
event. An upper bound of commit-to-ack (it adds the consumer's fetch)."""

import asyncio
import contextlib
import time
from typing import Any

import httpx

from bench.stats import summarize
from tests.kafka_tail import Tail

EVENT = {
    "title": "bench outbox",
    "timezone": "UTC",
    "dates": ["2027-03-01"],
    "day_start": "00:00",
    "day_end": "24:00",
    "slot_minutes": 15,
}


async def commit_to_consumer(
    api: str, kafka: str, topic: str, rate: float, seconds: float
) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=api, timeout=10) as client:
        created = (await client.post("/api/events", json=EVENT)).json()
        token, event_id = created["token"], created["event"]["id"]
        joined = (await client.post(f"/api/events/{token}/participants", json={"name": "w"})).json()
        key = {"X-Participant-Key": joined["participant_key"]}
        tail = Tail(kafka, topic)
        await tail.mark()
        committed: dict[int, float] = {}
        n = max(1, int(rate * seconds))
        received: dict[int, float] = {}

        async def write(i: int) -> None:
            r = await client.patch(
                f"/api/events/{token}/participants/me/availability",
                json={"set_available": [[i % 96, i % 96 + 1]]},
                headers=key,
            )
            if r.status_code == 200:
                committed[r.json()["version"]] = time.time()

        def done(got: list[Any]) -> bool:
            now = time.time()
            for m in got:
                if str(m.event_id) == event_id:
                    received.setdefault(m.version, now)
            return len(received) >= n

        consumer = asyncio.create_task(tail.collect(done, timeout_s=seconds + 30))
        start = time.monotonic()
        tasks = []
        for i in range(n):  # open loop: send at the intended time, whatever came before
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(write(i)))
        await asyncio.gather(*tasks)
        with contextlib.suppress(TimeoutError):
            await consumer
    lat = [(received[v] - t) * 1000 for v, t in committed.items() if v in received]
    return {"writes": n, "received": len(lat), "latency_ms": summarize(lat)}


def outbox_notes(runs: list[dict[str, Any]]) -> list[str]:
    """Say so when the relay did not deliver: its figures are then missing, not fast."""
    short = [r for r in runs if r["received"] < r["writes"]]
    if not short:
        return []
    got = ", ".join(f"{r['received']}/{r['writes']}" for r in short)
    return [
        f"Outbox: Kafka delivered fewer domain events than writes committed ({got} per run) "
        "within the wait: the relay was not publishing (see the API log)."
    ]
