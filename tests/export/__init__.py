"""Tests of watcher.export."""
