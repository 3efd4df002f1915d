"""CPU quotas for the bench's worker processes: a cgroup (v1, ``cpu`` controller) each.

On two cores shared with the whole stack, 4 unconstrained workers cannot show how
consumers scale: they only split the same cores. Held to ``cpu.cfs_quota_us`` (say 0.25
CPU each), one worker is a small node and four are four small nodes, as DESIGN §8 asks
("Workers scale out"). A quota is a ceiling, not a reservation, so each group also gets
``cpu.shares`` far above a lone process's 1,024: on a machine loaded by other work a
worker would otherwise get less than its quota (at load 15 on 2 cores a process gets
about 0.13 CPU), and the figure would show the machine again. With the shares, a worker
gets its quota first, as a small node has its CPU to itself (a
Kubernetes pod whose request equals its limit); the quota stays the ceiling. The report
gives the load average and each group's throttling.

Needs root and ``/sys/fs/cgroup/cpu`` (cgroup v1); :func:`unavailable` says why not.
"""

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000
SHARES = 8_192  # cpu.shares of each group: 8 lone processes' weight


def unavailable(root: Path = CPU_ROOT) -> str | None:
    """Why quotas cannot be set here (None: they can)."""
    if not (root / "cgroup.procs").exists():
        return f"no cgroup v1 cpu controller at {root}"
    if not os.access(root, os.W_OK):
        return f"{root} is not writable (not root?)"
    return None


def quota_us(cpus: float, period_us: int = PERIOD_US) -> int:
    """``cpu.cfs_quota_us`` for ``cpus`` CPUs per period (at least the kernel's 1 ms)."""
    return max(1_000, round(cpus * period_us))


def throttled(stat: str) -> dict[str, int]:
    """The counters of a ``cpu.stat`` file (pure)."""
    pairs = (line.split() for line in stat.splitlines() if line.strip())
    return {name: int(value) for name, value in pairs}


@contextlib.contextmanager
def held(pids: Sequence[int], cpus: float, tag: str, root: Path = CPU_ROOT) -> Iterator[Any]:
    """Each of ``pids`` in a cgroup of its own limited to ``cpus`` (and weighted
    ``SHARES``); yields a function that reads the groups' ``cpu.stat`` (throttling so far).
    The groups are removed after."""
    groups = [root / f"overlap-bench-{tag}-{pid}" for pid in pids]
    try:
        for group, pid in zip(groups, pids, strict=True):
            group.mkdir(exist_ok=True)
            (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota_us(cpus)))
            (group / "cpu.shares").write_text(str(SHARES))
            (group / "cgroup.procs").write_text(str(pid))
        yield lambda: [throttled((g / "cpu.stat").read_text()) for g in groups]
    finally:
        for group in groups:
            release(group, root)


def release(group: Path, root: Path = CPU_ROOT) -> None:
    """Move what is left in ``group`` back to the root group, then remove it."""
    if not group.exists():
        return
    for _ in range(50):
        with contextlib.suppress(OSError):
            for pid in (group / "cgroup.procs").read_text().split():
                (root / "cgroup.procs").write_text(pid)
            group.rmdir()
            return
        time.sleep(0.1)
