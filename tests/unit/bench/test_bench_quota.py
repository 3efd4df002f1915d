"""CPU quotas of the bench's workers: the arithmetic, and a real cgroup when there is one."""

import os
import subprocess
import sys
import time
from pathlib import Path

from bench import quota
from bench.config import SMOKE
from bench.scaleout import quota_note
from bench.workers import throttled_share


def test_quota_is_cpus_times_the_period_with_the_kernel_minimum() -> None:
    assert quota.quota_us(0.25) == 25_000
    assert quota.quota_us(2) == 200_000
    assert quota.quota_us(0.001) == 1_000


def test_cpu_stat_and_the_throttled_share() -> None:
    before = quota.throttled("nr_periods 10\nnr_throttled 2\nthrottled_time 5\n")
    after = quota.throttled("nr_periods 30\nnr_throttled 12\nthrottled_time 9\n")
    assert before == {"nr_periods": 10, "nr_throttled": 2, "throttled_time": 5}
    assert throttled_share(before, after) == 0.5
    assert throttled_share(after, after) is None


def test_no_cgroup_is_said_plainly(tmp_path: Path) -> None:
    assert "no cgroup v1 cpu controller" in str(quota.unavailable(tmp_path))


def test_a_held_process_is_throttled_and_its_group_removed() -> None:
    why_not = quota.unavailable()
    if why_not is not None:  # no cgroup v1 here (not root): the bench says so, measures none
        assert "skipped" in quota_note(SMOKE, why_not)
        return
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with quota.held([spin.pid], 0.1, f"test-{os.getpid()}") as stats:
            groups = list(quota.CPU_ROOT.glob(f"overlap-bench-test-{os.getpid()}-*"))
            assert len(groups) == 1
            assert (groups[0] / "cpu.cfs_quota_us").read_text().strip() == "10000"
            assert (groups[0] / "cpu.shares").read_text().strip() == str(quota.SHARES)
            time.sleep(0.5)
            (stat,) = stats()
            assert stat["nr_throttled"] > 0
    finally:
        spin.kill()
        spin.wait()
    assert not groups[0].exists()
