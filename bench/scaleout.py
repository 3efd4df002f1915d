"""Availability-worker scale-out in a bench run: the backlog's events, 1 then N worker
processes draining it (bench/workers.py), unconstrained and each held to a CPU quota
(bench/quota.py), and the notes that say how it was measured.

Also alone, on the stack at ``API_PORT`` (started when it does not answer):
``python -m bench.scaleout [--runs N] [--out DIR] [--only free|quota] [--cpus C]`` measures both
ways (or one) and prints them.
"""

import argparse
import asyncio
import dataclasses
import json
import os
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import quota, stack, workers
from bench.config import FULL, Config
from bench.log import log
from bench.report import FIGURES, fmt_spread
from bench.seed import EventSpec, seed_all
from bench.stats import ratio, spread

SCALE_EVENT = (5, 5, 30)  # participants, days, slot minutes: every backlog event alike


def scale_targets(cfg: Config, api: str) -> list[workers.Target]:
    """The events of the scale-out backlog: ``cfg.scale_events`` seeded ones of one size
    (equal work each), then ``cfg.scale_phantoms`` absent from the database."""
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    log(f"worker scale-out: seeding {cfg.scale_events} events of {SCALE_EVENT} each")
    specs = tuple(EventSpec(f"scale-{i}", *SCALE_EVENT) for i in range(cfg.scale_events))
    seeded = asyncio.run(seed_all(api, specs, seed=9))
    targets = [workers.Target(uuid.UUID(s.event_id), s.token, False) for s in seeded]
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
            log(
                f"  drained: {got.get('drained')} in {got.get('drain_s')} s, "
                f"settled split: {got.get('settled')}, throttled: {got.get('throttled_share')}"
            )
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
    """1 against N: throughputs, their ratio, order kept, timings, throttling, the split."""
    one, many = cfg.scale_consumers
    by = {n: [r for r in runs if r["consumers"] == n] for n in (one, many)}

    def each(key: str, n: int) -> dict[str, Any] | None:
        return spread([r.get(key) for r in by[n]])

    def shares(n: int) -> dict[str, Any] | None:
        return spread([x for r in by[n] for x in r.get("throttled_share") or []])

    t1, tn = ([r.get("throughput") for r in by[n]] for n in (one, many))
    return {
        "topics": [t for r in runs for t in r["topics"]],
        "consumers": [one, many],
        "messages": runs[0].get("messages") if runs else None,
        "events": len(targets),
        "events_per_partition": sorted(Counter(workers.placement(targets).values()).values()),
        "throughput_1": spread(t1),
        "throughput_n": spread(tn),
        "ratio": spread([ratio(b, a) for a, b in zip(t1, tn, strict=True)]),
        "order_kept": spread(
            [float(r["order_violations"] == 0) for r in by[many] if "error" not in r]
        ),
        "publish_s": spread([r.get("publish_s") for r in runs]),
        "drain_s_1": each("drain_s", one),
        "drain_s_n": each("drain_s", many),
        "refreshes_1": each("view_messages", one),
        "refreshes_n": each("view_messages", many),
        "all_drained": all(r.get("drained") for r in runs),
        "settled": all(r.get("settled") for r in runs),
        "cpus": cpus,
        "throttled_share_1": shares(one),
        "throttled_share_n": shares(many),
    }


def scale_notes(cfg: Config, res: dict[str, Any]) -> list[str]:
    one, many = cfg.scale_consumers
    out = [
        f"Worker scale-out: a backlog of {res['messages']} domain messages over "
        f"{res['events']} events ({res['events'] - cfg.scale_phantoms} seeded alike, "
        f"{SCALE_EVENT[0]} participants x {SCALE_EVENT[1]} days each, and "
        f"{cfg.scale_phantoms} absent from the database, whose ViewRefreshed versions follow "
        "the backlog), each event's messages on one partition and the events dealt evenly "
        f"over a fresh private 8-partition topic ({res['events_per_partition']} events a "
        f"partition), drained by {one} then {many} availability worker processes. The "
        "workers join first; once each holds an even share of the partitions (the split "
        "read twice, 0.5 s apart) they are paused (SIGSTOP), one primer record per worker "
        "(on its first partition) answers the fetch each was waiting on (else that "
        "answer, a first slice of the backlog, is what each resumes to: every event of it "
        "refreshed twice), the whole "
        "backlog is published "
        f"(median {(res['publish_s'] or {}).get('median', 0):.2f} s, not timed) and they "
        "are resumed: throughput = messages ÷ time from the resume until every event's "
        "last message showed in a ViewRefreshed. The split is read again after the drain "
        f"(unchanged in every run: {res['settled']}). Unconstrained, the workers share the "
        f"machine's {os.cpu_count()} CPUs with the whole stack, which bounds the scale-out."
    ]
    if not res["all_drained"]:
        out.append("Worker scale-out: some runs did not drain (see raw.workers).")
    return out


def quota_note(cfg: Config, why_not: str | None) -> str:
    one, many = cfg.scale_consumers
    if why_not is not None or not cfg.quota_cpus:
        return f"Worker scale-out under a CPU quota: skipped ({why_not or 'quota_cpus is 0'})."
    return (
        f"Worker scale-out under a CPU quota: the same backlog and method, {one} then {many} "
        f"worker processes each in a cgroup of its own held to {cfg.quota_cpus:g} CPU "
        "(cpu.cfs_quota_us, bench/quota.py, from the process's start) and weighted "
        f"cpu.shares {quota.SHARES} so that other load does not hold it below its quota; the "
        "quota is the ceiling (throttled share: periods in which a group hit its quota, from "
        "the resume to the end of the drain; below 100% a worker waited on something else)."
    )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    p.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('API_PORT', '8000')}")
    p.add_argument("--runs", type=int, default=FULL.scale_runs)
    p.add_argument("--out", type=Path, default=Path("results"))
    p.add_argument("--only", choices=("free", "quota"), help="one of the two ways")
    p.add_argument("--cpus", type=float, default=FULL.quota_cpus, help="each held worker's quota")
    a = p.parse_args()
    cfg = dataclasses.replace(FULL, scale_runs=a.runs, quota_cpus=a.cpus)
    env = stack.local_env()
    env.setdefault("RATE_LIMITS_ENABLED", "false")
    stack.ensure_stack(a.api, env)
    targets = scale_targets(cfg, a.api)
    kafka = env["KAFKA_BOOTSTRAP_SERVERS"]
    sc: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    if a.only != "quota":
        sc["worker_scaling"], raw["workers"] = worker_scaling(cfg, env, kafka, targets)
    if a.only != "free" and quota.unavailable() is None:
        sc["worker_scaling_quota"], raw["workers_quota"] = worker_scaling(
            cfg, env, kafka, targets, cfg.quota_cpus
        )
    results = {"scenarios": sc, "raw": raw, "loadavg": os.getloadavg()}
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / f"scaleout-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    for label, dotted, unit in FIGURES:
        if dotted.startswith("scenarios.worker_scaling"):
            _, name, key = dotted.split(".")
            print(f"{label}: {fmt_spread(sc.get(name, {}).get(key), unit)}")
    for name, res in sc.items():
        print(f"{name}: ratio {fmt_spread(res['ratio'], 'x')}, settled {res['settled']}")
    print(
        *scale_notes(cfg, next(iter(sc.values()))), quota_note(cfg, quota.unavailable()), sep="\n"
    )
    print(f"wrote {path}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
