"""CPU per request of a server process: the stable way to compare two endpoints' capacity.

The highest sustainable rate is a threshold figure: on a shared 2-core machine it moves
with whatever else runs (the cached GET's ratio to the bare endpoint read 0.41 to 0.51,
and 0 to 0.8 on a machine at load 20). A CPU-bound Python server's highest rate is
1 ÷ its CPU per request, and CPU time is charged to the process that spends it, whatever
else runs. So each endpoint gets the same open-loop load (``rate`` for ``seconds``); the
server process's CPU time (``/proc/<pid>/stat``) over the attack, minus what it spends
idle over as long just before (a relay, a listener), divided by the requests answered,
is its CPU per request. Bare ÷ cached is the capacity ratio.
"""

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.vegeta import Target, attack

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, proc: Path = Path("/proc")) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)


def listening_pid(port: int, proc: Path = Path("/proc")) -> int | None:
    """The process listening on TCP ``port`` on loopback or any address (needs to read
    the other processes' fds: root, or the same user)."""
    inodes = set()
    for table in ("net/tcp", "net/tcp6"):
        path = proc / table
        for line in path.read_text().splitlines()[1:] if path.exists() else []:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(f"socket:[{cols[9]}]")
    for fd_dir in proc.glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                return int(fd_dir.parent.name)
        except OSError:
            continue
    return None


def per_request(url: str, pid: int, rate: float, seconds: float) -> dict[str, Any]:
    """CPU microseconds per answered request of ``pid`` serving ``GET url`` at ``rate``."""
    idle_from = cpu_seconds(pid)
    time.sleep(seconds)
    idle = cpu_seconds(pid) - idle_from
    busy_from = cpu_seconds(pid)
    figures = attack([Target("GET", url)], rate, seconds).figures()
    busy = cpu_seconds(pid) - busy_from
    answered = figures.get("requests", 0) * figures.get("success", 0)
    cost = (busy - idle) / answered * 1e6 if answered else None
    return {"cpu_us": cost, "busy_s": busy, "idle_s": idle, "answered": answered}


def pair(bare_url: str, cached_url: str, rate: float, seconds: float) -> dict[str, Any]:
    """The bare endpoint's and the cached GET's CPU per request, one after the other, and
    their capacity ratio (bare ÷ cached; None when a server process is not found)."""
    out: dict[str, Any] = {}
    for name, url in (("bare", bare_url), ("cached", cached_url)):
        port = urlsplit(url).port
        pid = listening_pid(port) if port else None
        out[name] = per_request(url, pid, rate, seconds) if pid else {"cpu_us": None}
    bare, cached = out["bare"]["cpu_us"], out["cached"]["cpu_us"]
    out["ratio"] = bare / cached if bare and cached and cached > 0 else None
    return out
