"""Which process the write-capacity scenario charges: the listener of a native service, the
container's main process where Docker's port proxy listens, the ports of the URLs used."""

import os
from pathlib import Path

import pytest

from bench import container_pids, procstat
from bench.procstat import stack_ports

TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue ... inode\n"


def fake_proc(tmp_path: Path, port: int, pid: int, comm: str) -> Path:
    """A /proc where ``pid`` (named ``comm``) listens on 127.0.0.1:``port``."""
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    # columns: sl, local address, remote, state (0A: listening), queues, timers, ..., inode
    line = f"0: 0100007F:{port:04X} 00000000:0000 0A 0:0 00:0 0 0 0 4242\n"
    (proc / "net" / "tcp").write_text(TCP_HEADER + line)
    (proc / "net" / "tcp6").write_text(TCP_HEADER)
    (proc / str(pid) / "fd").mkdir(parents=True)
    os.symlink("socket:[4242]", proc / str(pid) / "fd" / "3")
    (proc / str(pid) / "comm").write_text(comm + "\n")
    return proc


def test_a_native_listener_is_the_service(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 15432, 700, "postgres")
    assert procstat.service_pid(15432, proc) == 700


def test_behind_dockers_port_proxy_the_container_is_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = fake_proc(tmp_path, 15432, 701, "docker-proxy")
    asked: list[int] = []

    def container_pid(port: int) -> int:
        asked.append(port)
        return 9001

    monkeypatch.setattr(container_pids, "container_pid", container_pid)
    assert procstat.service_pid(15432, proc) == 9001
    assert asked == [15432]


def test_nothing_listening_is_no_process(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 15432, 702, "postgres")
    assert procstat.service_pid(15433, proc) is None


def test_main_pid_of_a_running_container_only() -> None:
    assert container_pids.main_pid("4711\n") == 4711
    assert container_pids.main_pid("0\n") is None  # stopped
    assert container_pids.main_pid("") is None


def test_stack_ports_follow_the_urls_the_bench_writes_through() -> None:
    env = {
        "DATABASE_URL": "postgresql+asyncpg://u:p@127.0.0.1:20001/overlap_test",
        "REDIS_URL": "redis://127.0.0.1:20002/1",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:20003,127.0.0.1:20013",
        "PG_PORT": "5432",
        "REDIS_PORT": "6379",
        "KAFKA_PORT": "9092",
        "SOKETI_PORT": "6001",
        "NOTIFIER_HEALTH_PORT": "8103",
    }
    ports = stack_ports("http://127.0.0.1:8000", env)
    assert (ports["postgres"], ports["redis"], ports["kafka"]) == (20001, 20002, 20003)
    assert ports["api"] == 8000 and ports["soketi"] == 6001 and ports["notifier"] == 8103
    assert ports["availability"] is None
    # without URLs, the ports of the local stack's settings
    native = stack_ports("http://127.0.0.1:8000", {"PG_PORT": "5432", "KAFKA_PORT": "9092"})
    assert (native["postgres"], native["kafka"], native["redis"]) == (5432, 9092, None)
