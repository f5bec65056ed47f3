"""Throwaway servers for tests as pytest fixtures (the servers themselves: bot/devtools/servers.py): PostgreSQL
from the system binaries into a temp folder, and Redis.

Use it from any conftest:

    from tests.servers import postgres_server, postgres_url  # noqa: F401 - pytest fixtures

`postgres_server` (session scope) starts one server on a free loopback port, with its unix socket in the
temp folder, and stops it at the end; `postgres_url` (function scope) creates a fresh, empty database on it
per test and yields its SQLAlchemy URL. Set CLINIC_TEST_POSTGRES_URL (a server URL whose user may create
databases) to use an existing server instead, e.g. a CI service. Without binaries or that variable the tests
fail, saying why (`make system-deps`, part of `make test`, installs PostgreSQL and Redis).
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.devtools.servers import LocalPostgres, LocalRedis, PostgresServer, postgres_bin_dir

__all__ = ["PostgresServer", "postgres_server", "postgres_url", "redis_url"]


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
    server = LocalPostgres(bin_dir)
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
    try:
        server = LocalRedis()
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        try:
            url = server.start()
        except RuntimeError as error:
            pytest.fail(str(error))
        yield url
    finally:
        server.stop()
