"""``python -m launcher up``: start the app stack's processes that are not running yet and
wait until each answers its health URL. ``deploy/local/apps.sh up`` runs it after the
topics, the migrations and the gateway's config; the ports, ``OVERLAP_HOME`` and
``API_PROCESSES`` come from the environment (``deploy/local/env.sh``). ``apps.sh down``
stops them by their pid files."""

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from launcher.process import StartFailed
from launcher.services import stack_apps

# How long each may take to answer: the gateway only proxies; the rest import a lot.
READY_S = {"gateway": 15.0}
APP_READY_S = 90.0


def recorded_alive(pid_file: Path | None) -> bool:
    """The process a pid file names is running (as ``env.sh``'s ``pid_alive``)."""
    if pid_file is None:
        return False
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def up(env: Mapping[str, str]) -> int:
    """0 once every app answers; else 1, after printing the failed one's log tail."""
    home = Path(env["OVERLAP_HOME"])
    apps = stack_apps(env, home, api_processes=int(env.get("API_PROCESSES", "1")))
    try:
        for app in apps:
            if not recorded_alive(app.pid_file):
                app.start()
    except StartFailed as exc:
        print(f"[local] {exc}", file=sys.stderr)
        return 1
    for app in apps:
        try:
            app.wait_healthy(READY_S.get(app.name, APP_READY_S), poll_s=0.2)
        except StartFailed as exc:
            print("\n".join(f"  | {line}" for line in app.log_tail().splitlines()), file=sys.stderr)
            print(f"[local] {exc}", file=sys.stderr)
            return 1
    return 0


def main() -> None:
    if sys.argv[1:] != ["up"]:
        sys.exit("usage: python -m launcher up")
    sys.exit(up(os.environ))


if __name__ == "__main__":
    main()
