"""Run the project's services as real processes for tests (and stop them afterwards)."""

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# A process's start is a wait, not a measurement: at a load average of 35-40 on the shared
# 2-core machine an API or worker took over 90 s to import and answer.
START_TIMEOUT_S = 180


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A free port outside the ephemeral range: a port the kernel hands out as port 0 can be
    taken by any outgoing connection (Kafka clients open many) before our process binds it."""
    low, high = _ephemeral_range()
    candidates = [p for p in range(20000, 65000) if not low <= p <= high]
    for _ in range(200):
        port = random.choice(candidates)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found outside the ephemeral range")


@contextmanager
def process(
    args: list[str],
    env: dict[str, str],
    ready_url: str,
    name: str,
    ready_s: float = START_TIMEOUT_S,
) -> Iterator[None]:
    log = (ROOT / ".local" / "log" / f"test-{name}.log").open("ab")
    proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=log, stderr=log, cwd=ROOT)
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {log.name}")
            try:
                if httpx.get(ready_url, timeout=1).status_code < 300:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} not ready at {ready_url} in {ready_s:g} s; see {log.name}"
                )
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def api_process(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "overlap_api"]
    with process(args, {**env, "API_PORT": str(port)}, f"{url}/api/readyz", f"api-{port}"):
        yield url
