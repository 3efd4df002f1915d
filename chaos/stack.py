"""The chaos stack: a PostgreSQL, Redis, Kafka and soketi of its own (``infra.sh`` with
other ports and ``OVERLAP_HOME=.local/chaos``) and the Overlap processes, supervised here
so that a fault can SIGKILL or SIGSTOP any one of them and bring it back.

Nothing here touches the ``make run`` stack or the test stack: other ports, other data.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
INFRA_SH = ROOT / "deploy" / "local" / "infra.sh"
VENV_BIN = ROOT / ".venv" / "bin"
INFRA = ("postgres", "redis", "kafka", "soketi")
APPS = ("api", "relay", "availability", "invalidator", "notifier")


def stack_env(base_port: int, home: Path) -> dict[str, str]:
    """Ports and URLs of a chaos stack whose ports start at ``base_port`` (pure)."""
    ports = {
        "PG_PORT": 0,
        "REDIS_PORT": 1,
        "KAFKA_PORT": 2,
        "KAFKA_CONTROLLER_PORT": 3,
        "SOKETI_PORT": 4,
        "SOKETI_METRICS_PORT": 5,
        "API_PORT": 6,
        "AVAILABILITY_HEALTH_PORT": 7,
        "INVALIDATOR_HEALTH_PORT": 8,
        "NOTIFIER_HEALTH_PORT": 9,
    }
    env = {name: str(base_port + offset) for name, offset in ports.items()}
    return {
        **env,
        "OVERLAP_HOME": str(home),
        "DATABASE_URL": (
            f"postgresql+asyncpg://overlap:overlap@127.0.0.1:{env['PG_PORT']}/overlap"
        ),
        "REDIS_URL": f"redis://127.0.0.1:{env['REDIS_PORT']}/0",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{env['KAFKA_PORT']}",
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": env["SOKETI_PORT"],
        "DOMAIN_TOPIC": "overlap.domain.v1",  # never inherited (make test sets its own)
        "VIEWS_TOPIC": "overlap.views.v1",
        "ENVIRONMENT": "development",
        "RELAY_ENABLED": "false",  # the relay runs as its own process, to be killed alone
        "RATE_LIMITS_ENABLED": "false",  # the load is one client creating and joining a lot
        "KAFKA_HEAP": "384m",
    }


@dataclass
class App:
    """One supervised Overlap process."""

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
        return f"http://127.0.0.1:{self.env['API_PORT']}"

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
            timeout=180,
        )

    def infra_pid(self, name: str) -> int | None:
        try:
            return int((self.home / "run" / f"{name}.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    # --- the Overlap processes ---------------------------------------------------
    def define_apps(self) -> None:
        e = self.env
        health = "http://127.0.0.1:{}/healthz"
        self.apps = {
            "api": App(
                "api",
                [str(VENV_BIN / "overlap-api")],
                f"{self.api_url}/api/readyz",
                {},
            ),
            "relay": App("relay", [str(VENV_BIN / "overlap-relay")], None, {}),
            "availability": App(
                "availability",
                [str(VENV_BIN / "overlap-availability")],
                health.format(e["AVAILABILITY_HEALTH_PORT"]),
                {"HEALTH_PORT": e["AVAILABILITY_HEALTH_PORT"]},
            ),
            "invalidator": App(
                "invalidator",
                [str(VENV_BIN / "overlap-invalidator")],
                health.format(e["INVALIDATOR_HEALTH_PORT"]),
                {"HEALTH_PORT": e["INVALIDATOR_HEALTH_PORT"]},
            ),
            "notifier": App(
                "notifier",
                [str(VENV_BIN / "overlap-notifier")],
                health.format(e["NOTIFIER_HEALTH_PORT"]),
                {"HEALTH_PORT": e["NOTIFIER_HEALTH_PORT"]},
            ),
        }

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

    def wait_ready(self, app: App, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            assert app.proc is not None
            if app.proc.poll() is not None:
                raise RuntimeError(f"{app.name} exited with {app.proc.returncode} at start-up")
            if app.ready_url is None or _answers(app.ready_url):
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
                _signal_group(app.proc.pid, signal.SIGCONT)
                _signal_group(app.proc.pid, signal.SIGTERM)
        for app in self.apps.values():
            if app.proc is not None:
                try:
                    app.proc.wait(15)
                except subprocess.TimeoutExpired:
                    _signal_group(app.proc.pid, signal.SIGKILL)
                    app.proc.wait(5)
            (self.home / "run" / f"{app.name}.pid").unlink(missing_ok=True)
        for name in INFRA:  # a paused one would never stop
            for pid in self.pids(name):
                _signal(pid, signal.SIGCONT)
        self.infra("down")

    # --- faults ------------------------------------------------------------------
    def pids(self, name: str) -> list[int]:
        """Every process of component ``name`` (for PostgreSQL: postmaster and backends)."""
        if name in self.apps:
            proc = self.apps[name].proc
            return [] if proc is None or proc.poll() is not None else _group(proc.pid)
        pid = self.infra_pid(name)
        if pid is None:
            return []
        return [pid, *_children(pid)] if name == "postgres" else _group(pid)

    def kill(self, name: str) -> None:
        for pid in self.pids(name):
            _signal(pid, signal.SIGKILL)
        if name in self.apps:
            proc = self.apps[name].proc
            assert proc is not None
            proc.wait(10)

    def pause(self, name: str) -> None:
        for pid in self.pids(name):
            _signal(pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        for pid in self.pids(name):
            _signal(pid, signal.SIGCONT)

    def restart(self, names: list[str]) -> None:
        """Bring killed components back: infrastructure first, then the processes."""
        if any(n in INFRA for n in names):
            if "postgres" in names:
                _wait_gone(self.infra_pid("postgres"))
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
        """Component -> (its main pid, PSS and RSS of all its processes in MiB). PSS counts
        shared pages (PostgreSQL's buffers) once; the checks use it."""
        out = {}
        for name in (*INFRA, *self.apps):
            pids = self.pids(name)
            if pids:
                sizes = [_memory_kb(p) for p in pids]
                pss, rss = (sum(s[i] for s in sizes) / 1024 for i in (0, 1))
                out[name] = (pids[0], pss, rss)
        return out


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 300
    except httpx.HTTPError:
        return False


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _proc_stats() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        yield int(entry.name), int(fields[1]), int(fields[2])


def _group(leader: int) -> list[int]:
    return [leader, *(pid for pid, _, pgid in _proc_stats() if pgid == leader and pid != leader)]


def _children(parent: int) -> list[int]:
    return [pid for pid, ppid, _ in _proc_stats() if ppid == parent]


def _memory_kb(pid: int) -> tuple[int, int]:
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


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pid: int | None, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while pid is not None and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
