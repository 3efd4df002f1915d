"""One bench run: the stack, the seeded events, every step of ``bench.steps`` in turn, then
the JSON, the Markdown report and the plots."""

import asyncio
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import capacity, scenarios, stack
from bench.config import Config
from bench.goals import evaluate_all
from bench.log import log
from bench.plots import write_plots
from bench.report import render
from bench.seed import seed_all
from bench.steps import STEPS, Run
from bench.vegeta import ensure_vegeta
from bench.write_report import render_section


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


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(cfg: Config, api: str, out_dir: Path, *, start_stack: bool = True) -> Path:
    """Measure everything on the stack at ``api``; the path of the JSON written."""
    started, load_start = datetime.now(UTC), loadavg()
    r, how = prepare(cfg, api, start_stack)
    for step in STEPS:
        step(r)
    meta = {"started": started.strftime("%Y-%m-%d %H:%M UTC"), "loadavg_start": load_start}
    return write_results(r, meta | {"stack": how}, out_dir / f"bench-{started:%Y%m%d-%H%M%S}")


def prepare(cfg: Config, api: str, start_stack: bool) -> tuple[Run, str]:
    """The stack (the running one, or started), the events seeded, the view's bytes."""
    env = stack.local_env()
    # A stack the bench starts has no route-class limits: the bench is one client that
    # creates and joins far more than a person would (a running stack keeps its settings).
    env.setdefault("RATE_LIMITS_ENABLED", "false")
    how = stack.ensure_stack(api, env, start=start_stack)
    log(f"API at {api} ({how}); vegeta at {ensure_vegeta()}")
    log("seeding events through the API")
    seeded = asyncio.run(seed_all(api, cfg.events))
    events = {s.spec.name: s for s in seeded}
    ctx = scenarios.Ctx(api, env["REDIS_URL"], env["KAFKA_BOOTSTRAP_SERVERS"], cfg, events)
    first = httpx.get(ctx.view_url(cfg.read_event), timeout=10)
    first.raise_for_status()
    return Run(cfg, env, ctx, seeded, first.content, intro_notes(cfg, api, how)), how


def intro_notes(cfg: Config, api: str, how: str) -> list[str]:
    return [
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


def write_results(r: Run, meta: dict[str, Any], prefix: Path) -> Path:
    """``<prefix>.json``, ``<prefix>.md`` and the plots; the JSON's path."""
    results: dict[str, Any] = {
        "meta": run_meta(r, meta),
        "floors": r.floors,
        "scenarios": r.sc,
        "raw": r.raw,
    }
    results["targets"] = evaluate_all(results)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    plots = write_plots(results, prefix)
    results["meta"]["plots"] = [p.name for p in plots]
    prefix.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str))
    write_section = render_section(r.sc.get("write_capacity")) + capacity.printed(results)
    prefix.with_suffix(".md").write_text(render(results) + "\n".join(write_section) + "\n")
    log(f"wrote {prefix}.json, {prefix}.md and {len(plots)} plot(s)")
    return prefix.with_suffix(".json")


def run_meta(r: Run, start: dict[str, Any]) -> dict[str, Any]:
    """The header of the results: when, where, on what, with which events; ``start``: the
    run's start time, load average then and how the stack came to be."""
    return {
        "started": start["started"],
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "loadavg_start": start["loadavg_start"],
        "loadavg_end": loadavg(),
        "mode": r.cfg.mode,
        "runs": r.cfg.runs,
        "api": r.api,
        "stack": start["stack"],
        "events": [
            {
                "name": s.spec.name,
                "participants": s.spec.participants,
                "days": s.spec.days,
                "slot_minutes": s.spec.slot_minutes,
                "slots": s.slot_count,
            }
            for s in r.seeded
        ],
        "notes": r.notes,
    }
