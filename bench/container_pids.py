"""Which host process is a service that runs in a container (``make test-containers``, a stack
on Docker), for the CPU figures of :mod:`bench.procstat`.

What listens on such a service's host port is Docker's port proxy (``docker-proxy``), whose
CPU is the copying of bytes, not the service's work. The service is the container that
publishes that port: the Docker CLI's public ``ps --filter publish=`` finds it and
``inspect`` gives the host pid of its main process. That process and its children (the
postmaster and its backends, as natively) are then read from ``/proc`` like any other.
"""

import os
import shutil
import subprocess
from pathlib import Path

PORT_PROXY = "docker-proxy"


def docker_cli() -> str | None:
    """``$DOCKER`` (the project's scripts use Debian's /usr/bin/docker), else ``docker``."""
    return os.environ.get("DOCKER") or shutil.which("docker")


def is_port_proxy(pid: int, proc: Path = Path("/proc")) -> bool:
    try:
        return (proc / str(pid) / "comm").read_text().strip() == PORT_PROXY
    except OSError:
        return False


def _docker(*args: str) -> str | None:
    cli = docker_cli()
    if cli is None:
        return None
    try:
        done = subprocess.run([cli, *args], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def main_pid(inspected: str) -> int | None:
    """``docker inspect --format {{.State.Pid}}`` output → the pid (0: not running) (pure)."""
    text = inspected.strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def container_pid(host_port: int) -> int | None:
    """Host pid of the main process of the running container that publishes ``host_port``."""
    listed = _docker("ps", "--quiet", "--filter", f"publish={host_port}")
    ids = (listed or "").split()
    if len(ids) != 1:  # none, or ambiguous: no figure rather than another service's
        return None
    inspected = _docker("inspect", "--format", "{{.State.Pid}}", ids[0])
    return main_pid(inspected) if inspected else None
