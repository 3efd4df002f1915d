"""Processes of the chaos stack as the kernel sees them: signals to one process or a
group, the members of a group or a parent's children, memory, and whether one is gone."""

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 300
    except httpx.HTTPError:
        return False


def send(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def send_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def proc_stats() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        yield int(entry.name), int(fields[1]), int(fields[2])


def group(leader: int) -> list[int]:
    return [leader, *(pid for pid, _, pgid in proc_stats() if pgid == leader and pid != leader)]


def children(parent: int) -> list[int]:
    return [pid for pid, ppid, _ in proc_stats() if ppid == parent]


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of a process in KiB; (0, 0) once it is gone."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("Pss", "Rss"):
                found[name] = int(rest.split()[0])
    except OSError:
        pass
    return found.get("Pss", 0), found.get("Rss", 0)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pid: int | None, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while pid is not None and alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
