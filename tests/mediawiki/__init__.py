"""Tests of watcher.mediawiki."""
