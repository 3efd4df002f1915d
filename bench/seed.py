"""Realistic events, created through the HTTP API: sizes, grids and availability patterns."""

import asyncio
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx


@dataclass(frozen=True)
class EventSpec:
    name: str
    participants: int
    days: int
    slot_minutes: int
    day_start: str = "09:00"
    day_end: str = "17:00"
    timezone: str = "UTC"
    first: date = date(2027, 3, 1)  # America/New_York springs forward on 2027-03-14
    max_blocks: int = 3  # free stretches a day, at most

    @property
    def slots_per_day(self) -> int:
        def minutes(hhmm: str) -> int:
            h, m = hhmm.split(":")
            return int(h) * 60 + int(m)

        return (minutes(self.day_end) - minutes(self.day_start)) // self.slot_minutes

    def body(self) -> dict[str, Any]:
        return {
            "title": f"bench {self.name}",
            "timezone": self.timezone,
            "dates": [(self.first + timedelta(days=d)).isoformat() for d in range(self.days)],
            "day_start": self.day_start,
            "day_end": self.day_end,
            "slot_minutes": self.slot_minutes,
        }


# DESIGN §8 "Large event": 300 x 62 days x 96 slots, a DST zone, 1-2 blocks a day.
LARGE_EVENT = EventSpec(
    "large", 300, 62, 15, "00:00", "24:00", timezone="America/New_York", max_blocks=2
)
SMOKE_LARGE_EVENT = EventSpec(
    "large", 4, 3, 15, "00:00", "24:00", "America/New_York", date(2027, 3, 13), max_blocks=2
)

# Sizes from the issue: 5..200 participants, 1..62 days, 15..60-minute slots.
FULL_EVENTS = (
    EventSpec("small", 5, 1, 60),
    EventSpec("team", 20, 5, 30, "09:00", "18:00"),
    EventSpec("medium", 50, 14, 30, "08:00", "20:00"),
    EventSpec("season", 30, 62, 60, "09:00", "21:00"),
    # The cache-miss case of DESIGN §8, three times: misses take turns over them, so one
    # read's recompute rarely lands between the next read's delete and its GET.
    EventSpec("big", 200, 7, 15, "00:00", "24:00"),
    EventSpec("big-2", 200, 7, 15, "00:00", "24:00"),
    EventSpec("big-3", 200, 7, 15, "00:00", "24:00"),
)
SMOKE_EVENTS = (
    EventSpec("small", 3, 1, 60),
    EventSpec("team", 3, 2, 30),
    EventSpec("big", 4, 2, 15, "00:00", "24:00"),
)


def availability(
    rng: random.Random, days: int, slots_per_day: int, max_blocks: int = 3
) -> tuple[list[list[int]], list[list[int]]]:
    """A person's week: on most days one to ``max_blocks`` free stretches, sometimes an
    if-needed stretch after one. Ranges are half-open ``[start, end)`` slot indices,
    disjoint, sorted."""
    available: list[list[int]] = []
    if_needed: list[list[int]] = []
    for day in range(days):
        if rng.random() < 0.25:
            continue
        base, cursor = day * slots_per_day, 0
        for _ in range(rng.randint(1, max_blocks)):
            start = cursor + rng.randint(0, max(0, slots_per_day // 4))
            length = rng.randint(1, max(1, slots_per_day // 3))
            end = min(slots_per_day, start + length)
            if start >= end:
                break
            available.append([base + start, base + end])
            cursor = end
            if rng.random() < 0.3 and cursor < slots_per_day:
                extra = min(slots_per_day, cursor + rng.randint(1, 4))
                if_needed.append([base + cursor, base + extra])
                cursor = extra
            cursor += 1
            if cursor >= slots_per_day:
                break
    return available, if_needed


def cut(ranges: list[list[int]], missing: set[int]) -> list[list[int]]:
    """``ranges`` (half-open) without the grid's missing slots (a DST gap): the API refuses
    availability on a slot that does not exist."""
    out: list[list[int]] = []
    for start, end in ranges:
        run = start
        for slot in range(start, end + 1):
            if slot == end or slot in missing:
                if slot > run:
                    out.append([run, slot])
                run = slot + 1
    return out


@dataclass
class Seeded:
    spec: EventSpec
    token: str
    event_id: str
    slot_count: int
    keys: list[str] = field(default_factory=list)  # participant keys


async def seed_event(
    client: httpx.AsyncClient, spec: EventSpec, rng: random.Random, limit: asyncio.Semaphore
) -> Seeded:
    r = await client.post("/api/events", json=spec.body())
    r.raise_for_status()
    created = r.json()
    seeded = Seeded(spec, created["token"], created["event"]["id"], created["event"]["slot_count"])
    missing: set[int] = set()
    if spec.timezone != "UTC":
        view = await client.get(f"/api/events/{seeded.token}")
        missing = set(view.raise_for_status().json()["slots"]["missing"])
    plans = [
        [cut(r, missing) for r in availability(rng, spec.days, spec.slots_per_day, spec.max_blocks)]
        for _ in range(spec.participants)
    ]

    async def person(i: int) -> str:
        async with limit:
            url = f"/api/events/{seeded.token}/participants"
            joined = await retried(client, "POST", url, json={"name": f"person {i}"})
            key = joined.json()["participant_key"]
            avail, maybe = plans[i]
            await retried(
                client,
                "PUT",
                f"{url}/me/availability",
                json={"available": avail, "if_needed": maybe},
                headers={"X-Participant-Key": key},
            )
            return str(key)

    seeded.keys = list(await asyncio.gather(*(person(i) for i in range(spec.participants))))
    return seeded


async def retried(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    """A seeding request, again after a 503 (the API's answer when it is overloaded: a
    shared machine), at most 5 times."""
    for attempt in range(5):
        r = await client.request(method, url, **kw)
        if r.status_code != 503 or attempt == 4:
            return r.raise_for_status()
        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
    raise AssertionError("unreachable")


async def seed_all(
    api: str, specs: tuple[EventSpec, ...], seed: int = 8, concurrency: int = 8
) -> list[Seeded]:
    rng = random.Random(seed)
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=api, timeout=30) as client:
        return [await seed_event(client, spec, rng, limit) for spec in specs]
