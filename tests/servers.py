"""Throwaway servers for tests: a PostgreSQL server started from the system binaries into a temp folder.

Use it from any conftest:

    from tests.servers import postgres_server, postgres_url  # noqa: F401 - pytest fixtures

`postgres_server` (session scope) starts one server on a free loopback port, with its unix socket in the
temp folder, and stops it at the end; `postgres_url` (function scope) creates a fresh, empty database on it
per test and yields its SQLAlchemy URL. Set CLINIC_TEST_POSTGRES_URL (a server URL whose user may create
databases) to use an existing server instead, e.g. a CI service. Without binaries or that variable the tests
fail, saying why (`make system-deps`, part of `make test`, installs PostgreSQL and Redis).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.launcher import LOOPBACK, free_port


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl (or CLINIC_PG_BIN)."""
    candidates = [os.environ["CLINIC_PG_BIN"]] if os.environ.get("CLINIC_PG_BIN") else sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for candidate in candidates:
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None


@dataclass
class PostgresServer:
    """A running server: `url(database)` names a database on it; `create_database()` makes a fresh one."""

    base_url: str  # a URL to the maintenance database "postgres"

    def url(self, database: str) -> str:
        return str(make_url(self.base_url).set(database=database))

    def create_database(self, prefix: str = "test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        engine = create_engine(self.base_url, isolation_level="AUTOCOMMIT", future=True)
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


class _LocalPostgres:
    """initdb + pg_ctl into a temp folder, as the `postgres` system user when we are root."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            try:
                user = pwd.getpwnam("postgres")
            except KeyError as error:
                raise RuntimeError("running as root needs a 'postgres' system user to start PostgreSQL "
                                   "(apt-get install postgresql creates it)") from error
            os.chown(self.root, user.pw_uid, user.pw_gid)
            runuser = shutil.which("runuser")
            self.as_user = ([runuser, "-u", "postgres", "--"] if runuser
                            else ["su", "postgres", "-s", "/bin/sh", "-c"])
        os.chmod(self.root, 0o700)

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_user[:1] == ["su"]:
            command = [*self.as_user, " ".join(f"'{part}'" for part in command)]
        else:
            command = [*self.as_user, *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}\n"
                               f"{result.stderr}\n{log}")

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses={LOOPBACK} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60",
                  "start")
        return PostgresServer(f"postgresql+psycopg2://postgres@{LOOPBACK}:{self.port}/postgres")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session (see the module docstring)."""
    if os.environ.get("CLINIC_TEST_POSTGRES_URL"):
        yield PostgresServer(os.environ["CLINIC_TEST_POSTGRES_URL"])
        return
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: run `make system-deps` "
                    "or set CLINIC_TEST_POSTGRES_URL")
    server = _LocalPostgres(bin_dir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL server, as a SQLAlchemy URL."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway Redis server (the system's redis-server) on a free loopback port, no persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: run `make system-deps` (part of `make test`)")
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="clinic-redis-"))
    process = subprocess.Popen([binary, "--port", str(port), "--bind", LOOPBACK, "--save", "",
                                "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import redis

    client = redis.Redis(host=LOOPBACK, port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None:
                    pytest.fail(f"redis-server exited with {process.returncode}")
                import time

                time.sleep(0.05)
        yield f"redis://{LOOPBACK}:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
