"""The scale-out cluster (two Rasa servers and two action servers behind nginx, PostgreSQL + Redis), started
once for this folder's tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.build import MODEL_FILE
from bot.devtools.scaleout import Cluster, start_cluster
from bot.devtools.servers import nginx_binary
from tests.servers import postgres_server, redis_url  # noqa: F401 - pytest fixtures


@pytest.fixture(scope="session")
def cluster(postgres_server, redis_url, tmp_path_factory) -> Iterator[Cluster]:  # noqa: F811
    if not MODEL_FILE.is_file():
        pytest.fail(f"{MODEL_FILE} is missing: run `make build` first")
    if nginx_binary() is None:
        pytest.fail("nginx not found: run `make system-deps` (part of `make test`)")
    running = start_cluster(MODEL_FILE, servers=2, log_dir=tmp_path_factory.mktemp("scaleout-logs"),
                            postgres=postgres_server, redis_url=redis_url)
    try:
        yield running
    finally:
        running.stop()
