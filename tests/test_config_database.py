"""`[watcher] database` as a PostgreSQL URL (issue 20): kept as the URL, not folded into a path, and the
keys that go with it checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.config import MINIMAL_CONFIG
from watcher.config import ConfigError, parse_config


def test_a_postgresql_url_is_the_store_and_its_keys_are_checked(tmp_path: Path) -> None:
    url = "postgresql://watcher@db.example.org:5432/watcher"
    text = MINIMAL_CONFIG.replace(
        "[watcher]\n", f'[watcher]\ndatabase = "{url}"\ndatabase_pool_size = 4\n', 1
    )
    config = parse_config(text, tmp_path / "config.toml")
    assert config.store_location == config.database_url == url  # not folded into a path
    assert config.watcher.database_pool_size == 4
    sqlite = parse_config(MINIMAL_CONFIG, tmp_path / "config.toml")
    assert sqlite.database_url is None and sqlite.store_location == tmp_path / "watcher.sqlite3"
    wrong = MINIMAL_CONFIG.replace(
        "[watcher]\n", "[watcher]\ndatabase_pool_size = 1\ndatabase_statement_timeout = 0\n", 1
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(wrong, tmp_path / "config.toml")
    said = "\n".join(raised.value.listing())
    assert "watcher.database_pool_size: must be at least 2" in said
    assert "watcher.database_statement_timeout: must be greater than 0" in said
    with pytest.raises(ConfigError, match="database_url: unknown key"):
        parse_config(
            MINIMAL_CONFIG.replace("[watcher]\n", '[watcher]\ndatabase_url = "x"\n', 1), tmp_path / "c.toml"
        )
