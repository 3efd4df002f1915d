"""PostgreSQL, Redis, Kafka and soketi as containers, for ``OVERLAP_SERVICES=testcontainers``
(``make test-containers``) or where no URLs are given but a Docker engine answers.

The images come from POSTGRES_IMAGE, REDIS_IMAGE, KAFKA_IMAGE and SOKETI_IMAGE: ``make
images`` builds local ones (deploy/images/images.env names them), the defaults are the
official images. Plain containers throughout: testcontainers' Kafka module expects
Confluent's start scripts. Each container publishes its port on 127.0.0.1 at a host port
fixed for the session, so a fault test can stop and restart it (``Services.infra``) and the
URLs stay valid. While the containers run, the connection variables are exported, so the
service processes the tests start find them as they find the native stack.
"""

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from overlap_shared.settings import PusherSettings, ServiceSettings
from overlap_shared.topics import ensure_topics, topic_plan
from testcontainers.core.container import DockerContainer

from tests.conftest import Services
from tests.servers import free_port

LABELS = {"dev.overlap.testcontainers": "1"}  # `make test-containers` removes leftovers by it
PG_USER, PG_PASSWORD, PG_DB = "overlap", "overlap", "overlap_test"
# Readiness waits run outside every test's timeout (session start): a cold Kafka took over
# 5 min under a load average of 35 on the shared 2-core machine.
READY_TIMEOUT_S = 900


def image(name: str, official: str) -> str:
    return os.environ.get(name) or official


def host_ports(names: tuple[str, ...], offset: int = 0) -> dict[str, int]:
    """Host ports for containers to publish: CONTAINER_PORT_BASE + offset + i when set (a
    port set of one's own on a shared machine), else free ports outside the ephemeral range,
    which no outgoing connection can take before the container binds (or rebinds) them."""
    base = os.environ.get("CONTAINER_PORT_BASE")
    if base:
        return {name: int(base) + offset + i for i, name in enumerate(names)}
    return {name: free_port() for name in names}


def published(container: DockerContainer, port: int, host_port: int) -> DockerContainer:
    """Publish ``port`` on 127.0.0.1:``host_port`` (docker's ``ip, port`` binding form). The
    image's own health check is off: the fixtures check readiness themselves, and a probe
    process every few seconds per container is CPU a loaded machine lacks."""
    binding: Any = ("127.0.0.1", host_port)
    container.ports[f"{port}/tcp"] = binding
    return container.with_kwargs(labels=LABELS, healthcheck={"test": ["NONE"]})


@dataclass
class Backing:
    """One started container and how to tell it is ready to serve."""

    container: DockerContainer
    ready: Callable[["Backing"], bool]
    ready_marker: bytes = b""
    starts: int = 1


def exec_ok(*command: str) -> Callable[[Backing], bool]:
    return lambda b: b.container.exec(list(command)).exit_code == 0


def logged_per_start(b: Backing) -> bool:
    stdout, stderr = b.container.get_logs()
    return (stdout + stderr).count(b.ready_marker) >= b.starts


def http_ok(url: str) -> Callable[[Backing], bool]:
    def ready(_: Backing) -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    return ready


def wait_ready(name: str, b: Backing) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not b.ready(b):
        if time.monotonic() > deadline:
            stdout, stderr = b.container.get_logs()
            tail = (stdout + stderr).decode(errors="replace")[-3000:]
            raise TimeoutError(f"{name} container not ready in {READY_TIMEOUT_S}s:\n{tail}")
        time.sleep(0.3)


class ContainerInfra:
    """Fault tests' stop/start, on the session's containers (same ports after a restart)."""

    def __init__(self, started: dict[str, Backing]) -> None:
        self.started = started

    def stop(self, name: str) -> None:
        self.started[name].container.get_wrapped_container().stop(timeout=10)

    def kill(self, name: str) -> None:
        self.started[name].container.get_wrapped_container().kill()

    def start_all(self) -> None:
        for b in self.started.values():
            wrapped = b.container.get_wrapped_container()
            wrapped.reload()
            if wrapped.status != "running":
                wrapped.start()
                b.starts += 1
        for name, b in self.started.items():
            wait_ready(name, b)


PG_STATEMENTS = ("-c", "shared_preload_libraries=pg_stat_statements")  # as deploy/local/infra.sh


