"""The capacity model of deploy/CAPACITY.md: per-core figures taken from a bench report, and
how many of each part a load needs. Pure functions; ``make bench`` prints the figures
(``section``), and CAPACITY.md's tables are this model applied to a named report.

A figure is "per core": the work one CPU core does in a second, from the CPU the bench
measured per item in one process (``/proc/<pid>/stat``). One Python process uses at most
one core, so a per-core figure is also a per-process ceiling.
"""

import math
from dataclasses import dataclass
from typing import Any

# Plan each part to this share of its cores: room for bursts, GC and rebalances.
UTILIZATION = 0.6
# Reads per write when a load gives writes only: DESIGN.md's 90/10 read/write mix.
READS_PER_WRITE = 9.0

# name -> (what one item is, path in the report's "scenarios", unit of the figure there)
SOURCES: dict[str, tuple[str, str, str]] = {
    "api_cached_read": ("cached GET", "cached_get.cpu_us", "us"),
    "api_miss": ("GET that rebuilds the view (p50 latency, an upper bound of its CPU)",
                 "cache_miss.latency_ms.p50", "ms"),
    "api_write": ("PUT availability, API without the relay",
                  "write_capacity.api_without_relay_ms_per_write", "ms"),
    "relay": ("outbox row relayed to Kafka", "write_capacity.relay_alone_ms_per_write", "ms"),
    "availability": ("write's domain message", "write_capacity.cpu_ms_per_write.availability",
                     "ms"),
    "invalidator": ("write's domain message", "write_capacity.cpu_ms_per_write.invalidator",
                    "ms"),
    "notifier": ("write's two messages (domain + view)",
                 "write_capacity.cpu_ms_per_write.notifier", "ms"),
    "postgres": ("write", "write_capacity.cpu_ms_per_write.postgres", "ms"),
    "redis": ("write (view CAS, tags, channel)", "write_capacity.cpu_ms_per_write.redis", "ms"),
    "kafka": ("write (two topics)", "write_capacity.cpu_ms_per_write.kafka", "ms"),
}  # fmt: skip


def lookup(node: Any, path: str) -> float | None:
    """The median (or the plain number) at ``path`` ("a.b.c"), None when absent."""
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node = node.get("median")
    return float(node) if isinstance(node, int | float) and node > 0 else None


def per_core(results: dict[str, Any]) -> dict[str, float | None]:
    """Items per second one core handles, for each part (None: not measured in this run).

    The write figures are CPU per write at the bench's first CPU window (120 writes/s),
    where each poll and batch carries a few messages: upper bounds of the cost under load.
    The availability worker is also measured draining a backlog under a CPU quota
    (``availability_backlog``: messages/s of one process held to ``cpus`` of a core, divided
    by ``cpus``)."""
    scenarios = results.get("scenarios", {})
    out: dict[str, float | None] = {}
    for name, (_, path, unit) in SOURCES.items():
        cost = lookup(scenarios, path)
        out[name] = None if cost is None else (1e6 if unit == "us" else 1e3) / cost
    quota = scenarios.get("worker_scaling_quota", {})
    drained, cpus = lookup(quota, "throughput_1"), lookup(quota, "cpus")
    out["availability_backlog"] = None if drained is None or cpus is None else drained / cpus
    return out


def view_memory(results: dict[str, Any]) -> dict[str, float | None]:
    """The large event's view: its JSON bytes and what Redis reports for its key."""
    large = results.get("scenarios", {}).get("large_event", {})
    return {
        "view_bytes": lookup(large, "view_bytes"),
        "redis_bytes": lookup(large, "redis_bytes"),
    }


def section(results: dict[str, Any]) -> list[str]:
    """Markdown lines for the bench report: the per-core figures the capacity model uses."""
    figures = per_core(results)
    lines = ["", "## Capacity figures (per core; deploy/CAPACITY.md)", "",
             "| part | one item | items/s per core |", "|---|---|---|"]  # fmt: skip
    rows = [(name, what) for name, (what, _, _) in SOURCES.items()]
    rows.append(("availability_backlog", "domain message, draining a backlog (quota-held)"))
    for name, what in rows:
        value = figures[name]
        lines.append(f"| {name} | {what} | {'-' if value is None else f'{value:,.0f}'} |")
    memory = view_memory(results)
    if memory["redis_bytes"]:
        lines.append(
            f"| redis memory | the large event's view | {memory['redis_bytes'] / 1024:,.0f} KiB"
            f" in Redis for {(memory['view_bytes'] or 0) / 1024:,.0f} KiB of JSON |"
        )
    return lines


def printed(results: dict[str, Any]) -> list[str]:
    """:func:`section`, printed too (``make bench`` shows it at the end of its run)."""
    lines = section(results)
    print("\n".join(lines), flush=True)
    return lines


@dataclass(frozen=True)
class Load:
    """What to plan for."""

    events: int  # active events (their views kept in Redis)
    writes_per_s: float
    reads_per_write: float = READS_PER_WRITE
    view_ttl_s: float = 30.0  # CACHE_TTL_AVAILABILITY: each active event misses once a TTL
    view_redis_bytes: float = 20_000  # Redis memory of one typical event (CAPACITY.md)

    @property
    def reads_per_s(self) -> float:
        return self.writes_per_s * self.reads_per_write

    @property
    def misses_per_s(self) -> float:
        """At most one miss per active event per view TTL, and never more than the reads."""
        return min(self.reads_per_s, self.events / self.view_ttl_s)


def cores(work_per_s: float, per_core_rate: float | None) -> float | None:
    return None if per_core_rate is None else work_per_s / per_core_rate


def processes(core_need: float | None) -> int | None:
    """Processes (one core each at most) to run ``core_need`` cores at UTILIZATION."""
    return None if core_need is None else max(1, math.ceil(core_need / UTILIZATION))


def plan(figures: dict[str, float | None], load: Load) -> dict[str, Any]:
    """How many of each part ``load`` needs, from per-core ``figures`` (pure)."""
    hits = load.reads_per_s - load.misses_per_s
    api_parts = [
        cores(hits, figures["api_cached_read"]),
        cores(load.misses_per_s, figures["api_miss"]),
        cores(load.writes_per_s, figures["api_write"]),
    ]
    api = None if None in api_parts else sum(p for p in api_parts if p is not None)
    need: dict[str, Any] = {"api": processes(api)}
    for part in ("relay", "invalidator", "notifier"):
        need[part] = processes(cores(load.writes_per_s, figures[part]))
    # Under load the availability worker drains batches: its backlog figure when measured.
    drain = figures["availability_backlog"] or figures["availability"]
    need["availability"] = processes(cores(load.writes_per_s, drain))
    need["availability_one_at_a_time"] = processes(
        cores(load.writes_per_s, figures["availability"])
    )
    workers = [n for p in ("availability", "invalidator", "notifier") if (n := need[p])]
    need["kafka_partitions"] = 2 ** math.ceil(math.log2(max([8, *workers]) * 2))
    for part in ("postgres", "redis", "kafka"):  # cores at UTILIZATION, not processes
        used = cores(load.writes_per_s, figures[part])
        need[f"{part}_cores"] = None if used is None else used / UTILIZATION
    need["redis_memory_gb"] = load.events * load.view_redis_bytes / 1e9
    need["misses_per_s"] = load.misses_per_s
    need["reads_per_s"] = load.reads_per_s
    return need
