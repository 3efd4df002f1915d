"""The no-Docker stack's scripts (``deploy/local/infra.sh`` and ``apps.sh``) as Python calls:
the environment ``env.sh`` gives, the infrastructure up or down, the whole app stack on free
ports with a home of its own, and "use the running API, or start the stack"."""

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from launcher.process import ROOT, answers, free_port
from launcher.services import APPS_SH

LOCAL = ROOT / "deploy" / "local"
INFRA_SH = LOCAL / "infra.sh"
# The ports of the app stack (apps.sh); the infrastructure's stay those of the environment.
APP_PORT_VARS = (
    "API_PORT",
    "GATEWAY_PORT",
    "AVAILABILITY_HEALTH_PORT",
    "INVALIDATOR_HEALTH_PORT",
    "NOTIFIER_HEALTH_PORT",
)


def local_env() -> dict[str, str]:
    """The environment of deploy/local/env.sh (values already set are kept)."""
    out = subprocess.run(
        ["bash", "-c", f"source {LOCAL / 'env.sh'} && env -0"],
        capture_output=True,
        check=True,
        env=os.environ.copy(),
    ).stdout.decode()
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


def infra(
    command: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 240,
    quiet: bool = False,
) -> None:
    """``infra.sh <command> [args]``: ``up``, ``down``, ``stop NAME``; ``quiet`` drops what
    it prints (its errors still show)."""
    subprocess.run(
        [str(INFRA_SH), command, *args],
        env=None if env is None else dict(env),
        cwd=ROOT,
        check=True,
        timeout=timeout_s,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def api_ready(api_url: str) -> bool:
    return answers(f"{api_url}/api/readyz", timeout_s=3)


def ensure_stack(api_url: str, env: Mapping[str, str], *, start: bool = True) -> str:
    """ "existing" when the API already answers /api/readyz, else start infra + apps."""
    deadline = time.monotonic() + 15  # a shared machine: someone may be restarting it
    while time.monotonic() < deadline:
        if api_ready(api_url):
            return "existing"
        time.sleep(0.5)
    if not start:
        raise RuntimeError(f"no API ready at {api_url} (and --no-start was given)")
    print("[local] API not ready: starting the local stack (infra.sh up, apps.sh up)", flush=True)
    subprocess.run([str(INFRA_SH), "up"], check=True, env=dict(env), cwd=ROOT)
    subprocess.run([str(APPS_SH), "up"], check=True, env=dict(env), cwd=ROOT)
    deadline = time.monotonic() + 60
    while not api_ready(api_url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"API not ready at {api_url} after starting the stack")
        time.sleep(0.5)
    return "started"


@contextmanager
def app_stack(home: Path, database_url: str, **extra: str) -> Iterator[str]:
    """``apps.sh up`` on free ports with ``home`` as ``OVERLAP_HOME``; yield the gateway's
    base URL; ``apps.sh down`` after (even when start-up failed)."""
    env = {
        **os.environ,
        **{name: str(free_port()) for name in APP_PORT_VARS},
        "OVERLAP_HOME": str(home),
        "DATABASE_URL": database_url,
        **extra,
    }
    try:
        subprocess.run([str(APPS_SH), "up"], env=env, check=True, timeout=120)
        yield f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    finally:
        subprocess.run([str(APPS_SH), "down"], env=env, check=False, timeout=120)
