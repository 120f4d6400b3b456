"""Suite-wide settings and the fixtures every folder shares (a folder may override one)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import postgres as pg
from tests.support.config import MINIMAL_CONFIG
from tests.support.harness import DaemonProcess
from watcher.base.masking import forget_registered_secrets
from watcher.config import Config, parse_config
from watcher.store import Database

# In CI the property-based tests run a fixed sequence of examples, so a red run is reproducible;
# on a developer's machine they explore anew each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# The real PostgreSQL server (tests/support/postgres.py): one for the session, a fresh database a test.
postgres = pg.postgres
postgres_dsn = pg.postgres_dsn
pg_conn = pg.pg_conn


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-real-mediawiki", action="store_true", help="skip the tests against a real MediaWiki"
    )


@pytest.fixture(autouse=True)
def _forget_secrets() -> None:
    """The secret registry is process-wide: each test starts without the secrets earlier ones planted,
    so a masking test cannot pass because of another test's secret."""
    forget_registered_secrets()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database (folders whose tests need another override this)."""
    database = await Database.connect(tmp_path / "w.sqlite3")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def daemons() -> AsyncIterator[Callable[[Path, Path], DaemonProcess]]:
    """Makes `watcher run` processes (config, log); each is stopped at teardown, whatever the outcome."""
    made: list[DaemonProcess] = []

    def make(config: Path, log: Path) -> DaemonProcess:
        daemon = DaemonProcess(config, log)
        made.append(daemon)
        return daemon

    try:
        yield make
    finally:
        for daemon in made:
            await daemon.stop()


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    """A config from the minimal valid text plus ``extra`` TOML appended after [tracking]."""

    def build(extra: str = "", *, base: str = MINIMAL_CONFIG) -> Config:
        return parse_config(base + extra, tmp_path / "config.toml")

    return build
