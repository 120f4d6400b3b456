"""Tests of watcher.cli: how the commands treat the database (missing, damaged, busy)."""
