"""Tests of watcher.history."""
