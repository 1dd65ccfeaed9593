"""A PostgreSQL server of the test's own: Debian's PostgreSQL 15 binaries, `initdb` in a temporary
folder (as the `postgres` user when the tests run as root), listening on 127.0.0.1 at a free port,
stopped with the test module. `AUTOGRADER_TEST_POSTGRES=postgresql+psycopg://…` points the tests
at a server of one's own instead. Without either the tests skip, saying how; in CI they fail."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path("/usr/lib/postgresql/15/bin")
INSTALL = "apt-get install -y postgresql-15 (or set AUTOGRADER_TEST_POSTGRES to a server's URL)"
WAIT = 60.0


def _as_postgres(argv: list[str]) -> list[str]:
    """A server refuses to run as root: as root, its commands run as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_postgres(folder: Path) -> Iterator[str]:
    """A fresh server with trust authentication on 127.0.0.1; its SQLAlchemy URL prefix."""
    data = folder / "data"
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    init = [str(BIN / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8"]
    subprocess.run(_as_postgres(init), check=True, capture_output=True)
    for _ in range(5):  # a port found free can be taken before the server binds it
        port = _free_port()
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -k {folder}"
        start = [str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log")]
        started = subprocess.run(_as_postgres([*start, "-w", "start"]), capture_output=True)
        if started.returncode == 0:
            break
    else:
        raise RuntimeError((folder / "log").read_text())
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        stop = [str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(_as_postgres(stop), capture_output=True)


def create_database(server: str, name: str) -> str:
    """A new, empty database on the server; its URL."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
            break
        except sqlalchemy.exc.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # polling for the server to take connections
    engine.dispose()
    return f"{server}/{name}"


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("AUTOGRADER_TEST_POSTGRES")
    if given:
        yield given.rstrip("/")
        return
    if not (BIN / "initdb").exists():
        reason = f"PostgreSQL is not installed here: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    # a folder of its own in the system's temporary folder: pytest's are closed to other users
    folder = Path(tempfile.mkdtemp(prefix="autograder-postgres-"))
    try:
        with running_postgres(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)
