"""Tests of watcher.diff."""
