"""The two shapes of a bench run: full (`make bench`, minutes) and smoke (seconds)."""

from dataclasses import dataclass

from bench.seed import FULL_EVENTS, LARGE_EVENT, SMOKE_EVENTS, SMOKE_LARGE_EVENT, EventSpec


@dataclass(frozen=True)
class Config:
    mode: str
    runs: int
    events: tuple[EventSpec, ...]
    read_event: str  # the event of the cached-GET scenario
    miss_events: tuple[str, ...]  # the big events of the cache-miss scenario, in turn
    cached_rate: float
    cached_s: float
    ladder_start: float
    ladder_factor: float
    ladder_steps: int
    ladder_s: float
    ladder_warmup_s: float  # before each pair of ladders, at the first rate, not counted
    ladder_p99_ms: float  # a rate is sustainable when p99 stays under this ...
    cpu_rate: float  # CPU per request (bench/cpu_cost.py): the load, open loop ...
    cpu_s: float  # ... for this long (and as long idle before, for the background)
    miss_rate: float
    miss_s: float
    put_rate: float
    put_s: float
    mix_rate: float
    mix_s: float
    hot_readers: int
    outbox_rate: float
    outbox_s: float
    floor_ops: int
    sql_probe: bool
    pause_s: float
    fresh_rate: float  # freshness: PATCHes/s with a subscribed websocket client ...
    fresh_s: float  # ... for this long
    burst_writes: int  # notifier batching: writes within one second
    burst_settle_s: float
    scale_events: int  # events seeded for the worker scale-out backlog, dealt over 8 partitions
    scale_phantoms: int  # events absent from the database (their versions show ordering)
    scale_per_event: int  # backlog messages per event
    scale_consumers: tuple[int, int]  # worker processes: baseline, scaled out
    scale_runs: int
    scale_timeout_s: float
    seed_concurrency: int  # requests in flight while seeding the large event
    large_event: EventSpec  # DESIGN §8 "Large event", through the API (bench/large.py)
    large_samples: int  # sequential samples per figure per run
    large_view_wait_s: float  # PUT → the worker's view in Redis: counted missing past this
    large_cached_rate: float  # cached GET of the large event, open loop
    large_s: float
    quota_cpus: float  # worker scale-out under a CPU quota (bench/quota.py); 0: skipped


FULL = Config(
    mode="full", runs=3, events=FULL_EVENTS, read_event="team",
    miss_events=("big", "big-2", "big-3"), cached_rate=1000, cached_s=10,
    ladder_start=500, ladder_factor=1.25, ladder_steps=11, ladder_s=3, ladder_warmup_s=3,
    ladder_p99_ms=100, cpu_rate=300, cpu_s=5,
    miss_rate=20, miss_s=5, put_rate=100, put_s=8, mix_rate=500, mix_s=8,
    hot_readers=1000, outbox_rate=50, outbox_s=8, floor_ops=2000, sql_probe=True, pause_s=1,
    fresh_rate=10, fresh_s=10, burst_writes=100, burst_settle_s=2,
    scale_events=768, scale_phantoms=8, scale_per_event=25, scale_consumers=(1, 4),
    scale_runs=3, scale_timeout_s=120,
    seed_concurrency=16, large_event=LARGE_EVENT, large_samples=200, large_view_wait_s=5,
    large_cached_rate=200, large_s=5, quota_cpus=0.25,
)  # fmt: skip

SMOKE = Config(
    mode="smoke", runs=1, events=SMOKE_EVENTS, read_event="team",
    miss_events=("big",), cached_rate=20, cached_s=1,
    ladder_start=20, ladder_factor=2, ladder_steps=2, ladder_s=0.5, ladder_warmup_s=0.5,
    ladder_p99_ms=1000, cpu_rate=20, cpu_s=0.5,
    miss_rate=5, miss_s=1, put_rate=5, put_s=1, mix_rate=20, mix_s=1,
    hot_readers=20, outbox_rate=5, outbox_s=1, floor_ops=50, sql_probe=False, pause_s=0,
    fresh_rate=5, fresh_s=1, burst_writes=10, burst_settle_s=1,
    scale_events=8, scale_phantoms=2, scale_per_event=20, scale_consumers=(1, 2),
    scale_runs=1, scale_timeout_s=20,
    seed_concurrency=8, large_event=SMOKE_LARGE_EVENT, large_samples=3, large_view_wait_s=1,
    large_cached_rate=10, large_s=1, quota_cpus=0,  # quotas: tests/unit/bench/test_bench_quota.py
)  # fmt: skip
