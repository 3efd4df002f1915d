"""In-process bench of the view engine: CPU of full rebuilds and of one incremental update.

``python -m bench.engine [--out DIR] [--reps N]`` (run by ``make bench``).  No services:
it times ``overlap_shared``'s engine alone with ``time.process_time`` (CPU of this
process, so not the wait for a CPU on a shared machine). Each figure runs once untimed
(warm-up), then ``--reps`` times (21; the incremental rows 5x that), each timed rep after a
``gc.collect()`` and with the cyclic collector off, and is reported as median [min-max].
The warm-up drops the slow first rep (about 100 ms), the GC control the collections that
earlier reps made due; what still moves a median between runs is the machine's load, so
compare runs made at a like load average (the report gives it).

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
import gc
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from overlap_shared.aggregate import ViewAggregate
from overlap_shared.bitmaps import MAX_RANGES_PER_PARTICIPANT, to_bytes
from overlap_shared.view import EventSnapshot, ParticipantSnapshot, render_view

RETENTION_DAYS = 90  # the services' default policy (RETENTION_DAYS), in event.expires_at

SLOTS_PER_DAY, DAYS = 96, 62
SLOTS = SLOTS_PER_DAY * DAYS
JOINED = datetime(2026, 2, 1, tzinfo=UTC)
REPS = 21  # timed reps of a full rebuild (the incremental rows: INCREMENTAL_FACTOR x)
INCREMENTAL_FACTOR = 5
WARMUP = 1  # untimed reps first: imports, caches and allocator warm


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


def cpu_times_ms(calls: Sequence[Callable[[], object]], warmup: int = WARMUP) -> list[float]:
    """CPU milliseconds of each of ``calls`` after the first ``warmup`` (run, not counted).

    Each timed call starts from a collected heap (``gc.collect()``) and runs with the cyclic
    collector off, so a collection that earlier calls made due does not land in this one;
    the collector is back on after each call."""
    times = []
    for i, call in enumerate(calls):
        gc.collect()
        gc.disable()
        try:
            started = time.process_time()
            call()
            spent = time.process_time() - started
        finally:
            gc.enable()
        if i >= warmup:
            times.append(spent * 1e3)
    return times


def spread_ms(times: Sequence[float], digits: int = 1) -> str:
    """``median [min-max] ms`` of CPU times (pure)."""
    lo, mid, hi = min(times), statistics.median(times), max(times)
    return f"{mid:.{digits}f} [{lo:.{digits}f}\u2013{hi:.{digits}f}] ms"


def full_rebuild(label: str, bits: Callable[[random.Random], tuple[int, int]], reps: int) -> str:
    event, everyone = big_event(), people(1000, bits)
    size = len(render_view(event, everyone, retention_days=RETENTION_DAYS))
    rebuild = partial(render_view, event, everyone, retention_days=RETENTION_DAYS)
    times = cpu_times_ms([rebuild] * (WARMUP + reps))
    return (
        f"| full rebuild, 1,000 x 5,952, {label} | {spread_ms(times)} CPU | {size / 1e6:.2f} MB |"
    )


def incremental(count: int, reps: int) -> list[float]:
    """CPU of one availability change (the delta plus rendering the whole view), ``reps``
    changes after a warm-up one, each to the next participant in turn."""
    event, everyone = big_event(), people(count, realistic_bits)
    agg = ViewAggregate.build(event, everyone, retention_days=RETENTION_DAYS)
    rng = random.Random(7)
    updates = []
    for i in range(WARMUP + reps):
        available, if_needed = realistic_bits(rng)
        who = everyone[i % count]
        change = ParticipantSnapshot(
            who.id, who.name, to_bytes(available, SLOTS), to_bytes(if_needed, SLOTS), who.created_at
        )
        updates.append(partial(update, agg, change))
    return cpu_times_ms(updates)


def update(agg: ViewAggregate, change: ParticipantSnapshot) -> None:
    agg.upsert(change)
    agg.render()


def report(reps: int) -> str:
    rows = [
        "| figure | CPU: median [min\u2013max] | view |",
        "|---|---|---|",
        full_rebuild("realistic blocks", realistic_bits, reps),
        full_rebuild(
            f"worst accepted ({MAX_RANGES_PER_PARTICIPANT} ranges each)", worst_bits, reps
        ),
    ]
    per = {n: incremental(n, reps * INCREMENTAL_FACTOR) for n in (10, 100, 1000)}
    for n, times in per.items():
        rows.append(
            f"| one incremental update at {n:,} participants | {spread_ms(times, 2)} CPU | |"
        )
    growth = statistics.median(per[1000]) / statistics.median(per[10])
    rows.append(f"| incremental 1,000 / 10 (medians) | {growth:.2f}x | |")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    how = (
        f"{reps} timed reps a full rebuild, {reps * INCREMENTAL_FACTOR} an incremental row, "
        f"each after {WARMUP} untimed warm-up rep; gc.collect() before and the cyclic GC off "
        "during each timed rep"
    )
    return "\n".join([f"View engine in process ({how}; load average {load})", "", *rows])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--reps", type=int, default=REPS)
    args = parser.parse_args()
    text = report(args.reps)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.out / f"engine-{stamp}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
