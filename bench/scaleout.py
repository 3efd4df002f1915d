"""Availability-worker scale-out in a bench run: the backlog's events, 1 then N worker
processes draining it (bench/workers.py), unconstrained and each held to a CPU quota
(bench/quota.py), and the notes that say how it was measured."""

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

from bench import workers
from bench.config import Config
from bench.log import log
from bench.seed import EventSpec, seed_all
from bench.stats import ratio, spread


def scale_targets(cfg: Config, api: str, seeded: list[Any]) -> list[workers.Target]:
    """The events of the scale-out backlog: the seeded ones, small extra ones, phantoms."""
    import uuid

    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    extra: list[Any] = []
    if cfg.scale_extra_events:
        log(f"worker scale-out: seeding {cfg.scale_extra_events} small events")
        specs = tuple(EventSpec(f"scale-{i}", 5, 5, 30) for i in range(cfg.scale_extra_events))
        extra = asyncio.run(seed_all(api, specs, seed=9))
    targets = [workers.Target(uuid.UUID(s.event_id), s.token, False) for s in seeded + extra]
    return targets + [
        workers.Target(uuid.uuid4(), f"bench-phantom-{run_id}-{i}", True)
        for i in range(cfg.scale_phantoms)
    ]


def worker_scaling(
    cfg: Config,
    env: dict[str, str],
    kafka: str,
    targets: list[workers.Target],
    cpus: float | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """1 then N worker processes drain the same backlog, ``cfg.scale_runs`` times; each
    held to ``cpus`` CPUs when given."""
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + ("-q" if cpus else "")
    held = f", {cpus:g} CPU each" if cpus else ""
    runs: list[dict[str, Any]] = []
    for i in range(cfg.scale_runs):
        for n in cfg.scale_consumers:
            log(f"worker scale-out: {n} consumer(s){held}, run {i + 1}/{cfg.scale_runs}")
            got = one_drain(cfg, env, kafka, targets, f"{run_id}-{i}-{n}", n, len(runs), cpus)
            log(f"  drained: {got.get('drained')} in {got.get('drain_s')} s")
            runs.append(got)
    return summary(cfg, runs, targets, cpus), runs


def one_drain(
    cfg: Config,
    env: dict[str, str],
    kafka: str,
    targets: list[workers.Target],
    name: str,
    n: int,
    done: int,
    cpus: float | None,
) -> dict[str, Any]:
    """``n`` workers drain the backlog on a fresh topic pair ``bench.*.<name>`` (no replay of
    an earlier backlog can count), the ``done + 1``-th drain of the run; the pair deleted."""
    base = done * cfg.scale_per_event
    try:
        topics = asyncio.run(workers.create_topics(kafka, name))
        got = asyncio.run(
            workers.measure(
                kafka, env, topics, targets, n, cfg.scale_per_event, base,
                cfg.scale_timeout_s * (1 / cpus if cpus else 1), cpus,
            )
        )  # fmt: skip
    except Exception as exc:  # report, do not abort the run
        log(f"  failed: {type(exc).__name__}: {exc}")
        got = {"consumers": n, "error": f"{type(exc).__name__}: {exc}"[:300]}
    got["topics"] = [f"bench.domain.{name}", f"bench.views.{name}"]
    try:
        asyncio.run(workers.delete_topics(kafka, got["topics"]))
    except Exception as exc:  # leave them; say so
        log(f"  could not delete {got['topics']}: {exc}")
    return got


def summary(
    cfg: Config, runs: list[dict[str, Any]], targets: list[workers.Target], cpus: float | None
) -> dict[str, Any]:
    """1 against N: throughputs, their ratio, order kept, timings, throttling."""
    one, many = cfg.scale_consumers
    t1 = [r.get("throughput") for r in runs if r["consumers"] == one]
    tn = [r.get("throughput") for r in runs if r["consumers"] == many]
    scaled = [r for r in runs if r["consumers"] == many and "error" not in r]
    return {
        "topics": [t for r in runs for t in r["topics"]],
        "consumers": [one, many],
        "messages": runs[0].get("messages") if runs else None,
        "events": len(targets),
        "throughput_1": spread(t1),
        "throughput_n": spread(tn),
        "ratio": spread([ratio(b, a) for a, b in zip(t1, tn, strict=True)]),
        "order_kept": spread([float(r["order_violations"] == 0) for r in scaled]),
        "publish_s": spread([r.get("publish_s") for r in runs]),
        "drain_s": spread([r.get("drain_s") for r in runs]),
        "all_drained": all(r.get("drained") for r in runs),
        "cpus": cpus,
        "throttled_share": spread([x for r in runs for x in r.get("throttled_share") or []]),
    }


def scale_notes(cfg: Config, res: dict[str, Any]) -> list[str]:
    one, many = cfg.scale_consumers
    out = [
        f"Worker scale-out: a backlog of {res['messages']} domain messages over "
        f"{res['events']} events ({cfg.scale_phantoms} of them absent from the database, so "
        "their ViewRefreshed versions follow the backlog) published as fast as possible to a "
        "fresh private 8-partition topic each time (bench.domain.<run>-<i>-<n>), drained by "
        f"{one} then {many} "
        "availability worker processes (group Stable first); throughput = messages ÷ time "
        "until every event's last message showed in a ViewRefreshed, counted from the first "
        "publish (the publish itself, pre-encoded, is part of the drain: median "
        f"{(res['publish_s'] or {}).get('median', 0):.2f} s). The workers share the "
        f"machine's {os.cpu_count()} CPUs with the whole stack, which bounds the scale-out; "
        "the private topics are left in Kafka (bench.domain.* / bench.views.*)."
    ]
    if not res["all_drained"]:
        out.append("Worker scale-out: some runs did not drain (see raw.workers).")
    return out


def quota_note(cfg: Config, why_not: str | None) -> str:
    one, many = cfg.scale_consumers
    if why_not is not None or not cfg.quota_cpus:
        return f"Worker scale-out under a CPU quota: skipped ({why_not or 'quota_cpus is 0'})."
    return (
        f"Worker scale-out under a CPU quota: the same backlog, {one} then {many} worker "
        f"processes each in a cgroup of its own held to {cfg.quota_cpus:g} CPU "
        "(cpu.cfs_quota_us, bench/quota.py); a quota is a ceiling, so on a loaded machine "
        "a worker may get less (throttled share: periods in which a group hit its quota)."
    )
