"""The write-capacity scenario: what one write costs each process, and how many writes per
second one event takes.

On one event of 50 people x 7 days x 32 slots, participants writing in turn (PUT
availability, open loop):

- CPU per write: ``/proc`` CPU time of every process of the stack (API with its in-process
  relay, each worker, Kafka, PostgreSQL with its backends, Redis, soketi) over a fixed
  number of writes below saturation, the pipeline drained after it, less each process's
  idle burn over as long, divided by the writes. Twice: at 120 writes/s, the rate of issue
  #15's "before" figure (13.8 ms), which its targets are judged by, and at a trickle of
  50/s, where nearly every write is a batch of its own in each process;
- the relay on its own: the same writes through an API process of the bench's own with
  ``RELAY_ENABLED=false``; the stack's API then only relays, so its CPU is the relay's and
  the bench's process's is the API's without the relay;
- the floor: as many PUTs at the same rate to ``bench.bare``'s write endpoint (the API's
  server stack and pool path, one ``select 1``, no app work), whose CPU per request the
  API's is read against: the machine's speed moves both (the API's figure was 1.65 ms one
  day and 2.9 ms on a slower one, the same code);
- PUT p50/p99 at 50 and 100 req/s;
- the highest sustained write rate: a ladder whose step holds when p99 ≤ 50 ms, nearly all
  succeed and nothing acknowledged is lost (version rise = 200s, outbox drained);
- overload at 3x that rate: how fast refusals come and that every 200 was kept.

``python -m bench.write_report [--smoke]`` runs it alone against the local stack.
"""

import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench import ladder, procstat
from bench.seed import EventSpec, Seeded, seed_all
from bench.stack import ROOT, bare_server, free_port
from bench.stats import aggregate, spread
from bench.vegeta import Target
from bench.write_load import JSON, Database, attack_by_code, checked, put_targets

PIPELINE = ("availability", "invalidator", "notifier", "kafka", "postgres", "redis")
TOTALLED = ("api", *PIPELINE)  # soketi is reported apart: it is the websocket fan-out


@dataclass(frozen=True)
class WriteConfig:
    event: EventSpec
    runs: int
    cpu_rate: float  # below saturation
    cpu_writes: int
    trickle_rate: float  # a second CPU window, slower
    trickle_writes: int
    idle_s: float  # idle burn measured over this long before each CPU window
    settle_s: float  # after the outbox drained, for the workers to finish
    latency_rates: tuple[float, ...]
    latency_s: float
    ladder: tuple[float, ...]
    ladder_s: float
    p99_ms: float
    overload_factor: float
    overload_s: float
    drain_s: float


FULL = WriteConfig(
    event=EventSpec("writes", 50, 7, 30, "08:00", "24:00"), runs=3, cpu_rate=120,
    cpu_writes=1800, trickle_rate=50, trickle_writes=750, idle_s=3, settle_s=2,
    latency_rates=(50, 100), latency_s=10,
    ladder=(100, 150, 200, 300, 450, 600, 800), ladder_s=5, p99_ms=50, overload_factor=3,
    overload_s=3, drain_s=30,
)  # fmt: skip
SMOKE = replace(
    FULL, event=EventSpec("writes", 4, 2, 30), runs=1, cpu_rate=10, cpu_writes=15,
    trickle_rate=5, trickle_writes=5, idle_s=0.5,
    settle_s=0.5, latency_s=1, ladder=(10, 20), ladder_s=1, p99_ms=1000, overload_s=1,
    drain_s=15,
)  # fmt: skip


def log(msg: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} write capacity: {msg}", flush=True)


def idle_burn(pids: dict[str, int | None], seconds: float) -> dict[str, float]:
    """CPU seconds a second each process burns idle, over ``seconds`` of waiting."""
    before = procstat.sample(pids)
    time.sleep(seconds)
    after = procstat.sample(pids)
    return {k: ((after[k] or 0.0) - (before[k] or 0.0)) / seconds for k in pids}


