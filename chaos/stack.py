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
import time
from dataclasses import dataclass, field
from pathlib import Path

from chaos import procs
from chaos.kraft import active_controller

ROOT = Path(__file__).resolve().parents[1]
INFRA_SH = ROOT / "deploy" / "local" / "infra.sh"
APPS_SH = ROOT / "deploy" / "local" / "apps.sh"
VENV_BIN = ROOT / ".venv" / "bin"
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
        "KAFKA_NICE": "10",  # brokers stand in for machines of their own (deploy/local/infra.sh)
    }


@dataclass
class App:
    """One supervised Overlap process (or the gateway)."""

    name: str
    args: list[str]
    ready_url: str | None
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0


@dataclass
class Stack:
    env: dict[str, str]
    apps: dict[str, App] = field(default_factory=dict)
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
        subprocess.run(
            [str(INFRA_SH), command, *args],
            env=self.full_env(),
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=240,
        )

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
        e = self.env
        health = "http://127.0.0.1:{}/healthz"
        api_port = int(e["API_PORT"])
        apps = [
            App(
                f"api-{i + 1}",
                [str(VENV_BIN / "overlap-api")],
                f"http://127.0.0.1:{api_port + i}/api/readyz",
                {"API_PORT": str(api_port + i)},
            )
            for i in range(2)
        ]
        apps += [App(f"relay-{i}", [str(VENV_BIN / "overlap-relay")], None, {}) for i in (1, 2)]
        apps += [
            App(
                name,
                [str(VENV_BIN / f"overlap-{name}")],
                health.format(e[f"{name.upper()}_HEALTH_PORT"]),
                {"HEALTH_PORT": e[f"{name.upper()}_HEALTH_PORT"]},
            )
            for name in ("availability", "invalidator", "notifier")
        ]
        apps.append(App("gateway", [str(APPS_SH), "gateway"], f"{self.api_url}/api/healthz", {}))
        self.apps = {app.name: app for app in apps}

    def spawn(self, app: App) -> None:
        log = (self.home / "log" / f"{app.name}.log").open("ab")
        app.proc = subprocess.Popen(
            app.args,
            env={**self.full_env(), **app.env},
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            start_new_session=True,
        )
        log.close()
        (self.home / "run" / f"{app.name}.pid").write_text(f"{app.proc.pid}\n")  # make stop
        app.starts += 1

    def wait_ready(self, app: App, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            assert app.proc is not None
            if app.proc.poll() is not None:
                raise RuntimeError(f"{app.name} exited with {app.proc.returncode} at start-up")
            if app.ready_url is None or procs.answers(app.ready_url):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{app.name} not ready within {timeout_s:.0f} s")
            time.sleep(0.2)

    def check_apps(self) -> None:
        """Record (and restart) any Overlap process that died without being killed."""
        for app in self.apps.values():
            if app.name in self.faulted:
                continue
            if app.proc is not None and app.proc.poll() is not None:
                self.unexpected_exits.append(f"{app.name} (exit {app.proc.returncode})")
                self.spawn(app)

    # --- whole stack -------------------------------------------------------------
    def up(self, fresh: bool = True) -> None:
        if fresh and self.home.exists():
            self.infra("down")
            shutil.rmtree(self.home)
        (self.home / "log").mkdir(parents=True, exist_ok=True)
        self.infra("up")
        env = self.full_env()
        for setup in (
            [str(VENV_BIN / "python"), "-m", "overlap_shared.topics"],
            [str(VENV_BIN / "alembic"), "-c", "services/api/alembic.ini", "upgrade", "head"],
            [str(APPS_SH), "gateway-conf"],
        ):
            subprocess.run(
                setup, env=env, cwd=ROOT, check=True, timeout=120, stdout=subprocess.DEVNULL
            )
        self.define_apps()
        for app in self.apps.values():
            self.spawn(app)
        for app in self.apps.values():
            self.wait_ready(app)

    def down(self) -> None:
        for app in self.apps.values():
            if app.proc is not None and app.proc.poll() is None:
                procs.send_group(app.proc.pid, signal.SIGCONT)
                procs.send_group(app.proc.pid, signal.SIGTERM)
        for app in self.apps.values():
            if app.proc is not None:
                try:
                    app.proc.wait(15)
                except subprocess.TimeoutExpired:
                    procs.send_group(app.proc.pid, signal.SIGKILL)
                    app.proc.wait(5)
            (self.home / "run" / f"{app.name}.pid").unlink(missing_ok=True)
        for name in INFRA:  # a paused one would never stop
            for pid in self.pids(name):
                procs.send(pid, signal.SIGCONT)
        self.infra("down")

    # --- faults (on concrete process names: see members) ---------------------------
    def pids(self, name: str) -> list[int]:
        """Every process of ``name`` (for PostgreSQL: postmaster and backends)."""
        if name in self.apps:
            proc = self.apps[name].proc
            return [] if proc is None or proc.poll() is not None else procs.group(proc.pid)
        pid = self.infra_pid(name)
        if pid is None:
            return []
        return [pid, *procs.children(pid)] if name == "postgres" else procs.group(pid)

    def kill(self, name: str) -> None:
        for pid in self.pids(name):
            procs.send(pid, signal.SIGKILL)
        if name in self.apps:
            proc = self.apps[name].proc
            assert proc is not None
            proc.wait(10)

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
                self.spawn(self.apps[name])
        for name in names:
            if name in self.apps:
                self.wait_ready(self.apps[name])

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
