"""Where the real services are.

Order: with ``OVERLAP_SERVICES=testcontainers``, containers started by testcontainers
(``make test-containers``); else URLs from the environment (``make test`` starts the local
stack and sets them); else, when a Docker engine answers, testcontainers starts them; else
the run stops with a message saying what to do. Tests never fake PostgreSQL, Redis, Kafka or
the Pusher server. Fault tests stop and restart a service through ``Services.infra``.
"""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from overlap_shared.settings import PusherSettings

from launcher import local
from tests.servers import stop_group

ROOT = Path(__file__).resolve().parents[1]

# tests/compose brings up deploy/compose.yaml from the images of `make images`: only
# `make test-compose` (OVERLAP_SERVICES=compose) collects it.
collect_ignore = [] if os.environ.get("OVERLAP_SERVICES") == "compose" else ["compose"]
# tests/integration/cluster needs the Redis Cluster and the replica of `make test-cluster`.
if os.environ.get("REDIS_CLUSTER", "").lower() not in ("1", "true", "yes"):
    collect_ignore.append("integration/cluster")

ENV_HINT = (
    "integration tests need PostgreSQL, Redis, Kafka and soketi: run `make test` "
    "(starts them natively), or export DATABASE_URL, REDIS_URL, KAFKA_BOOTSTRAP_SERVERS "
    "and PUSHER_* for running services, or make a Docker engine available for testcontainers"
)


class Infra(Protocol):
    """Stops one backing service and brings them all back (fault tests)."""

    def stop(self, name: str) -> None:
        """Stop ``name``: postgres, redis, kafka or soketi."""

    def kill(self, name: str) -> None:
        """Kill ``name`` at once (SIGKILL: no clean shutdown), as ``make chaos`` does."""

    def start_all(self) -> None:
        """Start whatever is stopped and wait until every service is ready again."""


class LocalInfra:
    """The native stack of ``make test``, through deploy/local/infra.sh."""

    def stop(self, name: str) -> None:
        local.infra("stop", name, timeout_s=60)

    def kill(self, name: str) -> None:
        # infra.sh starts each service as a session leader
        pid_file = Path(local.local_env()["OVERLAP_HOME"]) / "run" / f"{name}.pid"
        stop_group(pid_file, signal.SIGKILL, timeout_s=15)

    def start_all(self) -> None:
        local.infra("up", timeout_s=120)


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str
    kafka_bootstrap_servers: str
    pusher: PusherSettings
    infra: Infra = field(default_factory=LocalInfra)

    def env(self) -> dict[str, str]:
        """The environment a service process needs to reach these services."""
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
        }


def _from_env() -> Services | None:
    names = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "PUSHER_HOST")
    if not all(os.environ.get(n) for n in names):
        return None
    return Services(
        os.environ["DATABASE_URL"],
        os.environ["REDIS_URL"],
        os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        PusherSettings(),
    )


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


CONTAINERS = pytest.StashKey[ExitStack]()
STARTED = pytest.StashKey[Services]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """With OVERLAP_SERVICES=testcontainers the containers start here, outside every test's
    timeout (a cold Kafka may take minutes on a busy machine)."""
    if os.environ.get("OVERLAP_SERVICES") != "testcontainers":
        return
    if not _docker_available():
        pytest.exit(ENV_HINT, returncode=4)
    from tests.containers import started_services

    stack = ExitStack()
    session.config.stash[CONTAINERS] = stack
    started = time.monotonic()
    session.config.stash[STARTED] = stack.enter_context(started_services())
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"containers ready in {time.monotonic() - started:.0f} s")


def pytest_sessionfinish(session: pytest.Session) -> None:
    stack = session.config.stash.get(CONTAINERS, None)
    if stack is not None:
        stack.close()


@pytest.fixture(scope="session")
def services(request: pytest.FixtureRequest) -> Iterator[Services]:
    found = request.config.stash.get(STARTED, None) or _from_env()
    if found:
        yield found
        return
    if not _docker_available():
        pytest.exit(ENV_HINT, returncode=4)
    from tests.containers import started_services

    with started_services() as started:
        yield started


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path) or "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.integration)
    # Tests that stop a shared service run after every other test, whatever their names.
    items.sort(key=lambda item: item.get_closest_marker("stops_shared_services") is not None)


@pytest.fixture(scope="session")
def migrated(services: Services) -> str:
    """Apply the Alembic migrations to the test database (once per run)."""
    import sys

    env = {**os.environ, "DATABASE_URL": services.database_url}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(ROOT / "services/api/alembic.ini"),
            "upgrade",
            "head",
        ],
        check=True,
        env=env,
        cwd=ROOT,
    )
    return services.database_url
