"""The write-capacity section of the bench report, and the scenario run on its own:
``python -m bench.write_report [--smoke] [--api URL] [--out DIR]``."""

import argparse
import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import stack
from bench.report import fmt_spread
from bench.write_capacity import FULL, SMOKE, TOTALLED, write_capacity

# (label, figure, target, met when the median is at or below (True) / above (False)). The CPU
# figures are judged at the first CPU window's rate (120/s: the rate of issue #15's "before").
TARGETS = (
    ("total CPU per write, every process, at {rate:g}/s", "cpu_total_ms_per_write", 4.0, True,
     "ms"),
    ("API CPU per PUT, relay included, at {rate:g}/s", "cpu_ms_per_write.api", 1.5, True, "ms"),
    ("highest sustained write rate (p99 ≤ 50 ms, none lost)", "max_sustainable", 450, False,
     "req/s"),
    ("PUT p99 at 50 req/s", "put_latency.50.latency_ms.p99", 10.0, True, "ms"),
    ("PUT p99 at 100 req/s", "put_latency.100.latency_ms.p99", 20.0, True, "ms"),
    ("overload at 3x: refusals answered (p99)", "overload.refused_p99_ms", 100.0, True, "ms"),
    ("overload at 3x: accepted PUTs (p99, as a sustained rate's)", "overload.accepted_p99_ms",
     50.0, True, "ms"),
)  # fmt: skip


def lookup(figures: dict[str, Any], path: str) -> Any:
    node: Any = figures
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def verdict(value: dict[str, Any] | None, bound: float, at_most: bool) -> str:
    if not value:
        return "not measured"
    ok = value["median"] <= bound if at_most else value["median"] >= bound
    return "met" if ok else "**not met**"


def render_section(figures: dict[str, Any] | None) -> list[str]:
    """Markdown lines of the write-capacity figures (pure; empty when it did not run)."""
    if not figures:
        return []
    lines = ["", "## Write capacity (one event, 50 x 7 days x 32 slots)", "",
             "| target | measured | target | status |", "|---|---|---|---|"]  # fmt: skip
    fast, slow = figures["cpu_rate"], figures["trickle_rate"]
    for label, path, bound, at_most, unit in TARGETS:
        value = lookup(figures, path)
        sign = "≤" if at_most else "≥"
        lines.append(
            f"| {label.format(rate=fast)} | {fmt_spread(value, unit)} | {sign} {bound:g} {unit} | "
            f"{verdict(value, bound, at_most)} |"
        )
    lines += ["", f"| process | CPU ms per write at {fast:g}/s | at {slow:g}/s |", "|---|---|---|"]
    for name, value in figures["cpu_ms_per_write"].items():
        lines.append(f"| {name}{'' if name in TOTALLED else ' (not in the total)'} | "
                     f"{fmt_spread(value, 'ms')} | "
                     f"{fmt_spread(figures['trickle_ms_per_write'][name], 'ms')} |")  # fmt: skip
    lines += [
        f"| **total** | {fmt_spread(figures['cpu_total_ms_per_write'], 'ms')} | "
        f"{fmt_spread(figures['trickle_total_ms_per_write'], 'ms')} |",
        f"| relay on its own | {fmt_spread(figures['relay_alone_ms_per_write'], 'ms')} | |",
        f"| API without the relay | {fmt_spread(figures['api_without_relay_ms_per_write'], 'ms')}"
        " | |",
        f"| floor: `bench/bare.py`'s PUT, one pooled statement, no app work (not in the total) | "
        f"{fmt_spread(figures.get('floor_ms_per_write'), 'ms')} | |",
        "",
        f"The API's CPU per PUT, relay included, is {fmt_spread(figures.get('api_over_floor'))} "
        f"times the floor's at {fast:g}/s (the machine's speed moves both).",
        "",
        f"PUT p50 at 50 / 100 req/s: "
        f"{fmt_spread(lookup(figures, 'put_latency.50.latency_ms.p50'), 'ms')} / "
        f"{fmt_spread(lookup(figures, 'put_latency.100.latency_ms.p50'), 'ms')}; overload at "
        f"{fmt_spread(lookup(figures, 'overload.rate'), 'req/s')}: accepted p99 "
        f"{fmt_spread(lookup(figures, 'overload.accepted_p99_ms'), 'ms')}; acknowledged "
        f"writes lost over the scenario: {figures['lost']}.",
    ]
    return lines


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.write_report", description=__doc__)
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('API_PORT', '8000')}")
    p.add_argument("--out", type=Path, default=Path("results"))
    p.add_argument("--runs", type=int)
    p.add_argument("--cpu-rate", type=float, help="writes/s of the CPU window (below saturation)")
    a = p.parse_args()
    cfg = SMOKE if a.smoke else FULL
    if a.runs:
        cfg = dataclasses.replace(cfg, runs=a.runs)
    if a.cpu_rate:
        cfg = dataclasses.replace(cfg, cpu_rate=a.cpu_rate, cpu_writes=int(a.cpu_rate * 15))
    env = stack.local_env()
    stack.ensure_stack(a.api, env, start=False)
    load = [round(x, 2) for x in os.getloadavg()]
    figures, raw = write_capacity(cfg, a.api.rstrip("/"), env)
    load_end = [round(x, 2) for x in os.getloadavg()]
    a.out.mkdir(parents=True, exist_ok=True)
    name = a.out / f"writes-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    doc = {"loadavg_start": load, "loadavg_end": load_end, "figures": figures, "raw": raw}
    name.with_suffix(".json").write_text(json.dumps(doc, indent=2, default=str))
    text = "\n".join(render_section(figures)) + f"\n\nLoad average {load} → {load_end}.\n"
    name.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
