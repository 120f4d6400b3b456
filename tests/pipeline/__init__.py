"""Tests of watcher.pipeline."""
