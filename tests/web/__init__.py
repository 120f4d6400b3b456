"""Tests of watcher.web."""
