"""The capacity model: per-core figures from a report, and the parts a load needs."""

from typing import Any

from bench.capacity import Load, per_core, plan, section


def spread(median: float) -> dict[str, Any]:
    return {"median": median, "min": median, "max": median, "runs": [median]}


RESULTS: dict[str, Any] = {
    "scenarios": {
        "cached_get": {"cpu_us": spread(250.0)},
        "cache_miss": {"latency_ms": {"p50": spread(10.0)}},
        "write_capacity": {
            "api_without_relay_ms_per_write": spread(1.0),
            "relay_alone_ms_per_write": spread(0.25),
            "cpu_ms_per_write": {
                "availability": spread(0.5),
                "invalidator": spread(0.2),
                "notifier": spread(0.4),
                "postgres": spread(0.8),
                "redis": spread(0.05),
                "kafka": spread(0.3),
            },
        },
        "large_event": {"view_bytes": 575_000, "redis_bytes": 670_000},
        "worker_scaling_quota": {"throughput_1": spread(1_000.0), "cpus": 0.25},
    }
}


def test_per_core_is_the_inverse_of_the_cpu_per_item() -> None:
    figures = per_core(RESULTS)
    assert figures["api_cached_read"] == 4_000
    assert figures["api_miss"] == 100
    assert figures["relay"] == 4_000
    assert figures["redis"] == 20_000
    assert figures["availability_backlog"] == 4_000  # 1,000 msg/s on a quarter of a core


def test_a_figure_the_run_lacks_is_none_and_shows_as_a_dash() -> None:
    figures = per_core({"scenarios": {}})
    assert set(figures.values()) == {None}
    assert all(line.endswith("| - |") for line in section({"scenarios": {}})[5:])


def test_the_plan_counts_processes_at_the_planned_utilization() -> None:
    load = Load(events=100_000, writes_per_s=5_000, view_ttl_s=100)
    need = plan(per_core(RESULTS), load)
    assert need["misses_per_s"] == 1_000  # one per active event per TTL
    # hits 44,000/4,000 + misses 1,000/100 + writes 5,000/1,000 = 26 cores, at 60%: 44
    assert need["api"] == 44
    assert need["relay"] == 3  # 1.25 cores: more than the one relay that runs today
    assert need["availability"] == 3  # 1.25 cores at the backlog rate
    assert need["availability_one_at_a_time"] == 5  # 2.5 cores
    assert need["notifier"] == 4  # 2 cores
    assert need["kafka_partitions"] == 16  # twice the most consumers of one group, power of 2
    assert need["postgres_cores"] == 5_000 / 1_250 / 0.6
    assert need["redis_memory_gb"] == 100_000 * 20_000 / 1e9


def test_the_report_section_names_every_part() -> None:
    text = "\n".join(section(RESULTS))
    for part in ("api_cached_read", "relay", "availability", "postgres", "redis memory"):
        assert part in text
