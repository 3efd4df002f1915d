"""In-process bench of the view engine: CPU of full rebuilds and of one incremental update.

``python -m bench.engine [--out DIR] [--reps N]`` (run by ``make bench``).  No services:
it times ``overlap_shared``'s engine alone with ``time.process_time`` (CPU of this
process), repeats each figure and reports the median, so the figures are comparable
across runs on a shared machine (they do not include waiting for the CPU).

* the largest event the API allows: 1,000 participants x 62 days x 96 slots (5,952),
  America/New_York across the March DST change, realistic blocks (1-2 a day, some
  if-needed) — full rebuild CPU and view size;
* the worst input the API accepts (``MAX_RANGES_PER_PARTICIPANT`` single-slot ranges per
  participant at random places, both levels) — full rebuild CPU and view size;
* one availability change applied to the aggregate and the view re-rendered, at 10, 100
  and 1,000 participants (the engine's cost should follow the change, not the event).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from overlap_shared.aggregate import ViewAggregate
from overlap_shared.bitmaps import MAX_RANGES_PER_PARTICIPANT, to_bytes
from overlap_shared.view import EventSnapshot, ParticipantSnapshot, render_view

RETENTION_DAYS = 90  # the services' default policy (RETENTION_DAYS), in event.expires_at

SLOTS_PER_DAY, DAYS = 96, 62
SLOTS = SLOTS_PER_DAY * DAYS
JOINED = datetime(2026, 2, 1, tzinfo=UTC)


def big_event() -> EventSnapshot:
    """62 days x 24 h x 15 min in New York, across the March 2026 DST change."""
    first = date(2026, 2, 20)
    return EventSnapshot(
        uuid.UUID(int=1),
        "b" * 22,
        "Big",
        "",
        "America/New_York",
        "dates",
        tuple(first + timedelta(days=i) for i in range(DAYS)),
        None,
        0,
        1440,
        15,
        "open",
        None,
        None,
        7,
        JOINED,
        JOINED,
    )


def realistic_bits(rng: random.Random) -> tuple[int, int]:
    """1-2 blocks of 30 min - 2 h a day available, on 30% of days an hour if-needed."""
    available = if_needed = 0
    for day in range(DAYS):
        base = day * SLOTS_PER_DAY
        for _ in range(rng.randint(1, 2)):
            start = rng.randrange(SLOTS_PER_DAY - 8)
            available |= ((1 << rng.randint(2, 8)) - 1) << (base + start)
        if rng.random() < 0.3:
            if_needed |= 0b1111 << (base + rng.randrange(SLOTS_PER_DAY - 4))
    return available, if_needed & ~available


def worst_bits(rng: random.Random) -> tuple[int, int]:
    """The most ranges the API accepts: single slots, never adjacent, split over levels."""
    slots = rng.sample(range(0, SLOTS, 2), MAX_RANGES_PER_PARTICIPANT)
    half = MAX_RANGES_PER_PARTICIPANT // 2
    return sum(1 << s for s in slots[:half]), sum(1 << s for s in slots[half:])


def people(count: int, bits: Callable[[random.Random], tuple[int, int]]) -> list[Any]:
    rng = random.Random(count)
    out = []
    for i in range(count):
        available, if_needed = bits(rng)
        out.append(
            ParticipantSnapshot(
                uuid.UUID(int=1000 + i),
                f"person {i}",
                to_bytes(available, SLOTS),
                to_bytes(if_needed, SLOTS),
                JOINED + timedelta(seconds=i),
            )
        )
    return out


def cpu_ms(call: Callable[[], object], reps: int) -> float:
    """Median CPU milliseconds of ``call`` over ``reps`` runs."""
    times = []
    for _ in range(reps):
        started = time.process_time()
        call()
        times.append(time.process_time() - started)
    return statistics.median(times) * 1e3


def full_rebuild(label: str, bits: Callable[[random.Random], tuple[int, int]], reps: int) -> str:
    event, everyone = big_event(), people(1000, bits)
    size = len(render_view(event, everyone, retention_days=RETENTION_DAYS))
    ms = cpu_ms(lambda: render_view(event, everyone, retention_days=RETENTION_DAYS), reps)
    return f"| full rebuild, 1,000 x 5,952, {label} | {ms:.1f} ms CPU | {size / 1e6:.2f} MB |"


def incremental(count: int, reps: int) -> float:
    """CPU of one availability change: the delta plus rendering the whole view."""
    event, everyone = big_event(), people(count, realistic_bits)
    agg = ViewAggregate.build(event, everyone, retention_days=RETENTION_DAYS)
    rng = random.Random(7)
    changes = []
    for i in range(reps):
        available, if_needed = realistic_bits(rng)
        who = everyone[i % count]
        changes.append(
            ParticipantSnapshot(
                who.id,
                who.name,
                to_bytes(available, SLOTS),
                to_bytes(if_needed, SLOTS),
                who.created_at,
            )
        )
    times = []
    for change in changes:
        started = time.process_time()
        agg.upsert(change)
        agg.render()
        times.append(time.process_time() - started)
    return statistics.median(times) * 1e3


def report(reps: int) -> str:
    rows = [
        "| figure | CPU (median) | view |",
        "|---|---|---|",
        full_rebuild("realistic blocks", realistic_bits, reps),
        full_rebuild(
            f"worst accepted ({MAX_RANGES_PER_PARTICIPANT} ranges each)", worst_bits, reps
        ),
    ]
    per = {n: incremental(n, reps * 5) for n in (10, 100, 1000)}
    for n, ms in per.items():
        rows.append(f"| one incremental update at {n:,} participants | {ms:.2f} ms CPU | |")
    rows.append(f"| incremental 1,000 / 10 | {per[1000] / per[10]:.2f}x | |")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join([f"View engine in process ({reps} reps, load average {load})", "", *rows])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    text = report(args.reps)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.out / f"engine-{stamp}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
