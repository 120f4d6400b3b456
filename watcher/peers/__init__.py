"""Loopback stand-ins for the services the watcher talks to (tests, benchmarks, ``watcher demo``)."""
