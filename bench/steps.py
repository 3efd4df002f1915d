"""The steps of one bench run, in the order ``bench.run`` takes them. Each measures one
thing ``cfg.runs`` times on the stack and records its figures in the run's ``floors``,
``sc`` (scenarios) and ``raw``, and what a reader must know in ``notes``."""

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import cpu_cost, large, probes, quota, realtime, scaleout, scenarios, write_capacity
from bench.config import Config
from bench.log import log
from bench.outbox import commit_to_consumer, outbox_notes
from bench.seed import Seeded
from bench.stack import bare_server
from bench.stats import aggregate, ratio, spread, summarize


@dataclass
class Run:
    """One bench run: where the stack is, what was seeded, and what has been measured."""

    cfg: Config
    env: dict[str, str]
    ctx: scenarios.Ctx
    seeded: list[Seeded]
    view_body: bytes  # the cached view's bytes: the bare endpoint serves the same
    notes: list[str]
    floors: dict[str, Any] = field(default_factory=dict)
    sc: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return self.ctx.api

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def repeat(self, name: str, fn: Callable[[int], Any]) -> list[Any]:
        """``fn(i)`` for each of the ``cfg.runs`` runs, a pause after each."""
        out = []
        for i in range(self.cfg.runs):
            log(f"{name}: run {i + 1}/{self.cfg.runs}")
            out.append(fn(i))
            time.sleep(self.cfg.pause_s)
        return out


def latency(samples: list[list[float]]) -> dict[str, Any]:
    return {"latency_ms": aggregate([summarize(s) for s in samples])}


def floors(r: Run) -> None:
    """The round trips of the project's Redis and PostgreSQL clients."""
    cfg, ctx = r.cfg, r.ctx
    redis = r.repeat(
        "floor: Redis GET", lambda i: asyncio.run(probes.redis_floor(ctx.redis_url, cfg.floor_ops))
    )
    sql = r.repeat(
        "floor: SQL select 1",
        lambda i: asyncio.run(probes.sql_floor(r.database_url, cfg.floor_ops)),
    )
    r.floors["redis"], r.floors["sql"] = latency(redis), latency(sql)


def bare_and_cached(r: Run) -> None:
    """The cached GET beside the bare endpoint serving its very bytes: at one rate, their
    ladders side by side, and CPU per request."""
    cfg, ctx = r.cfg, r.ctx
    view_url = ctx.view_url(cfg.read_event)
    with bare_server(r.view_body) as bare_url:
        pairs = r.repeat(
            f"bare vs cached GET at {cfg.cached_rate:g} req/s",
            lambda i: (
                scenarios.constant(bare_url, cfg.cached_rate, cfg.cached_s),
                scenarios.cached_get(ctx),
            ),
        )
        ladders = r.repeat(
            "rate ladders (bare, cached GET)",
            lambda i: scenarios.climb_pair(bare_url, view_url, cfg),
        )
        cpu = r.repeat(
            f"CPU per request (bare, cached GET) at {cfg.cpu_rate:g} req/s",
            lambda i: cpu_cost.pair(bare_url, view_url, cfg.cpu_rate, cfg.cpu_s),
        )
    record_bare(r, pairs, ladders, cpu)
    record_cached(r, pairs, ladders, cpu)


def record_bare(r: Run, pairs: list[Any], ladders: list[Any], cpu: list[Any]) -> None:
    r.floors["bare"] = {
        "at_rate": aggregate([p[0] for p in pairs]),
        "max_sustainable": spread([lad[0]["max_sustainable"] for lad in ladders]),
        "ladder_capped": any(lad[0]["capped"] for lad in ladders),
        "ladder_runs": [lad[0] for lad in ladders],
        "body_bytes": len(r.view_body),
    }
    r.raw["bare"] = [p[0] for p in pairs]
    if r.floors["bare"]["ladder_capped"]:
        r.notes.append(
            "The bare endpoint sustained the top of the ladder in some run: its real maximum is "
            "higher, so the cached GET's throughput ratio is an upper bound."
        )


def record_cached(r: Run, pairs: list[Any], ladders: list[Any], cpu: list[Any]) -> None:
    cached_runs = [p[1] for p in pairs]
    r.sc["cached_get"] = {
        "event": r.cfg.read_event,
        "at_rate": aggregate(cached_runs),
        "hit_rate": spread([c["hit_rate"] for c in cached_runs]),
        "same_rate_ratio": spread([ratio(c["throughput"], b["throughput"]) for b, c in pairs]),
        "max_sustainable": spread([lad[1]["max_sustainable"] for lad in ladders]),
        "throughput_ratio": spread(
            [ratio(lad[1]["max_sustainable"], lad[0]["max_sustainable"]) for lad in ladders]
        ),
        "ladder_runs": [lad[1] for lad in ladders],
        "cpu_us": spread([c["cached"]["cpu_us"] for c in cpu]),
        "cpu_ratio": spread([c["ratio"] for c in cpu]),
    }
    r.floors["bare"]["cpu_us"] = spread([c["bare"]["cpu_us"] for c in cpu])
    r.raw["cpu"], r.raw["cached"] = cpu, cached_runs


def hot_key_and_miss(r: Run) -> None:
    """A hot key expiring under a burst of readers; cache misses on the big events."""
    hot = r.repeat("hot-key expiry burst", lambda i: scenarios.hot_key_expiry(r.ctx))
    r.sc["hot_key_expiry"] = {
        "readers": spread([h["readers"] for h in hot]),
        "recomputes": spread([h["recomputes"] for h in hot]),
    }
    misses = r.repeat("cache miss (big event)", lambda i: asyncio.run(scenarios.cache_miss(r.ctx)))
    r.sc["cache_miss"] = {
        "events": list(r.cfg.miss_events),
        "latency_ms": aggregate([m["latency_ms"] for m in misses]),
        "miss_ratio": spread([m["miss_ratio"] for m in misses]),
        "status_codes": [m["status_codes"] for m in misses],
    }
    r.raw["hot"], r.raw["miss"] = hot, misses