def postgres(port: int) -> Backing:
    container = (
        DockerContainer(image("POSTGRES_IMAGE", "postgres:16"))
        .with_env("POSTGRES_USER", PG_USER)
        .with_env("POSTGRES_PASSWORD", PG_PASSWORD)
        .with_env("POSTGRES_DB", PG_DB)
        .with_command(["postgres", "-c", "max_connections=300", "-c", "fsync=off", *PG_STATEMENTS])
    )
    return Backing(published(container, 5432, port), exec_ok("pg_isready", "-h", "127.0.0.1"))


def redis(port: int) -> Backing:
    container = DockerContainer(image("REDIS_IMAGE", "redis:7")).with_command(
        ["redis-server", "--save", "", "--appendonly", "no"]
    )
    return Backing(published(container, 6379, port), exec_ok("redis-cli", "ping"))


def kafka(port: int) -> Backing:
    """One KRaft node configured like deploy/compose.yaml's (apache/kafka's variables)."""
    settings = {
        "CLUSTER_ID": "4L6g3nShT-eMCtK--X86sw",
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "INTERNAL://:19092,HOST://:9092,CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS": f"INTERNAL://localhost:19092,HOST://127.0.0.1:{port}",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
            "CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,HOST:PLAINTEXT"
        ),
        "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_NUM_PARTITIONS": "8",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS": "8",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m",
        # No optimising JIT: a test broker moves little data and starts with less CPU.
        "KAFKA_JVM_PERFORMANCE_OPTS": "-XX:TieredStopAtLevel=1",
    }
    container = DockerContainer(image("KAFKA_IMAGE", "apache/kafka:4.1.1"))
    for name, value in settings.items():
        container = container.with_env(name, value)
    return Backing(published(container, 9092, port), logged_per_start, b"Kafka Server started")


def soketi(port: int, pusher: PusherSettings) -> Backing:
    container = DockerContainer(image("SOKETI_IMAGE", "quay.io/soketi/soketi:1.6-16-debian"))
    for name, value in {
        "SOKETI_DEFAULT_APP_ID": pusher.app_id,
        "SOKETI_DEFAULT_APP_KEY": pusher.key,
        "SOKETI_DEFAULT_APP_SECRET": pusher.secret,
        "SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES": "false",
        "SOKETI_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SEC": "-1",
        "SOKETI_DEFAULT_APP_MAX_READ_REQ_PER_SEC": "-1",
        "SOKETI_DEFAULT_APP_MAX_CLIENT_EVENTS_PER_SEC": "-1",
    }.items():
        container = container.with_env(name, value)
    return Backing(published(container, 6001, port), http_ok(f"http://127.0.0.1:{port}/ready"))


def create_topics(bootstrap: str) -> None:
    """The topics ``make test`` creates (names from DOMAIN_TOPIC / VIEWS_TOPIC if set)."""
    plan = topic_plan(ServiceSettings(kafka_bootstrap_servers=bootstrap))
    with ThreadPoolExecutor(1) as pool:  # its own event loop, whatever pytest runs
        pool.submit(asyncio.run, ensure_topics(bootstrap, plan)).result()


@contextmanager
def exported(env: dict[str, str]) -> Iterator[None]:
    """Set ``env`` in os.environ for the block, then restore what was there."""
    before = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def started_services() -> Iterator[Services]:
    ports = host_ports(("postgres", "redis", "kafka", "soketi"))
    pusher = PusherSettings().model_copy(update={"host": "127.0.0.1", "port": ports["soketi"]})
    backing = {
        "postgres": postgres(ports["postgres"]),
        "redis": redis(ports["redis"]),
        "kafka": kafka(ports["kafka"]),
        "soketi": soketi(ports["soketi"], pusher),
    }
    with ExitStack() as stack:
        for b in backing.values():  # all start at once; then wait for each
            stack.enter_context(b.container)
        for name, b in backing.items():
            wait_ready(name, b)
        services = Services(
            database_url=(
                f"postgresql+asyncpg://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{ports['postgres']}/{PG_DB}"
            ),
            redis_url=f"redis://127.0.0.1:{ports['redis']}/1",
            kafka_bootstrap_servers=f"127.0.0.1:{ports['kafka']}",
            pusher=pusher,
            infra=ContainerInfra(backing),
        )
        create_topics(services.kafka_bootstrap_servers)
        env = {
            **services.env(),
            "PUSHER_HOST": "127.0.0.1",
            "PUSHER_PORT": str(ports["soketi"]),
        }
        with exported(env):
            yield services
