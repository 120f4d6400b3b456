"""Tests of watcher.service."""
