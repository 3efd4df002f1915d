"""CPU time of the stack's processes, read from /proc: the port of each (``stack_ports``),
which process listens on a port (or, for a service in a container, runs it), and how many
CPU seconds it (with its children, for PostgreSQL's backends) has used so far.

The write-capacity scenario samples these before and after a fixed number of writes, so a
write's cost is charged to the process that spent it, whatever else shares the machine.
"""

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from bench import container_pids

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
LISTEN = "0A"


def listening_inodes(port: int, proc: Path = PROC) -> set[str]:
    """Socket inodes of TCP listeners on ``port`` (IPv4 and IPv6)."""
    found: set[str] = set()
    for table in ("net/tcp", "net/tcp6"):
        try:
            lines = (proc / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == LISTEN and int(cols[1].rsplit(":", 1)[1], 16) == port:
                found.add(cols[9])
    return found


def pid_listening(port: int, proc: Path = PROC) -> int | None:
    """The process that listens on ``port`` (the lowest pid when several share it)."""
    inodes = {f"socket:[{i}]" for i in listening_inodes(port, proc)}
    if not inodes:
        return None
    owners = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
            if any(os.readlink(fd) in inodes for fd in fds):
                owners.append(int(entry.name))
        except OSError:
            continue
    return min(owners) if owners else None


def parse_stat(text: str) -> tuple[int, float, float]:
    """``/proc/<pid>/stat`` → (ppid, own CPU s, CPU s of reaped children) (pure)."""
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parens
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ppid, (utime + stime) / TICKS, (cutime + cstime) / TICKS


def _stats(proc: Path) -> dict[int, tuple[int, float, float]]:
    out = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                out[int(entry.name)] = parse_stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue
    return out


def tree_cpu(root: int, stats: Mapping[int, tuple[int, float, float]]) -> float | None:
    """CPU seconds of ``root`` and every live descendant, plus what reaped children used
    (a PostgreSQL backend that exits moves its time into the postmaster's) (pure)."""
    if root not in stats:
        return None
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        _, own, reaped = stats[pid]
        total += own + reaped
        todo += children.get(pid, [])
    return total


def sample(pids: Mapping[str, int | None], proc: Path = PROC) -> dict[str, float | None]:
    """CPU seconds so far of each named process tree (None when it is gone)."""
    stats = _stats(proc)
    return {name: (tree_cpu(pid, stats) if pid else None) for name, pid in pids.items()}


def find(ports: Mapping[str, int | None]) -> dict[str, int | None]:
    """Name → pid of the listener on its port (None when nothing listens); for a port that
    Docker publishes, the main process of the container behind it (bench.container_pids)."""
    return {name: (service_pid(port) if port else None) for name, port in ports.items()}


def service_pid(port: int, proc: Path = PROC) -> int | None:
    pid = pid_listening(port, proc)
    if pid is not None and container_pids.is_port_proxy(pid, proc):
        return container_pids.container_pid(port)
    return pid


def per_write_ms(
    before: Mapping[str, float | None],
    after: Mapping[str, float | None],
    idle_per_s: Mapping[str, float],
    seconds: float,
    writes: int,
    names: Iterable[str] | None = None,
) -> dict[str, float | None]:
    """Milliseconds of CPU per write of each process: its CPU over the window, less what it
    burns idle over as long, divided by the writes (pure)."""
    out: dict[str, float | None] = {}
    for name in names or before:
        b, a = before.get(name), after.get(name)
        if b is None or a is None or writes <= 0:
            out[name] = None
            continue
        spent = max(0.0, a - b - idle_per_s.get(name, 0.0) * seconds)
        out[name] = round(spent * 1000 / writes, 3)
    return out


def stack_ports(api: str, env: dict[str, str]) -> dict[str, int | None]:
    """The port of each process of the stack. PostgreSQL, Redis and Kafka: those of the URLs
    the bench writes through (a stack in containers publishes other ports than PG_PORT...)."""

    def port(name: str) -> int | None:
        return int(env[name]) if env.get(name) else None

    def url_port(name: str, fallback: str) -> int | None:
        first = env.get(name, "").split(",")[0]
        found = urlsplit(first if "://" in first else f"//{first}").port if first else None
        return found or port(fallback)

    return {
        "api": urlsplit(api).port,
        "availability": port("AVAILABILITY_HEALTH_PORT"),
        "invalidator": port("INVALIDATOR_HEALTH_PORT"),
        "notifier": port("NOTIFIER_HEALTH_PORT"),
        "kafka": url_port("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_PORT"),
        "postgres": url_port("DATABASE_URL", "PG_PORT"),
        "redis": url_port("REDIS_URL", "REDIS_PORT"),
        "soketi": port("PUSHER_PORT") or port("SOKETI_PORT"),
    }
