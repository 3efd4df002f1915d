"""One bench run: stack, seed, floors, scenarios, then the JSON, Markdown and plots."""

import asyncio
import dataclasses
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import (
    capacity,
    cpu_cost,
    large,
    probes,
    quota,
    realtime,
    scaleout,
    scenarios,
    stack,
    write_capacity,
)
from bench.config import Config
from bench.goals import evaluate_all
from bench.outbox import commit_to_consumer
from bench.plots import write_plots
from bench.report import render
from bench.seed import seed_all
from bench.stats import aggregate, ratio, spread, summarize
from bench.vegeta import ensure_vegeta
from bench.write_report import render_section


def log(msg: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {msg}", flush=True)


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}, {os.cpu_count()} CPU ({model or platform.machine()}), {platform.system()} {platform.release()}, Python {platform.python_version()}"  # noqa: E501


def repeat(cfg: Config, name: str, fn: Any) -> list[Any]:
    out = []
    for i in range(cfg.runs):
        log(f"{name}: run {i + 1}/{cfg.runs}")
        out.append(fn(i))
        time.sleep(cfg.pause_s)
    return out


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(cfg: Config, api: str, out_dir: Path, *, start_stack: bool = True) -> Path:
    started, load_start = datetime.now(UTC), loadavg()
    env = stack.local_env()
    # A stack the bench starts has no route-class limits: the bench is one client that
    # creates and joins far more than a person would (a running stack keeps its settings).
    env.setdefault("RATE_LIMITS_ENABLED", "false")
    redis_url, database_url = env["REDIS_URL"], env["DATABASE_URL"]
    kafka = env["KAFKA_BOOTSTRAP_SERVERS"]
    topic = env.get("DOMAIN_TOPIC", "overlap.domain.v1")
    how = stack.ensure_stack(api, env, start=start_stack)
    log(f"API at {api} ({how}); vegeta at {ensure_vegeta()}")
    notes = [
        f"API {api} ({how} process); PostgreSQL, Redis and Kafka of the local stack; the "
        "workers run beside it, so writes also cost their recomputes on the same 2 cores.",
        "Cache misses: the view key of one of the big events (in turn) is deleted from Redis "
        "right before each GET (open loop, Python client); the share of reads that really "
        "missed is read from cache_misses_total (a concurrent recompute can refill the key "
        "between a delete and its GET).",
        "Max sustainable rate: the highest rate of a x"
        f"{cfg.ladder_factor} ladder from {cfg.ladder_start:g} req/s ({cfg.ladder_s:g} s a step) "
        f"with ≥ 99.9% success, throughput ≥ 95% of the rate and p99 ≤ {cfg.ladder_p99_ms:g} ms "
        "(a failing step is tried once more before it counts).",
    ]

    log("seeding events through the API")
    seeded = asyncio.run(seed_all(api, cfg.events))
    events = {s.spec.name: s for s in seeded}
    ctx = scenarios.Ctx(api, redis_url, kafka, cfg, events)
    first = httpx.get(ctx.view_url(cfg.read_event), timeout=10)
    first.raise_for_status()
    body = first.content  # the bare endpoint serves these very bytes

    floors: dict[str, Any] = {}
    sc: dict[str, Any] = {}
    raw: dict[str, Any] = {}

    def lat(samples: list[list[float]]) -> dict[str, Any]:
        return {"latency_ms": aggregate([summarize(s) for s in samples])}

    floors["redis"] = lat(
        repeat(
            cfg,
            "floor: Redis GET",
            lambda i: asyncio.run(probes.redis_floor(redis_url, cfg.floor_ops)),
        )
    )
    floors["sql"] = lat(
        repeat(
            cfg,
            "floor: SQL select 1",
            lambda i: asyncio.run(probes.sql_floor(database_url, cfg.floor_ops)),
        )
    )

    view_url = ctx.view_url(cfg.read_event)
    with stack.bare_server(body) as bare_url:
        pairs = repeat(
            cfg,
            f"bare vs cached GET at {cfg.cached_rate:g} req/s",
            lambda i: (
                scenarios.constant(bare_url, cfg.cached_rate, cfg.cached_s),
                scenarios.cached_get(ctx),
            ),
        )
        ladders = repeat(
            cfg,
            "rate ladders (bare, cached GET)",
            lambda i: scenarios.climb_pair(bare_url, view_url, cfg),
        )
        cpu = repeat(
            cfg,
            f"CPU per request (bare, cached GET) at {cfg.cpu_rate:g} req/s",
            lambda i: cpu_cost.pair(bare_url, view_url, cfg.cpu_rate, cfg.cpu_s),
        )
    bare_runs, cached_runs = [p[0] for p in pairs], [p[1] for p in pairs]
    floors["bare"] = {
        "at_rate": aggregate(bare_runs),
        "max_sustainable": spread([lad[0]["max_sustainable"] for lad in ladders]),
        "ladder_capped": any(lad[0]["capped"] for lad in ladders),
        "ladder_runs": [lad[0] for lad in ladders],
        "body_bytes": len(body),
    }
    sc["cached_get"] = {
        "event": cfg.read_event,
        "at_rate": aggregate(cached_runs),
        "hit_rate": spread([r["hit_rate"] for r in cached_runs]),
        "same_rate_ratio": spread([ratio(c["throughput"], b["throughput"]) for b, c in pairs]),
        "max_sustainable": spread([lad[1]["max_sustainable"] for lad in ladders]),
        "throughput_ratio": spread(
            [ratio(lad[1]["max_sustainable"], lad[0]["max_sustainable"]) for lad in ladders]
        ),
        "ladder_runs": [lad[1] for lad in ladders],
        "cpu_us": spread([c["cached"]["cpu_us"] for c in cpu]),
        "cpu_ratio": spread([c["ratio"] for c in cpu]),
    }
    floors["bare"]["cpu_us"] = spread([c["bare"]["cpu_us"] for c in cpu])
    raw["cpu"] = cpu
    if floors["bare"]["ladder_capped"]:
        notes.append(
            "The bare endpoint sustained the top of the ladder in some run: its real maximum is "
            "higher, so the cached GET's throughput ratio is an upper bound."
        )

    hot = repeat(cfg, "hot-key expiry burst", lambda i: scenarios.hot_key_expiry(ctx))
    sc["hot_key_expiry"] = {
        "readers": spread([h["readers"] for h in hot]),
        "recomputes": spread([h["recomputes"] for h in hot]),
    }

    misses = repeat(cfg, "cache miss (big event)", lambda i: asyncio.run(scenarios.cache_miss(ctx)))
    sc["cache_miss"] = {
        "events": list(cfg.miss_events),
        "latency_ms": aggregate([m["latency_ms"] for m in misses]),
        "miss_ratio": spread([m["miss_ratio"] for m in misses]),
        "status_codes": [m["status_codes"] for m in misses],
    }

    puts = repeat(
        cfg,
        f"PUT availability at {cfg.put_rate:g} req/s",
        lambda i: scenarios.put_availability(ctx, i),
    )
    sc["put_availability"] = aggregate(puts)
    mixes = repeat(
        cfg, f"90/10 mix at {cfg.mix_rate:g} req/s", lambda i: scenarios.mix_90_10(ctx, i)
    )
    sc["mix_90_10"] = aggregate(mixes) | {"hit_rate": spread([m["hit_rate"] for m in mixes])}

    outbox = repeat(
        cfg,
        f"outbox commit → consumer at {cfg.outbox_rate:g} writes/s",
        lambda i: asyncio.run(commit_to_consumer(api, kafka, topic, cfg.outbox_rate, cfg.outbox_s)),
    )
    notes += outbox_notes(outbox)
    sc["outbox"] = {
        "latency_ms": aggregate([o["latency_ms"] for o in outbox if o["latency_ms"]]),
        "received": spread([o["received"] for o in outbox]),
    }

    if cfg.sql_probe:
        log("SQL per request (pg_stat_database; waits for the counters to settle)")
        cached, missed = asyncio.run(sql_probe(ctx, database_url))
        sc["cached_get"]["sql_per_request"] = spread([cached])
        sc["cache_miss"]["sql_per_request"] = spread([missed])
    else:
        notes.append("SQL-per-request probes skipped (smoke mode).")

    live = events[cfg.read_event]
    fresh = repeat(
        cfg,
        f"freshness write → websocket at {cfg.fresh_rate:g} writes/s",
        lambda i: guarded(realtime.freshness(api, live, cfg.fresh_rate, cfg.fresh_s)),
    )
    ok_fresh = [f for f in fresh if "error" not in f]
    sc["freshness"] = {
        "event": cfg.read_event,
        "latency_ms": aggregate([f["latency_ms"] for f in ok_fresh if f["latency_ms"]]),
        "received": spread([f["received"] for f in ok_fresh]),
        "writes": spread([f["committed"] for f in ok_fresh]),
    }
    bursts = repeat(
        cfg,
        f"notifier burst of {cfg.burst_writes} writes",
        lambda i: guarded(
            realtime.notifier_burst(api, redis_url, live, cfg.burst_writes, cfg.burst_settle_s)
        ),
    )
    ok_bursts = [b for b in bursts if "error" not in b]
    sc["notifier_batching"] = {
        "event": cfg.read_event,
        "calls_per_update": spread([b["calls_per_update"] for b in ok_bursts]),
        "calls": spread([b["calls"] for b in ok_bursts]),
        "events": spread([b["events"] for b in ok_bursts]),
        "ends_on_final": spread([float(b["ends_on_final"]) for b in ok_bursts]),
    }
    notes += realtime_notes(fresh, bursts)

    wcfg = write_capacity.SMOKE if cfg.mode == "smoke" else write_capacity.FULL
    wcfg = dataclasses.replace(wcfg, runs=cfg.runs)
    sc["write_capacity"], raw["write_capacity"] = write_capacity.write_capacity(wcfg, api, env)
    log(f"large event: seeding {cfg.large_event.participants} participants through the API")
    sc["large_event"], raw["large_event"] = large.measure(api, redis_url, cfg)
    targets = scaleout.scale_targets(cfg, api, seeded)
    sc["worker_scaling"], scale_raw = scaleout.worker_scaling(cfg, env, kafka, targets)
    notes += scaleout.scale_notes(cfg, sc["worker_scaling"])
    why_not = quota.unavailable()
    if cfg.quota_cpus and why_not is None:
        sc["worker_scaling_quota"], raw["workers_quota"] = scaleout.worker_scaling(
            cfg, env, kafka, targets, cfg.quota_cpus
        )
    notes.append(scaleout.quota_note(cfg, why_not))
    raw.update(bare=bare_runs, cached=cached_runs, miss=misses, put=puts, mix=mixes, hot=hot)
    raw.update(outbox=outbox, freshness=fresh, notifier=bursts, workers=scale_raw)

    results: dict[str, Any] = {
        "meta": {
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "loadavg_start": load_start,
            "loadavg_end": loadavg(),
            "mode": cfg.mode,
            "runs": cfg.runs,
            "api": api,
            "stack": how,
            "events": [
                {
                    "name": s.spec.name,
                    "participants": s.spec.participants,
                    "days": s.spec.days,
                    "slot_minutes": s.spec.slot_minutes,
                    "slots": s.slot_count,
                }
                for s in seeded
            ],
            "notes": notes,
        },
        "floors": floors,
        "scenarios": sc,
        "raw": raw,
    }
    results["targets"] = evaluate_all(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / f"bench-{started.strftime('%Y%m%d-%H%M%S')}"
    plots = write_plots(results, prefix)
    results["meta"]["plots"] = [p.name for p in plots]
    prefix.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str))
    write_section = render_section(sc.get("write_capacity")) + capacity.printed(results)
    prefix.with_suffix(".md").write_text(render(results) + "\n".join(write_section) + "\n")
    log(f"wrote {prefix}.json, {prefix}.md and {len(plots)} plot(s)")
    return prefix.with_suffix(".json")


