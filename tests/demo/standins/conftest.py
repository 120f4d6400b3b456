"""The stand-ins' tests use the Action API fixtures of the mediawiki tests (one definition)."""

from tests.mediawiki.conftest import api, peer, sleeps

__all__ = ["api", "peer", "sleeps"]
