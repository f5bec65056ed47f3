"""Browser tests share the end-to-end fixtures: the running bot (with the web app) and its database URL."""
from tests.e2e.conftest import e2e_database_url, running_bot  # noqa: F401 - pytest fixtures
