"""Suite-wide settings."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from watcher.store import Database

# In CI the property-based tests run a fixed sequence of examples, so a red run is reproducible;
# on a developer's machine they explore anew each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-real-mediawiki", action="store_true", help="skip the tests against a real MediaWiki"
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database (folders whose tests need another override this)."""
    database = await Database.connect(tmp_path / "w.sqlite3")
    try:
        yield database
    finally:
        await database.close()
