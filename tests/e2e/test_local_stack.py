"""The whole local stack as processes: deploy/local/apps.sh starts the API, the three
workers and the nginx gateway on free ports; the gateway answers; stopping leaves nothing."""

import os
import subprocess
from pathlib import Path

import httpx

from launcher.local import APP_PORT_VARS
from launcher.process import free_port
from launcher.services import APPS_SH
from tests.conftest import Services


def test_apps_start_behind_the_gateway_and_stop_cleanly(
    services: Services, migrated: str, tmp_path: Path
) -> None:
    ports = {name: str(free_port()) for name in APP_PORT_VARS}
    env = {
        **os.environ,
        **ports,
        "OVERLAP_HOME": str(tmp_path),
        "DATABASE_URL": services.database_url,
    }
    script = str(APPS_SH)
    try:
        subprocess.run([script, "up"], env=env, check=True, timeout=120)
        gateway = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        health = httpx.get(f"{gateway}/api/healthz", timeout=5)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert health.headers["x-request-id"]
        ready = httpx.get(f"{gateway}/api/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        for name in ("AVAILABILITY", "INVALIDATOR", "NOTIFIER"):
            port = ports[f"{name}_HEALTH_PORT"]
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 204
        access_log = (tmp_path / "log" / "gateway-access.log").read_text()
        assert '"uri":"/api/readyz"' in access_log
        pids = [int(p.read_text()) for p in (tmp_path / "run").glob("*.pid")]
        assert len(pids) == 5
    finally:
        subprocess.run([script, "down"], env=env, check=True, timeout=120)
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), pid
    assert not list((tmp_path / "run").glob("*.pid"))


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"
