from hypothesis import given
from hypothesis import strategies as st
from overlap_api.http.monitoring import Monitor, percentile, record_request, summary
from prometheus_client import REGISTRY


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99
    assert percentile(values, 100) == 100 and percentile([], 50) == 0


@given(st.lists(st.floats(min_value=0, max_value=10), min_size=1, max_size=200))
def test_summary_is_ordered(values: list[float]) -> None:
    s = summary(values)
    assert s["count"] == len(values)
    assert s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"] <= max(values) * 1000 + 0.001  # rounding


def test_monitor_keeps_sql_counts_per_request() -> None:
    m = Monitor()
    m.record("GET /x", 0.001, 1)
    m.record("GET /x", 0.002, 0)
    assert m.sql_per_request() == {"mean": 0.5, "max": 1, "requests": 2}
    assert m.routes()["GET /x"]["count"] == 2


def test_each_request_lands_in_its_own_labelled_series() -> None:
    def count(status: str) -> float:
        labels = {"method": "PUT", "route": "/unit/{x}", "status": status}
        return REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) or 0.0

    before = count("200"), count("503")
    m = Monitor()
    for status in (200, 200, 503):  # the children are resolved once, then reused
        record_request(m, "PUT", "/unit/{x}", status, 0.004, 1)
    assert (count("200"), count("503")) == (before[0] + 2, before[1] + 1)
    assert m.routes()["PUT /unit/{x}"]["count"] == 3
