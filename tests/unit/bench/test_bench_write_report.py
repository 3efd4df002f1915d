"""The write-capacity figures: two CPU windows summarised, judged at the first one's rate."""

from typing import Any

from bench.write_capacity import FULL, summarize_runs
from bench.write_report import render_section


def window(api: float, postgres: float) -> dict[str, Any]:
    return {"per_write_ms": {"api": api, "postgres": postgres}, "attack": {"lost": 0}}


def run(api: float, trickle_api: float) -> dict[str, Any]:
    point = {"lost": 0, "latency_ms": {"p50": 3.0, "p99": 8.0}}
    return {
        "cpu": window(api, 1.0),
        "trickle": window(trickle_api, 2.0),
        "relay": {
            "per_write_ms": {"relay_alone": 0.3, "api_without_relay": 1.2},
            "attack": {"lost": 0},
        },
        "floor": {"per_write_ms": {"floor": 0.5}, "attack": {}},
        "latency": {"50": point, "100": point},
        "ladder": {"max_sustainable": 600, "points": [point]},
        "overload": {"rate": 1800, "refused_p99_ms": 40.0, "accepted_p99_ms": 60.0, "lost": 0},
    }


def test_both_windows_are_summed_and_the_targets_read_the_first() -> None:
    figures = summarize_runs(FULL, [run(1.4, 2.4), run(1.6, 2.6), run(1.5, 3.0)])
    assert figures["cpu_total_ms_per_write"]["median"] == 2.5  # api 1.5 + postgres 1.0
    assert figures["trickle_total_ms_per_write"]["median"] == 4.6  # api 2.6 + postgres 2.0
    assert figures["trickle_ms_per_write"]["api"]["runs"] == [2.4, 2.6, 3.0]
    lines = render_section(figures)
    assert "| total CPU per write, every process, at 120/s | 2.5 ms [2.4-2.6] | ≤ 4 ms | met |" in (
        lines
    )
    assert "| API CPU per PUT, relay included, at 120/s | 1.5 ms [1.4-1.6] | ≤ 1.5 ms | met |" in (
        lines
    )
    assert "| process | CPU ms per write at 120/s | at 50/s |" in lines
    assert "| api | 1.5 ms [1.4-1.6] | 2.6 ms [2.4-3] |" in lines
    assert figures["api_over_floor"]["runs"] == [2.8, 3.2, 3.0]  # api ÷ the floor's 0.5 ms
    assert "The API's CPU per PUT, relay included, is 3 [2.8-3.2] times the floor's at 120/s" in (
        " ".join(lines)
    )