def cpu_window(
    cfg: WriteConfig, db: Database, pids: dict[str, int | None], api: str, event: Seeded, seed: int
) -> dict[str, Any]:
    """CPU ms per write of each process over ``cpu_writes`` writes at ``cpu_rate`` through
    ``api``."""
    idle_per_s = idle_burn(pids, cfg.idle_s)
    targets = put_targets(api, event, cfg.cpu_writes, seed)
    started, before = time.monotonic(), procstat.sample(pids)
    figures = checked(
        db, event, lambda: attack_by_code(targets, cfg.cpu_rate, cfg.cpu_writes / cfg.cpu_rate),
        cfg.drain_s,
    )  # fmt: skip
    time.sleep(cfg.settle_s)
    after, seconds = procstat.sample(pids), time.monotonic() - started
    writes = int(figures["status_codes"].get("200", 0))
    per = procstat.per_write_ms(before, after, idle_per_s, seconds, writes)
    return {"writes": writes, "seconds": seconds, "per_write_ms": per, "attack": figures}


@contextlib.contextmanager
def api_without_relay(env: dict[str, str]) -> Iterator[str]:
    """An API process of the bench's own, its relay off (the stack's relays its rows)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    run_env = {**env, "API_PORT": str(port), "RELAY_ENABLED": "false"}
    log_path = Path(tempfile.gettempdir()) / f"bench-api-without-relay-{port}.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "overlap_api"], env=run_env, cwd=ROOT, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 180  # a loaded machine starts Python slowly
        while not _ready(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bench's relay-less API did not start (see {log_path})")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _ready(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{url}/api/readyz", timeout=2).status_code == 200
    return False


def relay_alone(
    cfg: WriteConfig, db: Database, pids: dict[str, int | None], env: dict[str, str], ev: Seeded
) -> dict[str, Any]:
    with api_without_relay(env) as url:
        own = {"api_without_relay": procstat.pid_listening(int(urlsplit(url).port or 0))}
        both = {**pids, **own, "relay_alone": pids["api"]}
        both.pop("api")
        return cpu_window(cfg, db, both, url, ev, seed=77)


def write_floor(cfg: WriteConfig, env: dict[str, str]) -> dict[str, Any]:
    """CPU ms per request of ``bench.bare``'s ``PUT /bare`` at ``cpu_rate`` (its idle burn
    taken off), over ``cpu_writes`` requests."""
    with bare_server(b'{"version":1}', env["DATABASE_URL"]) as url:
        pids = {"floor": procstat.pid_listening(int(urlsplit(url).port or 0))}
        idle_per_s = idle_burn(pids, cfg.idle_s)
        body = b'{"available": [[0, 4]], "if_needed": []}'
        targets = [Target("PUT", url, {"Content-Type": JSON}, body)] * cfg.cpu_writes
        started, before = time.monotonic(), procstat.sample(pids)
        figures = attack_by_code(targets, cfg.cpu_rate, cfg.cpu_writes / cfg.cpu_rate)
        after, seconds = procstat.sample(pids), time.monotonic() - started
    answered = int(figures["status_codes"].get("200", 0))
    per = procstat.per_write_ms(before, after, idle_per_s, seconds, answered)
    return {"writes": answered, "seconds": seconds, "per_write_ms": per, "attack": figures}


def sustained(cfg: WriteConfig, db: Database, api: str, event: Seeded) -> dict[str, Any]:
    def at(rate: float) -> dict[str, Any]:
        targets = put_targets(api, event, int(rate * cfg.ladder_s), int(rate))
        got = checked(db, event, lambda: attack_by_code(targets, rate, cfg.ladder_s), cfg.drain_s)
        if got["lost"] or not got["drained"]:
            got["success"] = 0.0  # something acknowledged did not make it: not sustained
        time.sleep(1)
        return got

    return ladder.climb(at, list(cfg.ladder), cfg.p99_ms, down_steps=0)


def overload(
    cfg: WriteConfig, db: Database, api: str, event: Seeded, best: float
) -> dict[str, Any]:
    rate = cfg.overload_factor * (best or cfg.ladder[-1])
    targets = put_targets(api, event, int(rate * cfg.overload_s), 5)
    got = checked(db, event, lambda: attack_by_code(targets, rate, cfg.overload_s), cfg.drain_s)
    refused = got["latency_by_code_ms"].get("503", {})
    ok = got["latency_by_code_ms"].get("200", {})
    return got | {"refused_p99_ms": refused.get("p99"), "accepted_p99_ms": ok.get("p99")}


def one_run(
    cfg: WriteConfig, db: Database, api: str, env: dict[str, str], ev: Seeded, i: int
) -> dict[str, Any]:
    pids = procstat.find(procstat.stack_ports(api, env))
    log(f"run {i + 1}: CPU per write at {cfg.cpu_rate:g}/s (processes {pids})")
    cpu = cpu_window(cfg, db, pids, api, ev, seed=i)
    log(f"run {i + 1}: CPU per write at {cfg.trickle_rate:g}/s")
    slow = replace(cfg, cpu_rate=cfg.trickle_rate, cpu_writes=cfg.trickle_writes)
    trickle = cpu_window(slow, db, pids, api, ev, seed=50 + i)
    log(f"run {i + 1}: the relay on its own")
    alone = relay_alone(cfg, db, pids, env, ev)
    log(f"run {i + 1}: the floor (bench.bare's PUT, one statement) at {cfg.cpu_rate:g}/s")
    floor = write_floor(cfg, env)
    latency = {}
    for rate in cfg.latency_rates:
        log(f"run {i + 1}: PUT latency at {rate:g}/s")
        targets = put_targets(api, ev, int(rate * cfg.latency_s), 100 + i)
        latency[f"{rate:g}"] = checked(
            db, ev, lambda t=targets, r=rate: attack_by_code(t, r, cfg.latency_s), cfg.drain_s
        )
    log(f"run {i + 1}: rate ladder {list(cfg.ladder)}")
    climb = sustained(cfg, db, api, ev)
    log(f"run {i + 1}: sustained {climb['max_sustainable']}/s; overload")
    over = overload(cfg, db, api, ev, climb["max_sustainable"])
    return {"cpu": cpu, "trickle": trickle, "relay": alone, "floor": floor, "latency": latency,
            "ladder": climb, "overload": over}  # fmt: skip


def summarize_runs(cfg: WriteConfig, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of the scenario: medians of the runs, [min, max] kept (pure)."""

    def cpu(path: str, name: str) -> dict[str, Any] | None:
        return spread([r[path]["per_write_ms"].get(name) for r in runs])

    def total(path: str) -> dict[str, Any] | None:
        per_run = [r[path]["per_write_ms"] for r in runs]
        return spread([sum(v for n in TOTALLED if (v := p.get(n)) is not None) for p in per_run])

    rates = {k for r in runs for k in r["latency"]}
    return {
        "cpu_rate": cfg.cpu_rate,
        "cpu_ms_per_write": {name: cpu("cpu", name) for name in (*TOTALLED, "soketi")},
        "cpu_total_ms_per_write": total("cpu"),
        "trickle_rate": cfg.trickle_rate,
        "trickle_ms_per_write": {name: cpu("trickle", name) for name in (*TOTALLED, "soketi")},
        "trickle_total_ms_per_write": total("trickle"),
        "relay_alone_ms_per_write": cpu("relay", "relay_alone"),
        "api_without_relay_ms_per_write": cpu("relay", "api_without_relay"),
        "floor_ms_per_write": cpu("floor", "floor"),
        "api_over_floor": spread([_ratio(r["cpu"], r["floor"]) for r in runs]),
        "put_latency": {k: aggregate([r["latency"][k] for r in runs]) for k in sorted(rates)},
        "max_sustainable": spread([r["ladder"]["max_sustainable"] for r in runs]),
        "overload": {
            "rate": spread([r["overload"]["rate"] for r in runs]),
            "refused_p99_ms": spread([r["overload"]["refused_p99_ms"] for r in runs]),
            "accepted_p99_ms": spread([r["overload"]["accepted_p99_ms"] for r in runs]),
            "lost": spread([r["overload"]["lost"] for r in runs]),
        },
        "lost": sum(max(0, x["lost"]) for r in runs for x in _checked_parts(r)),
    }


def _ratio(api: dict[str, Any], floor: dict[str, Any]) -> float | None:
    """The API's CPU per write (relay included) ÷ the floor's, in one run (pure)."""
    a, f = api["per_write_ms"].get("api"), floor["per_write_ms"].get("floor")
    return a / f if a is not None and f else None


def _checked_parts(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [run["cpu"]["attack"], run["trickle"]["attack"], run["relay"]["attack"],
            *run["latency"].values(),
            *run["ladder"]["points"], run["overload"]]  # fmt: skip


def write_capacity(
    cfg: WriteConfig, api: str, env: dict[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Seed the event, run the scenario ``cfg.runs`` times; (figures, raw runs)."""
    (event,) = asyncio.run(seed_all(api, (cfg.event,), seed=15))
    db = Database(env["DATABASE_URL"])
    runs = []
    for i in range(cfg.runs):
        runs.append(one_run(cfg, db, api, env, event, i))
    return summarize_runs(cfg, runs), runs
