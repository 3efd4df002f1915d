"""Commit-to-Kafka latency of the outbox relay under a steady write load.

Starts nothing: point it at a running API (with its relay) and Kafka. It creates an event,
joins participants and sends availability PATCHes at a fixed rate; for each write it takes
the moment the API answered (the transaction had committed) and the moment a Kafka consumer
received the matching domain event, and prints percentiles of the difference. That
difference is an upper bound of commit-to-ack (it adds the consumer's fetch).

    python scripts/outbox_latency.py --api http://127.0.0.1:8000 --rate 50 --seconds 20
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.kafka_tail import Tail

EVENT = {
    "title": "latency",
    "timezone": "UTC",
    "dates": ["2026-12-01"],
    "day_start": "00:00",
    "day_end": "24:00",
    "slot_minutes": 15,
}


async def main(api: str, kafka: str, topic: str, rate: float, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=api, timeout=10) as client:
        created = (await client.post("/api/events", json=EVENT)).json()
        token, event_id = created["token"], created["event"]["id"]
        joined = (await client.post(f"/api/events/{token}/participants", json={"name": "w"})).json()
        key = {"X-Participant-Key": joined["participant_key"]}
        tail = Tail(kafka, topic)
        await tail.mark()
        committed: dict[int, float] = {}

        async def write(i: int) -> None:
            r = await client.patch(
                f"/api/events/{token}/participants/me/availability",
                json={"set_available": [[i % 96, i % 96 + 1]]},
                headers=key,
            )
            committed[r.json()["version"]] = time.time()

        n = int(rate * seconds)
        received: dict[int, float] = {}

        async def consume() -> None:
            def done(got: list[Any]) -> bool:
                now = time.time()
                for m in got:
                    if str(m.event_id) == event_id:
                        received.setdefault(m.version, now)
                return len(received) >= n

            await tail.collect(done, timeout_s=seconds + 60)

        consumer = asyncio.create_task(consume())
        start = time.monotonic()
        tasks = []
        for i in range(n):  # open loop: send at the intended time, whatever came before
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(write(i)))
        await asyncio.gather(*tasks)
        await consumer
    lat = sorted((received[v] - t) * 1000 for v, t in committed.items() if v in received)
    q = statistics.quantiles(lat, n=100)
    print(
        f"writes {n} at {rate}/s: commit→consumer ms "
        f"p50={q[49]:.1f} p99={q[98]:.1f} max={lat[-1]:.1f}"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--api", default="http://127.0.0.1:8000")
    p.add_argument("--kafka", default="127.0.0.1:9092")
    p.add_argument("--topic", default="overlap.domain.v1")
    p.add_argument("--rate", type=float, default=50)
    p.add_argument("--seconds", type=float, default=20)
    a = p.parse_args()
    asyncio.run(main(a.api, a.kafka, a.topic, a.rate, a.seconds))
