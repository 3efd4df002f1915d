"""The availability worker processes of one scale-out measurement: started, each held to
a CPU quota when asked (bench/quota.py), and paused while the backlog is published.

Pausing (SIGSTOP, then SIGCONT) lets the bench publish the whole backlog while the
workers, already in the group with their partitions, take none of it: the drain is then
timed from the moment they all resume, as if the backlog had been waiting for them, and
the publish is not part of it. A pause of about a second is well inside the consumers'
session timeout (10 s), so the group does not rebalance.
"""

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import quota
from launcher import services
from launcher.process import Process, free_port
from launcher.services import AVAILABILITY


@dataclass
class Fleet:
    """Running worker processes; ``throttling`` reads their quota groups' counters (an
    empty list without quotas)."""

    processes: list[Process]
    throttling: Callable[[], list[dict[str, int]]]

    def pause(self) -> None:
        for worker in self.processes:
            worker.signal(signal.SIGSTOP)

    def resume(self) -> None:
        for worker in self.processes:
            worker.signal(signal.SIGCONT)


@contextlib.contextmanager
def running(
    n: int, env: dict[str, str], log_dir: Path, cpus: float | None = None
) -> Iterator[Fleet]:
    """``n`` availability workers, healthy; each held to ``cpus`` when given, from its
    start (a quota-held worker also starts up slowly). Stopped after."""
    workers = [
        services.process(AVAILABILITY, f"bench-worker-{os.getpid()}-{i}", env, free_port(), log_dir)
        for i in range(n)
    ]
    with contextlib.ExitStack() as stack:
        for worker in workers:
            stack.callback(worker.stop, 15)  # wakes a paused one first
            worker.start()
        stats: Callable[[], list[dict[str, int]]] = list
        if cpus:
            pids = [w.pid for w in workers if w.pid is not None]
            stats = stack.enter_context(quota.held(pids, cpus, str(os.getpid())))
        limit_s = 120 / min(1.0, cpus or 1.0)  # a loaded machine starts slowly
        for worker in workers:
            worker.wait_healthy(limit_s, poll_s=0.2)
        yield Fleet(workers, stats)