def writes_and_mix(r: Run) -> None:
    """PUT availability spread over the events; the 90/10 read/write mix."""
    cfg = r.cfg
    puts = r.repeat(
        f"PUT availability at {cfg.put_rate:g} req/s",
        lambda i: scenarios.put_availability(r.ctx, i),
    )
    r.sc["put_availability"] = aggregate(puts)
    mixes = r.repeat(
        f"90/10 mix at {cfg.mix_rate:g} req/s", lambda i: scenarios.mix_90_10(r.ctx, i)
    )
    r.sc["mix_90_10"] = aggregate(mixes) | {"hit_rate": spread([m["hit_rate"] for m in mixes])}
    r.raw["put"], r.raw["mix"] = puts, mixes


def outbox(r: Run) -> None:
    """Outbox commit → a Kafka consumer under a steady write load."""
    cfg, topic = r.cfg, r.env.get("DOMAIN_TOPIC", "overlap.domain.v1")
    runs = r.repeat(
        f"outbox commit → consumer at {cfg.outbox_rate:g} writes/s",
        lambda i: asyncio.run(
            commit_to_consumer(r.api, r.ctx.kafka, topic, cfg.outbox_rate, cfg.outbox_s)
        ),
    )
    r.notes += outbox_notes(runs)
    r.sc["outbox"] = {
        "latency_ms": aggregate([o["latency_ms"] for o in runs if o["latency_ms"]]),
        "received": spread([o["received"] for o in runs]),
    }
    r.raw["outbox"] = runs


def sql_per_request(r: Run) -> None:
    """SQL transactions per cached and per missed read (skipped in smoke mode)."""
    if not r.cfg.sql_probe:
        r.notes.append("SQL-per-request probes skipped (smoke mode).")
        return
    log("SQL per request (pg_stat_database; waits for the counters to settle)")
    cached, missed = asyncio.run(scenarios.sql_probe(r.ctx, r.database_url))
    r.sc["cached_get"]["sql_per_request"] = spread([cached])
    r.sc["cache_miss"]["sql_per_request"] = spread([missed])


def freshness(r: Run) -> None:
    """Write → websocket client, and the notifier's calls under a burst of writes."""
    cfg, live = r.cfg, r.ctx.events[r.cfg.read_event]
    fresh = r.repeat(
        f"freshness write → websocket at {cfg.fresh_rate:g} writes/s",
        lambda i: realtime.guarded(realtime.freshness(r.api, live, cfg.fresh_rate, cfg.fresh_s)),
    )
    ok = [f for f in fresh if "error" not in f]
    r.sc["freshness"] = {
        "event": cfg.read_event,
        "latency_ms": aggregate([f["latency_ms"] for f in ok if f["latency_ms"]]),
        "received": spread([f["received"] for f in ok]),
        "writes": spread([f["committed"] for f in ok]),
    }
    bursts = r.repeat(
        f"notifier burst of {cfg.burst_writes} writes",
        lambda i: realtime.guarded(
            realtime.notifier_burst(
                r.api, r.ctx.redis_url, live, cfg.burst_writes, cfg.burst_settle_s
            )
        ),
    )
    ok_bursts = [b for b in bursts if "error" not in b]
    r.sc["notifier_batching"] = {
        "event": cfg.read_event,
        "calls_per_update": spread([b["calls_per_update"] for b in ok_bursts]),
        "calls": spread([b["calls"] for b in ok_bursts]),
        "events": spread([b["events"] for b in ok_bursts]),
        "ends_on_final": spread([float(b["ends_on_final"]) for b in ok_bursts]),
    }
    r.notes += realtime.realtime_notes(fresh, bursts)
    r.raw["freshness"], r.raw["notifier"] = fresh, bursts


def capacity_and_large(r: Run) -> None:
    """Write capacity (bench/write_capacity.py) and the large event (bench/large.py)."""
    wcfg = write_capacity.SMOKE if r.cfg.mode == "smoke" else write_capacity.FULL
    wcfg = dataclasses.replace(wcfg, runs=r.cfg.runs)
    r.sc["write_capacity"], r.raw["write_capacity"] = write_capacity.write_capacity(
        wcfg, r.api, r.env
    )
    log(f"large event: seeding {r.cfg.large_event.participants} participants through the API")
    r.sc["large_event"], r.raw["large_event"] = large.measure(r.api, r.ctx.redis_url, r.cfg)


def worker_scaling(r: Run) -> None:
    """Availability workers draining a backlog: 1 against N, then each held to a quota."""
    cfg, kafka = r.cfg, r.ctx.kafka
    targets = scaleout.scale_targets(cfg, r.api)
    r.sc["worker_scaling"], r.raw["workers"] = scaleout.worker_scaling(cfg, r.env, kafka, targets)
    r.notes += scaleout.scale_notes(cfg, r.sc["worker_scaling"])
    why_not = quota.unavailable()
    if cfg.quota_cpus and why_not is None:
        r.sc["worker_scaling_quota"], r.raw["workers_quota"] = scaleout.worker_scaling(
            cfg, r.env, kafka, targets, cfg.quota_cpus
        )
    r.notes.append(scaleout.quota_note(cfg, why_not))


# In this order: the notes and the report's sections follow it.
STEPS: tuple[Callable[[Run], None], ...] = (
    floors,
    bare_and_cached,
    hot_key_and_miss,
    writes_and_mix,
    outbox,
    sql_per_request,
    freshness,
    capacity_and_large,
    worker_scaling,
)
