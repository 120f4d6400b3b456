"""Suite-wide settings."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# In CI the property-based tests run a fixed sequence of examples, so a red run is reproducible;
# on a developer's machine they explore anew each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-real-mediawiki", action="store_true", help="skip the tests against a real MediaWiki"
    )
