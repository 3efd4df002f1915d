"""The bench harness end to end, in seconds: `python -m bench --smoke` against a real API.

No thresholds (timings on a shared 2-core machine mean nothing here): it checks that the
harness runs, that its JSON has the expected structure, and that the report lists every
target of DESIGN.md §8.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.goals import GOALS, MET, NOT_MEASURED, NOT_MET
from tests.conftest import Services
from tests.servers import ROOT, api_process


@pytest.mark.timeout(600)  # every scenario once; the write scenario starts an API of its own
def test_bench_smoke_run_writes_the_report(
    services: Services, migrated: str, tmp_path: Path
) -> None:
    # A Redis database of its own: workers of a `make run` stack share Kafka with the tests
    # and bury (tombstone) views of events missing from *their* database, in Redis db 0.
    redis_url = urlsplit(services.redis_url)._replace(path="/13").geturl()
    env = {
        "DATABASE_URL": services.database_url,
        "REDIS_URL": redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": services.kafka_bootstrap_servers,
        "ENVIRONMENT": "test",
        "RATE_LIMITS_ENABLED": "false",  # the bench is one client seeding many events
    }
    with api_process(env) as url:
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--smoke", "--no-start", "--api", url,
             "--out", str(tmp_path)],
            env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, timeout=420,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    (result,) = tmp_path.glob("bench-*.json")
    data = json.loads(result.read_text())
    assert {"meta", "floors", "scenarios", "targets", "raw"} <= set(data)
    assert data["meta"]["mode"] == "smoke" and data["meta"]["runs"] == 1
    for floor in ("bare", "redis", "sql"):
        assert floor in data["floors"], floor
    assert data["floors"]["redis"]["latency_ms"]["p99"]["median"] > 0
    cached = data["scenarios"]["cached_get"]
    assert cached["at_rate"]["latency_ms"]["p99"]["median"] > 0
    assert cached["at_rate"]["success"]["median"] > 0
    assert cached["ladder_runs"] and cached["ladder_runs"][0]["points"]
    # A smoke run answers too few requests for /proc's 10 ms ticks: one tick either way is
    # ±1,000 µs a request, so the figure must be there, not of any size (make bench sizes it).
    assert "cpu_ratio" in cached
    assert isinstance(data["floors"]["bare"]["cpu_us"]["median"], float)
    large = data["scenarios"]["large_event"]
    assert large["event"]["timezone"] == "America/New_York"
    assert large["recompute_get"]["p99"]["median"] > 0 and large["best_times"]["p50"]["median"] > 0
    for name in ("cache_miss", "put_availability", "mix_90_10", "hot_key_expiry", "outbox"):
        assert name in data["scenarios"], name
    for key in ("median", "min", "max", "runs"):
        assert key in data["scenarios"]["put_availability"]["latency_ms"]["p99"]
    # The realtime path of this test's API runs through the shared stack's workers (another
    # database), so only the structure is checked; failures are recorded, not raised.
    fresh, burst = data["scenarios"]["freshness"], data["scenarios"]["notifier_batching"]
    assert {"latency_ms", "received", "writes"} <= set(fresh)
    assert {"calls_per_update", "calls", "ends_on_final"} <= set(burst)
    assert len(data["raw"]["freshness"]) == len(data["raw"]["notifier"]) == 1
    scaling = data["scenarios"]["worker_scaling"]
    assert {"throughput_1", "throughput_n", "ratio", "order_kept", "all_drained"} <= set(scaling)
    assert scaling["consumers"] == [1, 2]
    assert [r["consumers"] for r in data["raw"]["workers"]] == [1, 2]
    assert scaling["all_drained"], data["raw"]["workers"]  # private topics: our workers only
    assert scaling["order_kept"]["median"] == 1.0
    assert scaling["settled"], data["raw"]["workers"]  # an even split, before and after
    one, two = (r["split"] for r in data["raw"]["workers"])
    assert list(one.values()) == [list(range(8))]
    assert sorted(len(partitions) for partitions in two.values()) == [4, 4]

    writes = data["scenarios"]["write_capacity"]
    # Each process's pid found and its CPU read, not necessarily above 0: a smoke run has
    # few writes, CPU counts in 10 ms ticks, and the idle burn taken off can round it to 0.
    for figure in (
        writes["cpu_ms_per_write"]["api"],
        writes["cpu_ms_per_write"]["postgres"],
        writes["trickle_ms_per_write"]["api"],
        writes["relay_alone_ms_per_write"],
        writes["floor_ms_per_write"],
    ):
        assert isinstance(figure["median"], float) and figure["median"] >= 0, figure
    assert set(writes["put_latency"]) == {"50", "100"}
    assert writes["lost"] == 0  # every acknowledged write is in PostgreSQL and relayed
    assert writes["max_sustainable"]["median"] >= 0
    assert "## Write capacity" in (tmp_path / result.name).with_suffix(".md").read_text()

    rows = {row["id"]: row for row in data["targets"]}
    assert list(rows) == [g.id for g in GOALS]
    assert all(r["status"] in (MET, NOT_MET, NOT_MEASURED) for r in rows.values())
    assert rows["cached_get_p99"]["status"] != NOT_MEASURED  # measured, whatever the verdict

    (report,) = tmp_path.glob("bench-*.md")
    text = report.read_text()
    for goal in GOALS:
        assert goal.target.replace("|", "\\|") in text, goal.id
