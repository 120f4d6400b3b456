"""Tests of watcher.stream."""
