"""PNG plots of a run: latency percentiles per scenario, throughput against offered rate.

Needs matplotlib (a dev dependency); without it the plots are skipped with a warning.
"""

from pathlib import Path
from typing import Any

from bench.goals import lookup

LATENCY = (
    ("bare", "floors.bare.at_rate.latency_ms"),
    ("cached GET", "scenarios.cached_get.at_rate.latency_ms"),
    ("cache miss", "scenarios.cache_miss.latency_ms"),
    ("PUT", "scenarios.put_availability.latency_ms"),
    ("90/10 mix", "scenarios.mix_90_10.latency_ms"),
    ("outbox→Kafka", "scenarios.outbox.latency_ms"),
)


def write_plots(results: dict[str, Any], prefix: Path) -> list[Path]:
    """``<prefix>-latency.png`` and ``<prefix>-throughput.png``; none without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("[bench] warning: matplotlib is not installed; skipping the PNG plots")
        return []
    written = []
    for name, size, draw in (
        ("latency", (9, 4.5), latency_bars),
        ("throughput", (7, 4.5), throughput_lines),
    ):
        fig, ax = plt.subplots(figsize=size)
        draw(ax, results)
        ax.legend()
        fig.tight_layout()
        path = prefix.with_name(f"{prefix.name}-{name}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def latency_bars(ax: Any, results: dict[str, Any]) -> None:
    """p50, p95 and p99 of each scenario: the median of the runs, min-max as error bars."""
    width = 0.25
    names = [n for n, p in LATENCY if lookup(results, p)]
    for j, q in enumerate(("p50", "p95", "p99")):
        mids: list[float] = []
        errs: list[list[float]] = [[], []]
        for name, where in LATENCY:
            s = (lookup(results, where) or {}).get(q)
            if name not in names:
                continue
            mid = s["median"] if s else 0.0
            mids.append(mid)
            errs[0].append(mid - s["min"] if s else 0.0)
            errs[1].append(s["max"] - mid if s else 0.0)
        xs = [i + (j - 1) * width for i in range(len(names))]
        ax.bar(xs, mids, width, yerr=errs, capsize=3, label=q)
    ax.set_xticks(range(len(names)), names)
    ax.set_yscale("log")
    ax.set_ylabel("latency, ms (median of runs; bars: min-max)")
    ax.set_title("Latency percentiles per scenario (open-loop, from intended send time)")


def throughput_lines(ax: Any, results: dict[str, Any]) -> None:
    """Each run's ladder of the bare endpoint and the cached GET: achieved against offered."""
    top, marked = 0.0, False
    for label, key in (("bare endpoint", "floors.bare"), ("cached GET", "scenarios.cached_get")):
        for i, run in enumerate(lookup(results, f"{key}.ladder_runs") or []):
            pts = run["points"]
            xs, ys = [p["rate"] for p in pts], [p["throughput"] for p in pts]
            top = max([top, *xs])
            ax.plot(xs, ys, "o-", color="C0" if key == "floors.bare" else "C1", alpha=0.7,
                    label=label if i == 0 else None)  # fmt: skip
            bad = [(p["rate"], p["throughput"]) for p in pts if not p.get("sustainable", True)]
            if bad:
                ax.plot(*zip(*bad, strict=True), "x", color="red", markersize=10,
                        label="not sustainable" if not marked else None)  # fmt: skip
                marked = True
    ax.plot([0, top], [0, top], "k:", label="offered = achieved")
    ax.set_xlabel("offered rate, req/s")
    ax.set_ylabel("achieved throughput, req/s")
    ax.set_title("Throughput against offered rate (each run's ladder)")
