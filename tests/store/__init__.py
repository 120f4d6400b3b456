"""Tests of watcher.store."""
