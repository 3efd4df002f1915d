"""Percentiles and the median-of-runs aggregation of the bench harness."""

import pytest

from bench.large import api_work
from bench.stats import aggregate, percentile, ratio, spread, summarize


def test_percentile_interpolates_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile([5.0], 99) == 5.0


def test_percentile_refuses_no_values_and_bad_q() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summarize_has_the_percentiles_max_and_mean() -> None:
    s = summarize([float(i) for i in range(1, 101)])
    assert set(s) == {"p50", "p90", "p95", "p99", "max", "mean"}
    assert s["p99"] == pytest.approx(99.01)
    assert s["max"] == 100.0
    assert summarize([]) == {}


def test_spread_is_median_min_max_and_skips_missing_runs() -> None:
    assert spread([3.0, 1.0, None, 2.0]) == {
        "median": 2.0,
        "min": 1.0,
        "max": 3.0,
        "runs": [3.0, 1.0, 2.0],
    }
    assert spread([None, None]) is None


def test_aggregate_spreads_numbers_and_one_level_of_dicts() -> None:
    runs = [
        {"rate": 10, "ok": True, "latency_ms": {"p99": 5.0}, "name": "a"},
        {"rate": 10, "ok": False, "latency_ms": {"p99": 7.0}, "name": "b"},
        {"rate": 10, "ok": True, "latency_ms": {"p99": 6.0}, "name": "c"},
    ]
    out = aggregate(runs)
    assert out["rate"]["median"] == 10
    assert out["latency_ms"]["p99"] == {"median": 6.0, "min": 5.0, "max": 7.0, "runs": [5, 7, 6]}
    assert "ok" not in out and "name" not in out


def test_ratio_is_none_without_a_denominator() -> None:
    assert ratio(1.0, 2.0) == 0.5
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 2.0) is None


def test_the_api_work_counts_a_build_kind_first_seen_in_between_from_zero() -> None:
    before = {'view_rebuilds_total{how="full"}': 1.0, "gc_pause_seconds_count": 4.0,
              "gc_pause_seconds_sum": 0.5}  # fmt: skip
    after = {'view_rebuilds_total{how="full"}': 2.0, 'view_rebuilds_total{how="own"}': 9.0,
             "gc_pause_seconds_count": 5.0, "gc_pause_seconds_sum": 0.75}  # fmt: skip
    assert api_work(before, after) == {"own_builds": 9.0, "delta_builds": 0.0,
                                       "full_builds": 1.0, "gc_pauses": 1.0,
                                       "gc_pause_s": 0.25}  # fmt: skip
