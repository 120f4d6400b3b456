"""Tests of watcher.demo."""