def guarded(coro: Any) -> dict[str, Any]:
    """Run one realtime scenario; a failure (stack not wired, soketi down) is recorded."""
    try:
        return dict(asyncio.run(coro))
    except Exception as exc:  # a shared stack: report, do not abort the run
        log(f"  failed: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def realtime_notes(fresh: list[dict[str, Any]], bursts: list[dict[str, Any]]) -> list[str]:
    out = [
        "Freshness and notifier batching: a real Pusher websocket client (soketi) subscribed "
        "to private-event-<id> of the seeded event, authorized through /api/realtime/auth; "
        "the path is API → outbox relay → Kafka → availability worker → notifier → soketi. "
        "The floor ratio divides by the outbox commit → consumer p99 of the same run."
    ]
    errors = [r["error"] for r in fresh + bursts if "error" in r]
    if errors:
        out.append(f"Realtime runs that failed: {'; '.join(errors)}")
    short = [f for f in fresh if "error" not in f and f["received"] < f["committed"]]
    if short:
        got = ", ".join(f"{f['received']}/{f['committed']}" for f in short)
        out.append(f"Freshness: some writes never reached the client within 5 s ({got}).")
    return out


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


async def sql_probe(ctx: scenarios.Ctx, database_url: str) -> tuple[float, float]:
    from overlap_shared.cache_keys import L1_CHANNEL, view_key
    from overlap_shared.redis_client import create_redis

    xacts = probes.Transactions(database_url)
    redis = create_redis(ctx.redis_url)
    big = ctx.events[ctx.cfg.miss_events[0]].token
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await client.get(ctx.view_url(ctx.cfg.read_event))
            await xacts.measure_background()

            async def hit() -> None:
                (await client.get(ctx.view_url(ctx.cfg.read_event))).raise_for_status()

            async def miss() -> None:
                await redis.delete(view_key(big))
                await redis.publish(L1_CHANNEL, big)  # out of the API's in-process L1 too
                await asyncio.sleep(0.002)
                (await client.get(ctx.view_url(ctx.cfg.miss_events[0]))).raise_for_status()

            return await xacts.per_request(hit, 300), await xacts.per_request(miss, 200)
    finally:
        await redis.aclose()
        await xacts.close()
