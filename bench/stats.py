"""Percentiles and the median-of-runs aggregation (pure)."""

import math
import statistics
from collections.abc import Sequence
from typing import Any

PERCENTILES = (50, 90, 95, 99)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty sequence."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got {q}")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summarize(values: Sequence[float]) -> dict[str, float]:
    """p50/p90/p95/p99/max/mean of latencies (same unit as the input)."""
    if not values:
        return {}
    out = {f"p{q}": percentile(values, q) for q in PERCENTILES}
    out["max"] = max(values)
    out["mean"] = statistics.fmean(values)
    return out


def spread(values: Sequence[float | None]) -> dict[str, Any] | None:
    """Median, min and max of one figure over several runs (None values are skipped)."""
    got = [float(v) for v in values if v is not None]
    if not got:
        return None
    return {"median": statistics.median(got), "min": min(got), "max": max(got), "runs": got}


def aggregate(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per-key spread of the numeric fields that the runs share (nested one level)."""
    out: dict[str, Any] = {}
    if not runs:
        return out
    for key, first in runs[0].items():
        if isinstance(first, bool) or first is None:
            continue
        if isinstance(first, int | float):
            out[key] = spread([r.get(key) for r in runs])
        elif isinstance(first, dict):
            inner = {
                k: spread([(r.get(key) or {}).get(k) for r in runs])
                for k, v in first.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
            out[key] = {k: v for k, v in inner.items() if v is not None}
    return out


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
