"""The browser tests talk to the same kind of running bot as tests/e2e (its session fixture, re-used here).

If tests/e2e/conftest.py's fixtures move to tests/conftest.py, delete this file: then one bot serves both.
"""
from tests.e2e.conftest import e2e_database_url, running_bot  # noqa: F401
