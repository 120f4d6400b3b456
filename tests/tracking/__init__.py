"""Tests of watcher.tracking."""
