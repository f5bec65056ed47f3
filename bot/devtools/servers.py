"""Throwaway servers on loopback for tests and benchmarks: PostgreSQL (system binaries, temp folder), Redis
and nginx, each on a free port, stopped and removed afterwards. tests/servers.py wraps them as pytest fixtures.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

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


class LocalPostgres:
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



class LocalRedis:
    """The system's redis-server on a free loopback port, no persistence."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server not found: run `make system-deps` (part of `make test`)")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="clinic-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def start(self) -> str:
        import redis

        self.process = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", LOOPBACK, "--save", "",
                                         "--appendonly", "no", "--dir", str(self.folder)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(host=LOOPBACK, port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return self.url
            except redis.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}") from None
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer within 5 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).is_file()), None)


NGINX_CONF = """daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstream_log '$request_uri $upstream_addr $status';
    access_log {root}/access.log upstream_log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
{upstreams}
}}
"""

UPSTREAM = """    upstream {name} {{
{servers}
        keepalive 32;
    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://{name};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 120s;
            proxy_next_upstream off;
        }}
    }}
"""


class LocalNginx:
    """nginx as a round-robin load balancer: one listening port per named group of upstream addresses.

    `proxy_next_upstream off`: a request is never re-sent to a second server (a message must not be processed
    twice); the access log records which upstream answered each request.
    """

    def __init__(self, groups: dict[str, list[str]]):
        self.binary = nginx_binary()
        if self.binary is None:
            raise RuntimeError("nginx not found: run `make system-deps` (part of `make test`)")
        self.root = Path(tempfile.mkdtemp(prefix="clinic-nginx-"))
        os.chmod(self.root, 0o755)  # nginx's workers run as an unprivileged user when we are root
        self.groups = groups
        self.ports = {name: free_port() for name in groups}
        self.process: subprocess.Popen | None = None

    def url(self, group: str) -> str:
        return f"http://{LOOPBACK}:{self.ports[group]}"

    @property
    def access_log(self) -> Path:
        return self.root / "access.log"

    def start(self) -> None:
        upstreams = "".join(UPSTREAM.format(
            name=name, listen=f"{LOOPBACK}:{self.ports[name]}",
            servers="\n".join(f"        server {address};" for address in addresses))
            for name, addresses in self.groups.items())
        conf = self.root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=self.root, upstreams=upstreams))
        self.process = subprocess.Popen([self.binary, "-c", str(conf), "-p", str(self.root), "-e",
                                         str(self.root / "error.log")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        import socket

        for _ in range(100):
            if self.process.poll() is not None:
                error_log = self.root / "error.log"
                log = error_log.read_text(errors="replace") if error_log.exists() else ""
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{log[-2000:]}")
            try:
                for port in self.ports.values():
                    socket.create_connection((LOOPBACK, port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen within 5 s")

    def upstreams_used(self) -> list[str]:
        """The upstream address of every proxied request so far, in order."""
        if not self.access_log.exists():
            return []
        return [line.split()[1] for line in self.access_log.read_text().splitlines() if len(line.split()) >= 3]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
