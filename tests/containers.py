"""testcontainers fallback, used only where a Docker engine answers (see conftest.py)."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from overlap_shared.settings import PusherSettings
from testcontainers.core.container import DockerContainer
from testcontainers.core.waiting_utils import wait_for_logs
from testcontainers.kafka import KafkaContainer
from testcontainers.postgres import PostgresContainer
from testcontainers.redis import RedisContainer

from tests.conftest import Services

SOKETI_IMAGE = "quay.io/soketi/soketi:1.6-16-debian"


@contextmanager
def started_services() -> Iterator[Services]:
    pusher = PusherSettings()
    with ExitStack() as stack:
        pg = stack.enter_context(PostgresContainer("postgres:16", driver="asyncpg"))
        redis = stack.enter_context(RedisContainer("redis:7"))
        kafka = stack.enter_context(KafkaContainer("apache/kafka:4.1.1").with_kraft())
        soketi = (
            DockerContainer(SOKETI_IMAGE)
            .with_env("SOKETI_DEFAULT_APP_ID", pusher.app_id)
            .with_env("SOKETI_DEFAULT_APP_KEY", pusher.key)
            .with_env("SOKETI_DEFAULT_APP_SECRET", pusher.secret)
            .with_exposed_ports(6001)
        )
        stack.enter_context(soketi)
        wait_for_logs(soketi, "Server is up and running", timeout=60)
        redis_url = f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
        yield Services(
            database_url=pg.get_connection_url(),
            redis_url=redis_url,
            kafka_bootstrap_servers=kafka.get_bootstrap_server(),
            pusher=pusher.model_copy(
                update={
                    "host": soketi.get_container_host_ip(),
                    "port": int(soketi.get_exposed_port(6001)),
                }
            ),
        )
