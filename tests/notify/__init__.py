"""Tests of watcher.notify."""
