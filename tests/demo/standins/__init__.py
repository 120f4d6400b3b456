"""Tests of watcher.demo.standins."""
