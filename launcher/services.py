"""What each Overlap process is: the module it runs, the environment variable that sets the
port it listens on, and the path that says it is ready. The local stack (``apps.sh up``
through ``python -m launcher``), the chaos stack, the bench and the tests build their
processes from these facts, so a new service or a changed health path is written once."""

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from launcher.process import LOG_DIR, ROOT, Process


@dataclass(frozen=True)
class Kind:
    """One kind of Overlap process."""

    module: str  # run as ``python -m <module>``
    port_var: str | None  # the variable that sets the port its health URL is on
    health_path: str | None

    def argv(self) -> list[str]:
        return [sys.executable, "-m", self.module]


API = Kind("overlap_api", "API_PORT", "/api/readyz")
RELAY = Kind("overlap_api.relay_main", None, None)  # no port: ready once started
AVAILABILITY = Kind("overlap_availability", "HEALTH_PORT", "/healthz")
INVALIDATOR = Kind("overlap_invalidator", "HEALTH_PORT", "/healthz")
NOTIFIER = Kind("overlap_notifier", "HEALTH_PORT", "/healthz")
# The workers by the name a stack gives them; each has its own ``<NAME>_HEALTH_PORT``.
WORKERS = {"availability": AVAILABILITY, "invalidator": INVALIDATOR, "notifier": NOTIFIER}
GATEWAY_HEALTH = "/api/healthz"
APPS_SH = ROOT / "deploy" / "local" / "apps.sh"


def url(port: int | str, path: str = "") -> str:
    return f"http://127.0.0.1:{port}{path}"


def process(
    kind: Kind,
    name: str,
    env: Mapping[str, str],
    port: int | None = None,
    log_dir: Path = LOG_DIR,
) -> Process:
    """A process of ``kind`` named ``name`` (its log: ``<log_dir>/<name>.log``), listening on
    ``port`` when the kind has one."""
    own = dict(env)
    health = None
    if kind.port_var is not None and kind.health_path is not None:
        if port is None:
            raise ValueError(f"{kind.module} listens on a port: give one")
        own[kind.port_var] = str(port)
        health = url(port, kind.health_path)
    return Process(name, kind.argv(), health, log_dir / f"{name}.log", own)


def stack_apps(
    env: Mapping[str, str], home: Path, *, api_processes: int, relays: int = 0, first: int = 0
) -> list[Process]:
    """The Overlap processes of a stack whose ports and ``OVERLAP_HOME`` are in ``env``: API
    processes ``api-<first>``... on ``API_PORT`` and up, ``relays`` relays alone, the three
    workers on their ``<NAME>_HEALTH_PORT`` and the gateway (``apps.sh gateway``; its config
    rendered first by ``apps.sh gateway-conf``). Each in a group of its own with its pid file
    in ``<home>/run`` and its log in ``<home>/log``, as ``deploy/local`` keeps them."""
    log_dir, api_port = home / "log", int(env["API_PORT"])
    apps = [
        process(API, f"api-{first + i}", env, api_port + i, log_dir) for i in range(api_processes)
    ]
    apps += [process(RELAY, f"relay-{first + i}", env, None, log_dir) for i in range(relays)]
    for name, kind in WORKERS.items():
        apps.append(process(kind, name, env, int(env[f"{name.upper()}_HEALTH_PORT"]), log_dir))
    gateway = url(env["GATEWAY_PORT"], GATEWAY_HEALTH)
    apps.append(
        Process("gateway", [str(APPS_SH), "gateway"], gateway, log_dir / "gateway.log", dict(env))
    )
    for app in apps:
        app.own_group, app.pid_file = True, home / "run" / f"{app.name}.pid"
    return apps
