"""The Markdown report of one bench run (pure: results dict in, text out)."""

from typing import Any

from bench.goals import GOALS, evaluate_all, lookup

# Supporting figures: (label, dotted path to a spread, unit).
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("bare endpoint p50 at the cached-GET rate", "floors.bare.at_rate.latency_ms.p50", "ms"),
    ("bare endpoint p99 at the cached-GET rate", "floors.bare.at_rate.latency_ms.p99", "ms"),
    ("bare endpoint max sustainable rate", "floors.bare.max_sustainable", "req/s"),
    ("Redis GET round trip p50", "floors.redis.latency_ms.p50", "ms"),
    ("Redis GET round trip p99", "floors.redis.latency_ms.p99", "ms"),
    ("SQL `select 1` round trip p50", "floors.sql.latency_ms.p50", "ms"),
    ("SQL `select 1` round trip p99", "floors.sql.latency_ms.p99", "ms"),
    ("cached GET p50", "scenarios.cached_get.at_rate.latency_ms.p50", "ms"),
    ("cached GET p95", "scenarios.cached_get.at_rate.latency_ms.p95", "ms"),
    ("cached GET p99", "scenarios.cached_get.at_rate.latency_ms.p99", "ms"),
    (
        "cached GET p99 from the actual send (vegeta's own figure)",
        "scenarios.cached_get.at_rate.sent_latency_ms.p99",
        "ms",
    ),
    ("cached GET throughput at rate", "scenarios.cached_get.at_rate.throughput", "req/s"),
    ("cached GET ÷ bare throughput at the same rate", "scenarios.cached_get.same_rate_ratio", "x"),
    ("cached GET max sustainable rate", "scenarios.cached_get.max_sustainable", "req/s"),
    ("cached GET CPU per request", "scenarios.cached_get.cpu_us", "µs"),
    ("bare endpoint CPU per request", "floors.bare.cpu_us", "µs"),
    ("cached GET hit ratio during the run", "scenarios.cached_get.hit_rate", ""),
    ("cache miss p50 (big event)", "scenarios.cache_miss.latency_ms.p50", "ms"),
    ("cache miss p99 (big event)", "scenarios.cache_miss.latency_ms.p99", "ms"),
    ("cache miss: share of reads that missed", "scenarios.cache_miss.miss_ratio", ""),
    ("PUT availability p50", "scenarios.put_availability.latency_ms.p50", "ms"),
    ("PUT availability p99", "scenarios.put_availability.latency_ms.p99", "ms"),
    ("90/10 mix p50", "scenarios.mix_90_10.latency_ms.p50", "ms"),
    ("90/10 mix p99", "scenarios.mix_90_10.latency_ms.p99", "ms"),
    ("90/10 mix hit rate", "scenarios.mix_90_10.hit_rate", ""),
    ("outbox commit → consumer p50", "scenarios.outbox.latency_ms.p50", "ms"),
    ("outbox commit → consumer p99", "scenarios.outbox.latency_ms.p99", "ms"),
    ("outbox: domain events received per run", "scenarios.outbox.received", "events"),
    ("freshness write → websocket p50", "scenarios.freshness.latency_ms.p50", "ms"),
    ("freshness write → websocket p99", "scenarios.freshness.latency_ms.p99", "ms"),
    ("freshness: writes whose update arrived", "scenarios.freshness.received", "writes"),
    ("notifier burst: Pusher HTTP calls", "scenarios.notifier_batching.calls", "calls"),
    (
        "notifier burst: client ended on the final version",
        "scenarios.notifier_batching.ends_on_final",
        "",
    ),
    ("large event: recompute GET p50", "scenarios.large_event.recompute_get.p50", "ms"),
    (
        "large event: share of those GETs the API rebuilt",
        "scenarios.large_event.recompute_share",
        "",
    ),
    (
        "large event: those GETs' builds from the API's own write (no SQL)",
        "scenarios.large_event.recompute_api.own_builds",
        "builds",
    ),
    (
        "large event: those GETs' builds in full (not a delta)",
        "scenarios.large_event.recompute_api.full_builds",
        "builds",
    ),
    (
        "large event: API GC pauses during those GETs",
        "scenarios.large_event.recompute_api.gc_pause_s",
        "s",
    ),
    ("large event: PUT → worker's view p50", "scenarios.large_event.put_to_worker_view.p50", "ms"),
    (
        "large event: worker views not seen in time",
        "scenarios.large_event.worker_views_missing",
        "samples",
    ),
    ("large event: cached GET p50", "scenarios.large_event.cached_get.p50", "ms"),
    ("large event: view size", "scenarios.large_event.view_bytes", "bytes"),
    ("large event: view in Redis (MEMORY USAGE)", "scenarios.large_event.redis_bytes", "bytes"),
    ("worker drain rate, 1 consumer", "scenarios.worker_scaling.throughput_1", "msg/s"),
    ("worker drain rate, scaled out", "scenarios.worker_scaling.throughput_n", "msg/s"),
    ("quota-held worker drain rate, 1", "scenarios.worker_scaling_quota.throughput_1", "msg/s"),
    ("quota-held drain rate, scaled out", "scenarios.worker_scaling_quota.throughput_n", "msg/s"),
    ("quota-held: ordering per event kept", "scenarios.worker_scaling_quota.order_kept", ""),
    (
        "quota-held: periods throttled, 1 worker",
        "scenarios.worker_scaling_quota.throttled_share_1",
        "",
    ),
    (
        "quota-held: periods throttled, scaled out",
        "scenarios.worker_scaling_quota.throttled_share_n",
        "",
    ),
)


def fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    if unit == "" and 0 <= x <= 1:
        return f"{x * 100:.1f}%"
    if unit.startswith("x"):
        return f"{x:.2f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def fmt_spread(spread: dict[str, Any] | None, unit: str = "") -> str:
    if not spread:
        return "-"
    mid = fmt(spread["median"], unit)
    u = f" {unit}" if unit else ""
    if spread["min"] == spread["max"]:
        return f"{mid}{u}"
    return f"{mid}{u} [{fmt(spread['min'], unit)}-{fmt(spread['max'], unit)}]"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    rows = results.get("targets") or evaluate_all(results)
    lines = [
        f"# Overlap bench — {meta.get('started', '?')}",
        "",
        f"Machine: {meta.get('machine', '?')}; load average (1/5/15 min) "
        f"{meta.get('loadavg_start', '?')} at the start, {meta.get('loadavg_end', '?')} at the "
        f"end. Mode: {meta.get('mode', '?')}; "
        f"each figure is the median of {meta.get('runs', '?')} run(s), [min-max] beside it. "
        "Load is open-loop (vegeta, constant rate); latency is counted from the intended "
        "send time.",
        "",
        "## DESIGN.md §8 targets",
        "",
        "| § | target | measured | floor ratio | status | how |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = row.get("floor_ratio")
        floor = f"{ratio:.1f}x {row['floor_name']}" if ratio is not None else "-"
        lines.append(
            "| "
            + " | ".join(
                cell(c)
                for c in (
                    row["section"],
                    row["target"],
                    fmt_spread(row.get("value"), row.get("unit", "")),
                    floor,
                    f"**{row['status']}**" if row["status"] != "met" else "met",
                    row.get("note", ""),
                )
            )
            + " |"
        )
    lines += ["", "## Floors and supporting figures", "", "| figure | value |", "|---|---|"]
    for label, path, unit in FIGURES:
        spread = lookup(results, path)
        if isinstance(spread, dict) and "median" in spread:
            lines.append(f"| {cell(label)} | {fmt_spread(spread, unit)} |")
    notes = meta.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    plots = meta.get("plots") or []
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def target_ids() -> list[str]:
    return [g.id for g in GOALS]
