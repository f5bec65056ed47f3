"""Rasa's own scale-out shape on one machine: N Rasa servers (each with its action server) behind nginx, sharing
a PostgreSQL tracker store and a Redis lock store. Started by tests/scaleout/ and `make bench`."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.devtools.rest import new_sender, say
from bot.devtools.servers import LocalNginx, LocalPostgres, LocalRedis, PostgresServer, postgres_bin_dir
from bot.launcher import LOOPBACK, BotProcesses, start_bot


@contextmanager
def _environ(**values: str):
    """Set variables in os.environ for the duration (bot.settings reads them when the runtime files are made)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Cluster:
    """The running pieces. nginx listens once per group: "all" (every Rasa server, round robin), "one" (the
    first only) so that 1 and 2 servers can be compared on the same stores."""

    database_url: str
    redis_url: str
    nginx: LocalNginx
    bots: list[BotProcesses] = field(default_factory=list)
    _owned: list = field(default_factory=list)

    def url(self, group: str = "all") -> str:
        return self.nginx.url(group)

    def rasa_addresses(self) -> list[str]:
        return [f"{LOOPBACK}:{bot.rasa_port}" for bot in self.bots]

    def pids(self) -> dict[str, int]:
        return {f"{name} {n + 1}": pid for n, bot in enumerate(self.bots) for name, pid in bot.pids().items()}

    def stop(self) -> None:
        self.nginx.stop()
        for bot in self.bots:
            bot.stop()
        for server in reversed(self._owned):
            server.stop()


def start_cluster(model: Path, servers: int = 2, log_dir: Path | None = None,
                  postgres: PostgresServer | None = None, redis_url: str | None = None,
                  timeout: float = 300.0) -> Cluster:
    """Start PostgreSQL and Redis (unless given), `servers` Rasa+action server pairs and nginx; wait until ready."""
    owned: list = []
    try:
        if postgres is None:
            bin_dir = postgres_bin_dir()
            if bin_dir is None:
                raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: "
                                   "run `make system-deps`")
            local = LocalPostgres(bin_dir)
            owned.append(local)
            postgres = local.start()
        if redis_url is None:
            redis = LocalRedis()
            owned.append(redis)
            redis_url = redis.start()
        database_url = postgres.create_database("scaleout")
        bots: list[BotProcesses] = []
        env = dict(os.environ, CLINIC_DATABASE_URL=database_url, CLINIC_REDIS_URL=redis_url)
        with _environ(CLINIC_DATABASE_URL=database_url, CLINIC_REDIS_URL=redis_url):
            for n in range(servers):
                folder = (log_dir / f"server-{n + 1}") if log_dir else None
                bots.append(start_bot(model, env=env, log_dir=folder, with_web=False))
                owned.append(bots[-1])
        # All load at once (Rasa tolerates a parallel create_all of its table; so does the session index).
        for bot in bots:
            bot.wait_until_ready(timeout)
        # The action servers create the clinic's tables on first use: one message each, one after the other.
        for n, bot in enumerate(bots):
            say(bot.rasa_url, new_sender(f"cluster-warmup{n + 1}"), "hello", timeout=timeout)
        addresses = [f"{LOOPBACK}:{bot.rasa_port}" for bot in bots]
        nginx = LocalNginx({"all": addresses, "one": addresses[:1]})
        owned.append(nginx)
        nginx.start()
    except BaseException:
        for server in reversed(owned):
            server.stop()
        raise
    owned.remove(nginx)
    for bot in bots:
        owned.remove(bot)
    return Cluster(database_url, redis_url, nginx, bots, owned)
