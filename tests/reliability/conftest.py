"""Fixtures for the reliability suites: the real service in a subprocess, on the database under test.

These tests start `python -m service serve` themselves and talk to it over loopback HTTP, so they use
none of the in-process app fixtures. They are marked `slow` (a few seconds each, mostly the service's
start-up) for anyone who wants to deselect them locally; `make test` and CI run them.
"""

from __future__ import annotations

import os

import pytest

from service.config import Settings


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL database under test (TEST_DATABASE_URL), or a skip: multi-worker locking needs it."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set: the multi-worker test needs PostgreSQL")
    return Settings(_env_file=None, database_url=url).database_url


@pytest.fixture(scope="module")
def any_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The pass's database: PostgreSQL when TEST_DATABASE_URL is set, else a fresh SQLite file."""
    sqlite_file = tmp_path_factory.mktemp("sqlite") / "service.db"
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{sqlite_file}"
    return Settings(_env_file=None, database_url=url).database_url
