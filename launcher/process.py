"""One process of the stack, as every harness runs it: started with its environment (on top
of this process's) and its output appended to its own log, waited for until its health URL
answers (or failed with the log named when it exits first), stopped with TERM and then KILL.

``own_group`` puts it in a session of its own, so that a signal reaches what it started too
(the gateway is nginx piped through a filter) and a fault can pause or kill it as a whole;
``pid_file`` records it where ``deploy/local`` and ``make stop`` look for it."""

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
LOG_DIR = ROOT / ".local" / "log"
# A process's start is a wait, not a measurement: at a load average of 35-40 on the shared
# 2-core machine an API or worker took over 90 s to import and answer.
START_TIMEOUT_S = 180.0
# How long a start waits for its port to be let go (a process killed a moment ago: the
# gateway's nginx workers die after the shell the launcher waited for).
PORT_RELEASE_S = 10.0


class StartFailed(RuntimeError):
    """A process exited, or did not answer its health URL in time, while starting."""


def answers(url: str, timeout_s: float = 1.0) -> bool:
    """``url`` answers with a 2xx status."""
    try:
        return httpx.get(url, timeout=timeout_s).status_code < 300
    except httpx.HTTPError:
        return False


def listening(host: str, port: int) -> bool:
    """Something accepts TCP connections on ``host:port``."""
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex((host, port)) == 0


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


@dataclass
class Process:
    """One process: what to run, where it says it is ready, where its output goes."""

    name: str
    argv: list[str]
    health_url: str | None
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    own_group: bool = False
    pid_file: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def exit_code(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def start(self) -> None:
        """Start it; StartFailed when its port stays taken by another process."""
        self._wait_port_released()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                start_new_session=self.own_group,
            )
        if self.pid_file is not None:
            self.pid_file.parent.mkdir(parents=True, exist_ok=True)
            self.pid_file.write_text(f"{self.proc.pid}\n")
        self.starts += 1

    def wait_healthy(self, timeout_s: float = START_TIMEOUT_S, poll_s: float = 0.1) -> None:
        """Return once the health URL answers (at once without one); raise StartFailed."""
        deadline = time.monotonic() + timeout_s
        while True:
            code = self.exit_code
            if code is not None:
                raise StartFailed(f"{self.name} exited with {code}; see {self.log}")
            if self.health_url is None or answers(self.health_url):
                return
            if time.monotonic() > deadline:
                raise StartFailed(
                    f"{self.name} not ready at {self.health_url} in {timeout_s:g} s; see {self.log}"
                )
            time.sleep(poll_s)

    def _wait_port_released(self) -> None:
        if self.health_url is None:
            return
        address = urlsplit(self.health_url)
        host, port = address.hostname or "127.0.0.1", address.port or 80
        deadline = time.monotonic() + PORT_RELEASE_S
        while listening(host, port):
            if time.monotonic() > deadline:
                raise StartFailed(
                    f"{self.name} not started: another process listens on {host}:{port} and "
                    f"would answer for it (one of an earlier run? `ss -ltnp 'sport = :{port}'`)"
                )
            time.sleep(0.1)

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the process (to its whole group when it has its own)."""
        if not self.alive:
            return
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            if self.own_group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)

    def stop(self, grace_s: float = 10.0) -> None:
        """TERM (a paused one is woken first, or it never stops), KILL after ``grace_s``."""
        if self.alive:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
        if self.proc is not None:
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of its log (what a failed start says about itself)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def running(process: Process, timeout_s: float = START_TIMEOUT_S) -> Iterator[Process]:
    """``process`` started and healthy for the block; stopped after it, even when the start
    failed."""
    process.start()
    try:
        process.wait_healthy(timeout_s)
        yield process
    finally:
        process.stop()
