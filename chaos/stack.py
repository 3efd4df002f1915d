"""The chaos stack: a PostgreSQL, Redis, 3-broker Kafka cluster and soketi of its own
(``infra.sh`` with other ports, ``KAFKA_BROKERS=3`` and ``OVERLAP_HOME=.local/chaos``) and
the Overlap processes (2 API processes behind the nginx gateway, 2 relays, the workers),
supervised here so that a fault can SIGKILL or SIGSTOP any one of them and bring it back.

Nothing here touches the ``make run`` stack or the test stack: other ports, other data.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from chaos import procs
from chaos.kraft import active_controller
from launcher import local
from launcher.process import ROOT, Process
from launcher.services import APPS_SH, stack_apps

BROKERS = ("kafka-1", "kafka-2", "kafka-3")
INFRA = ("postgres", "redis", *BROKERS, "soketi")
# A fault's target: one process, or a group of them (all faulted at once).
GROUPS = {"kafka": BROKERS, "api": ("api-1", "api-2"), "relay": ("relay-1", "relay-2")}
# Port offsets from the chaos stack's base port.
PORTS = {
    "PG_PORT": 0,
    "REDIS_PORT": 1,
    "SOKETI_PORT": 2,
    "SOKETI_METRICS_PORT": 3,
    "API_PORT": 4,  # api-1; api-2 on the next one
    "GATEWAY_PORT": 6,
    "AVAILABILITY_HEALTH_PORT": 7,
    "INVALIDATOR_HEALTH_PORT": 8,
    "NOTIFIER_HEALTH_PORT": 9,
    "KAFKA_PORT": 10,  # 10, 11, 12: the brokers
    "KAFKA_CONTROLLER_PORT": 13,  # 13, 14, 15: their controllers
}
PORT_COUNT = 16
APP_READY_S = 90.0


def stack_env(base_port: int, home: Path) -> dict[str, str]:
    """Ports and URLs of a chaos stack whose ports start at ``base_port`` (pure)."""
    env = {name: str(base_port + offset) for name, offset in PORTS.items()}
    kafka = int(env["KAFKA_PORT"])
    return {
        **env,
        "OVERLAP_HOME": str(home),
        "DATABASE_URL": (
            f"postgresql+asyncpg://overlap:overlap@127.0.0.1:{env['PG_PORT']}/overlap"
        ),
        "REDIS_URL": f"redis://127.0.0.1:{env['REDIS_PORT']}/0",
        "KAFKA_BROKERS": str(len(BROKERS)),
        "KAFKA_BOOTSTRAP_SERVERS": ",".join(f"127.0.0.1:{kafka + i}" for i in range(len(BROKERS))),
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": env["SOKETI_PORT"],
        "DOMAIN_TOPIC": "overlap.domain.v1",  # never inherited (make test sets its own)
        "VIEWS_TOPIC": "overlap.views.v1",
        "ENVIRONMENT": "development",
        "RELAY_ENABLED": "false",  # the relays run as their own processes, to be killed alone
        "RATE_LIMITS_ENABLED": "false",  # the load is one client creating and joining a lot
        "API_PROCESSES": "2",  # the gateway's upstreams (apps.sh gateway-conf)
        "GATEWAY_RATE": "100000",  # the same: one client
        "KAFKA_HEAP": "384m",
        "KAFKA_NICE": "19",  # brokers stand in for machines of their own (deploy/local/infra.sh)
    }


@dataclass
class Stack:
    env: dict[str, str]
    apps: dict[str, Process] = field(default_factory=dict)
    unexpected_exits: list[str] = field(default_factory=list)
    faulted: set[str] = field(default_factory=set)  # down on purpose: not restarted by check

    @property
    def home(self) -> Path:
        return Path(self.env["OVERLAP_HOME"])

    @property
    def api_url(self) -> str:
        """The gateway: every request of the load goes through it."""
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    def full_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    # --- infrastructure ----------------------------------------------------------
    def infra(self, command: str, *args: str) -> None:
        local.infra(command, *args, env=self.full_env(), quiet=True)

    def infra_pid(self, name: str) -> int | None:
        try:
            return int((self.home / "run" / f"{name}.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def controller(self) -> str:
        """The Kafka node that is the active controller now (kafka-1 if none is known)."""
        lines: list[str] = []
        for broker in BROKERS:
            log = self.home / "log" / f"{broker}.log"
            lines += log.read_text(errors="replace").splitlines() if log.exists() else []
        node = active_controller(lines)
        return f"kafka-{node}" if node else BROKERS[0]

    def members(self, target: str) -> list[str]:
        """The processes a fault target names: a group's, the active Kafka controller
        (``kafka-controller``), a broker that is not it (``kafka-broker``), or one."""
        if target == "kafka-controller":
            return [self.controller()]
        if target == "kafka-broker":
            controller = self.controller()
            return [next(b for b in BROKERS if b != controller)]
        return list(GROUPS.get(target, (target,)))

    # --- the Overlap processes ---------------------------------------------------
    def define_apps(self) -> None:
        """Two API processes (api-1, api-2), two relays alone, the workers, the gateway."""
        apps = stack_apps(self.full_env(), self.home, api_processes=2, relays=2, first=1)
        self.apps = {app.name: app for app in apps}

    def check_apps(self) -> None:
        """Record (and restart) any Overlap process that died without being killed."""
        for app in self.apps.values():
            if app.name in self.faulted:
                continue
            if app.exit_code is not None:
                self.unexpected_exits.append(f"{app.name} (exit {app.exit_code})")
                app.start()

    # --- whole stack -------------------------------------------------------------
    def up(self, fresh: bool = True) -> None:
        if fresh and self.home.exists():
            self.infra("down")
            shutil.rmtree(self.home)
        (self.home / "log").mkdir(parents=True, exist_ok=True)
        self.infra("up")
        env = self.full_env()
        for setup in (
            [sys.executable, "-m", "overlap_shared.topics"],
            [sys.executable, "-m", "alembic", "-c", "services/api/alembic.ini", "upgrade", "head"],
            [str(APPS_SH), "gateway-conf"],
        ):
            subprocess.run(
                setup, env=env, cwd=ROOT, check=True, timeout=120, stdout=subprocess.DEVNULL
            )
        self.define_apps()
        for app in self.apps.values():
            app.start()
        for app in self.apps.values():
            app.wait_healthy(APP_READY_S, poll_s=0.2)

    def down(self) -> None:
        for app in self.apps.values():
            app.signal(signal.SIGCONT)
            app.signal(signal.SIGTERM)
        for app in self.apps.values():
            app.stop(grace_s=15)
        for name in INFRA:  # a paused one would never stop
            for pid in self.pids(name):
                procs.send(pid, signal.SIGCONT)
        self.infra("down")

    # --- faults (on concrete process names: see members) ---------------------------
    def pids(self, name: str) -> list[int]:
        """Every process of ``name`` (for PostgreSQL: postmaster and backends)."""
        if name in self.apps:
            pid = self.apps[name].pid
            return procs.group(pid) if pid is not None and self.apps[name].alive else []
        pid = self.infra_pid(name)
        if pid is None:
            return []
        return [pid, *procs.children(pid)] if name == "postgres" else procs.group(pid)

    def kill(self, name: str) -> None:
        for pid in self.pids(name):
            procs.send(pid, signal.SIGKILL)
        if name in self.apps:
            self.apps[name].kill()

    def pause(self, name: str, sig: signal.Signals = signal.SIGSTOP) -> None:
        for pid in self.pids(name):
            procs.send(pid, sig)

    def resume(self, name: str) -> None:
        self.pause(name, signal.SIGCONT)

    def restart(self, names: list[str]) -> None:
        """Bring killed processes back: infrastructure first, then the Overlap ones."""
        if any(n in INFRA for n in names):
            if "postgres" in names:
                procs.wait_gone(self.infra_pid("postgres"))
            for attempt in range(3):
                try:
                    self.infra("up")
                    break
                except subprocess.CalledProcessError:
                    if attempt == 2:
                        raise
                    time.sleep(2)
        for name in names:
            if name in self.apps:
                self.apps[name].start()
        for name in names:
            if name in self.apps:
                self.apps[name].wait_healthy(APP_READY_S, poll_s=0.2)

    def memory(self) -> dict[str, tuple[int, float, float]]:
        """Process -> (its main pid, PSS and RSS of all its processes in MiB). PSS counts
        shared pages (PostgreSQL's buffers) once; the checks use it."""
        out = {}
        for name in (*INFRA, *self.apps):
            pids = self.pids(name)
            if pids:
                sizes = [procs.memory_kb(p) for p in pids]
                pss, rss = (sum(s[i] for s in sizes) / 1024 for i in (0, 1))
                out[name] = (pids[0], pss, rss)
        return out
