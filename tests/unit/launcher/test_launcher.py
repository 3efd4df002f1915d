"""The launcher: the facts of a stack's processes, and one process's life (started, healthy,
stopped with what it started, its log kept), on small stand-in processes."""

import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from launcher import process as launcher_process
from launcher.__main__ import recorded_alive
from launcher.process import Process, StartFailed, free_port, running
from launcher.services import API, AVAILABILITY, RELAY, process, stack_apps

ENV = {
    "API_PORT": "20010",
    "GATEWAY_PORT": "20016",
    "AVAILABILITY_HEALTH_PORT": "20021",
    "INVALIDATOR_HEALTH_PORT": "20022",
    "NOTIFIER_HEALTH_PORT": "20023",
}


def test_a_stack_names_its_processes_ports_health_urls_and_pid_files(tmp_path: Path) -> None:
    apps = {a.name: a for a in stack_apps(ENV, tmp_path, api_processes=2, relays=2, first=1)}
    assert list(apps) == [
        *("api-1", "api-2", "relay-1", "relay-2"),
        *("availability", "invalidator", "notifier", "gateway"),
    ]
    assert apps["api-2"].env["API_PORT"] == "20011"
    assert apps["api-2"].health_url == "http://127.0.0.1:20011/api/readyz"
    assert apps["relay-1"].health_url is None
    assert apps["relay-1"].argv == [sys.executable, "-m", "overlap_api.relay_main"]
    assert apps["notifier"].env["HEALTH_PORT"] == "20023"
    assert apps["notifier"].health_url == "http://127.0.0.1:20023/healthz"
    assert apps["gateway"].argv[-1] == "gateway"
    assert apps["gateway"].health_url == "http://127.0.0.1:20016/api/healthz"
    for app in apps.values():
        assert app.own_group and app.pid_file == tmp_path / "run" / f"{app.name}.pid"
        assert app.log == tmp_path / "log" / f"{app.name}.log"
        assert app.env["GATEWAY_PORT"] == "20016"  # the stack's environment reaches each


def test_the_local_stack_counts_api_processes_from_zero(tmp_path: Path) -> None:
    names = [a.name for a in stack_apps(ENV, tmp_path, api_processes=1)]
    assert names == ["api-0", "availability", "invalidator", "notifier", "gateway"]


def test_a_kind_with_a_port_needs_one_and_sets_its_variable(tmp_path: Path) -> None:
    api = process(API, "api-x", {"A": "1"}, 20111, tmp_path)
    assert api.env == {"A": "1", "API_PORT": "20111"}
    assert process(AVAILABILITY, "w", {}, 20112, tmp_path).env == {"HEALTH_PORT": "20112"}
    assert process(RELAY, "r", {}, None, tmp_path).env == {}
    with pytest.raises(ValueError, match="listens on a port"):
        process(API, "api-y", {}, None, tmp_path)


def test_a_process_is_healthy_then_stopped_and_its_log_kept(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = Process("web", argv, f"http://127.0.0.1:{port}/", tmp_path / "log" / "web.log")
    server.pid_file = tmp_path / "run" / "web.pid"
    with running(server, timeout_s=60) as started:
        assert started.alive and started.starts == 1
        assert server.pid_file.read_text() == f"{server.pid}\n"
    assert not server.alive and not server.pid_file.exists()
    assert "GET / HTTP" in server.log.read_text()  # its output went to its log


def test_a_process_that_exits_while_starting_fails_naming_its_log(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "print('no config', flush=True); raise SystemExit(3)"]
    dying = Process("dying", argv, f"http://127.0.0.1:{free_port()}/", tmp_path / "d.log")
    with (
        pytest.raises(StartFailed, match=r"dying exited with 3; see .*d\.log"),
        running(dying, timeout_s=60),
    ):
        pytest.fail("never healthy")
    assert dying.log_tail() == "no config"


def test_a_process_not_ready_in_time_fails_and_is_stopped(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    silent = Process("silent", argv, f"http://127.0.0.1:{free_port()}/", tmp_path / "s.log")
    with pytest.raises(StartFailed, match="not ready"), running(silent, timeout_s=0.5):
        pytest.fail("never healthy")
    assert not silent.alive


def test_a_process_is_not_started_while_another_one_listens_on_its_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launcher_process, "PORT_RELEASE_S", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as holder:  # a process of an earlier run
        port = holder.getsockname()[1]
        argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
        server = Process("web", argv, f"http://127.0.0.1:{port}/", tmp_path / "w.log")
        with pytest.raises(StartFailed, match=f"another process listens on 127.0.0.1:{port}"):
            server.start()
        assert server.proc is None and server.starts == 0


def test_a_start_waits_for_its_port_to_be_let_go(tmp_path: Path) -> None:
    holder = socket.create_server(("127.0.0.1", 0))  # a process dying a moment ago
    port = holder.getsockname()[1]
    threading.Timer(0.5, holder.close).start()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = Process("web", argv, f"http://127.0.0.1:{port}/", tmp_path / "w.log")
    with running(server, timeout_s=60) as started:
        assert started.alive and started.starts == 1


def test_a_process_in_its_own_group_is_stopped_with_what_it_started(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {child}; wait"
    shell = Process("shell", ["bash", "-c", script], None, tmp_path / "sh.log", own_group=True)
    shell.start()
    deadline = time.monotonic() + 30
    while not child.exists() or not child.read_text().strip():
        assert time.monotonic() < deadline, "the shell never started its child"
        time.sleep(0.05)
    pid = int(child.read_text())
    shell.stop()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid):
        assert time.monotonic() < deadline, "the child outlived its group"
        time.sleep(0.05)


def test_a_pid_file_is_alive_only_for_a_running_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    assert not recorded_alive(pid_file) and not recorded_alive(None)
    pid_file.write_text(f"{os.getpid()}\n")
    assert recorded_alive(pid_file)
    pid_file.write_text("not a pid\n")
    assert not recorded_alive(pid_file)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"
