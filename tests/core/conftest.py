"""Fixtures of the core tests: a fresh database and a config built from TOML text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from core_helpers import MINIMAL_CONFIG

from watcher.config import Config, parse_config


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[[str], Config]:
    """A config from the minimal valid text plus ``extra`` TOML appended after [tracking]."""

    def build(extra: str = "", *, base: str = MINIMAL_CONFIG) -> Config:
        return parse_config(base + extra, tmp_path / "config.toml")

    return build
