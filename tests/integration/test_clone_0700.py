"""A clone in a 0700 directory starts its PostgreSQL: as root (PostgreSQL runs as `postgres`,
which cannot reach the clone, so the data lives where it can) and as an ordinary user (who
runs it as themselves, with no chown). The clone gets this tree's local scripts, so the test
checks the code under test, not the last commit."""

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import ROOT, free_port

# What `make` exports for this tree; a clone must find its own.
TREE_VARS = ("OVERLAP_ROOT", "OVERLAP_HOME", "PG_HOME")


@contextmanager
def ordinary_user() -> Iterator[str]:
    """A throwaway user when running as root (removed afterwards); else the user running."""
    if os.getuid() != 0:
        yield pwd.getpwuid(os.getuid()).pw_name
        return
    name = f"ovt{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=True)


def clone_into(parent: Path, owner: str) -> Path:
    """``git clone`` this repository into ``parent`` (0700), owned by ``owner``."""
    parent.chmod(0o700)
    clone = parent / "overlap"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    for script in ("env.sh", "infra.sh"):
        shutil.copy2(ROOT / "deploy/local" / script, clone / "deploy/local" / script)
    if os.getuid() == 0 and owner != "root":
        shutil.chown(parent, owner, owner)
        subprocess.run(["chown", "-R", f"{owner}:{owner}", str(clone)], check=True)
    return clone


def infra(clone: Path, user: str, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in TREE_VARS} | {"PG_PORT": str(port)}
    run_as = [] if user == pwd.getpwuid(os.getuid()).pw_name else ["runuser", "-u", user, "--"]
    return subprocess.run(
        [*run_as, str(clone / "deploy/local/infra.sh"), *args],
        env=env,
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=120,
    )


def psql(port: int, sql: str) -> str:
    args = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres"]
    done = subprocess.run([*args, "-tAc", sql], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def start_and_check(clone: Path, user: str) -> Path:
    """Start the clone's PostgreSQL as ``user``, check it answers, stop it; its data dir."""
    port = free_port()
    started = infra(clone, user, port, "start", "postgres")
    data_dir = Path()
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert psql(port, "select datname from pg_database where datname = 'overlap'") == "overlap"
        data_dir = Path(psql(port, "show data_directory"))
        assert data_dir.stat().st_mode & 0o777 == 0o700
    finally:
        stopped = infra(clone, user, port, "stop", "postgres")
    assert stopped.returncode == 0, stopped.stderr
    assert not (clone / ".local/run/postgres.pid").exists()
    return data_dir


def test_postgres_starts_from_a_clone_in_a_0700_directory(tmp_path: Path) -> None:
    """As the user running the tests; when that is root, postgres's data is out of the clone."""
    me = pwd.getpwuid(os.getuid()).pw_name
    clone = clone_into(tmp_path, me)
    data_dir = start_and_check(clone, me)
    try:
        if os.getuid() == 0:
            assert not data_dir.is_relative_to(tmp_path)
            assert data_dir.owner() == "postgres"
            assert (data_dir.parent / "owner").read_text().strip() == str(clone / ".local")
            assert (clone / ".local/log/postgres.log").resolve() == data_dir.parent / "postgres.log"
        else:
            assert data_dir == clone / ".local/pg/data"
    finally:
        if os.getuid() == 0 and not data_dir.is_relative_to(tmp_path):
            shutil.rmtree(data_dir.parent)


def test_postgres_starts_from_a_0700_clone_of_an_ordinary_user() -> None:
    """No chown, no runuser: the user's own PostgreSQL, in the user's own clone."""
    with ordinary_user() as user:
        parent = Path(tempfile.mkdtemp(prefix="overlap-0700-"))
        try:
            clone = clone_into(parent, user)
            data_dir = start_and_check(clone, user)
            assert data_dir == clone / ".local/pg/data"
            assert data_dir.owner() == user
        finally:
            shutil.rmtree(parent)
